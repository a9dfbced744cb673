from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_koreai import validation
from airflow_provider_koreai.connection import KoreAIConnectionConfig, normalize_base_url
from airflow_provider_koreai.exceptions import KoreAIConfigurationError, KoreAIValidationError
from tests.helpers.connections import ACCOUNT_ID, CLIENT_ID, CLIENT_SECRET, IID


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
    ],
)
def test_missing_fields_are_named(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(KoreAIConfigurationError, match=named) as excinfo:
        KoreAIConnectionConfig.from_connection(conn(**overrides))
    assert CLIENT_SECRET not in str(excinfo.value)


def read(**extras: Any) -> KoreAIConnectionConfig:
    return KoreAIConnectionConfig.from_connection(
        conn(extra_dejson={"iid": IID, "account_id": ACCOUNT_ID, **extras})
    )


@pytest.mark.parametrize(
    ("extra", "value", "problem"),
    [
        ("jwt_ttl", 7200, "must be a whole number from 1 to 3600"),
        ("jwt_ttl", "abc", "must be a whole number from 1 to 3600 (or a number as text, e.g. '30')"),
        ("timeout", 0, "must be a number of seconds above 0"),
        ("retry_timeout", "inf", "must be a number of seconds above 0"),
        ("enforce_jti", "on", "must be a boolean or the text 'true'/'false'/'yes'/'no'/'1'/'0'"),
        ("verify", 3, "must be true, false or the path of a CA bundle"),
    ],
)
def test_a_bad_extra_names_the_connection_and_the_extra_first(extra: str, value: Any, problem: str) -> None:
    """The extras' rules are :mod:`~airflow_provider_koreai.validation`'s (tests/test_validation.py); the
    reader reports a refusal as a configuration error about the connection."""
    with pytest.raises(KoreAIConfigurationError) as excinfo:
        read(**{extra: value})
    assert str(excinfo.value).startswith(f"Kore.ai connection 'koreai_default': extra {extra!r} {problem}")
    assert str(excinfo.value).endswith(f", got {value!r}.")


def test_a_connection_may_spell_booleans_and_numbers_as_forms_uris_and_people_do() -> None:
    """Deliberately wider than a DAG argument (``validation.CONNECTION_BOOLEAN_WORDS``,
    ``allow_decimal_point``): these connections have always worked, and keep working."""
    config = read(
        enforce_jti="No",
        verify="0",
        jwt_ttl="600.0",
        max_attempts=3.0,
        rate_limit_share=" 50 ",
        timeout="0.5",
        extra__koreai__retry_timeout="90",
    )
    assert (config.enforce_jti, config.verify, config.jwt_ttl, config.max_attempts) == (False, False, 600, 3)
    assert (config.rate_limit_share, config.timeout, config.retry_timeout) == (50, 0.5, 90.0)
    assert config.connect_timeout == 0.5  # never more than the request timeout
    assert (read(enforce_jti="yes").enforce_jti, read(verify="1").verify, read(verify="TRUE").verify) == (
        True,
        True,
        True,
    )


@pytest.mark.parametrize("word", ["yes", "no", "1", "0"])
def test_yes_no_1_0_are_spellings_of_the_connection_only(word: str) -> None:
    """A templated DAG argument renders a bool as ``True``/``False``: ``yes`` or ``1`` there is refused,
    not guessed at (tests/operators checks ``allow_duplicates`` does so)."""
    assert isinstance(read(enforce_jti=word).enforce_jti, bool)
    with pytest.raises(KoreAIValidationError, match="allow_duplicates"):
        validation.parse_bool(word, "allow_duplicates")


@pytest.mark.parametrize("blank", ["", "  ", "\t"])
def test_a_blank_extra_is_not_set(blank: str) -> None:
    """A blank ``verify`` once reached ``requests`` as an empty CA path, which turns verification off."""
    config = read(verify=blank, timeout=blank, enforce_jti=blank)
    assert (config.verify, config.timeout, config.enforce_jti) == (True, 30.0, True)
