"""A client of the emulator's HTTP API for its own tests, independent of the hook: token minting with
PyJWT, URLs and headers, and assertions on Kore's error envelope."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import requests

from airflow_provider_koreai.emulator import EmulatorServer, EmulatorSettings

TIMEOUT = 5


def mint_token(
    settings: EmulatorSettings,
    *,
    secret: str | None = None,
    app_id: str | None = None,
    ttl: int = 300,
    iat_offset: int = 0,
    jti: str | bool | None = True,
    algorithm: str = "HS256",
    **extra: Any,
) -> str:
    """A Kore-style JWT: ``appId``, ``sub``, ``iat``, ``exp`` and (by default) a fresh ``jti``."""
    now = int(time.time()) + iat_offset
    claims: dict[str, Any] = {
        "appId": app_id or settings.client_id,
        "sub": "emulator-tests",
        "iat": now,
        "exp": now + ttl,
    }
    if jti is True:
        claims["jti"] = uuid.uuid4().hex
    elif isinstance(jti, str):
        claims["jti"] = jti
    claims.update(extra)
    return jwt.encode(claims, secret or settings.client_secret, algorithm=algorithm)


class Kore:
    """URLs and headers for one emulator; every request carries a freshly minted token unless overridden."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.settings = server.settings
        self.session = requests.Session()

    @property
    def lists_url(self) -> str:
        return f"{self.server.base_url}/agentassist/api/v1/public/{self.settings.iid}/campaign/contactList"

    def list_url(self, list_id: str) -> str:
        return f"{self.lists_url}/{list_id}"

    @property
    def add_contacts_url(self) -> str:
        return f"{self.server.base_url}/api/1.1/public/{self.settings.iid}/campaign/contactList/addContacts"

    @property
    def campaigns_url(self) -> str:
        return f"{self.server.base_url}/agentassist/api/v1/public/{self.settings.iid}/campaign"

    def campaign_url(self, campaign_id: str) -> str:
        return f"{self.campaigns_url}/{campaign_id}"

    def trigger_url(self, campaign_id: str) -> str:
        """Start/stop (``?campaignType=..&trigger=play|stop``), under another prefix than the rest."""
        return f"{self.server.base_url}/campaign/api/v1/public/{self.settings.iid}/campaign/{campaign_id}"

    def headers(self, token: str | None = None, **overrides: str | None) -> dict[str, str]:
        headers: dict[str, str | None] = {
            "auth": token if token is not None else mint_token(self.settings),
            "iid": self.settings.iid,
            "accountId": self.settings.account_id,
        }
        headers.update(overrides)
        return {k: v for k, v in headers.items() if v is not None}

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        kw.setdefault("timeout", TIMEOUT)
        return self.session.request(method, url, headers=headers or self.headers(), **kw)

    def close(self) -> None:
        self.session.close()


def assert_error(response: requests.Response, status: int, code: int | None = None, *words: str) -> None:
    """The response is Kore's error envelope with this status/code, and its message mentions ``words``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert "detail" not in body
    assert isinstance(body["errors"], list)
    assert body["errors"]
    messages = " | ".join(e["msg"] for e in body["errors"])
    if code is not None:
        assert body["errors"][0]["code"] == code, body
    for word in words:
        assert word in messages, (word, messages)
