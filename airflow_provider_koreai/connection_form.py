"""How the ``koreai`` connection looks in the Airflow UI, declared once.

Airflow >= 3.2 reads these from the provider info (``conn-fields``, ``ui-field-behaviour``); older
releases call the hook's ``get_connection_form_widgets``/``get_ui_field_behaviour``. Both are generated
from the constants below so the two forms cannot drift apart, and the defaults and limits they show are
the connection reader's own (``defaults.py``). This module imports nothing else: the provider info is
loaded while Airflow itself is still starting.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_koreai.defaults import (
    DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_JWT_TTL_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RATE_LIMIT_SHARE,
    DEFAULT_RETRY_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_ACCOUNT_REQUESTS_PER_MINUTE,
    MAX_JWT_TTL_SECONDS,
    MAX_MAX_ATTEMPTS,
)

#: Extra fields of the form, saved as bare keys in the connection's extras: every extra the connection
#: reader (:mod:`airflow_provider_koreai.connection`) understands, with its default and its limits.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "iid": {
        "label": "Application ID (iid)",
        "description": "Kore.ai application id, st-..., sent in the path and the iid header.",
        "schema": {"type": ["string", "null"]},
    },
    "account_id": {
        "label": "Account ID",
        "description": "Kore.ai account id (24 hexadecimal characters), sent as the accountId header.",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Request timeout (seconds)",
        "description": f"Read timeout of every request. Default {DEFAULT_TIMEOUT_SECONDS:g}.",
        "schema": {"type": ["number", "null"], "default": DEFAULT_TIMEOUT_SECONDS, "minimum": 1},
    },
    "connect_timeout": {
        "label": "Connect timeout (seconds)",
        "description": "Time to open a connection; never more than the request timeout. "
        f"Default {DEFAULT_CONNECT_TIMEOUT_SECONDS:g}.",
        "schema": {"type": ["number", "null"], "default": DEFAULT_CONNECT_TIMEOUT_SECONDS, "minimum": 1},
    },
    "max_attempts": {
        "label": "Attempts per request",
        "description": "Tries of each request on a 429, 5xx or connection failure, the first included; 1 "
        f"disables retries. Default {DEFAULT_MAX_ATTEMPTS}.",
        "schema": {
            "type": ["integer", "null"],
            "default": DEFAULT_MAX_ATTEMPTS,
            "minimum": 1,
            "maximum": MAX_MAX_ATTEMPTS,
        },
    },
    "retry_timeout": {
        "label": "Time budget per call (seconds)",
        "description": "Total time one call may take, retries and waits included; a call ends within it "
        f"plus one request timeout. Default {DEFAULT_RETRY_TIMEOUT_SECONDS:g}.",
        "schema": {"type": ["number", "null"], "default": DEFAULT_RETRY_TIMEOUT_SECONDS, "minimum": 1},
    },
    "jwt_ttl": {
        "label": "JWT lifetime (seconds)",
        "description": f"Lifetime of each signed token, 1 to {MAX_JWT_TTL_SECONDS} (Kore.ai's limit when JTI "
        f"is enforced). Default {DEFAULT_JWT_TTL_SECONDS}.",
        "schema": {
            "type": ["integer", "null"],
            "default": DEFAULT_JWT_TTL_SECONDS,
            "minimum": 1,
            "maximum": MAX_JWT_TTL_SECONDS,
        },
    },
    "enforce_jti": {
        "label": "Fresh token per request (jti)",
        "description": "On (default): every request gets a new token with its own jti, accepted whether or "
        "not the JWT app enforces JTI. Off: one token is reused until shortly before it expires; only for "
        "apps with Enforce JTI switched off.",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "verify": {
        "label": "TLS verification",
        "description": "true (default), false (never in production), or the path of a CA bundle present "
        "on every worker and triggerer, for hosts behind a private CA.",
        "schema": {"type": ["string", "null"], "default": "true"},
    },
    "rate_limit_per_minute": {
        "label": "Account rate limit (requests/minute)",
        "description": "Kore.ai's limit for the account, across all Contact Center APIs; 0 turns the "
        f"provider's pacing off. Default {DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE}.",
        "schema": {
            "type": ["integer", "null"],
            "default": DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE,
            "minimum": 0,
            "maximum": MAX_ACCOUNT_REQUESTS_PER_MINUTE,
        },
    },
    "rate_limit_share": {
        "label": "Share of the rate limit (%)",
        "description": "The percentage of the account's limit this Airflow deployment uses, leaving the "
        f"rest to other Kore.ai clients. Default {DEFAULT_RATE_LIMIT_SHARE}.",
        "schema": {
            "type": ["integer", "null"],
            "default": DEFAULT_RATE_LIMIT_SHARE,
            "minimum": 1,
            "maximum": 100,
        },
    },
    "rate_limit_store": {
        "label": "Shared rate budget store",
        "description": "A Redis (redis://, rediss://) or PostgreSQL (postgresql://) URL reachable from "
        "every worker and triggerer: they then share one request budget. Empty: each process paces itself. "
        "If the store is unreachable, requests are paced per process and tasks go on.",
        "schema": {"type": ["string", "null"]},
    },
}

HIDDEN_FIELDS: list[str] = ["port", "schema"]

RELABELING: dict[str, str] = {
    "host": "Platform host",
    "login": "Client ID",
    "password": "Client Secret",
}

PLACEHOLDERS: dict[str, str] = {
    "host": "platform.kore.ai",
    "login": "cs-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "password": "Client Secret of the Kore.ai JWT app",
    "iid": "st-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "account_id": "67777ce93e25326494e9xxxx",
    "timeout": f"{DEFAULT_TIMEOUT_SECONDS:g}",
    "connect_timeout": f"{DEFAULT_CONNECT_TIMEOUT_SECONDS:g}",
    "max_attempts": str(DEFAULT_MAX_ATTEMPTS),
    "retry_timeout": f"{DEFAULT_RETRY_TIMEOUT_SECONDS:g}",
    "jwt_ttl": str(DEFAULT_JWT_TTL_SECONDS),
    "verify": "true, false or /path/to/ca-bundle.pem",
    "rate_limit_per_minute": str(DEFAULT_ACCOUNT_REQUESTS_PER_MINUTE),
    "rate_limit_share": str(DEFAULT_RATE_LIMIT_SHARE),
    "rate_limit_store": "redis://redis.internal:6379/0",
}


def provider_info_connection_form() -> dict[str, Any]:
    """The ``conn-fields`` and ``ui-field-behaviour`` keys of a ``connection-types`` item."""
    return {
        "conn-fields": CONN_FIELDS,
        "ui-field-behaviour": {
            "hidden-fields": HIDDEN_FIELDS,
            "relabeling": RELABELING,
            "placeholders": PLACEHOLDERS,
        },
    }


def ui_field_behaviour() -> dict[str, Any]:
    """``KoreAIHook.get_ui_field_behaviour()`` for Airflow < 3.2."""
    return {
        "hidden_fields": list(HIDDEN_FIELDS),
        "relabeling": dict(RELABELING),
        "placeholders": dict(PLACEHOLDERS),
    }


def form_widgets() -> dict[str, Any]:
    """``KoreAIHook.get_connection_form_widgets()`` for Airflow < 3.2 (needs the FAB provider)."""
    from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, IntegerField, StringField
    from wtforms.validators import Optional

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        kind = spec["schema"]["type"]
        if "boolean" in kind:
            widgets[name] = BooleanField(
                lazy_gettext(spec["label"]),
                description=spec["description"],
                default=spec["schema"]["default"],
            )
            continue
        # Numbers that may have decimals are text in the legacy form; the connection reader parses them.
        field_class = IntegerField if "integer" in kind else StringField
        widgets[name] = field_class(
            lazy_gettext(spec["label"]),
            description=spec["description"],
            widget=BS3TextFieldWidget(),
            validators=[Optional()],
        )
    return widgets
