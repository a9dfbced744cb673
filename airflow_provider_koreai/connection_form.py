"""How the ``koreai`` connection looks in the Airflow UI, declared once.

Airflow >= 3.2 reads these from the provider info (``conn-fields``, ``ui-field-behaviour``); older
releases call the hook's ``get_connection_form_widgets``/``get_ui_field_behaviour``. Both are generated
from the constants below so the two forms cannot drift apart, and each field's type, default and limits
are the connection reader's own: :data:`~airflow_provider_koreai.defaults.CONNECTION_EXTRAS`. This
module imports nothing else: the provider info is loaded while Airflow itself is still starting.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_koreai.defaults import (
    BOOLEAN,
    BOOLEAN_OR_PATH,
    CONNECTION_EXTRAS,
    SECONDS,
    WHOLE_NUMBER,
    Extra,
)

#: The label and the description of each extra; the form adds the limits and the default.
_TEXTS: dict[str, tuple[str, str]] = {
    "iid": (
        "Application ID (iid)",
        "Kore.ai application id, st-..., sent in the path and the iid header.",
    ),
    "account_id": (
        "Account ID",
        "Kore.ai account id (24 hexadecimal characters), sent as the accountId header.",
    ),
    "timeout": ("Request timeout (seconds)", "Read timeout of every request."),
    "connect_timeout": (
        "Connect timeout (seconds)",
        "Time to open a connection; never more than the request timeout.",
    ),
    "max_attempts": (
        "Attempts per request",
        "Tries of each request on a 429, 5xx or connection failure, the first included; 1 disables retries.",
    ),
    "retry_timeout": (
        "Time budget per call (seconds)",
        "Total time one call may take, retries and waits included; a call ends within it plus one request "
        "timeout.",
    ),
    "jwt_ttl": (
        "JWT lifetime (seconds)",
        "Lifetime of each signed token; Kore.ai refuses longer ones when JTI is enforced.",
    ),
    "enforce_jti": (
        "Fresh token per request (jti)",
        "On (default): every request gets a new token with its own jti, accepted whether or not the JWT app "
        "enforces JTI. Off: one token is reused until shortly before it expires; only for apps with Enforce "
        "JTI switched off.",
    ),
    "verify": (
        "TLS verification",
        "Empty or true (default): verified; false: not verified (never in production); or the path of a CA "
        "bundle present on every worker and triggerer, for hosts behind a private CA.",
    ),
    "rate_limit_per_minute": (
        "Account rate limit (requests/minute)",
        "Kore.ai's limit for the account, across all Contact Center APIs; 0 turns the provider's pacing off.",
    ),
    "rate_limit_share": (
        "Share of the rate limit (%)",
        "The percentage of the account's limit this Airflow deployment uses, leaving the rest to other "
        "Kore.ai clients.",
    ),
    "rate_limit_store": (
        "Shared rate budget store",
        "A Redis (redis://, rediss://) or PostgreSQL (postgresql://) URL reachable from every worker and "
        "triggerer: they then share one request budget. Empty: each process paces itself. If the store is "
        "unreachable, requests are paced per process and tasks go on.",
    ),
}

#: Extras without which no request can be sent. Airflow >= 3.2's form marks a field required when its JSON
#: Schema ``type`` does not allow ``null``, and keeps Save disabled while one is empty (``minLength`` and a
#: ``required`` list are not read). Airflow 3.0/3.1 make every legacy widget optional: there a missing one
#: is reported, with the field to set, when a task or the Test button first reads the connection.
REQUIRED: tuple[str, ...] = ("iid", "account_id")

#: Each kind of extra as JSON Schema; text (a name, a URL, ``true``/``false`` or a path) otherwise.
_JSON_TYPES = {BOOLEAN: "boolean", WHOLE_NUMBER: "integer", SECONDS: "number"}


def _schema(name: str, spec: Extra) -> dict[str, Any]:
    kind = _JSON_TYPES.get(spec.kind, "string")
    schema: dict[str, Any] = {"type": [kind] if name in REQUIRED else [kind, "null"]}
    # The 3.2+ form pre-fills a default and saves it. ``verify`` is text (true, false or a CA path): its
    # default would be saved as the string "true", which Airflow's masker meets in every task's extras and
    # warns about ("Skipping masking for a secret as it's too short"). Left empty, it reads as true.
    if spec.default is not None and spec.kind != BOOLEAN_OR_PATH:
        schema["default"] = spec.default
    if spec.kind == SECONDS:  # the duration rule: above 0
        schema["exclusiveMinimum"] = 0
    if spec.minimum is not None:
        schema["minimum"] = spec.minimum
    if spec.maximum is not None:
        schema["maximum"] = spec.maximum
    return schema


def _description(text: str, spec: Extra) -> str:
    if spec.kind not in (WHOLE_NUMBER, SECONDS):
        return text
    limits = f" From {spec.minimum} to {spec.maximum}." if spec.maximum is not None else ""
    return f"{text}{limits} Default {spec.default:g}."


#: Extra fields of the form, saved as bare keys in the connection's extras: every extra the connection
#: reader (:mod:`airflow_provider_koreai.connection`) understands, with its default and its limits.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    name: {
        "label": _TEXTS[name][0],
        "description": _description(_TEXTS[name][1], spec),
        "schema": _schema(name, spec),
    }
    for name, spec in CONNECTION_EXTRAS.items()
}

#: ``port`` stays visible: Airflow 3.3.1 and 3.3.2's Test sends port 0 for a connection saved without one,
#: and the API then refuses the test (HTTP 400 "The host or port to test differs from the stored
#: connection", apache/airflow#73298). With a port saved (443), the test runs.
HIDDEN_FIELDS: list[str] = ["schema"]

RELABELING: dict[str, str] = {
    "host": "Platform host",
    "login": "Client ID",
    "password": "Client Secret",
}

PLACEHOLDERS: dict[str, str] = {
    "host": "platform.kore.ai",
    "port": "443 (Airflow 3.3.1/3.3.2's Test needs it)",
    "login": "cs-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "password": "Client Secret of the Kore.ai JWT app",
    "iid": "st-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "account_id": "67777ce93e25326494e9xxxx",
    # Numbers show their default.
    **{
        name: f"{spec.default:g}"
        for name, spec in CONNECTION_EXTRAS.items()
        if spec.kind in (WHOLE_NUMBER, SECONDS)
    },
    "verify": "true, false or /path/to/ca-bundle.pem",
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
    for name, field in CONN_FIELDS.items():
        kind = CONNECTION_EXTRAS[name].kind
        if kind == BOOLEAN:
            widgets[name] = BooleanField(
                lazy_gettext(field["label"]),
                description=field["description"],
                default=CONNECTION_EXTRAS[name].default,
            )
            continue
        # Numbers that may have decimals are text in the legacy form; the connection reader parses them.
        field_class = IntegerField if kind == WHOLE_NUMBER else StringField
        widgets[name] = field_class(
            lazy_gettext(field["label"]),
            description=field["description"],
            widget=BS3TextFieldWidget(),
            validators=[Optional()],
        )
    return widgets
