"""How the ``koreai`` connection looks in the Airflow UI, declared once.

Airflow >= 3.2 reads these from the provider info (``conn-fields``, ``ui-field-behaviour``); older
releases call the hook's ``get_connection_form_widgets``/``get_ui_field_behaviour``. Both are generated
from the constants below so the two forms cannot drift apart. This module imports nothing: the
provider info is loaded while Airflow itself is still starting.
"""

from __future__ import annotations

from typing import Any

#: Extra fields of the form, saved as bare keys in the connection's extras.
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
        "description": "Read timeout of every request. Default 30.",
        "schema": {"type": ["integer", "null"], "default": 30, "minimum": 1},
    },
    "jwt_ttl": {
        "label": "JWT lifetime (seconds)",
        "description": "Lifetime of each signed token, 1 to 3600 (Kore.ai's limit when JTI is enforced). "
        "Default 300.",
        "schema": {"type": ["integer", "null"], "default": 300, "minimum": 1, "maximum": 3600},
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
    "timeout": "30",
    "jwt_ttl": "300",
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
    from wtforms import IntegerField, StringField
    from wtforms.validators import Optional

    widgets: dict[str, Any] = {}
    for name, spec in CONN_FIELDS.items():
        field_class = IntegerField if "integer" in spec["schema"]["type"] else StringField
        widgets[name] = field_class(
            lazy_gettext(spec["label"]),
            description=spec["description"],
            widget=BS3TextFieldWidget(),
            validators=[Optional()],
        )
    return widgets
