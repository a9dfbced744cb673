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

from airflow_provider_koreai import rate_limit, validation
from airflow_provider_koreai.defaults import (
    CONNECTION_EXTRAS,
    DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_JWT_TTL_SECONDS,
    DEFAULT_RATE_LIMIT_SHARE,
    DEFAULT_TIMEOUT_SECONDS,
)
from airflow_provider_koreai.exceptions import KoreAIConfigurationError, KoreAIValidationError

CONN_TYPE = "koreai"

_DEFAULT_PORTS = {"https": 443, "http": 80}


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
        Airflow's Test button may test the connection under a random temporary id, which would only confuse:
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
        iid = extras.optional("iid")
        if not iid:
            raise missing("application id", "the extra 'iid'", "st-..., from the app's settings")
        account_id = extras.optional("account_id")
        if not account_id:
            raise missing("account id", "the extra 'account_id'", "the 24-character account id")

        timeout = extras.value("timeout")
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
            connect_timeout=min(extras.value("connect_timeout"), timeout),
            jwt_ttl=extras.value("jwt_ttl"),
            verify=extras.value("verify"),
            enforce_jti=extras.value("enforce_jti"),
            # Empty: the hook's own default (the same as the form's), after its arguments.
            max_attempts=extras.optional("max_attempts"),
            retry_timeout=extras.optional("retry_timeout"),
            rate_limit_per_minute=extras.value("rate_limit_per_minute"),
            rate_limit_share=extras.value("rate_limit_share"),
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
    """Connection extras under their bare or ``extra__koreai__`` prefixed names, each read by the rule of
    its kind with its default and limits (:data:`~airflow_provider_koreai.defaults.CONNECTION_EXTRAS`,
    :func:`~airflow_provider_koreai.validation.extra`), spelled as a connection may spell it."""

    def __init__(self, subject: str, extras: dict[str, Any]) -> None:
        self.subject = subject
        self.extras = extras

    def raw(self, name: str) -> Any:
        """The extra as stored; ``None`` when it is not set: absent, ``null``, empty or blank (a blank
        ``verify`` would otherwise reach ``requests`` as a falsy CA path, which turns verification off)."""
        for key in (name, f"extra__{CONN_TYPE}__{name}"):
            value = self.extras.get(key)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                return value
        return None

    def error(self, name: str, problem: str) -> KoreAIConfigurationError:
        return KoreAIConfigurationError(f"{self.subject}: extra {name!r} {problem}.")

    def optional(self, name: str) -> Any:
        """The extra, checked; ``None`` when it is not set."""
        try:
            return validation.extra(name, self.raw(name))
        except KoreAIValidationError as error:
            raise self.error(name, error.problem) from None

    def value(self, name: str) -> Any:
        """The extra, checked; its default (through the same rule: ``"true"`` is ``True``) when not set."""
        value = self.optional(name)
        return validation.extra(name, CONNECTION_EXTRAS[name].default) if value is None else value

    def rate_limit_store(self) -> str | None:
        """The Redis or PostgreSQL URL of the shared request budget. Its password (if any) goes to the
        masker: it lives as long as the connection, and may appear in a client library's error."""
        url = self.optional("rate_limit_store")
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
