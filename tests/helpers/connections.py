"""The fake tenant of the unit tests, and ``koreai`` connections as ``AIRFLOW_CONN_*`` values.

Realistic values: PyJWT warns about HMAC keys shorter than 32 bytes.
"""

from __future__ import annotations

import json
from typing import Any

CLIENT_ID = "cs-5f1d2c3b-8e7a-4a1b-9c0d-1e2f3a4b5c6d"
CLIENT_SECRET = "kS9vQ2xL7mN4pR8tW1yZ3bC6dF0gH5jK2lM9nP4qS7u="
IID = "st-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
ACCOUNT_ID = "67777ce93e25326494e9ab12"
HOST = "https://platform.kore.ai"
BASE_URL = "https://platform.kore.ai"


def connection_json(**overrides: Any) -> str:
    """An ``AIRFLOW_CONN_*`` JSON value; ``extra`` overrides are merged into the default extras.

    The account's request budget is off (``rate_limit_per_minute`` 0): tests that send hundreds of
    mocked requests would otherwise wait a minute for every 54; the budget has tests of its own.
    """
    extra: dict[str, Any] = {"iid": IID, "account_id": ACCOUNT_ID, "rate_limit_per_minute": 0}
    extra.update(overrides.pop("extra", {}))
    conn: dict[str, Any] = {
        "conn_type": "koreai",
        "host": HOST,
        "login": CLIENT_ID,
        "password": CLIENT_SECRET,
        "extra": extra,
    }
    conn.update(overrides)
    return json.dumps(conn)


def extras_as_the_form_saves(**filled: Any) -> dict[str, Any]:
    """The extras Airflow >= 3.2's connection form saves with only ``filled`` typed in: every field of
    ``connection_form.CONN_FIELDS``, at its pre-filled default, ``null`` where it has none. The browser
    test (``tests/e2e/test_ui_connection_browser.py``) checks this against what a real form saves."""
    from airflow_provider_koreai.connection_form import CONN_FIELDS

    return {name: filled.get(name, field["schema"].get("default")) for name, field in CONN_FIELDS.items()}
