"""Answers no well-behaved Kore.ai would give, served for real by the emulator's fault mode.

Each one must end in a clear ``KoreAIError`` that says what arrived, never in a ``KeyError``/``TypeError``
traceback from deep inside the hook.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import (
    KoreAIError,
    KoreAIRequestRejectedError,
    KoreAIServerError,
    KoreAIUnexpectedResponseError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook

pytestmark = pytest.mark.integration

LIST_ID = "cl-demo-renewals-due"
PROXY_PAGE = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


def ok(data: Any) -> str:
    return json.dumps({"status": "success", "message": "ok", "data": data})


# (id, fault, expected error class, words the message must contain)
CASES: list[tuple[str, dict[str, Any], type[KoreAIError], tuple[str, ...]]] = [
    (
        "html-502-from-a-proxy",
        {"status": 502, "body": PROXY_PAGE, "content_type": "text/html"},
        KoreAIServerError,
        ("HTTP 502", "text/html", "502 Bad Gateway"),
    ),
    (
        "html-login-page-with-200",
        {"status": 200, "body": "<html><body>Please sign in</body></html>", "content_type": "text/html"},
        KoreAIUnexpectedResponseError,
        ("expected a JSON object", "text/html", "Please sign in"),
    ),
    ("empty-200", {"status": 200, "body": ""}, KoreAIUnexpectedResponseError, ("an empty body",)),
    ("empty-400", {"status": 400, "body": ""}, KoreAIRequestRejectedError, ("HTTP 400", "an empty body")),
    (
        "truncated-json",
        {"status": 200, "body": '{"status": "success", "data": {"contactListId": "cl-'},
        KoreAIUnexpectedResponseError,
        ("expected a JSON object", "application/json"),
    ),
    ("json-array", {"status": 200, "body": "[1, 2, 3]"}, KoreAIUnexpectedResponseError, ("JSON object",)),
    ("json-string", {"status": 200, "body": '"success"'}, KoreAIUnexpectedResponseError, ("JSON object",)),
    (
        "data-is-a-list",
        {"status": 200, "body": ok([{"contactListId": LIST_ID}])},
        KoreAIUnexpectedResponseError,
        ("data is list",),
    ),
    (
        "data-missing",
        {"status": 200, "body": json.dumps({"status": "success"})},
        KoreAIUnexpectedResponseError,
        ("data is NoneType",),
    ),
    (
        "id-is-a-number",
        {"status": 200, "body": ok({"contactListId": 12345, "body": {}})},
        KoreAIUnexpectedResponseError,
        ("contactListId",),
    ),
    (
        "body-is-a-string",
        {"status": 200, "body": ok({"contactListId": LIST_ID, "body": "name=x"})},
        KoreAIUnexpectedResponseError,
        ("data.body",),
    ),
    (
        "failure-status-with-200",
        {"status": 200, "body": json.dumps({"status": "failure", "message": "List is in use by a campaign"})},
        KoreAIUnexpectedResponseError,
        ("HTTP 200", "List is in use by a campaign"),
    ),
    (
        "error-status-without-message",
        {"status": 200, "body": json.dumps({"status": "error"})},
        KoreAIUnexpectedResponseError,
        ("status is 'error'",),
    ),
    (
        "errors-of-the-wrong-type",
        {"status": 400, "body": json.dumps({"errors": "nope", "message": 17})},
        KoreAIRequestRejectedError,
        ("HTTP 400",),
    ),
    (
        "ten-megabytes-of-html",
        {"status": 503, "body": "<p>" + "x" * 10_000_000 + "</p>", "content_type": "text/html"},
        KoreAIServerError,
        ("HTTP 503", "..."),
    ),
]


@pytest.mark.parametrize(("fault", "error_class", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_answer_gives_a_clear_error(
    emulator: EmulatorServer, fault: dict[str, Any], error_class: type[KoreAIError], words: tuple[str, ...]
) -> None:
    # One attempt: this is about the shape of the error, retries are tested elsewhere.
    emulator.inject_fault(route="update_contact_list", **fault)
    hook = KoreAIHook(max_attempts=1)

    with pytest.raises(error_class) as excinfo:
        hook.update_contact_list(LIST_ID, name="Renewal Due", allow_duplicates=False)

    text = str(excinfo.value)
    assert f"PUT .../contactList/{LIST_ID}" in text
    for word in words:
        assert word in text
    assert len(text) < 1_000, "a huge body must be cut to an excerpt"


def test_ten_megabyte_success_body_is_handled(emulator: EmulatorServer) -> None:
    padding = "p" * 10_000_000
    emulator.inject_fault(
        route="update_contact_list",
        status=200,
        body=ok({"contactListId": LIST_ID, "body": {"name": "Renewal Due", "padding": padding}}),
    )
    data = KoreAIHook(max_attempts=1).update_contact_list(LIST_ID, name="Renewal Due", allow_duplicates=False)
    assert data["contactListId"] == LIST_ID
