"""``KoreAIHook``: the Kore.ai Campaign Management API as Python methods, on the worker and in the triggerer.

The hook is the facade: each public method checks its arguments, picks the endpoint
(:mod:`~airflow_provider_koreai.api`), runs it through the one request pipeline
(:mod:`~airflow_provider_koreai.pipeline`) and says what the answer means for the caller (create-or-reuse,
"already deleted", counts, pages). Blocking methods send with one :class:`requests.Session`; the
``a``-prefixed methods (``acount_contacts``) with one ``httpx.AsyncClient``, for the triggerer. A compound
call (create-or-reuse, a count by name) runs its requests under one time budget
(:meth:`~airflow_provider_koreai.transport.RetryPolicy.call_budget`).

``requests``, ``httpx``, ``jwt`` and ``tenacity`` are imported on first use, not at module import: DAG
files that import our operators are parsed over and over by the DAG processor, which never sends a
request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple, overload
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_koreai import assets, connection_form, rate_limit, responses, transport, validation
from airflow_provider_koreai.api.campaigns import PLAY, STOP, CampaignEndpoints
from airflow_provider_koreai.api.contact_lists import MAX_PAGE_SIZE, ContactListEndpoints
from airflow_provider_koreai.connection import KoreAIConnectionConfig
from airflow_provider_koreai.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_TIMEOUT_SECONDS,
    DEFAULT_SOURCE,
    IF_EXISTS_MODES,
    MAX_CAMPAIGN_PAGE_SIZE,
)
from airflow_provider_koreai.exceptions import (
    KoreAICampaignExistsError,
    KoreAIConfigurationError,
    KoreAIContactListExistsError,
    KoreAIError,
    KoreAINotFoundError,
    KoreAIPartialUploadError,
    KoreAIRequestRejectedError,
    KoreAITransportError,
    KoreAIUnexpectedResponseError,
    KoreAIValidationError,
    short_endpoint,
)
from airflow_provider_koreai.pipeline import RequestPipeline
from airflow_provider_koreai.responses import (
    CampaignContactsPage,
    CampaignStatus,
    ContactCount,
    campaign_id_of,
    contact_list_id_of,
)

if TYPE_CHECKING:
    import requests

    from airflow_provider_koreai.api import Call

#: How ``test_connection`` names the connection: the UI tests it under a random temporary id.
TEST_CONNECTION_SUBJECT = "This Kore.ai connection"


class EnsuredContactList(NamedTuple):
    """What :meth:`KoreAIHook.ensure_contact_list` found or made: the list's id, the list as Kore.ai
    holds it, and whether this call created it."""

    contact_list_id: str
    contact_list: dict[str, Any]
    created: bool


class EnsuredCampaign(NamedTuple):
    """What :meth:`KoreAIHook.ensure_campaign` found or made: the campaign's id, the campaign as Kore.ai
    holds it, and whether this call created it."""

    campaign_id: str
    campaign: dict[str, Any]
    created: bool


#: The statuses in which a start (``play``) or a stop has taken effect, read after an unclear answer.
_STARTED = ("Active",)
_STOPPED = ("Stopped", "Completed")


class KoreAIHook(BaseHook):
    """Interact with Kore.ai Contact Center campaign contact lists.

    Every request first takes a slot of the account's request budget (:attr:`rate_limiter`, shared by
    every hook of the process, or of the deployment with the connection's ``rate_limit_store``), so that
    tasks wait for their turn instead of drawing Kore.ai's 429s.

    :param koreai_conn_id: the ``koreai`` connection to use.
    :param timeout: read timeout in seconds of each request; default: the connection's ``timeout``
        extra, else 30.
    :param max_attempts: attempts per request, first one included; default: the ``max_attempts`` extra,
        else 5. ``1`` disables retries. A 429 does not count: a throttled request is retried for as long
        as ``retry_timeout`` allows.
    :param retry_timeout: total seconds one call may take, retries, waits and lookups included (a
        request started in time may end up to ``timeout`` later); default: the ``retry_timeout``
        extra, else 120. A ``Retry-After`` longer than what is left ends the call.
    :param backoff_initial: first backoff wait in seconds (exponential, with jitter).
    :param backoff_max: longest single backoff wait in seconds.
    """

    conn_name_attr = "koreai_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "koreai"
    hook_name = "Kore.ai"

    def __init__(
        self,
        koreai_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        retry_timeout: float | None = None,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
    ) -> None:
        super().__init__()
        checked = validation.hook_params(
            {
                "timeout": timeout,
                "max_attempts": max_attempts,
                "retry_timeout": retry_timeout,
                "backoff_initial": backoff_initial,
                "backoff_max": backoff_max,
            },
            field="KoreAIHook",
        )
        self.koreai_conn_id = koreai_conn_id
        self._timeout: float | None = checked["timeout"]
        self._max_attempts: int | None = checked["max_attempts"]
        self._retry_timeout: float | None = checked["retry_timeout"]
        self.backoff_initial: float = checked["backoff_initial"]
        self.backoff_max: float = checked["backoff_max"]
        self._config: KoreAIConnectionConfig | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(koreai_conn_id={self.koreai_conn_id!r})"

    # -- connection form (Airflow < 3.2; newer releases read the provider info) -------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return connection_form.ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return connection_form.form_widgets()

    # -- configuration ------------------------------------------------------------------------------

    @property
    def config(self) -> KoreAIConnectionConfig:
        """The connection, read on first use and validated (raises ``KoreAIConfigurationError``)."""
        if self._config is None:
            self._config = KoreAIConnectionConfig.from_connection(self.get_connection(self.koreai_conn_id))
        return self._config

    async def aget_config(self) -> KoreAIConnectionConfig:
        """:attr:`config`, read without blocking the event loop.

        ``common.compat``'s ``get_async_connection`` picks the safe way for the running Airflow
        (``aget_connection`` where it masks asynchronously, ``get_connection`` in a worker thread
        before 3.3.2, where ``aget_connection`` can raise ``DeadlockImminentError``). Reading the extras
        hands them to the secrets masker, a blocking call to the supervisor: done in a worker thread.
        """
        if self._config is None:
            from airflow.providers.common.compat.connection import get_async_connection

            conn = await get_async_connection(self.koreai_conn_id)
            self._config = await asyncio.to_thread(KoreAIConnectionConfig.from_connection, conn)
        return self._config

    @property
    def timeout(self) -> float:
        """The read timeout of each request: the argument, else the connection's."""
        return self._timeout if self._timeout is not None else self.config.timeout

    @property
    def max_attempts(self) -> int:
        """Failed attempts per request, 429s aside: the argument, else the connection's, else 5."""
        for value in (self._max_attempts, self.config.max_attempts):
            if value is not None:
                return value
        return DEFAULT_MAX_ATTEMPTS

    @property
    def retry_timeout(self) -> float:
        """Seconds one logical call may take: the argument, else the connection's, else 120."""
        for value in (self._retry_timeout, self.config.retry_timeout):
            if value is not None:
                return value
        return DEFAULT_RETRY_TIMEOUT_SECONDS

    @cached_property
    def retry_policy(self) -> transport.RetryPolicy:
        """The hook's limits, read once (arguments, else the connection's extras, else the defaults)."""
        return transport.RetryPolicy(
            max_attempts=self.max_attempts,
            retry_timeout=self.retry_timeout,
            backoff_initial=self.backoff_initial,
            backoff_max=self.backoff_max,
        )

    @cached_property
    def rate_limiter(self) -> rate_limit.AccountRateLimiter | None:
        """The account's request budget, shared with every hook of the process, and of the deployment
        when the connection names a ``rate_limit_store``; ``None`` when ``rate_limit_per_minute`` is 0."""
        settings = self.config.rate_budget
        if settings.store is not None:
            try:
                rate_limit.check_store_client(settings.store)
            except ImportError as error:
                raise KoreAIConfigurationError(
                    f"Kore.ai connection {self.koreai_conn_id!r}: {error}"
                ) from None
        return rate_limit.limiter_for(settings)

    @cached_property
    def scrub(self) -> responses.Scrubber:
        """Removes tokens and this connection's secret from text that came back from the server."""
        return responses.Scrubber(self.config.client_secret)

    @cached_property
    def pipeline(self) -> RequestPipeline:
        """The hook's one request pipeline, blocking and async (:mod:`~airflow_provider_koreai.pipeline`)."""
        from airflow_provider_koreai.auth import KoreAIJWTAuth

        config = self.config
        signer = KoreAIJWTAuth(
            config.client_id,
            config.client_secret,
            iid=config.iid,
            account_id=config.account_id,
            ttl=config.jwt_ttl,
            enforce_jti=config.enforce_jti,
        )
        return RequestPipeline(
            config=config,
            signer=signer,
            policy=self.retry_policy,
            limiter=self.rate_limiter,
            scrub=self.scrub,
            read_timeout=self.timeout,
            log=self.log,
        )

    def get_conn(self) -> requests.Session:
        """The hook's one session: connection pooling, and every request signed with a fresh JWT."""
        return self.pipeline.session

    @cached_property
    def contact_lists(self) -> ContactListEndpoints:
        """The contact-list calls of this connection's application."""
        return ContactListEndpoints(self.config.iid)

    @cached_property
    def campaigns(self) -> CampaignEndpoints:
        """The campaign calls of this connection's application."""
        return CampaignEndpoints(self.config.iid)

    def contact_list_asset_uri(self, contact_list_id: str) -> str:
        """The list's asset URI, ``koreai://<host>/<iid>/contact-lists/<id>`` (see ``assets.py``)."""
        return assets.contact_list_uri(
            host=urlsplit(self.config.base_url).netloc,
            iid=self.config.iid,
            contact_list_id=validation.contact_list_id(contact_list_id),
        )

    def campaign_asset_uri(self, campaign_id: str) -> str:
        """The campaign's asset URI, ``koreai://<host>/<iid>/campaigns/<id>`` (see ``assets.py``)."""
        return assets.campaign_uri(
            host=urlsplit(self.config.base_url).netloc,
            iid=self.config.iid,
            campaign_id=validation.campaign_id(campaign_id),
        )

    # -- running a call ---------------------------------------------------------------------------------

    def run(self, call: Call, *, retry: bool = True, timeout: float | None = None) -> dict[str, Any]:
        """Send one call through the pipeline and return Kore.ai's JSON object.

        The request draws on the budget of the logical call under way (see
        :meth:`~airflow_provider_koreai.transport.RetryPolicy.call_budget`), else on a budget of its own.

        :param retry: retry by the transport rule within the budget; ``False`` sends once.
        :param timeout: the read timeout of this request; default: the hook's ``timeout``.
        """
        with self.retry_policy.call_budget() as budget:
            return self.pipeline.send(call, budget, retry=retry, timeout=timeout)

    async def arun(self, call: Call, *, retry: bool = True, timeout: float | None = None) -> dict[str, Any]:
        """:meth:`run` on the event loop (the triggerer), without blocking it."""
        await self.aget_config()
        with self.retry_policy.call_budget() as budget:
            return await self.pipeline.asend(call, budget, retry=retry, timeout=timeout)

    async def aclose(self) -> None:
        """Close the async client (the blocking session is closed with the hook's process)."""
        if "pipeline" in self.__dict__:
            await self.pipeline.aclose()

    # -- contact lists --------------------------------------------------------------------------------

    def update_contact_list(
        self,
        contact_list_id: str,
        *,
        name: str,
        allow_duplicates: bool,
        source: str = DEFAULT_SOURCE,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Update a contact list's name, description, source and duplicate policy (idempotent PUT).

        :return: Kore.ai's ``data`` object: ``{"contactListId": ..., "body": {...}}``.
        """
        list_id = validation.contact_list_id(contact_list_id)
        body = contact_list_body(name, allow_duplicates, source, description)
        call = self.contact_lists.update(list_id, body)
        applied_hint = "the update was probably applied (Kore.ai reported success); check the list"
        data = responses.data_object(self.run(call), call.endpoint, hint=applied_hint)
        if not isinstance(data.get("contactListId"), str) or not isinstance(data.get("body", {}), dict):
            raise KoreAIUnexpectedResponseError(
                http_status=200,
                endpoint=call.endpoint,
                message="the answer has no data.contactListId string or data.body object",
                hint=applied_hint,
            )
        # DEBUG: a hook may be called thousands of times by one task; the operator logs the task's outcome.
        self.log.debug("Kore.ai contact list %s updated: name=%r", data["contactListId"], body["name"])
        return data

    def contact_list_differences(
        self,
        contact_list_id: str,
        *,
        name: str,
        allow_duplicates: bool,
        source: str = DEFAULT_SOURCE,
        description: str | None = None,
    ) -> dict[str, tuple[Any, Any]]:
        """Read a list back (one GET) and say which of these settings it no longer holds.

        The settings are compared as :meth:`update_contact_list` sends them (``description`` only when
        given) with the values Kore.ai reports; a setting Kore.ai does not report is not compared.

        :return: ``{field: (written, found)}`` by Kore.ai's field names (``name``, ``description``,
            ``allowDuplicates``, ``source``); ``{}`` when the list holds every setting.
        """
        body = contact_list_body(name, allow_duplicates, source, description)
        return settings_differences(body, self.get_contact_list(contact_list_id))

    def get_contact_list(self, contact_list_id: str) -> dict[str, Any]:
        """One contact list as Kore.ai holds it (``_id``, ``name``, ``totalRecordCount``, ``status``...)."""
        call = self.contact_lists.get(validation.contact_list_id(contact_list_id))
        return responses.data_object(self.run(call), call.endpoint)

    def list_contact_lists(self) -> list[dict[str, Any]]:
        """Every call-type contact list of the application (a read, despite being a POST)."""
        call = self.contact_lists.list_all()
        return responses.data_list(self.run(call), call.endpoint)

    def find_contact_list(self, name: str) -> dict[str, Any] | None:
        """The list with exactly this name, or ``None``. Several lists of that name are an error."""
        wanted = validation.contact_list_name(name)
        matches = [item for item in self.list_contact_lists() if item.get("name") == wanted]
        if len(matches) > 1:
            ids = ", ".join(contact_list_id_of(item) or "?" for item in matches)
            raise KoreAIError(
                f"{len(matches)} Kore.ai contact lists are named {wanted!r}: address the list by id ({ids})"
            )
        return matches[0] if matches else None

    @overload
    def count_contacts(self, contact_list_name: str) -> ContactCount | None: ...

    @overload
    def count_contacts(self, *, contact_list_id: str) -> ContactCount: ...

    def count_contacts(
        self, contact_list_name: str | None = None, *, contact_list_id: str | None = None
    ) -> ContactCount | None:
        """How many contacts a list holds, and its duplicate policy: the reading the ingestion rule needs.

        Name the list by ``contact_list_name`` (exact; ``None`` is returned when there is no such list)
        or by ``contact_list_id`` (an unknown id is ``KoreAINotFoundError``). By name, the list of lists
        may omit the count; then the list itself is read, within the same ``retry_timeout``.
        """
        if (contact_list_name is None) == (contact_list_id is None):
            raise KoreAIValidationError(
                "contact_list_name/contact_list_id", "pass exactly one of them to count_contacts"
            )
        with self.retry_policy.call_budget():
            if contact_list_id is not None:
                list_id = validation.contact_list_id(contact_list_id)
                found = self.get_contact_list(list_id)
            else:
                named = self.find_contact_list(validation.contact_list_name(contact_list_name))
                if named is None:
                    return None
                list_id = self._id_of(named, self.contact_lists.list_all().endpoint)
                counted = isinstance(named.get("totalRecordCount"), int)
                found = named if counted else self.get_contact_list(list_id)
        return responses.contact_count(found, list_id, self.contact_lists.get(list_id).endpoint)

    async def aget_contact_list(
        self, contact_list_id: str, *, timeout: float | None = None, retry: bool = True
    ) -> dict[str, Any]:
        """:meth:`get_contact_list` for the triggerer's event loop.

        :param timeout: read timeout of the request, e.g. clipped to a trigger's deadline; default: the
            hook's ``timeout``.
        :param retry: ``False`` sends one request (a trigger's poll interval is its retry).
        """
        call = self.contact_lists.get(validation.contact_list_id(contact_list_id))
        return responses.data_object(await self.arun(call, retry=retry, timeout=timeout), call.endpoint)

    async def acount_contacts(
        self, contact_list_id: str, *, timeout: float | None = None, retry: bool = True
    ) -> ContactCount:
        """:meth:`count_contacts` of a list named by id, for the triggerer's event loop.

        :param timeout: read timeout of the request, e.g. clipped to a trigger's deadline; default: the
            hook's ``timeout``.
        :param retry: ``False`` sends one request (a trigger's poll interval is its retry).
        """
        found = await self.aget_contact_list(contact_list_id, timeout=timeout, retry=retry)
        endpoint = self.contact_lists.get(contact_list_id).endpoint
        return responses.contact_count(found, contact_list_id, endpoint)

    def create_contact_list(
        self,
        *,
        name: str,
        allow_duplicates: bool = False,
        description: str | None = None,
        source: str = DEFAULT_SOURCE,
    ) -> dict[str, Any]:
        """Create a contact list and return it (its id in ``_id``).

        The create is a non-idempotent POST: a blind retry after an ambiguous failure (a timeout after
        sending, a dropped connection, a 5xx) could create a second list. So such a failure is resolved
        by looking the list up by name first; only if it is not there is the POST sent again. Kore.ai's
        409 (the name is taken) is raised as ``KoreAIRequestRejectedError``; :meth:`ensure_contact_list`
        is the create-or-reuse call.
        """
        body = contact_list_body(name, allow_duplicates, source, description)
        call = self.contact_lists.create(body)
        listed_at = self.contact_lists.list_all().endpoint

        def find() -> dict[str, Any] | None:
            existing = self.find_contact_list(body["name"])
            if existing is not None:
                self._id_of(existing, listed_at)
            return existing

        def send() -> dict[str, Any]:
            data = responses.data_object(self.run(call), call.endpoint)
            hint = f"the list was probably created; look it up by name ({body['name']!r})"
            self._id_of(data, call.endpoint, hint=hint)
            return data

        created = self._create_by_name(call, body["name"], "list", find, send)
        self.log.info("Kore.ai contact list %r created as %s", body["name"], contact_list_id_of(created))
        return created

    def ensure_contact_list(
        self,
        *,
        name: str,
        allow_duplicates: bool = False,
        description: str | None = None,
        source: str = DEFAULT_SOURCE,
        if_exists: str = "skip",
    ) -> EnsuredContactList:
        """The list of this name, created if there is none: never a second list of the same name.

        :param if_exists: when a list of the name exists (found first, or created by someone else
            meanwhile: Kore.ai's 409): ``"skip"`` returns it unchanged (differences from the requested
            settings are logged), ``"update"`` applies ``description``, ``allow_duplicates`` and
            ``source`` to it, ``"fail"`` raises ``KoreAIContactListExistsError``.
        """
        mode = validation.one_of(if_exists, "if_exists", IF_EXISTS_MODES)
        body = contact_list_body(name, allow_duplicates, source, description)
        found_at = self.contact_lists.list_all().endpoint
        with self.retry_policy.call_budget():
            existing = self.find_contact_list(body["name"])
            if existing is None:
                try:
                    created = self.create_contact_list(
                        name=body["name"],
                        allow_duplicates=allow_duplicates,
                        description=description,
                        source=source,
                    )
                    return EnsuredContactList(self._id_of(created, found_at), created, created=True)
                except KoreAIRequestRejectedError as error:
                    existing = self.find_contact_list(body["name"]) if error.http_status == 409 else None
                    if existing is None:
                        raise
                    self.log.warning(
                        "Kore.ai contact list %r was created by someone else meanwhile (HTTP 409)",
                        body["name"],
                    )
            list_id = self._id_of(existing, found_at)
            if mode == "fail":
                raise KoreAIContactListExistsError(body["name"], list_id)
            if mode == "update":
                self.log.info(
                    "Kore.ai contact list %r exists as %s: updating it (if_exists='update')",
                    body["name"],
                    list_id,
                )
                self.update_contact_list(
                    list_id,
                    name=body["name"],
                    allow_duplicates=allow_duplicates,
                    description=description,
                    source=source,
                )
                return EnsuredContactList(list_id, self.get_contact_list(list_id), created=False)
        self._log_skipped(existing, list_id, body)
        return EnsuredContactList(list_id, existing, created=False)

    def _log_skipped(self, existing: dict[str, Any], list_id: str, body: dict[str, Any]) -> None:
        """``if_exists='skip'``: say whether the list left as it is differs from what was asked for."""
        name = body["name"]
        differences = {
            key: (found, wanted)
            for key, (wanted, found) in settings_differences(body, existing).items()
            if key != "name"
        }
        if differences:
            self.log.warning(
                "Kore.ai contact list %r exists as %s and is left unchanged (if_exists='skip') although it "
                "differs from the requested settings (existing, requested): %s",
                name,
                list_id,
                differences,
            )
        else:
            self.log.info("Kore.ai contact list %r already exists as %s (if_exists='skip')", name, list_id)

    def delete_contact_list(self, contact_list_id: str) -> dict[str, Any]:
        """Delete a list; returns what Kore.ai says it deleted (``{}`` when older APIs send no ``data``).

        A 404 on a retry that follows an ambiguous failure means the first attempt did delete the list:
        that is success, not "not found".
        """
        call = self.contact_lists.delete(validation.contact_list_id(contact_list_id))
        deleted = self._delete(call, "list")
        self.log.info("Kore.ai contact list %s deleted", contact_list_id)
        return deleted

    # -- contacts ---------------------------------------------------------------------------------------

    def add_contacts(
        self,
        contact_list_name: str,
        records: Iterable[dict[str, Any]],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        requests_per_minute: int | None = None,
        before_chunk: Callable[[int, int], None] | None = None,
    ) -> dict[str, int]:
        """Send contacts to a list (addressed by name), ``chunk_size`` records per request.

        ``records`` is consumed lazily, one chunk in memory at a time. Kore.ai ingests asynchronously:
        the list's ``totalRecordCount`` grows later (see ``ContactListIngestedSensor``). Each chunk is a
        non-idempotent POST with a ``retry_timeout`` of its own, so an ambiguous failure is not retried:
        a failed chunk raises ``KoreAIPartialUploadError``, which says which rows were accepted and which
        are in doubt. ``requests_per_minute`` paces the chunks so that a long upload leaves room in the
        account's budget for other calls.

        :param before_chunk: called with the chunk's index in this call (0-based) and its row count right
            before each chunk is sent, after pacing; when it is called for chunk ``i``, every earlier chunk
            was accepted. What it raises stops the upload (nothing more is sent) and is raised as it is.
            ``AddContactsOperator`` records its progress there.
        :return: ``{"rows_sent": ..., "chunks_sent": ...}``.
        """
        name = validation.contact_list_name(contact_list_name, field="contact_list_name")
        size = validation.whole_number(chunk_size, "chunk_size", minimum=1, allow_text=False)
        pace = rate_limit.pacer(requests_per_minute)
        rows_sent = chunks_sent = 0
        iterator = iter(records)
        while chunk := list(islice(iterator, size)):
            pace()
            if before_chunk is not None:
                before_chunk(chunks_sent, len(chunk))
            try:
                self.run(self.contact_lists.add_contacts(name, chunk))
            except KoreAIError as error:
                raise KoreAIPartialUploadError(
                    contact_list_name=name,
                    cause=error,
                    rows_accepted=rows_sent,
                    chunks_accepted=chunks_sent,
                    rows_failed=len(chunk),
                    outcome_unknown=transport.is_ambiguous(error),
                ) from error
            rows_sent += len(chunk)
            chunks_sent += 1
        self.log.info("Kore.ai list %r: %d contacts sent in %d chunk(s)", name, rows_sent, chunks_sent)
        return {"rows_sent": rows_sent, "chunks_sent": chunks_sent}

    def iter_contacts(self, contact_list_id: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every contact of a list, fetched page by page (``skip``/``limit``) as the caller iterates."""
        list_id = validation.contact_list_id(contact_list_id)
        limit = validation.whole_number(
            page_size, "page_size", minimum=1, maximum=MAX_PAGE_SIZE, allow_text=False
        )
        skip = 0
        while True:
            call = self.contact_lists.contacts_page(list_id, skip=skip, limit=limit)
            page = responses.data_object(self.run(call), call.endpoint)
            results = page.get("results")
            if not isinstance(results, list):
                raise KoreAIUnexpectedResponseError(
                    http_status=200, endpoint=call.endpoint, message="the page has no results list"
                )
            yield from results
            skip += len(results)
            if not results or not page.get("hasMore"):
                return

    # -- campaigns --------------------------------------------------------------------------------------

    def get_campaign_status(self, campaign_id: str) -> CampaignStatus:
        """A campaign's status (``Preparing``, ``Ready``, ``Active``, ``Paused``, ``Completed``,
        ``Stopped``...), read with Get Campaign Status."""
        call = self.campaigns.status(validation.campaign_id(campaign_id))
        data = responses.data_object(self.run(call), call.endpoint)
        return responses.campaign_status(data, campaign_id, call.endpoint)

    async def aget_campaign_status(
        self, campaign_id: str, *, timeout: float | None = None, retry: bool = True
    ) -> CampaignStatus:
        """:meth:`get_campaign_status` for the triggerer's event loop.

        :param timeout: read timeout of the request, e.g. clipped to a trigger's deadline; default: the
            hook's ``timeout``.
        :param retry: ``False`` sends one request (a trigger's poll interval is its retry).
        """
        call = self.campaigns.status(validation.campaign_id(campaign_id))
        data = responses.data_object(await self.arun(call, retry=retry, timeout=timeout), call.endpoint)
        return responses.campaign_status(data, campaign_id, call.endpoint)

    def get_campaign(self, campaign_id: str) -> dict[str, Any]:
        """One campaign as Kore.ai holds it (``_id``, ``name``, ``status``, ``contactLists``, and once it
        has run ``campaignInstanceId``)."""
        call = self.campaigns.get(validation.campaign_id(campaign_id))
        return responses.data_object(self.run(call), call.endpoint)

    def list_campaigns(
        self, campaign_type: str = "voice", statuses: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """Every campaign of a type in the application, read page by page within one ``retry_timeout``.

        :param statuses: only campaigns in these statuses (Kore.ai's ``filters.status``).
        """
        kind = validation.campaign_type(campaign_type)
        wanted = None if statuses is None else validation.campaign_statuses(list(statuses), "statuses")
        campaigns: list[dict[str, Any]] = []
        page = 1
        with self.retry_policy.call_budget():
            while True:
                call = self.campaigns.list_page(
                    kind, page=page, limit=MAX_CAMPAIGN_PAGE_SIZE, statuses=wanted
                )
                data = responses.data_object(self.run(call), call.endpoint)
                results = data.get("results")
                if not isinstance(results, list):
                    raise KoreAIUnexpectedResponseError(
                        http_status=200, endpoint=call.endpoint, message="the page has no results list"
                    )
                campaigns.extend(item for item in results if isinstance(item, dict))
                total_pages = data.get("totalPages")
                more = data.get("hasMore") if isinstance(data.get("hasMore"), bool) else None
                if not results or more is False or (isinstance(total_pages, int) and page >= total_pages):
                    return campaigns
                if more is None and not isinstance(total_pages, int):
                    return campaigns
                page += 1

    def find_campaign(self, name: str, campaign_type: str = "voice") -> dict[str, Any] | None:
        """The campaign with exactly this name, or ``None``. Several campaigns of that name are an error."""
        wanted = validation.contact_list_name(name)
        matches = [item for item in self.list_campaigns(campaign_type) if item.get("name") == wanted]
        if len(matches) > 1:
            ids = ", ".join(campaign_id_of(item) or "?" for item in matches)
            raise KoreAIError(
                f"{len(matches)} Kore.ai campaigns are named {wanted!r}: address the campaign by id ({ids})"
            )
        return matches[0] if matches else None

    def start_campaign(self, campaign_id: str, campaign_type: str = "voice") -> dict[str, Any]:
        """Start (``trigger=play``) a campaign and return Kore.ai's answer (``status``, ``message``,
        ``campaignInstanceId``...).

        A start is not safe to repeat. After an ambiguous failure (a timeout after sending, a dropped
        connection, a 5xx) the campaign's status is read first: an ``Active`` campaign was started by the
        first attempt and is not started again (the answer then says so, with the ``campaignInstanceId``
        read from the campaign). Kore.ai's refusals (a campaign still ``Preparing``, already ``Active``,
        or whose list another campaign is dialling) raise ``KoreAIRequestRejectedError``.
        """
        return self._trigger_campaign(campaign_id, campaign_type, PLAY)

    def stop_campaign(self, campaign_id: str, campaign_type: str = "voice") -> dict[str, Any]:
        """Stop (``trigger=stop``) a running campaign and return Kore.ai's answer.

        As :meth:`start_campaign`: after an ambiguous failure the status is read first, and a campaign
        found ``Stopped`` or ``Completed`` is not stopped again.
        """
        return self._trigger_campaign(campaign_id, campaign_type, STOP)

    def _trigger_campaign(self, campaign_id: str, campaign_type: str, action: str) -> dict[str, Any]:
        checked_id = validation.campaign_id(campaign_id)
        call = self.campaigns.trigger(checked_id, validation.campaign_type(campaign_type), action)
        done, verb = (_STARTED, "Start") if action == PLAY else (_STOPPED, "Stop")
        applied_hint = f"the {verb.lower()} was probably applied; read the campaign's status"

        with self.retry_policy.call_budget() as budget:

            def trigger_once(attempt: int) -> dict[str, Any]:
                if attempt > 1:
                    status = self.get_campaign_status(checked_id)
                    if status.status in done:
                        self.log.warning(
                            "Kore.ai %s: the previous attempt did reach Kore.ai; campaign %s is %s",
                            call.endpoint,
                            checked_id,
                            status.status,
                        )
                        instance = self.get_campaign(checked_id).get("campaignInstanceId")
                        return {
                            "status": status.status,
                            "message": f"{verb} confirmed by reading the status after an unclear answer",
                            "campaignInstanceId": instance if isinstance(instance, str) else None,
                        }
                    if budget.spent:
                        raise KoreAITransportError(
                            f"{verb} of campaign {checked_id} not confirmed: read its status in Kore.ai "
                            "before running the task again. An earlier attempt got no clear answer, the "
                            f"campaign was {status.status} when checked afterwards, and retry_timeout "
                            f"({budget.seconds:g} s) is spent, so the {verb.lower()} was not sent again "
                            f"({short_endpoint(call.endpoint)})",
                            endpoint=call.endpoint,
                            outcome_unknown=True,
                        )
                return responses.trigger_answer(self.run(call), call.endpoint, hint=applied_hint)

            answer = self._resolve_ambiguous(call, trigger_once, budget)
        self.log.info(
            "Kore.ai campaign %s: %s (instance %s)",
            checked_id,
            answer.get("status"),
            answer.get("campaignInstanceId") or "not reported",
        )
        return answer

    def iter_campaign_contact_pages(
        self, campaign_id: str, *, page_size: int = MAX_CAMPAIGN_PAGE_SIZE
    ) -> Iterator[CampaignContactsPage]:
        """A campaign's per-contact results of its current or last run, one page at a time, each
        fetched as the caller iterates (``page``/``limit``, at most 100 rows a page). The rows hold contact
        data (phone numbers): keep them out of logs and XCom."""
        checked_id = validation.campaign_id(campaign_id)
        limit = validation.whole_number(
            page_size, "page_size", minimum=1, maximum=MAX_CAMPAIGN_PAGE_SIZE, allow_text=False
        )
        page = 1
        while True:
            call = self.campaigns.contacts_page(checked_id, page=page, limit=limit)
            found = responses.campaign_contacts_page(
                responses.data_object(self.run(call), call.endpoint), call.endpoint
            )
            last = not found.results or page >= found.total_pages
            yield found
            del found  # one page in memory: the caller's, not also ours while the next one is read
            if last:
                return
            page += 1

    def iter_campaign_contacts(
        self, campaign_id: str, *, page_size: int = MAX_CAMPAIGN_PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Every per-contact result of a campaign's current or last run (``phoneNumber``,
        ``dialerOutcome``, ``numberOfAttemptsSoFar``, ``botOutboundStatus``...), lazily, page by page."""
        for page in self.iter_campaign_contact_pages(campaign_id, page_size=page_size):
            yield from page.results

    def create_campaign(self, campaign_type: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Create a campaign from its definition (Kore.ai's fields: ``name``, ``description``,
        ``contactLists``, ``priority``, ``dialingMode``, ``dialingStrategy``...) and return it (its id in
        ``_id`` or ``id``); a voice campaign starts ``Preparing``.

        The definition is checked first (:func:`~airflow_provider_koreai.validation.campaign_spec`). The
        create is not safe to repeat: after an ambiguous failure the campaign is looked up by name first,
        and the POST is sent again only if it is not there. :meth:`ensure_campaign` is the
        create-or-reuse call.
        """
        kind = validation.campaign_type(campaign_type)
        body = validation.campaign_spec(spec, kind)
        call = self.campaigns.create(kind, body)

        def send() -> dict[str, Any]:
            payload = self.run(call)
            data = responses.data_object(payload, call.endpoint)
            if campaign_id_of(data) is None and isinstance(payload.get("id"), str):
                data = {**data, "_id": payload["id"]}  # Preview v1 answers {"id", "data": {"campId"}}
            self._campaign_id(data, call.endpoint)
            return data

        created = self._create_by_name(
            call, body["name"], "campaign", lambda: self.find_campaign(body["name"], kind), send
        )
        self.log.info("Kore.ai campaign %r created as %s", body["name"], campaign_id_of(created))
        return created

    def ensure_campaign(
        self, campaign_type: str, spec: dict[str, Any], *, if_exists: str = "skip"
    ) -> EnsuredCampaign:
        """The campaign of ``spec["name"]``, created if there is none: never a second campaign of a name.

        :param if_exists: when a campaign of the name exists (found first, or created by someone else
            meanwhile: Kore.ai's 409): ``"skip"`` returns it unchanged, ``"update"`` applies ``spec``
            to it (refused by Kore.ai while it is Active), ``"fail"`` raises ``KoreAICampaignExistsError``.
        """
        mode = validation.one_of(if_exists, "if_exists", IF_EXISTS_MODES)
        kind = validation.campaign_type(campaign_type)
        body = validation.campaign_spec(spec, kind)
        found_at = self.campaigns.list_page(kind, page=1, limit=MAX_CAMPAIGN_PAGE_SIZE).endpoint
        with self.retry_policy.call_budget():
            existing = self.find_campaign(body["name"], kind)
            if existing is None:
                try:
                    created = self.create_campaign(kind, body)
                    return EnsuredCampaign(self._campaign_id(created, found_at), created, created=True)
                except KoreAIRequestRejectedError as error:
                    existing = self.find_campaign(body["name"], kind) if error.http_status == 409 else None
                    if existing is None:
                        raise
                    self.log.warning(
                        "Kore.ai campaign %r was created by someone else meanwhile (HTTP 409)", body["name"]
                    )
            campaign_id = self._campaign_id(existing, found_at)
            if mode == "fail":
                raise KoreAICampaignExistsError(body["name"], campaign_id)
            if mode == "update":
                self.log.info(
                    "Kore.ai campaign %r exists as %s: updating it (if_exists='update')",
                    body["name"],
                    campaign_id,
                )
                self.update_campaign(campaign_id, kind, body)
                return EnsuredCampaign(campaign_id, self.get_campaign(campaign_id), created=False)
        self.log.info(
            "Kore.ai campaign %r already exists as %s (if_exists='skip')", body["name"], campaign_id
        )
        return EnsuredCampaign(campaign_id, existing, created=False)

    def update_campaign(self, campaign_id: str, campaign_type: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Replace a campaign's definition (a PUT of every field, checked as :meth:`create_campaign`
        checks them) and return Kore.ai's ``data``. Kore.ai refuses to edit an Active campaign."""
        kind = validation.campaign_type(campaign_type)
        body = validation.campaign_spec(spec, kind)
        call = self.campaigns.update(validation.campaign_id(campaign_id), kind, body)
        payload = self.run(call)
        data = payload.get("data")
        self.log.info("Kore.ai campaign %s updated: name=%r", campaign_id, body["name"])
        return data if isinstance(data, dict) else {}

    def delete_campaign(self, campaign_id: str, campaign_type: str = "voice") -> dict[str, Any]:
        """Delete a campaign; returns what Kore.ai says it deleted (``{}`` when it sends no ``data``).

        A 404 on a retry that follows an ambiguous failure means the first attempt did delete it: that is
        success, not "not found". Kore.ai refuses to delete a running campaign: stop it first.
        """
        call = self.campaigns.delete(
            validation.campaign_id(campaign_id), validation.campaign_type(campaign_type)
        )
        deleted = self._delete(call, "campaign")
        self.log.info("Kore.ai campaign %s deleted", campaign_id)
        return deleted

    # -- the UI's Test button -------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """One authenticated read, without retries, for the UI's Test button.

        Airflow may test the connection under a random temporary connection id: the messages say "this
        connection" rather than name that id.
        """
        probe = type(self)(self.koreai_conn_id, timeout=self._timeout, max_attempts=1)
        try:
            probe._config = config = KoreAIConnectionConfig.from_connection(
                self.get_connection(self.koreai_conn_id), subject=TEST_CONNECTION_SUBJECT
            )
            lists = probe.list_contact_lists()
        except KoreAIError as exc:
            return False, str(exc)
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        budget = config.rate_budget.describe()
        limiter = probe.rate_limiter
        if limiter is not None and limiter.settings.store is not None and not limiter.uses_store:
            budget += " (the store is unreachable: each process paces itself until it answers)"
        return True, (
            f"Connected to {config.base_url} as {config.client_id}: "
            f"{len(lists)} contact list(s) in application {config.iid}. Request budget: {budget}."
        )

    # -- helpers of the compound calls ------------------------------------------------------------------

    @staticmethod
    def _id_of(contact_list: dict[str, Any], endpoint: str, hint: str | None = None) -> str:
        list_id = contact_list_id_of(contact_list)
        if list_id is None:
            raise KoreAIUnexpectedResponseError(
                http_status=200,
                endpoint=endpoint,
                message=f"a contact list without an id (keys {sorted(contact_list)})",
                hint=hint,
            )
        return list_id

    @staticmethod
    def _campaign_id(campaign: dict[str, Any], endpoint: str) -> str:
        found = campaign_id_of(campaign)
        if found is None:
            raise KoreAIUnexpectedResponseError(
                http_status=200,
                endpoint=endpoint,
                message=f"a campaign without an id (keys {sorted(campaign)})",
                hint="the campaign was probably created; look it up by name",
            )
        return found

    def _create_by_name(
        self,
        call: Call,
        name: str,
        what: str,
        find: Callable[[], dict[str, Any] | None],
        send: Callable[[], dict[str, Any]],
    ) -> dict[str, Any]:
        """Run a create that is not safe to repeat: after an ambiguous failure, ``find()`` looks the name
        up first, and ``send()`` runs again only if nothing of that name exists, within one budget."""
        with self.retry_policy.call_budget() as budget:

            def create_once(attempt: int) -> dict[str, Any]:
                if attempt > 1:
                    existing = find()
                    if existing is not None:
                        self.log.warning(
                            "Kore.ai %s: the previous attempt did reach Kore.ai; %s %r exists as %s",
                            call.endpoint,
                            what,
                            name,
                            existing.get("_id") or existing.get("id"),
                        )
                        return existing
                    if budget.spent:
                        raise KoreAITransportError(
                            f"Create of {what} {name!r} not confirmed: check Kore.ai for the {what} before "
                            f"running the task again. An earlier attempt got no clear answer, no {what} of "
                            "that name existed when checked afterwards, and retry_timeout "
                            f"({budget.seconds:g} s) is spent, so the create was not sent again "
                            f"({short_endpoint(call.endpoint)})",
                            endpoint=call.endpoint,
                            outcome_unknown=True,
                        )
                return send()

            created: dict[str, Any] = self._resolve_ambiguous(call, create_once, budget)
        return created

    def _delete(self, call: Call, what: str) -> dict[str, Any]:
        """Run a delete; a 404 on a retry that follows an ambiguous failure is success: the first attempt
        deleted it. Returns the ``data`` Kore.ai sends, ``{}`` without."""

        def delete_once(attempt: int) -> dict[str, Any]:
            try:
                payload = self.run(call)
            except KoreAINotFoundError:
                if attempt == 1:
                    raise
                self.log.warning(
                    "Kore.ai %s: the previous attempt had already deleted the %s", call.endpoint, what
                )
                return {}
            data = payload.get("data")
            return data if isinstance(data, dict) else {}

        with self.retry_policy.call_budget() as budget:
            deleted: dict[str, Any] = self._resolve_ambiguous(call, delete_once, budget)
        return deleted

    def _resolve_ambiguous(
        self, call: Call, attempt_call: Callable[[int], Any], budget: transport.CallBudget
    ) -> Any:
        """Run a write that is not safe to repeat; after an ambiguous failure, ``attempt_call(attempt)``
        runs again, within the same budget, and must first check whether the earlier attempt took
        effect."""
        retrying = self.retry_policy.retrying(
            retry_if=transport.is_ambiguous,
            budget=budget,
            before_sleep=self.pipeline.retry_logger(call.endpoint, ambiguous=True),
        )
        for attempt in retrying:
            with attempt:
                return attempt_call(attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity either returns or reraises")  # pragma: no cover


def contact_list_body(
    name: str, allow_duplicates: bool, source: str, description: str | None
) -> dict[str, Any]:
    """The JSON body of a create or an update, checked field by field; ``description`` only when given."""
    body: dict[str, Any] = {
        "name": validation.contact_list_name(name),
        "source": validation.source(source),
        "allowDuplicates": validation.strict_bool(allow_duplicates, "allow_duplicates"),
    }
    checked_description = validation.contact_list_description(description)
    if checked_description is not None:
        body["description"] = checked_description
    return body


def settings_differences(body: Mapping[str, Any], found: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The settings of ``body`` (a create's or an update's) that the list ``found`` does not hold, as
    ``{field: (in body, found)}``; a field ``found`` does not report is not compared."""
    return {key: (value, found[key]) for key, value in body.items() if key in found and found[key] != value}
