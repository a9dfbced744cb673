"""Which values reach Airflow's secrets masker, counted over many requests (issue 8's policy).

Single-use tokens (a fresh ``jti`` per request) are never registered: registering one value per request
made every call slower than the one before. A token reused for its lifetime (``enforce_jti=false``) is
registered once per lifetime. The spy sits on Airflow's own ``mask_secret``, the function our code calls,
so any path that registers a token is counted, not only the one we expect (``masked_values`` in
``tests/conftest.py``).
"""

from __future__ import annotations

import re
import time
from unittest import mock

import requests_mock as rm

from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.connections import BASE_URL, IID

LIST_ID = "cl-masking-0001"
UPDATE_URL = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList/{LIST_ID}"
SUCCESS = {"status": "success", "data": {"contactListId": LIST_ID, "body": {"name": "Renewals"}}}
JWT_SHAPED = re.compile(r"^eyJ[\w-]*\.[\w-]*\.[\w-]*$")
REQUESTS = 1000


def sent_tokens(mocker: rm.Mocker) -> list[str]:
    return [request.headers["auth"] for request in mocker.request_history]


def update(hook: KoreAIHook) -> None:
    hook.update_contact_list(LIST_ID, name="Renewals", allow_duplicates=False)


def test_a_thousand_single_use_tokens_register_nothing(
    set_connection: object, masked_values: list[str]
) -> None:
    set_connection()  # type: ignore[operator]
    hook = KoreAIHook()
    with rm.Mocker() as mocker:
        mocker.put(UPDATE_URL, json=SUCCESS)
        for _ in range(REQUESTS):
            update(hook)
        tokens = sent_tokens(mocker)
    assert len(set(tokens)) == REQUESTS, "every request must carry its own token"
    assert not set(tokens) & set(masked_values)
    assert [value for value in masked_values if JWT_SHAPED.match(value)] == []


def test_a_reused_token_is_registered_once_per_lifetime(
    set_connection: object, masked_values: list[str]
) -> None:
    set_connection(extra={"enforce_jti": "false", "jwt_ttl": 300})  # type: ignore[operator]
    hook = KoreAIHook()
    start = float(int(time.time()))
    with rm.Mocker() as mocker:
        mocker.put(UPDATE_URL, json=SUCCESS)
        with mock.patch("airflow_provider_koreai.auth.time.time", return_value=start):
            for _ in range(REQUESTS):
                update(hook)
        # 300 s lifetime, renewed 60 s before it ends: the next token is minted at 240 s.
        with mock.patch("airflow_provider_koreai.auth.time.time", return_value=start + 240):
            for _ in range(10):
                update(hook)
        tokens = sent_tokens(mocker)
    distinct = list(dict.fromkeys(tokens))
    assert len(distinct) == 2
    assert [value for value in masked_values if JWT_SHAPED.match(value)] == distinct
