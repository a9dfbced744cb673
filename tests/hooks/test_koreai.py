from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

import jwt
import pytest
import requests_mock as rm

from airflow_provider_koreai.exceptions import (
    KoreAIAuthenticationError,
    KoreAIConfigurationError,
    KoreAIRateLimitedError,
    KoreAIServerError,
    KoreAITransportError,
    KoreAIUnexpectedResponseError,
    KoreAIValidationError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.connections import ACCOUNT_ID, BASE_URL, CLIENT_ID, CLIENT_SECRET, IID

LIST_ID = "cl-c2ce382-2516-457e-8eb4-9847deec0001"
PREFIX = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList"
UPDATE_URL = f"{PREFIX}/{LIST_ID}"
LIST_ALL_URL = f"{PREFIX}/getAllListDetails?type=call"

SUCCESS = {
    "status": "success",
    "message": "Contact list Renewal Due - August 2025 updated successfully",
    "data": {
        "contactListId": LIST_ID,
        "body": {
            "name": "Renewal Due - August 2025",
            "orgId": "o-1",
            "iId": IID,
            "listType": "call",
            "accountId": ACCOUNT_ID,
            "updatedBy": "u-1",
        },
    },
}


@pytest.fixture
def hook(koreai_connection: None) -> KoreAIHook:
    # Tiny backoff so retry tests take milliseconds; the policy itself is what is under test.
    return KoreAIHook(backoff_initial=0.001, backoff_max=0.01)


def update(hook: KoreAIHook, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"name": "Renewal Due - August 2025", "allow_duplicates": False}
    kwargs.update(overrides)
    list_id = kwargs.pop("contact_list_id", LIST_ID)
    return hook.update_contact_list(list_id, **kwargs)


class TestUpdateContactList:
    def test_jwt_ttl_comes_from_the_connection(self, set_connection: Any, requests_mock: rm.Mocker) -> None:
        set_connection(extra={"jwt_ttl": "900"})
        requests_mock.put(UPDATE_URL, json=SUCCESS)
        update(KoreAIHook())
        claims = jwt.decode(requests_mock.last_request.headers["auth"], CLIENT_SECRET, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] == 900

    def test_explicit_timeout_on_every_request(self, set_connection: Any, requests_mock: rm.Mocker) -> None:
        set_connection(extra={"timeout": 45})
        requests_mock.put(UPDATE_URL, json=SUCCESS)
        update(KoreAIHook())
        assert requests_mock.last_request.timeout == (10.0, 45.0)


class TestContactListDifferences:
    """Reading a list back after an update: which of the settings written it no longer holds."""

    def test_the_settings_written_and_reported_are_compared(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        found = {"_id": LIST_ID, "name": "Renewal Due - September", "allowDuplicates": False, "source": "api"}
        requests_mock.get(UPDATE_URL, json={"status": "success", "data": found})

        differences = hook.contact_list_differences(
            LIST_ID, name="Renewal Due - August 2025", allow_duplicates=False, source="api"
        )

        assert differences == {"name": ("Renewal Due - August 2025", "Renewal Due - September")}
        assert [request.method for request in requests_mock.request_history] == ["GET"]

    def test_a_description_not_sent_or_a_setting_not_reported_is_not_compared(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        # Kore.ai's newer API reports the duplicate policy elsewhere (apiConfigurations.dataSyncMode).
        found = {"_id": LIST_ID, "name": "Renewal Due", "description": "set by the UI", "source": "api"}
        requests_mock.get(UPDATE_URL, json={"status": "success", "data": found})

        assert (
            hook.contact_list_differences(LIST_ID, name="Renewal Due", allow_duplicates=True, source="api")
            == {}
        )


class TestValidationBeforeAnyRequest:
    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"contact_list_id": ""}, "contact_list_id"),
            ({"contact_list_id": "../getAllListDetails"}, "contact_list_id"),
            ({"contact_list_id": "cl 1"}, "contact_list_id"),
            ({"contact_list_id": ".."}, "contact_list_id"),
            ({"contact_list_id": "cl-1\x00"}, "contact_list_id"),
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 49}, "name"),
            ({"name": None}, "name"),
            ({"description": "d" * 257}, "description"),
            ({"allow_duplicates": "false"}, "allow_duplicates"),
            ({"source": ""}, "source"),
        ],
    )
    def test_bad_argument_is_refused_and_named(
        self, hook: KoreAIHook, requests_mock: rm.Mocker, overrides: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(KoreAIValidationError) as excinfo:
            update(hook, **overrides)
        assert excinfo.value.field == field
        assert field in str(excinfo.value)
        assert requests_mock.call_count == 0

    def test_missing_connection_field_is_named(self, set_connection: Any, requests_mock: rm.Mocker) -> None:
        set_connection(extra={"iid": ""})
        with pytest.raises(KoreAIConfigurationError, match="iid"):
            update(KoreAIHook())
        assert requests_mock.call_count == 0


class TestErrors:
    def test_scope_error_is_also_authentication(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.put(
            UPDATE_URL,
            status_code=401,
            json={"errors": [{"msg": "Permission denied. Scope is incorrect!", "code": 4002}]},
        )
        with pytest.raises(KoreAIAuthenticationError, match="Scope is incorrect"):
            update(hook)

    def test_redirects_are_not_followed(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        # Following one would hand the token to whatever host the redirect names.
        requests_mock.put(UPDATE_URL, status_code=302, headers={"Location": "https://sso.example.test/login"})
        with pytest.raises(KoreAIUnexpectedResponseError, match="redirected"):
            update(hook)
        assert requests_mock.call_count == 1


class TestRetries:
    def test_hook_argument_wins_over_the_extra(self, set_connection: Any, requests_mock: rm.Mocker) -> None:
        set_connection(extra={"max_attempts": 3})
        requests_mock.put(UPDATE_URL, status_code=500, json={})
        with pytest.raises(KoreAIServerError):
            update(KoreAIHook(max_attempts=2, backoff_initial=0.001))
        assert requests_mock.call_count == 2

    def test_retry_after_beyond_the_budget_stops_at_once(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.put(UPDATE_URL, status_code=429, headers={"Retry-After": "3600"}, json={})
        started = time.monotonic()
        with pytest.raises(KoreAIRateLimitedError) as excinfo:
            update(hook)
        assert time.monotonic() - started < 5
        assert excinfo.value.retry_after == 3600
        assert "wait 3600 s" in str(excinfo.value)
        assert requests_mock.call_count == 1

    def test_retry_after_as_http_date(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.put(
            UPDATE_URL,
            [
                {"status_code": 429, "headers": {"Retry-After": formatdate(time.time() - 5, usegmt=True)}},
                {"json": SUCCESS},
            ],
        )
        assert update(hook) == SUCCESS["data"]

    def test_refused_connection_says_nothing_was_sent(self, set_connection: Any) -> None:
        # Nothing listens on port 9 of the loopback interface.
        set_connection(host="http://127.0.0.1:9", extra={"max_attempts": 2})
        with pytest.raises(KoreAITransportError) as excinfo:
            update(KoreAIHook(backoff_initial=0.001))
        assert not excinfo.value.outcome_unknown
        assert "nothing was sent" in str(excinfo.value)


class TestTestConnection:
    def test_misconfigured_connection(self, set_connection: Any) -> None:
        set_connection(password="")
        ok, message = KoreAIHook().test_connection()
        assert not ok
        assert "Client Secret" in message

    @pytest.mark.parametrize(
        ("overrides", "expected"),
        [
            ({"extra": {"iid": ""}}, "has no application id"),
            ({"host": "ftp://platform.kore.ai"}, "has an unusable Host"),
            ({"extra": {"timeout": "soon"}}, "extra 'timeout'"),
        ],
    )
    def test_messages_never_name_the_temporary_connection_id(
        self, set_connection: Any, overrides: dict[str, Any], expected: str
    ) -> None:
        # The UI's Test button tests the connection under a random temporary id like this one.
        set_connection(conn_id="UN83gqZc", **overrides)
        ok, message = KoreAIHook(koreai_conn_id="UN83gqZc").test_connection()
        assert not ok
        assert expected in message
        assert message.startswith("This Kore.ai connection")
        assert "UN83gqZc" not in message

    @pytest.mark.parametrize("port", [None, 0, 443])
    def test_port_empty_zero_or_443(self, set_connection: Any, requests_mock: rm.Mocker, port: Any) -> None:
        set_connection(host="platform.kore.ai", port=port)
        requests_mock.post(LIST_ALL_URL, json={"status": "success", "data": []})
        ok, message = KoreAIHook().test_connection()
        assert ok, message


def test_connection_from_uri_environment_variable(
    monkeypatch: pytest.MonkeyPatch, requests_mock: rm.Mocker
) -> None:
    from urllib.parse import quote

    monkeypatch.setenv(
        "AIRFLOW_CONN_KOREAI_URI",
        f"koreai://{CLIENT_ID}:{quote(CLIENT_SECRET, safe='')}@platform.kore.ai"
        f"?iid={IID}&account_id={ACCOUNT_ID}&timeout=20",
    )
    requests_mock.put(UPDATE_URL, json=SUCCESS)
    update(KoreAIHook(koreai_conn_id="koreai_uri"))
    token = requests_mock.last_request.headers["auth"]
    assert jwt.decode(token, CLIENT_SECRET, algorithms=["HS256"])["appId"] == CLIENT_ID
    assert requests_mock.last_request.timeout == (10.0, 20.0)


@pytest.mark.parametrize("env_bundle", [None, "/etc/ssl/certs/ca-certificates.crt"])
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, True),
        ({"verify": "false"}, False),
        ({"verify": "/etc/ssl/kore-private-ca.pem"}, "/etc/ssl/kore-private-ca.pem"),
    ],
)
def test_tls_verification(
    set_connection: Any,
    requests_mock: rm.Mocker,
    monkeypatch: pytest.MonkeyPatch,
    extra: dict[str, Any],
    expected: Any,
    env_bundle: str | None,
) -> None:
    """The connection's choice holds even when REQUESTS_CA_BUNDLE is set (requests lets the environment
    override a session-level ``verify``)."""
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    if env_bundle:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", env_bundle)
    else:
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    set_connection(extra=extra)
    requests_mock.put(UPDATE_URL, json=SUCCESS)
    update(KoreAIHook())
    if expected is True:
        assert requests_mock.last_request.verify == (env_bundle or True)
    else:
        assert requests_mock.last_request.verify == expected
