"""What a ``koreai`` Airflow connection means, read once and checked before any request.

Connections arrive from the UI form (extras as bare keys, numbers sometimes as strings), from
``AIRFLOW_CONN_*`` JSON or URI variables, and from older Airflow forms that prefix extras with
``extra__koreai__``. This module turns all of them into one validated, immutable value so the hook never
has to wonder, and every problem is reported with the field to fix, before anything touches the network.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_koreai import rate_limit
from airflow_provider_koreai.defaults import (
    DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_JWT_TTL_SECONDS,
    DEFAULT_RATE_LIMIT_SHARE,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_ACCOUNT_REQUESTS_PER_MINUTE,
    MAX_JWT_TTL_SECONDS,
    MAX_MAX_ATTEMPTS,
)
from airflow_provider_koreai.exceptions import KoreAIConfigurationError

CONN_TYPE = "koreai"

_DEFAULT_PORTS = {"https": 443, "http": 80}
_TRUE_WORDS = frozenset({"true", "1", "yes"})
_FALSE_WORDS = frozenset({"false", "0", "no"})


@dataclass(frozen=True)
class KoreAIConnectionConfig:
    """Everything the hook needs from the connection. The secret is kept out of ``repr()``."""

    conn_id: str
    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    iid: str
    account_id: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    jwt_ttl: int = DEFAULT_JWT_TTL_SECONDS
    verify: bool | str = True
    enforce_jti: bool = True
    max_attempts: int | None = None
    retry_timeout: float | None = None
    rate_limit_per_minute: int = DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE
    rate_limit_share: int = DEFAULT_RATE_LIMIT_SHARE
    #: May carry the store's password: out of ``repr()``, and the password goes to the masker.
    rate_limit_store: str | None = field(default=None, repr=False)

    @property
    def rate_budget(self) -> rate_limit.RateBudgetSettings:
        """This connection's share of its account's request budget, and where the budget lives."""
        share = 0
        if self.rate_limit_per_minute:
            share = max(1, self.rate_limit_per_minute * self.rate_limit_share // 100)
        account = f"{urlsplit(self.base_url).netloc}/{self.account_id}"
        return rate_limit.RateBudgetSettings(account, share, self.rate_limit_store)

    @classmethod
    def from_connection(cls, conn: Any, *, subject: str | None = None) -> KoreAIConnectionConfig:
        """Build from an Airflow ``Connection`` (or anything with the same attributes).

        ``subject`` is how error messages name the connection; by default ``Kore.ai connection '<id>'``.
        The UI's Test button tests an unsaved copy under a random temporary id, which would only confuse:
        :meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.test_connection` passes a subject without it.
        """
        conn_id = conn.conn_id or "<unnamed>"
        label = subject or _subject(conn_id)
        extras = _Extras(label, conn.extra_dejson or {})

        def missing(what: str, where: str, example: str) -> KoreAIConfigurationError:
            return KoreAIConfigurationError(f"{label} has no {what}: set {where} ({example}).")

        if not (conn.host or "").strip():
            raise missing("host", "the Host field", "platform.kore.ai, or your on-prem host")
        client_id = (conn.login or "").strip()
        if not client_id:
            raise missing("Client ID", "the Login field", "Client ID of the Kore.ai JWT app, cs-...")
        if not conn.password:
            raise missing("Client Secret", "the Password field", "Client Secret of the Kore.ai JWT app")
        iid = extras.text("iid")
        if not iid:
            raise missing("application id", "the extra 'iid'", "st-..., from the app's settings")
        account_id = extras.text("account_id")
        if not account_id:
            raise missing("account id", "the extra 'account_id'", "the 24-character account id")

        timeout = extras.positive_number("timeout", DEFAULT_TIMEOUT_SECONDS)
        store = extras.rate_limit_store()
        return cls(
            conn_id=conn_id,
            base_url=normalize_base_url(
                conn.host, port=conn.port, scheme=conn.schema, conn_id=conn_id, subject=label
            ),
            client_id=client_id,
            client_secret=conn.password,
            iid=iid,
            account_id=account_id,
            timeout=timeout,
            connect_timeout=min(
                extras.positive_number("connect_timeout", DEFAULT_CONNECT_TIMEOUT_SECONDS), timeout
            ),
            jwt_ttl=extras.bounded_int("jwt_ttl", DEFAULT_JWT_TTL_SECONDS, 1, MAX_JWT_TTL_SECONDS),
            verify=extras.verify(),
            enforce_jti=extras.boolean("enforce_jti", default=True),
            max_attempts=extras.optional_bounded_int("max_attempts", 1, MAX_MAX_ATTEMPTS),
            retry_timeout=extras.optional_positive_number("retry_timeout"),
            rate_limit_per_minute=extras.bounded_int(
                "rate_limit_per_minute",
                DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE,
                0,
                MAX_ACCOUNT_REQUESTS_PER_MINUTE,
            ),
            rate_limit_share=extras.bounded_int("rate_limit_share", DEFAULT_RATE_LIMIT_SHARE, 1, 100),
            rate_limit_store=store,
        )


def _subject(conn_id: str) -> str:
    return f"Kore.ai connection {conn_id!r}"


def is_loopback(hostname: str) -> bool:
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def normalize_base_url(
    host: str,
    *,
    port: int | None = None,
    scheme: str | None = None,
    conn_id: str = "<unnamed>",
    subject: str | None = None,
) -> str:
    """``platform.kore.ai``, ``https://platform.kore.ai`` and ``https://platform.kore.ai/`` alike give
    ``https://platform.kore.ai``.

    Plain ``http://`` is accepted only for loopback hosts (the emulator, an SSH tunnel): anything else
    would send the token in clear text. The connection's ``schema`` field, hidden in the form, may say
    ``http`` for URI-style connections that cannot carry a scheme in the host.
    """

    def refuse(problem: str) -> KoreAIConfigurationError:
        return KoreAIConfigurationError(
            f"{subject or _subject(conn_id)} has an unusable Host {host!r}: {problem}. "
            "Use the platform host, e.g. 'platform.kore.ai' or 'https://platform.kore.ai'."
        )

    raw = host.strip()
    if "://" not in raw:
        wanted = (scheme or "https").strip().lower()
        raw = f"{wanted}://{raw}"
    try:
        parts = urlsplit(raw)
        explicit_port = parts.port
    except ValueError as exc:
        raise refuse(str(exc)) from None
    url_scheme = parts.scheme.lower()
    if url_scheme not in _DEFAULT_PORTS:
        raise refuse(f"scheme {parts.scheme!r} is not supported, use https")
    hostname = parts.hostname
    if not hostname:
        raise refuse("no host name")
    if parts.username or parts.password:
        raise refuse("credentials belong in the Login and Password fields, not in the host")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise refuse("it must not contain a path or query; the API paths are added by the provider")
    if url_scheme == "http" and not is_loopback(hostname):
        raise refuse("plain http is only allowed for loopback hosts (127.0.0.1, ::1, localhost); use https")
    effective_port = explicit_port or (port or None)
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if effective_port and effective_port != _DEFAULT_PORTS[url_scheme]:
        netloc = f"{netloc}:{effective_port}"
    return f"{url_scheme}://{netloc}"


class _Extras:
    """Typed access to connection extras, under their bare or ``extra__koreai__`` prefixed names."""

    def __init__(self, subject: str, extras: dict[str, Any]) -> None:
        self.subject = subject
        self.extras = extras

    def raw(self, name: str) -> Any:
        for key in (name, f"extra__{CONN_TYPE}__{name}"):
            value = self.extras.get(key)
            if value is not None and value != "":
                return value
        return None

    def error(self, name: str, problem: str) -> KoreAIConfigurationError:
        return KoreAIConfigurationError(f"{self.subject}: extra {name!r} {problem}.")

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(name, f"must be a string, got {type(value).__name__}")
        return value.strip() or None

    def _number(self, name: str) -> float | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.error(name, "must be a number of seconds")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise self.error(name, f"must be a number, got {value!r}") from None

    def optional_positive_number(self, name: str) -> float | None:
        number = self._number(name)
        if number is not None and not number > 0:
            raise self.error(name, f"must be greater than 0, got {number:g}")
        return number

    def positive_number(self, name: str, default: float) -> float:
        number = self.optional_positive_number(name)
        return default if number is None else number

    def optional_bounded_int(self, name: str, low: int, high: int) -> int | None:
        number = self._number(name)
        if number is None:
            return None
        if number != int(number) or not low <= number <= high:
            raise self.error(name, f"must be a whole number from {low} to {high}, got {number:g}")
        return int(number)

    def bounded_int(self, name: str, default: int, low: int, high: int) -> int:
        number = self.optional_bounded_int(name, low, high)
        return default if number is None else number

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
            return value.strip().lower() in _TRUE_WORDS
        raise self.error(name, f"must be true or false, got {value!r}")

    def rate_limit_store(self) -> str | None:
        """The Redis or PostgreSQL URL of the shared request budget. Its password (if any) goes to the
        masker: it lives as long as the connection, and may appear in a client library's error."""
        url = self.text("rate_limit_store")
        if url is None:
            return None
        try:
            rate_limit.store_kind(url)
        except ValueError as error:
            raise self.error("rate_limit_store", str(error)) from None
        password = rate_limit.store_password(url)
        if password:
            from airflow_provider_koreai.auth import register_long_lived_secret

            register_long_lived_secret(password)
        return url

    def verify(self) -> bool | str:
        """TLS verification: on by default; ``false`` turns it off, a path names a CA bundle."""
        value = self.raw("verify")
        if value is None or value is True:
            return True
        if value is False:
            return False
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE_WORDS:
                return True
            if lowered in _FALSE_WORDS:
                return False
            return value.strip()
        raise self.error("verify", "must be true, false or the path of a CA bundle")
