from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_koreai.connection import KoreAIConnectionConfig, normalize_base_url
from airflow_provider_koreai.exceptions import KoreAIConfigurationError
from tests.conftest import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, IID


def conn(**overrides: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "conn_id": "koreai_default",
        "host": "platform.kore.ai",
        "login": CLIENT_ID,
        "password": CLIENT_SECRET,
        "port": None,
        "schema": None,
        "extra_dejson": {"iid": IID, "account_id": ACCOUNT_ID},
    }
    values.update(overrides)
    return SimpleNamespace(**values)


@pytest.mark.parametrize(
    "host",
    [
        "platform.kore.ai",
        "https://platform.kore.ai",
        "https://platform.kore.ai/",
        " HTTPS://platform.kore.ai/ ",
    ],
)
def test_documented_host_spellings_are_equivalent(host: str) -> None:
    assert normalize_base_url(host) == "https://platform.kore.ai"


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("platform.kore.ai", 443, "https://platform.kore.ai"),
        ("platform.kore.ai", 0, "https://platform.kore.ai"),
        ("kore.internal.example", 8443, "https://kore.internal.example:8443"),
        ("http://127.0.0.1:8765", None, "http://127.0.0.1:8765"),
        ("http://127.0.0.1", 8765, "http://127.0.0.1:8765"),
        ("http://localhost:8765/", None, "http://localhost:8765"),
        ("http://[::1]:8765", None, "http://[::1]:8765"),
        ("http://127.8.9.10:80", None, "http://127.8.9.10"),
    ],
)
def test_ports_and_loopback_http(host: str, port: int | None, expected: str) -> None:
    assert normalize_base_url(host, port=port) == expected


def test_schema_field_may_ask_for_http_on_loopback() -> None:
    assert normalize_base_url("127.0.0.1", port=8765, scheme="http") == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("http://platform.kore.ai", "plain http is only allowed for loopback"),
        ("http://10.0.0.5:8765", "plain http is only allowed for loopback"),
        ("http://127.0.0.1.nip.example", "plain http is only allowed for loopback"),
        ("ftp://platform.kore.ai", "not supported"),
        ("https://platform.kore.ai/agentassist/api", "must not contain a path"),
        ("https://user:pw@platform.kore.ai", "credentials belong"),
        ("https://platform.kore.ai:99999", "Port out of range"),
    ],
)
def test_unusable_hosts_are_refused_clearly(host: str, problem: str) -> None:
    with pytest.raises(KoreAIConfigurationError, match=problem) as excinfo:
        normalize_base_url(host, conn_id="koreai_prod")
    assert "koreai_prod" in str(excinfo.value)
    assert "platform.kore.ai" in str(excinfo.value)


def test_defaults() -> None:
    config = KoreAIConnectionConfig.from_connection(conn())
    assert config.base_url == "https://platform.kore.ai"
    assert (config.client_id, config.iid, config.account_id) == (CLIENT_ID, IID, ACCOUNT_ID)
    assert (config.timeout, config.connect_timeout, config.jwt_ttl, config.verify) == (30.0, 10.0, 300, True)
    assert CLIENT_SECRET not in repr(config)


def test_form_values_arrive_as_strings_or_prefixed() -> None:
    extras = {
        "extra__koreai__iid": IID,
        "extra__koreai__account_id": ACCOUNT_ID,
        "timeout": "45",
        "jwt_ttl": "3600",
        "verify": "/etc/ssl/private-ca.pem",
    }
    config = KoreAIConnectionConfig.from_connection(conn(extra_dejson=extras))
    assert (config.iid, config.account_id, config.timeout, config.jwt_ttl) == (IID, ACCOUNT_ID, 45.0, 3600)
    assert config.verify == "/etc/ssl/private-ca.pem"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"host": ""}, "Host"),
        ({"login": None}, "Client ID"),
        ({"password": ""}, "Client Secret"),
        ({"extra_dejson": {"account_id": ACCOUNT_ID}}, "iid"),
        ({"extra_dejson": {"iid": IID}}, "account_id"),
        ({"extra_dejson": {"iid": IID, "account_id": ACCOUNT_ID, "jwt_ttl": 7200}}, "jwt_ttl"),
        ({"extra_dejson": {"iid": IID, "account_id": ACCOUNT_ID, "jwt_ttl": "abc"}}, "jwt_ttl"),
        ({"extra_dejson": {"iid": IID, "account_id": ACCOUNT_ID, "timeout": 0}}, "timeout"),
        ({"extra_dejson": {"iid": IID, "account_id": ACCOUNT_ID, "verify": 3}}, "verify"),
    ],
)
def test_missing_or_bad_fields_are_named(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(KoreAIConfigurationError, match=named) as excinfo:
        KoreAIConnectionConfig.from_connection(conn(**overrides))
    assert CLIENT_SECRET not in str(excinfo.value)
