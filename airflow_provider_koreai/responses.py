"""What Kore.ai's answers mean: success, or which :mod:`~airflow_provider_koreai.exceptions` error.

One home for the reading of a response, whichever HTTP client received it: the hook's ``requests``
session on the worker and its ``httpx`` client in the triggerer both hand their response to
:func:`parse_response`, so a 429, a 5xx, an HTML error page or a ``"status": "failure"`` is the same
error on both sides. Text that comes back from the server is scrubbed of tokens and the client secret
here, before it can reach an exception: exception text travels to logs, ``dag.test()`` output and
alerting callbacks, where Airflow's masker may not be.

Imports nothing heavy: the trigger module, loaded at DAG parse time, refers to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_koreai.exceptions import (
    KoreAIAPIError,
    KoreAIAuthenticationError,
    KoreAINotFoundError,
    KoreAIRateLimitedError,
    KoreAIRequestRejectedError,
    KoreAIServerError,
    KoreAIUnexpectedResponseError,
)
from airflow_provider_koreai.validation import describe

# What to do, as each message says it right after what is wrong.
AUTH_HINT = (
    "check the connection's Client ID and Client Secret, that the JWT app is mapped to a published API "
    "scope that includes Contact Center > Campaign Management, and that iid and account_id belong to it"
)
NOT_FOUND_HINT = "check the contact list id and the connection's iid (application id)"
CAMPAIGN_NOT_FOUND_HINT = "check the campaign id (cd-...) and the connection's iid (application id)"
NOT_FOUND_BY_NAME_HINT = "check the exact name (addContacts finds the list by name) and the connection's iid"
RATE_LIMIT_HINT = (
    "run fewer Kore.ai tasks at once; Kore.ai allows 60 requests per minute per account across all "
    "Contact Center APIs"
)
SERVER_ERROR_HINT = "it may pass by itself: try again later"
HOST_HINT = "check that the connection's Host is the Kore.ai platform host"
#: Anything shaped like a JWT. Kore.ai (or a proxy) may echo the request's token in an error body.
JWT_PATTERN = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")
REDACTED = "***"
EXCERPT_LENGTH = 200
#: How much of a non-JSON body is decoded and scrubbed before the excerpt is cut from it.
SCRUB_WINDOW = 8192


@dataclass(frozen=True)
class ContactCount:
    """One reading of a list, as :meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.count_contacts`
    and its async twin return it: what the ingestion rule needs, parsed and checked by the hook."""

    contact_list_id: str
    #: Kore.ai's ``totalRecordCount``: contacts ingested so far.
    total_record_count: int
    #: The list's ``allowDuplicates`` as Kore.ai reports it; ``None`` when it does not say.
    allow_duplicates: bool | None


@dataclass(frozen=True)
class CampaignStatus:
    """A campaign's status, as :meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.get_campaign_status`
    and its async twin return it."""

    campaign_id: str
    #: Kore.ai's ``data.status``, as Kore.ai spells it (``Ready``, ``Active``, ``Completed``...).
    status: str
    #: The campaign's name, when Kore.ai says it.
    name: str | None = None


@dataclass(frozen=True)
class CampaignContactsPage:
    """One page of a campaign's per-contact results (Get All Contact Details, ``view=contacts``)."""

    #: The rows of this page, as Kore.ai sends them (``phoneNumber``, ``dialerOutcome``...): contact data.
    results: list[dict[str, Any]]
    #: This page's number, from 1.
    page: int
    total_pages: int
    #: Kore.ai's ``totalResults``: rows of the campaign's current or last run.
    total_results: int


