"""``KoreAIHook``: the one place that talks HTTP to Kore.ai's Campaign Management API.

It owns the ``koreai`` connection, one :class:`requests.Session` signed by
:class:`~airflow_provider_koreai.auth.KoreAIJWTAuth`, one retry policy (tenacity) and the translation
of Kore.ai's answers into :mod:`airflow_provider_koreai.exceptions`. Operators stay thin on top of it.

``requests``, ``jwt`` and ``tenacity`` are imported on first use, not at module import: DAG files that
import this hook or our operators are parsed over and over by the DAG processor, which never sends a
request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_koreai import __version__, validation
from airflow_provider_koreai.connection import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RETRY_TIMEOUT_SECONDS,
    KoreAIConnectionConfig,
)
from airflow_provider_koreai.connection_form import CONN_FIELDS, HIDDEN_FIELDS, PLACEHOLDERS, RELABELING
from airflow_provider_koreai.defaults import DEFAULT_CHUNK_SIZE, DEFAULT_CONN_ID, DEFAULT_SOURCE
from airflow_provider_koreai.exceptions import (
    KoreAIAPIError,
    KoreAIAuthenticationError,
    KoreAIError,
    KoreAINotFoundError,
    KoreAIRateLimitedError,
    KoreAIRequestRejectedError,
    KoreAIServerError,
    KoreAITransportError,
    KoreAIUnexpectedResponseError,
    KoreAIValidationError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import requests
    import tenacity

    from airflow_provider_koreai.auth import KoreAIJWTAuth

CONTACT_LIST_PREFIX = "/agentassist/api/v1/public/{iid}/campaign/contactList"
#: Adding contacts lives under another prefix, and addresses the list by name (reference 3.6).
ADD_CONTACTS_PATH = "/api/1.1/public/{iid}/campaign/contactList/addContacts"
#: How ``test_connection`` names the connection: the UI tests it under a random temporary id.
TEST_CONNECTION_SUBJECT = "This Kore.ai connection"
MAX_PAGE_SIZE = 1000

_AUTH_HINT = (
    "Check the connection's Client ID and Client Secret, that the JWT app is mapped to a published API "
    "scope that includes Contact Center > Campaign Management, and that iid and account_id belong to it"
)
_NOT_FOUND_HINT = "Check the contact list id and the connection's iid (application id)"
_NOT_FOUND_BY_NAME_HINT = (
    "addContacts addresses the list by its exact name: check the name and the connection's iid"
)
_RATE_LIMIT_HINT = "Kore.ai allows 60 requests per minute per account across all Contact Center APIs"
_EXCERPT_LENGTH = 200
#: How much of a non-JSON body is decoded and scrubbed before the excerpt is cut from it.
_SCRUB_WINDOW = 8192
#: Anything shaped like a JWT. Kore.ai (or a proxy) may echo the request's token in an error body.
_JWT_PATTERN = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")
_REDACTED = "***"


class KoreAIHook(BaseHook):
    """Interact with Kore.ai Contact Center campaign contact lists.

    :param koreai_conn_id: the ``koreai`` connection to use.
    :param timeout: read timeout in seconds of each request; default: the connection's ``timeout``
        extra, else 30.
    :param max_attempts: attempts per call, first one included; default: the ``max_attempts`` extra,
        else 5. ``1`` disables retries.
    :param retry_timeout: total seconds a call may spend retrying, waits included; default: the
        ``retry_timeout`` extra, else 120. A ``Retry-After`` longer than what is left ends the call.
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
        self.koreai_conn_id = koreai_conn_id
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._retry_timeout = retry_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max

    def __repr__(self) -> str:
        return f"{type(self).__name__}(koreai_conn_id={self.koreai_conn_id!r})"

    # -- connection form (Airflow < 3.2; newer releases read the provider info) -------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": list(HIDDEN_FIELDS),
            "relabeling": dict(RELABELING),
            "placeholders": dict(PLACEHOLDERS),
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import IntegerField, StringField
        from wtforms.validators import Optional

        widgets: dict[str, Any] = {}
        for name, spec in CONN_FIELDS.items():
            field_class = IntegerField if "integer" in spec["schema"]["type"] else StringField
            widgets[name] = field_class(
                lazy_gettext(spec["label"]),
                description=spec["description"],
                widget=BS3TextFieldWidget(),
                validators=[Optional()],
            )
        return widgets

    # -- configuration and session ------------------------------------------------------------------

    @cached_property
    def config(self) -> KoreAIConnectionConfig:
        """The connection, read on first use and validated (raises ``KoreAIConfigurationError``)."""
        return KoreAIConnectionConfig.from_connection(self.get_connection(self.koreai_conn_id))

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

    def get_conn(self) -> requests.Session:
        """The hook's one session: connection pooling, and every request signed with a fresh JWT."""
        return self._session

    def get_auth(self) -> KoreAIJWTAuth:
        """The request signer for this connection (also used by the trigger's async client)."""
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
    def _session(self) -> requests.Session:
        import requests

        session = requests.Session()
        session.auth = self.get_auth()
        session.verify = self.config.verify
        session.headers.update(
            {"Accept": "application/json", "User-Agent": f"airflow-provider-koreai/{__version__}"}
        )
        return session

    def contact_list_path(self, *segments: str) -> str:
        """The API path under this application's contact lists, each segment percent-encoded."""
        return "/".join([self._contact_list_prefix, *(quote(segment, safe="") for segment in segments)])

    @cached_property
    def _contact_list_prefix(self) -> str:
        return CONTACT_LIST_PREFIX.format(iid=quote(self.config.iid, safe=""))

    # -- API --------------------------------------------------------------------------------------

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
        body = _contact_list_body(name, allow_duplicates, source, description)
        path = self.contact_list_path(list_id)
        payload = self._request("PUT", path, json=body)
        applied_hint = "Kore.ai reported success, so the update was probably applied; check the list"
        data = _data_object(payload, f"PUT {path}", hint=applied_hint)
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
        path = self.contact_list_path(validation.contact_list_id(contact_list_id))
        return _data_object(self._request("GET", path), f"GET {path}")

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
        by looking the list up by name first; only if it is not there is the POST sent again.
        """
        body = _contact_list_body(name, allow_duplicates, source, description)
        path = self.contact_list_path("createContactList")
        endpoint = f"POST {path}"

        def create_once(attempt: int) -> dict[str, Any]:
            if attempt > 1:
                existing = self.find_contact_list(body["name"])
                if existing is not None:
                    self.log.warning(
                        "Kore.ai %s: the previous attempt did reach Kore.ai; list %r exists as %s",
                        endpoint,
                        body["name"],
                        _list_id(existing),
                    )
                    return existing
            data = _data_object(self._request("POST", path, json=body, idempotent=False), endpoint)
            if not _list_id(data):
                raise KoreAIUnexpectedResponseError(
                    http_status=200,
                    endpoint=endpoint,
                    message="the created list has no _id",
                    hint=f"The list was probably created; look it up by name ({body['name']!r})",
                )
            return data

        created = self._resolve_ambiguous(endpoint, create_once)
        self.log.info("Kore.ai contact list %r created as %s", body["name"], _list_id(created))
        return created

    def list_contact_lists(self) -> list[dict[str, Any]]:
        """Every call-type contact list of the application (a read, despite being a POST)."""
        return self._list_contact_lists(max_attempts=None)

    def find_contact_list(self, name: str) -> dict[str, Any] | None:
        """The list with exactly this name, or ``None``. Several lists of that name are an error."""
        wanted = validation.contact_list_name(name)
        matches = [item for item in self.list_contact_lists() if item.get("name") == wanted]
        if len(matches) > 1:
            ids = ", ".join(_list_id(item) or "?" for item in matches)
            raise KoreAIError(
                f"{len(matches)} Kore.ai contact lists are named {wanted!r} ({ids}): address the list by id"
            )
        return matches[0] if matches else None

    def delete_contact_list(self, contact_list_id: str) -> dict[str, Any]:
        """Delete a list; returns what Kore.ai says it deleted (``{}`` when older APIs send no ``data``).

        A 404 on a retry that follows an ambiguous failure means the first attempt did delete the list:
        that is success, not "not found".
        """
        path = self.contact_list_path(validation.contact_list_id(contact_list_id))
        endpoint = f"DELETE {path}"

        def delete_once(attempt: int) -> dict[str, Any]:
            try:
                payload = self._request("DELETE", path, idempotent=False)
            except KoreAINotFoundError:
                if attempt == 1:
                    raise
                self.log.warning("Kore.ai %s: the previous attempt had already deleted the list", endpoint)
                return {}
            data = payload.get("data")
            return data if isinstance(data, dict) else {}

        deleted = self._resolve_ambiguous(endpoint, delete_once)
        self.log.info("Kore.ai contact list %s deleted", contact_list_id)
        return deleted

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
        non-idempotent POST, so an ambiguous failure is not retried: the error says which rows may or
        may not have been added. ``requests_per_minute`` paces the chunks (a token bucket from
        ``pyrate-limiter``) so that a long upload leaves room in the account's budget for other calls.

        :return: ``{"rows_sent": ..., "chunks_sent": ...}``.
        """
        name = validation.contact_list_name(contact_list_name, field="contact_list_name")
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise KoreAIValidationError(
                "chunk_size", f"must be a whole number of at least 1, got {chunk_size!r}"
            )
        pace = self._pacer(requests_per_minute)
        path = ADD_CONTACTS_PATH.format(iid=quote(self.config.iid, safe=""))
        rows_sent = chunks_sent = 0
        iterator = iter(records)
        while chunk := list(islice(iterator, chunk_size)):
            pace()
            try:
                self._request(
                    "POST",
                    path,
                    json={"contact_list_name": name, "data": chunk},
                    idempotent=False,
                    not_found_hint=_NOT_FOUND_BY_NAME_HINT,
                )
            except KoreAIError as error:
                first, last = rows_sent + 1, rows_sent + len(chunk)
                progress = (
                    f"rows {first}-{last} (chunk {chunks_sent + 1}) failed; the {rows_sent} rows in "
                    f"{chunks_sent} chunk(s) before them were accepted"
                )
                error.args = (f"{error} [{progress}]", *error.args[1:])
                raise
            rows_sent += len(chunk)
            chunks_sent += 1
        self.log.info("Kore.ai list %r: %d contacts sent in %d chunk(s)", name, rows_sent, chunks_sent)
        return {"rows_sent": rows_sent, "chunks_sent": chunks_sent}

    def iter_contacts(self, contact_list_id: str, *, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every contact of a list, fetched page by page (``skip``/``limit``) as the caller iterates."""
        list_id = validation.contact_list_id(contact_list_id)
        if (
            not isinstance(page_size, int)
            or isinstance(page_size, bool)
            or not 1 <= page_size <= MAX_PAGE_SIZE
        ):
            raise KoreAIValidationError("page_size", f"must be from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
        path = self.contact_list_path(list_id, "getAllContacts")
        skip = 0
        while True:
            params = {"skip": str(skip), "limit": str(page_size)}
            page = _data_object(self._request("GET", path, params=params), f"GET {path}")
            results = page.get("results")
            if not isinstance(results, list):
                raise KoreAIUnexpectedResponseError(
                    http_status=200, endpoint=f"GET {path}", message="the page has no results list"
                )
            yield from results
            skip += len(results)
            if not results or not page.get("hasMore"):
                return

    def _list_contact_lists(self, *, max_attempts: int | None) -> list[dict[str, Any]]:
        path = self.contact_list_path("getAllListDetails")
        payload = self._request("POST", path, params={"type": "call"}, max_attempts=max_attempts)
        data = payload.get("data")
        if not isinstance(data, list):
            raise KoreAIUnexpectedResponseError(
                http_status=200, endpoint=f"POST {path}", message="the answer's data is not a list"
            )
        return data

    def test_connection(self) -> tuple[bool, str]:
        """One authenticated read, without retries, for the UI's Test button.

        The UI tests an unsaved copy of the form under a random temporary connection id: the messages
        say "this connection" rather than name that id.
        """
        try:
            self.config = KoreAIConnectionConfig.from_connection(
                self.get_connection(self.koreai_conn_id), subject=TEST_CONNECTION_SUBJECT
            )
            lists = self._list_contact_lists(max_attempts=1)
        except KoreAIError as exc:
            return False, str(exc)
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, (
            f"Connected to {self.config.base_url} as {self.config.client_id}: "
            f"{len(lists)} contact list(s) in application {self.config.iid}."
        )

    # -- transport ----------------------------------------------------------------------------------

    def _resolve_ambiguous(self, endpoint: str, call: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
        """Run a non-idempotent call; after an ambiguous failure, ``call(attempt)`` runs again and must
        first check whether the earlier attempt took effect."""
        import tenacity

        attempts = self.max_attempts

        def ambiguous(exc: BaseException) -> bool:
            if isinstance(exc, KoreAITransportError):
                return exc.outcome_unknown
            return isinstance(exc, KoreAIServerError)

        def log_retry(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            self.log.warning(
                "Kore.ai %s: attempt %d of %d ended without a clear answer (%s); checking before retrying",
                endpoint,
                state.attempt_number,
                attempts,
                type(exc).__name__,
            )

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(ambiguous),
            stop=tenacity.stop_after_attempt(attempts) | tenacity.stop_after_delay(self.retry_timeout),
            wait=tenacity.wait_exponential_jitter(
                initial=self.backoff_initial, max=self.backoff_max, jitter=self.backoff_initial
            ),
            before_sleep=log_retry,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return call(attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity either returns or reraises")  # pragma: no cover

    @staticmethod
    def _pacer(requests_per_minute: int | None) -> Callable[[], None]:
        """A blocking rate limiter for a sequence of requests, or a no-op when no rate is given."""
        if requests_per_minute is None:
            return lambda: None
        if isinstance(requests_per_minute, bool) or not isinstance(requests_per_minute, int):
            raise KoreAIValidationError("requests_per_minute", "must be a whole number")
        if requests_per_minute < 1:
            raise KoreAIValidationError("requests_per_minute", "must be at least 1")
        from pyrate_limiter import Duration, Limiter, Rate

        limiter = Limiter(Rate(requests_per_minute, Duration.MINUTE))

        def wait_for_slot() -> None:
            limiter.try_acquire("koreai", blocking=True)

        return wait_for_slot

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
        max_attempts: int | None = None,
        not_found_hint: str = _NOT_FOUND_HINT,
    ) -> dict[str, Any]:
        """Send one logical call, with retries, and return Kore.ai's JSON object.

        :param idempotent: whether sending the request twice is harmless. When it is not, a request
            that may have reached Kore.ai (read timeout, dropped connection, 5xx) is never re-sent.
        """
        import requests

        endpoint = f"{method} {path}"
        url = self.config.base_url + path
        session = self.get_conn()
        timeout = (self.config.connect_timeout, self.timeout)

        def send() -> dict[str, Any]:
            # verify per request: a session-level value loses to REQUESTS_CA_BUNDLE (psf/requests#3829).
            response = session.request(
                method,
                url,
                json=json,
                params=params,
                timeout=timeout,
                allow_redirects=False,
                verify=self.config.verify,
            )
            return self.parse_response(response, endpoint, not_found_hint)

        try:
            return self._retrying(endpoint, idempotent, max_attempts or self.max_attempts)(send)
        except requests.RequestException as exc:
            raise self._transport_error(exc, endpoint, method, idempotent) from exc

    def _retrying(self, endpoint: str, idempotent: bool, max_attempts: int) -> tenacity.Retrying:
        import tenacity

        backoff = tenacity.wait_exponential_jitter(
            initial=self.backoff_initial, max=self.backoff_max, jitter=self.backoff_initial
        )

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, KoreAIRateLimitedError) and exc.retry_after is not None:
                return exc.retry_after
            return float(backoff(state))

        def log_retry(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = f"HTTP {exc.http_status}" if isinstance(exc, KoreAIAPIError) else type(exc).__name__
            sleep = state.next_action.sleep if state.next_action else 0.0
            self.log.warning(
                "Kore.ai %s: attempt %d of %d failed (%s); retrying in %.1f s",
                endpoint,
                state.attempt_number,
                max_attempts,
                reason,
                sleep,
            )

        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda exc: _is_transient(exc, idempotent)),
            stop=tenacity.stop_after_attempt(max_attempts) | tenacity.stop_before_delay(self.retry_timeout),
            wait=wait,
            before_sleep=log_retry,
            reraise=True,
        )

    def parse_response(
        self, response: requests.Response, endpoint: str, not_found_hint: str = _NOT_FOUND_HINT
    ) -> dict[str, Any]:
        status = response.status_code
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None

        if not 200 <= status < 300:
            raise _api_error(response, payload, endpoint, self._scrub, not_found_hint)
        if not isinstance(payload, dict):
            raise KoreAIUnexpectedResponseError(
                http_status=status,
                endpoint=endpoint,
                message=f"expected a JSON object, got {_excerpt(response, self._scrub)}",
                hint="Check that the connection's Host is the Kore.ai platform host",
            )
        if "status" in payload and payload["status"] != "success":
            raise KoreAIUnexpectedResponseError(
                http_status=status,
                endpoint=endpoint,
                message=self._scrub(
                    _kore_message(payload) or f"status is {payload['status']!r}, not 'success'"
                ),
                code=_kore_code(payload),
            )
        return payload

    def _scrub(self, text: str) -> str:
        """Remove tokens and the client secret from text that came back from the server.

        Airflow's masker redacts task logs, but exception text also reaches callers' own code,
        ``dag.test()`` output and alerting hooks; it must be clean at the source.
        """
        text = _JWT_PATTERN.sub(_REDACTED, text)
        secret = self.config.client_secret
        return text.replace(secret, _REDACTED) if secret else text

    def _transport_error(
        self, exc: requests.RequestException, endpoint: str, method: str, idempotent: bool
    ) -> KoreAITransportError:
        import requests

        if isinstance(exc, requests.exceptions.SSLError):
            error = KoreAITransportError(
                f"Kore.ai {endpoint}: TLS verification failed ({type(exc).__name__}). If your host uses a "
                "private CA, set the connection extra 'verify' to the path of its CA bundle.",
                endpoint=endpoint,
                outcome_unknown=False,
            )
            error.retryable = False
            return error
        if _surely_not_sent(exc):
            return KoreAITransportError(
                f"Kore.ai {endpoint}: could not connect to {self.config.base_url} "
                f"({type(exc).__name__}); nothing was sent, so nothing was changed.",
                endpoint=endpoint,
                outcome_unknown=False,
            )
        safety = (
            f"{method} is idempotent here, so running the task again is safe"
            if idempotent
            else f"this {method} is not idempotent: check Kore.ai before running it again"
        )
        return KoreAITransportError(
            f"Kore.ai {endpoint}: no complete answer after the request was sent "
            f"({type(exc).__name__}, read timeout {self.timeout:g} s). The outcome is unknown: the change "
            f"may or may not have been applied; {safety}.",
            endpoint=endpoint,
            outcome_unknown=True,
        )


def _surely_not_sent(exc: BaseException) -> bool:
    """True for failures that happen before a single byte of the request left this machine."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _is_transient(exc: BaseException, idempotent: bool) -> bool:
    """The one retry rule: 429, 5xx and transport failures; a non-idempotent call only when it surely
    did not reach Kore.ai (rate limited, or never sent)."""
    import requests

    if isinstance(exc, KoreAIRateLimitedError):
        return True
    if isinstance(exc, KoreAIError):
        return exc.retryable and idempotent
    if isinstance(exc, requests.exceptions.SSLError):
        return False
    if _surely_not_sent(exc):
        return True
    transport = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
    return idempotent and isinstance(exc, transport)


def _contact_list_body(
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


def _list_id(contact_list: dict[str, Any]) -> str | None:
    """Kore.ai names the id ``_id`` in lists and ``contactListId`` in update answers."""
    value = contact_list.get("_id") or contact_list.get("contactListId")
    return value if isinstance(value, str) and value else None


def _data_object(payload: dict[str, Any], endpoint: str, hint: str | None = None) -> dict[str, Any]:
    """The ``data`` object of a successful answer, or a clear error when it is missing or not an object."""
    data = payload.get("data")
    if not isinstance(data, dict):
        raise KoreAIUnexpectedResponseError(
            http_status=200,
            endpoint=endpoint,
            message=f"the answer's data is {type(data).__name__}, not an object",
            hint=hint,
        )
    return data


def total_record_count(contact_list: dict[str, Any], endpoint: str) -> int:
    """The list's ``totalRecordCount``, or a clear error when Kore.ai's answer has none."""
    value = contact_list.get("totalRecordCount")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = "missing" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"
        raise KoreAIUnexpectedResponseError(
            http_status=200,
            endpoint=endpoint,
            message=f"the list's totalRecordCount is {shown}, not a whole number of at least 0",
        )
    return value


def _kore_message(payload: Any) -> str:
    """Kore.ai's message, from ``errors[].msg`` or ``errors[].message`` or a top-level ``message``."""
    if not isinstance(payload, dict):
        return ""
    errors = payload.get("errors")
    if isinstance(errors, list):
        messages = [
            str(error.get("msg") or error.get("message"))
            for error in errors
            if isinstance(error, dict) and (error.get("msg") or error.get("message"))
        ]
        if messages:
            return "; ".join(messages)
    for key in ("message", "msg"):
        if isinstance(payload.get(key), str) and payload[key]:
            return str(payload[key])
    return ""


def _kore_code(payload: Any) -> int | str | None:
    if isinstance(payload, dict) and isinstance(payload.get("errors"), list):
        for error in payload["errors"]:
            if isinstance(error, dict) and isinstance(error.get("code"), int | str):
                return error["code"]
    return None


def _excerpt(response: requests.Response, scrub: Callable[[str], str]) -> str:
    """The start of a body that is not Kore.ai's JSON, scrubbed *before* it is cut, so that a secret
    straddling the cut cannot leave a recognisable half behind."""
    window = response.content[:_SCRUB_WINDOW].decode("utf-8", errors="replace")
    text = " ".join(scrub(window).split())
    if not text:
        return "an empty body"
    kind = response.headers.get("Content-Type", "unknown content type").split(";")[0]
    more = "..." if len(text) > _EXCERPT_LENGTH or len(response.content) > _SCRUB_WINDOW else ""
    return f"{kind} {text[:_EXCERPT_LENGTH]!r}{more}"


def _retry_after(response: requests.Response) -> float | None:
    from urllib3.exceptions import InvalidHeader
    from urllib3.util.retry import Retry

    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None


def _api_error(
    response: requests.Response,
    payload: Any,
    endpoint: str,
    scrub: Callable[[str], str],
    not_found_hint: str = _NOT_FOUND_HINT,
) -> KoreAIAPIError:
    status = response.status_code
    message = scrub(_kore_message(payload)) or _excerpt(response, scrub)
    code = _kore_code(payload)
    if isinstance(code, str):
        code = scrub(code)
    common: dict[str, Any] = {"http_status": status, "endpoint": endpoint, "message": message, "code": code}
    if status in (401, 403):
        return KoreAIAuthenticationError(**common, hint=_AUTH_HINT)
    if status == 404:
        return KoreAINotFoundError(**common, hint=not_found_hint)
    if status == 429:
        retry_after = _retry_after(response)
        hint = _RATE_LIMIT_HINT + (f"; Kore.ai asked to wait {retry_after:g} s" if retry_after else "")
        return KoreAIRateLimitedError(**common, hint=hint, retry_after=retry_after)
    if status >= 500:
        return KoreAIServerError(**common)
    if 300 <= status < 400:
        location = scrub(response.headers.get("Location", "nowhere"))
        return KoreAIUnexpectedResponseError(
            **common | {"message": f"redirected to {location}"},
            hint="Kore.ai's API does not redirect: check the connection's Host",
        )
    return KoreAIRequestRejectedError(**common)
