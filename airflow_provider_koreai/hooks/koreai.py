"""``KoreAIHook``: the Kore.ai Campaign Management API as Python methods, on the worker and in the triggerer.

The hook owns the ``koreai`` connection and the API's calls: what each sends, and what each answer
means for the caller (create-or-reuse, "already deleted", counts, pages). How a call survives the
network lives in :mod:`~airflow_provider_koreai.transport`, how an answer becomes a result or an error
in :mod:`~airflow_provider_koreai.responses`, and how a request is signed in
:mod:`~airflow_provider_koreai.auth`. Blocking methods use one :class:`requests.Session`; the ``a``-
prefixed methods (``aget_contact_list``) use one ``httpx.AsyncClient`` for the triggerer. Both clients
are signed by the same :class:`~airflow_provider_koreai.auth.KoreAIJWTAuth`.

``requests``, ``httpx``, ``jwt`` and ``tenacity`` are imported on first use, not at module import: DAG
files that import our operators are parsed over and over by the DAG processor, which never sends a
request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, urlsplit

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_koreai import assets, connection_form, rate_limit, responses, transport, validation
from airflow_provider_koreai.connection import KoreAIConnectionConfig
from airflow_provider_koreai.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_TIMEOUT_SECONDS,
    DEFAULT_SOURCE,
    IF_EXISTS_MODES,
)
from airflow_provider_koreai.exceptions import (
    KoreAIAPIError,
    KoreAIConfigurationError,
    KoreAIContactListExistsError,
    KoreAIError,
    KoreAINotFoundError,
    KoreAIPartialUploadError,
    KoreAIRequestRejectedError,
    KoreAITransportError,
    KoreAIUnexpectedResponseError,
)
from airflow_provider_koreai.responses import NOT_FOUND_BY_NAME_HINT, NOT_FOUND_HINT, contact_list_id_of

if TYPE_CHECKING:
    import httpx
    import requests
    import tenacity

    from airflow_provider_koreai.auth import KoreAIJWTAuth

CONTACT_LIST_PREFIX = "/agentassist/api/v1/public/{iid}/campaign/contactList"
#: Adding contacts lives under another prefix than the other contact-list calls, and addresses the list
#: by name, not id (Kore.ai's "Add contacts to a list" API).
ADD_CONTACTS_PATH = "/api/1.1/public/{iid}/campaign/contactList/addContacts"
#: How ``test_connection`` names the connection: the UI tests it under a random temporary id.
TEST_CONNECTION_SUBJECT = "This Kore.ai connection"
MAX_PAGE_SIZE = 1000


class EnsuredContactList(NamedTuple):
    """What :meth:`KoreAIHook.ensure_contact_list` found or made: the list's id, the list as Kore.ai
    holds it, and whether this call created it."""

    contact_list_id: str
    contact_list: dict[str, Any]
    created: bool


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
        self._async_client: httpx.AsyncClient | None = None

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
        return self._timeout if self._timeout is not None else self.config.timeout

    @property
    def max_attempts(self) -> int:
        for value in (self._max_attempts, self.config.max_attempts):
            if value is not None:
                return max(1, value)
        return DEFAULT_MAX_ATTEMPTS

    @property
    def retry_timeout(self) -> float:
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

    def get_auth(self) -> KoreAIJWTAuth:
        """The one request signer of this hook (a ``requests`` auth), used by its blocking and its async
        client alike."""
        return self._signer

    @cached_property
    def _signer(self) -> KoreAIJWTAuth:
        from airflow_provider_koreai.auth import KoreAIJWTAuth

        config = self.config
        return KoreAIJWTAuth(
            config.client_id,
            config.client_secret,
            iid=config.iid,
            account_id=config.account_id,
            ttl=config.jwt_ttl,
            enforce_jti=config.enforce_jti,
        )

    @cached_property
    def scrub(self) -> responses.Scrubber:
        """Removes tokens and this connection's secret from text that came back from the server."""
        return responses.Scrubber(self.config.client_secret)

    def get_conn(self) -> requests.Session:
        """The hook's one session: connection pooling, and every request signed with a fresh JWT."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        import requests

        session = requests.Session()
        session.auth = self._signer
        session.verify = self.config.verify
        session.headers.update({"Accept": "application/json", "User-Agent": transport.USER_AGENT})
        return session

    def contact_list_asset_uri(self, contact_list_id: str) -> str:
        """The list's asset URI, ``koreai://<host>/<iid>/contact-lists/<id>`` (see ``assets.py``)."""
        return assets.contact_list_uri(
            host=urlsplit(self.config.base_url).netloc,
            iid=self.config.iid,
            contact_list_id=validation.contact_list_id(contact_list_id),
        )

    def contact_list_path(self, *segments: str) -> str:
        """The API path under this application's contact lists, each segment percent-encoded."""
        return "/".join([self._contact_list_prefix, *(quote(segment, safe="") for segment in segments)])

    @cached_property
    def _contact_list_prefix(self) -> str:
        return CONTACT_LIST_PREFIX.format(iid=quote(self.config.iid, safe=""))

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
        return self._update(list_id, body, self.retry_policy.budget())

    def _update(self, list_id: str, body: dict[str, Any], budget: transport.CallBudget) -> dict[str, Any]:
        path = self.contact_list_path(list_id)
        payload = self._request("PUT", path, json=body, budget=budget)
        applied_hint = "Kore.ai reported success, so the update was probably applied; check the list"
        data = responses.data_object(payload, f"PUT {path}", hint=applied_hint)
        if not isinstance(data.get("contactListId"), str) or not isinstance(data.get("body", {}), dict):
            raise KoreAIUnexpectedResponseError(
                http_status=200,
                endpoint=f"PUT {path}",
                message="the answer has no data.contactListId string or data.body object",
                hint=applied_hint,
            )
        # DEBUG: a hook may be called thousands of times by one task; the operator logs the task's outcome.
        self.log.debug("Kore.ai contact list %s updated: name=%r", data["contactListId"], body["name"])
        return data

    def get_contact_list(self, contact_list_id: str) -> dict[str, Any]:
        """One contact list as Kore.ai holds it (``_id``, ``name``, ``totalRecordCount``, ``status``...)."""
        return self._get(validation.contact_list_id(contact_list_id), self.retry_policy.budget())

    def _get(self, list_id: str, budget: transport.CallBudget) -> dict[str, Any]:
        path = self.contact_list_path(list_id)
        return responses.data_object(self._request("GET", path, budget=budget), f"GET {path}")

    async def aget_contact_list(
        self, contact_list_id: str, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """:meth:`get_contact_list` for the triggerer's event loop.

        :param timeout: read timeout of each request, e.g. clipped to a trigger's deadline; default:
            the hook's ``timeout``.
        """
        path = self.contact_list_path(validation.contact_list_id(contact_list_id))
        return responses.data_object(await self._arequest("GET", path, timeout=timeout), f"GET {path}")

    def list_contact_lists(self) -> list[dict[str, Any]]:
        """Every call-type contact list of the application (a read, despite being a POST)."""
        return self._list_contact_lists(self.retry_policy.budget())

    def find_contact_list(self, name: str) -> dict[str, Any] | None:
        """The list with exactly this name, or ``None``. Several lists of that name are an error."""
        return self._find_contact_list(name, self.retry_policy.budget())

    def count_contacts(self, contact_list_name: str) -> tuple[str, int] | None:
        """The id and ``totalRecordCount`` of the list with exactly this name; ``None`` if there is none.

        The list of lists may omit the count; then the list itself is read.
        """
        budget = self.retry_policy.budget()
        found = self._find_contact_list(contact_list_name, budget)
        if found is None:
            return None
        list_id = self._id_of(found, f"POST {self.contact_list_path('getAllListDetails')}")
        if not isinstance(found.get("totalRecordCount"), int):
            found = self._get(list_id, budget)
        return list_id, responses.total_record_count(found, f"GET {self.contact_list_path(list_id)}")

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
        return self._create(body, self.retry_policy.budget()).contact_list

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
        budget = self.retry_policy.budget()
        existing = self._find_contact_list(body["name"], budget)
        if existing is None:
            try:
                return self._create(body, budget)
            except KoreAIRequestRejectedError as error:
                existing = self._find_contact_list(body["name"], budget) if error.http_status == 409 else None
                if existing is None:
                    raise
                self.log.warning(
                    "Kore.ai contact list %r was created by someone else meanwhile (HTTP 409)", body["name"]
                )
        list_id = self._id_of(existing, f"POST {self.contact_list_path('getAllListDetails')}")
        return EnsuredContactList(
            list_id, self._apply_if_exists(existing, list_id, body, mode, budget), created=False
        )

    def delete_contact_list(self, contact_list_id: str) -> dict[str, Any]:
        """Delete a list; returns what Kore.ai says it deleted (``{}`` when older APIs send no ``data``).

        A 404 on a retry that follows an ambiguous failure means the first attempt did delete the list:
        that is success, not "not found".
        """
        path = self.contact_list_path(validation.contact_list_id(contact_list_id))
        endpoint = f"DELETE {path}"
        budget = self.retry_policy.budget()

        def delete_once(attempt: int) -> dict[str, Any]:
            try:
                payload = self._request("DELETE", path, idempotent=False, budget=budget)
            except KoreAINotFoundError:
                if attempt == 1:
                    raise
                self.log.warning("Kore.ai %s: the previous attempt had already deleted the list", endpoint)
                return {}
            data = payload.get("data")
            return data if isinstance(data, dict) else {}

        deleted = self._resolve_ambiguous(endpoint, delete_once, budget)
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
    ) -> dict[str, int]:
        """Send contacts to a list (addressed by name), ``chunk_size`` records per request.

        ``records`` is consumed lazily, one chunk in memory at a time. Kore.ai ingests asynchronously:
        the list's ``totalRecordCount`` grows later (see ``ContactListIngestedSensor``). Each chunk is a
        non-idempotent POST, so an ambiguous failure is not retried: a failed chunk raises
        ``KoreAIPartialUploadError``, which says which rows were accepted and which are in doubt.
        ``requests_per_minute`` paces the chunks so that a long upload leaves room in the account's
        budget for other calls.

        :return: ``{"rows_sent": ..., "chunks_sent": ...}``.
        """
        name = validation.contact_list_name(contact_list_name, field="contact_list_name")
        size = validation.whole_number(chunk_size, "chunk_size", minimum=1, allow_text=False)
        pace = rate_limit.pacer(requests_per_minute)
        path = ADD_CONTACTS_PATH.format(iid=quote(self.config.iid, safe=""))
        rows_sent = chunks_sent = 0
        iterator = iter(records)
        while chunk := list(islice(iterator, size)):
            pace()
            try:
                self._request(
                    "POST",
                    path,
                    json={"contact_list_name": name, "data": chunk},
                    idempotent=False,
                    not_found_hint=NOT_FOUND_BY_NAME_HINT,
                )
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
        path = self.contact_list_path(list_id, "getAllContacts")
        skip = 0
        while True:
            params = {"skip": str(skip), "limit": str(limit)}
            page = responses.data_object(self._request("GET", path, params=params), f"GET {path}")
            results = page.get("results")
            if not isinstance(results, list):
                raise KoreAIUnexpectedResponseError(
                    http_status=200, endpoint=f"GET {path}", message="the page has no results list"
                )
            yield from results
            skip += len(results)
            if not results or not page.get("hasMore"):
                return

    # -- the UI's Test button -------------------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """One authenticated read, without retries, for the UI's Test button.

        The UI tests an unsaved copy of the form under a random temporary connection id: the messages
        say "this connection" rather than name that id.
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

    # -- the steps of create-or-reuse -------------------------------------------------------------------

    def _list_contact_lists(self, budget: transport.CallBudget) -> list[dict[str, Any]]:
        path = self.contact_list_path("getAllListDetails")
        payload = self._request("POST", path, params={"type": "call"}, budget=budget)
        return responses.data_list(payload, f"POST {path}")

    def _find_contact_list(self, name: str, budget: transport.CallBudget) -> dict[str, Any] | None:
        wanted = validation.contact_list_name(name)
        matches = [item for item in self._list_contact_lists(budget) if item.get("name") == wanted]
        if len(matches) > 1:
            ids = ", ".join(contact_list_id_of(item) or "?" for item in matches)
            raise KoreAIError(
                f"{len(matches)} Kore.ai contact lists are named {wanted!r} ({ids}): address the list by id"
            )
        return matches[0] if matches else None

    def _create(self, body: dict[str, Any], budget: transport.CallBudget) -> EnsuredContactList:
        """POST the create; after an ambiguous failure, look the name up before sending it again."""
        name = body["name"]
        path = self.contact_list_path("createContactList")
        endpoint = f"POST {path}"

        def create_once(attempt: int) -> EnsuredContactList:
            if attempt > 1:
                existing = self._find_contact_list(name, budget)
                if existing is not None:
                    self.log.warning(
                        "Kore.ai %s: the previous attempt did reach Kore.ai; list %r exists as %s",
                        endpoint,
                        name,
                        contact_list_id_of(existing),
                    )
                    list_id = self._id_of(existing, f"POST {self.contact_list_path('getAllListDetails')}")
                    return EnsuredContactList(list_id, existing, created=True)
                if budget.spent:
                    raise KoreAITransportError(
                        f"Kore.ai {endpoint}: an earlier attempt got no clear answer, and no list named "
                        f"{name!r} existed when checked afterwards; retry_timeout ({budget.seconds:g} s) is "
                        "spent, so the create was not sent again. Check Kore.ai before running the task "
                        "again.",
                        endpoint=endpoint,
                        outcome_unknown=True,
                    )
            payload = self._request("POST", path, json=body, idempotent=False, budget=budget)
            data = responses.data_object(payload, endpoint)
            list_id = self._id_of(
                data, endpoint, hint=f"The list was probably created; look it up by name ({name!r})"
            )
            return EnsuredContactList(list_id, data, created=True)

        created = self._resolve_ambiguous(endpoint, create_once, budget)
        self.log.info("Kore.ai contact list %r created as %s", name, created.contact_list_id)
        return created

    def _apply_if_exists(
        self,
        existing: dict[str, Any],
        list_id: str,
        body: dict[str, Any],
        mode: str,
        budget: transport.CallBudget,
    ) -> dict[str, Any]:
        name = body["name"]
        if mode == "fail":
            raise KoreAIContactListExistsError(name, list_id)
        if mode == "update":
            self.log.info(
                "Kore.ai contact list %r exists as %s: updating it (if_exists='update')", name, list_id
            )
            self._update(list_id, body, budget)
            return self._get(list_id, budget)
        differences = {
            key: (existing.get(key), value)
            for key, value in body.items()
            if key != "name" and key in existing and existing.get(key) != value
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
        return existing

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

    # -- sending ----------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
        not_found_hint: str = NOT_FOUND_HINT,
        budget: transport.CallBudget | None = None,
    ) -> dict[str, Any]:
        """Send one request, retried by the transport rule within the call's budget, and return Kore.ai's
        JSON object.

        :param idempotent: whether sending the request twice is harmless. When it is not, a request
            that may have reached Kore.ai (read timeout, dropped connection, 5xx) is never re-sent.
        :param budget: the time left to the logical call this request belongs to; default: a new one.
        """
        import requests

        endpoint = f"{method} {path}"
        config = self.config
        url = config.base_url + path
        session = self.get_conn()
        read_timeout = self.timeout
        timeouts = (config.connect_timeout, read_timeout)
        budget = budget or self.retry_policy.budget()
        limiter = self.rate_limiter

        def send() -> dict[str, Any]:
            self._check_budget(budget, endpoint)
            if limiter is not None:
                limiter.acquire(budget, endpoint)
            try:
                # verify per request: a session-level value loses to REQUESTS_CA_BUNDLE (psf/requests#3829).
                response = session.request(
                    method,
                    url,
                    json=json,
                    params=params,
                    timeout=timeouts,
                    allow_redirects=False,
                    verify=config.verify,
                )
            except requests.RequestException as exc:
                raise transport.transport_error(
                    transport.requests_failure(exc),
                    endpoint=endpoint,
                    cause=exc,
                    base_url=config.base_url,
                    read_timeout=read_timeout,
                    idempotent=idempotent,
                ) from exc
            return responses.parse_response(
                response, endpoint, scrub=self.scrub, not_found_hint=not_found_hint
            )

        retrying = self.retry_policy.retrying(
            retry_if=lambda error: transport.is_transient(error, idempotent),
            budget=budget,
            before_sleep=self._log_retry(endpoint, "failed"),
        )
        return retrying(send)

    async def _arequest(self, method: str, path: str, *, timeout: float | None = None) -> dict[str, Any]:
        """:meth:`_request` for an idempotent read, on the ``httpx`` client, without blocking the loop."""
        import httpx

        config = await self.aget_config()
        client = await self._get_async_client()
        endpoint = f"{method} {path}"
        read_timeout = timeout if timeout is not None else self.timeout
        timeouts = httpx.Timeout(read_timeout, connect=min(config.connect_timeout, read_timeout))
        budget = self.retry_policy.budget()
        limiter = self.rate_limiter

        async def send() -> dict[str, Any]:
            self._check_budget(budget, endpoint)
            if limiter is not None:
                await limiter.aacquire(budget, endpoint)
            # In a thread: with enforce_jti=False a new reusable token goes to the masker, a blocking call
            # to the supervisor (auth.py holds the rule; single-use tokens are never registered).
            headers = await asyncio.to_thread(self._signer.headers)
            try:
                response = await client.request(
                    method, config.base_url + path, headers=headers, timeout=timeouts
                )
            except httpx.TransportError as exc:
                raise transport.transport_error(
                    transport.httpx_failure(exc),
                    endpoint=endpoint,
                    cause=exc,
                    base_url=config.base_url,
                    read_timeout=read_timeout,
                    idempotent=True,
                ) from exc
            return responses.parse_response(response, endpoint, scrub=self.scrub)

        if self.max_attempts == 1:
            # The trigger's case: its poll interval is the retry. tenacity's loop would add a quarter
            # to the CPU of each poll for nothing (benchmarks/trigger_poll_cost.py).
            return await send()
        retrying = self.retry_policy.async_retrying(
            retry_if=lambda error: transport.is_transient(error, True),
            budget=budget,
            before_sleep=self._log_retry(endpoint, "failed"),
        )
        return await retrying(send)

    async def _get_async_client(self) -> httpx.AsyncClient:
        if self._async_client is None:
            import httpx

            verify = await asyncio.to_thread(transport.httpx_verify, (await self.aget_config()).verify)
            self._async_client = httpx.AsyncClient(
                verify=verify,
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": transport.TRIGGERER_USER_AGENT},
            )
        return self._async_client

    async def aclose(self) -> None:
        """Close the async client (the blocking session is closed with the hook's process)."""
        if self._async_client is not None:
            client, self._async_client = self._async_client, None
            await client.aclose()

    @staticmethod
    def _check_budget(budget: transport.CallBudget, endpoint: str) -> None:
        if budget.spent:
            raise KoreAITransportError(
                f"Kore.ai {endpoint}: not sent, because this call already spent its retry_timeout "
                f"({budget.seconds:g} s); nothing was sent, so nothing was changed.",
                endpoint=endpoint,
                outcome_unknown=False,
            )

    def _resolve_ambiguous(
        self,
        endpoint: str,
        call: Callable[[int], Any],
        budget: transport.CallBudget,
    ) -> Any:
        """Run a non-idempotent call; after an ambiguous failure, ``call(attempt)`` runs again, within the
        same budget, and must first check whether the earlier attempt took effect."""
        retrying = self.retry_policy.retrying(
            retry_if=transport.is_ambiguous,
            budget=budget,
            before_sleep=self._log_retry(endpoint, "ended without a clear answer, checking before retrying"),
        )
        for attempt in retrying:
            with attempt:
                return call(attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity either returns or reraises")  # pragma: no cover

    def _log_retry(self, endpoint: str, what: str) -> Callable[[tenacity.RetryCallState], None]:
        attempts = self.max_attempts

        def log_retry(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            reason = (
                f"HTTP {error.http_status}" if isinstance(error, KoreAIAPIError) else type(error).__name__
            )
            sleep = state.next_action.sleep if state.next_action else 0.0
            self.log.warning(
                "Kore.ai %s: attempt %d %s (%s); retrying in %.1f s (at most %d failures other than 429, "
                "%g s in all)",
                endpoint,
                state.attempt_number,
                what,
                reason,
                sleep,
                attempts,
                self.retry_timeout,
            )

        return log_retry


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