class ResponseLike(Protocol):
    """What :func:`parse_response` reads: satisfied by ``requests.Response`` and ``httpx.Response``."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...

    def json(self) -> Any: ...


class Scrubber:
    """Removes every JWT-shaped string and, when known, the client secret from server-sent text."""

    def __init__(self, secret: str | None = None) -> None:
        self._secret = secret

    def __call__(self, text: str) -> str:
        text = JWT_PATTERN.sub(REDACTED, text)
        return text.replace(self._secret, REDACTED) if self._secret else text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secret={'set' if self._secret else 'unset'})"


def parse_response(
    response: ResponseLike,
    endpoint: str,
    *,
    scrub: Scrubber,
    not_found_hint: str = NOT_FOUND_HINT,
    not_found: str | None = None,
    enveloped: bool = True,
) -> dict[str, Any]:
    """Kore.ai's JSON object for a successful answer; otherwise the matching error, scrubbed.

    :param not_found_hint: what to check when Kore.ai answers 404.
    :param not_found: what a 404 means for this call (``"Contact list cl-x not found"``).
    :param enveloped: the answer's top-level ``status`` is the envelope's ``success``; ``False`` for
        start and stop, whose ``status`` is the campaign's (``Active``): there only ``failure`` or
        ``error`` is an error.
    """
    status = response.status_code
    try:
        payload: Any = response.json()
    except ValueError:  # json.JSONDecodeError (requests, httpx) and UnicodeDecodeError are ValueErrors
        payload = None

    if not 200 <= status < 300:
        raise api_error(response, payload, endpoint, scrub, not_found_hint, not_found)
    if not isinstance(payload, dict):
        raise KoreAIUnexpectedResponseError(
            http_status=status,
            endpoint=endpoint,
            message=f"expected a JSON object, got {_excerpt(response, scrub)}",
            hint=HOST_HINT,
        )
    failed = (
        payload.get("status") != "success" if enveloped else payload.get("status") in ("failure", "error")
    )
    if "status" in payload and failed:
        raise KoreAIUnexpectedResponseError(
            http_status=status,
            endpoint=endpoint,
            message=scrub(_kore_message(payload) or f"status is {payload['status']!r}, not 'success'"),
            code=_kore_code(payload),
        )
    return payload


def api_error(
    response: ResponseLike,
    payload: Any,
    endpoint: str,
    scrub: Scrubber,
    not_found_hint: str = NOT_FOUND_HINT,
    not_found: str | None = None,
) -> KoreAIAPIError:
    """The error for a non-2xx answer: the one mapping from HTTP status to exception class."""
    status = response.status_code
    message = scrub(_kore_message(payload)) or _excerpt(response, scrub)
    code = _kore_code(payload)
    if isinstance(code, str):
        code = scrub(code)
    common: dict[str, Any] = {"http_status": status, "endpoint": endpoint, "message": message, "code": code}
    if status in (401, 403):
        return KoreAIAuthenticationError(**common, hint=AUTH_HINT)
    if status == 404:
        return KoreAINotFoundError(**common, hint=not_found_hint, summary=not_found)
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        hint = (f"Kore.ai asked to wait {retry_after:g} s; " if retry_after else "") + RATE_LIMIT_HINT
        return KoreAIRateLimitedError(**common, hint=hint, retry_after=retry_after)
    if status >= 500:
        return KoreAIServerError(**common, hint=SERVER_ERROR_HINT)
    if 300 <= status < 400:
        location = scrub(response.headers.get("Location", "nowhere"))
        return KoreAIUnexpectedResponseError(
            **common | {"message": f"redirected to {location}"},
            hint=f"Kore.ai's API does not redirect: {HOST_HINT}",
        )
    return KoreAIRequestRejectedError(**common)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) in seconds, as urllib3 reads it."""
    if not value:
        return None
    from urllib3.exceptions import InvalidHeader
    from urllib3.util.retry import Retry

    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None


def data_object(payload: dict[str, Any], endpoint: str, hint: str | None = None) -> dict[str, Any]:
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


def data_list(payload: dict[str, Any], endpoint: str) -> list[Any]:
    """The ``data`` array of a successful answer (the list of contact lists)."""
    data = payload.get("data")
    if not isinstance(data, list):
        raise KoreAIUnexpectedResponseError(
            http_status=200,
            endpoint=endpoint,
            message=f"the answer's data is {type(data).__name__}, not a list",
        )
    return data


