"""``parse_response`` reads a ``requests`` and an ``httpx`` response alike: the worker and the triggerer
agree on what every answer means."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import requests

from airflow_provider_koreai.exceptions import (
    KoreAIAuthenticationError,
    KoreAIRateLimitedError,
    KoreAIServerError,
    KoreAIUnexpectedResponseError,
)
from airflow_provider_koreai.responses import (
    Scrubber,
    campaign_contacts_page,
    campaign_id_of,
    parse_response,
)

SECRET = "the-client-secret-0123456789"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhcHBJZCI6ImNzLTEifQ.c2lnbmF0dXJl"


def requests_response(status: int, body: bytes, headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers)
    return response


def httpx_response(status: int, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, content=body, headers=headers)


CLIENTS = [pytest.param(requests_response, id="requests"), pytest.param(httpx_response, id="httpx")]
JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html"}


def envelope(message: str, code: int = 4002) -> bytes:
    return json.dumps({"errors": [{"msg": message, "code": code}]}).encode()


@pytest.mark.parametrize("make", CLIENTS)
@pytest.mark.parametrize(
    ("status", "body", "headers", "error", "text"),
    [
        (
            401,
            envelope(f"Invalid JWT token {TOKEN}"),
            JSON,
            KoreAIAuthenticationError,
            "Invalid JWT token ***",
        ),
        (429, envelope("slow down"), {**JSON, "Retry-After": "7"}, KoreAIRateLimitedError, "wait 7 s"),
        (
            503,
            b"<html>gateway " + SECRET.encode() + b"</html>",
            {"Content-Type": "text/html"},
            KoreAIServerError,
            "***",
        ),
        (
            200,
            b"<html>login</html>",
            {"Content-Type": "text/html"},
            KoreAIUnexpectedResponseError,
            "text/html",
        ),
        (200, b'{"status": "failure", "message": "nope"}', JSON, KoreAIUnexpectedResponseError, "nope"),
        (302, b"", {"Location": "https://elsewhere"}, KoreAIUnexpectedResponseError, "redirected"),
    ],
)
def test_both_clients_map_an_answer_to_the_same_error(
    make: Any, status: int, body: bytes, headers: dict[str, str], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as excinfo:
        parse_response(make(status, body, headers), "GET /x", scrub=Scrubber(SECRET))
    message = str(excinfo.value)
    assert text in message
    assert SECRET not in message
    assert TOKEN not in message
    if isinstance(excinfo.value, KoreAIRateLimitedError):
        assert excinfo.value.retry_after == 7


@pytest.mark.parametrize("make", CLIENTS)
def test_a_success_is_the_json_object(make: Any) -> None:
    answer = make(200, b'{"status": "success", "data": {"_id": "cl-1"}}', JSON)
    assert parse_response(answer, "GET /x", scrub=Scrubber())["data"] == {"_id": "cl-1"}


def test_a_scrubber_keeps_its_secret_out_of_repr() -> None:
    assert SECRET not in repr(Scrubber(SECRET))


@pytest.mark.parametrize("make", CLIENTS)
def test_a_campaign_status_at_the_top_is_not_an_envelope(make: Any) -> None:
    started = {"status": "Active", "message": "Campaign Started", "campaignInstanceId": "cid-1"}
    response = make(200, json.dumps(started).encode(), JSON)
    assert parse_response(response, "POST /x", scrub=Scrubber(SECRET), enveloped=False) == started
    with pytest.raises(KoreAIUnexpectedResponseError, match="Campaign Started"):
        parse_response(response, "POST /x", scrub=Scrubber(SECRET))


@pytest.mark.parametrize("make", CLIENTS)
def test_a_failure_status_is_an_error_even_without_an_envelope(make: Any) -> None:
    response = make(200, json.dumps({"status": "failure", "message": "nope"}).encode(), JSON)
    with pytest.raises(KoreAIUnexpectedResponseError, match="nope"):
        parse_response(response, "POST /x", scrub=Scrubber(SECRET), enveloped=False)


def test_campaign_contacts_page_is_checked() -> None:
    page = campaign_contacts_page(
        {"results": [{"dialerOutcome": ""}], "page": 1, "totalPages": 2, "totalResults": 101}, "POST /x"
    )
    assert (page.page, page.total_pages, page.total_results) == (1, 2, 101)
    with pytest.raises(KoreAIUnexpectedResponseError, match="totalResults"):
        campaign_contacts_page({"results": [], "page": 1, "totalPages": 1}, "POST /x")


def test_a_campaign_id_is_underscore_id_or_id() -> None:
    assert campaign_id_of({"_id": "cd-1"}) == campaign_id_of({"id": "cd-1"}) == "cd-1"
    assert campaign_id_of({"name": "x"}) is None