def contact_list_id_of(contact_list: Mapping[str, Any]) -> str | None:
    """A list's id: Kore.ai names it ``_id`` in lists and ``contactListId`` in update answers."""
    value = contact_list.get("_id") or contact_list.get("contactListId")
    return value if isinstance(value, str) and value else None


def campaign_id_of(campaign: Mapping[str, Any]) -> str | None:
    """A campaign's id: Kore.ai names it ``_id`` in most answers and ``id`` in others."""
    value = campaign.get("_id") or campaign.get("id")
    return value if isinstance(value, str) and value else None


def campaign_status(data: Mapping[str, Any], campaign_id: str, endpoint: str) -> CampaignStatus:
    """The ``data`` of Get Campaign Status (``id``, ``status``, ``name``); a clear error without a status."""
    status = data.get("status")
    if not isinstance(status, str) or not status:
        raise KoreAIUnexpectedResponseError(
            http_status=200,
            endpoint=endpoint,
            message=f"the campaign's status is {describe(status, 40)}, not a status name",
        )
    name = data.get("name")
    return CampaignStatus(campaign_id, status, name if isinstance(name, str) else None)


def trigger_answer(payload: dict[str, Any], endpoint: str, hint: str | None = None) -> dict[str, Any]:
    """The answer of a start or stop: a flat object whose ``status`` is the campaign's new status."""
    if not isinstance(payload.get("status"), str):
        raise KoreAIUnexpectedResponseError(
            http_status=200,
            endpoint=endpoint,
            message="the answer has no status string",
            hint=hint,
        )
    return payload


def campaign_contacts_page(data: Mapping[str, Any], endpoint: str) -> CampaignContactsPage:
    """One page of per-contact results, its numbers checked."""
    results = data.get("results")
    numbers: dict[str, Any] = {key: data.get(key) for key in ("page", "totalPages", "totalResults")}
    bad = [key for key, value in numbers.items() if isinstance(value, bool) or not isinstance(value, int)]
    if not isinstance(results, list) or not all(isinstance(row, dict) for row in results) or bad:
        problem = f"no whole number {', '.join(bad)}" if bad else "no results list of objects"
        raise KoreAIUnexpectedResponseError(
            http_status=200, endpoint=endpoint, message=f"the page of contact results has {problem}"
        )
    return CampaignContactsPage(
        results=results,
        page=numbers["page"],
        total_pages=numbers["totalPages"],
        total_results=numbers["totalResults"],
    )


def contact_count(contact_list: Mapping[str, Any], contact_list_id: str, endpoint: str) -> ContactCount:
    """A list's reading (``totalRecordCount`` and ``allowDuplicates``), or a clear error when Kore.ai's
    answer has no count."""
    allow_duplicates = contact_list.get("allowDuplicates")
    return ContactCount(
        contact_list_id=contact_list_id,
        total_record_count=total_record_count(contact_list, endpoint),
        allow_duplicates=allow_duplicates if isinstance(allow_duplicates, bool) else None,
    )


def total_record_count(contact_list: Mapping[str, Any], endpoint: str) -> int:
    """The list's ``totalRecordCount``, or a clear error when Kore.ai's answer has none."""
    value = contact_list.get("totalRecordCount")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        shown = "missing" if value is None else f"{type(value).__name__} {describe(value, 40)}"
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


def _excerpt(response: ResponseLike, scrub: Scrubber) -> str:
    """The start of a body that is not Kore.ai's JSON, scrubbed *before* it is cut, so that a secret
    straddling the cut cannot leave a recognisable half behind."""
    content = response.content
    window = content[:SCRUB_WINDOW].decode("utf-8", errors="replace")
    text = " ".join(scrub(window).split())
    if not text:
        return "an empty body"
    kind = response.headers.get("Content-Type", "unknown content type").split(";")[0]
    more = "..." if len(text) > EXCERPT_LENGTH or len(content) > SCRUB_WINDOW else ""
    return f"{kind} {text[:EXCERPT_LENGTH]!r}{more}"
