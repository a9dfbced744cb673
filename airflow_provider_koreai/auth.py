"""Request signing for Kore.ai: a fresh HS256 JWT on every request.

Kore.ai authenticates each call with a JWT in a header literally named ``auth`` (not
``Authorization: Bearer``), signed with the JWT app's client secret, plus the ``iid`` and ``accountId``
headers. Tenants may switch on "Enforce JTI", which rejects any token whose ``jti`` was seen before and
any ``exp`` more than an hour after ``iat``. Minting a new token per request (microseconds of HMAC)
keeps one code path valid for both kinds of tenant, and makes retries safe: every retried request is
signed again by :class:`requests.Session`, so a token is never sent twice.

Every token is handed to Airflow's secrets masker the moment it exists, so it is redacted from task
logs even if something downstream prints a header.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import jwt
from requests.auth import AuthBase

from airflow_provider_koreai.connection import DEFAULT_JWT_TTL_SECONDS, MAX_JWT_TTL_SECONDS

if TYPE_CHECKING:
    from requests import PreparedRequest

DEFAULT_SUBJECT = "airflow-provider-koreai"


def _resolve_mask_secret() -> Any:
    """Airflow moved ``mask_secret`` between releases; ``common.compat`` does not map it."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:
        try:
            from airflow.sdk.execution_time.secrets_masker import (  # type: ignore[no-redef]
                mask_secret,
            )
        except ImportError:  # Airflow 2.x
            from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]
    return mask_secret


mask_secret = _resolve_mask_secret()


class KoreAIJWTAuth(AuthBase):
    """Sign a request for Kore.ai's public APIs.

    :param client_id: Client ID of the Kore.ai JWT app (``cs-...``), sent as the ``appId`` claim.
    :param client_secret: the app's Client Secret, the HS256 key. Kept out of ``repr()``.
    :param iid: application id (``st-...``), sent as the ``iid`` header.
    :param account_id: account id, sent as the ``accountId`` header.
    :param ttl: token lifetime in seconds, 1 to 3600.
    :param subject: the ``sub`` claim; Kore.ai accepts any value, so it names the caller.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        iid: str,
        account_id: str,
        ttl: int = DEFAULT_JWT_TTL_SECONDS,
        subject: str = DEFAULT_SUBJECT,
    ) -> None:
        if not 1 <= ttl <= MAX_JWT_TTL_SECONDS:
            raise ValueError(f"ttl must be between 1 and {MAX_JWT_TTL_SECONDS} seconds, got {ttl}")
        self.client_id = client_id
        self._client_secret = client_secret
        self.iid = iid
        self.account_id = account_id
        self.ttl = ttl
        self.subject = subject

    def mint_token(self) -> str:
        """Return a new signed token with its own ``jti``, already registered with the masker."""
        now = int(time.time())
        claims = {
            "appId": self.client_id,
            "sub": self.subject,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self._client_secret, algorithm="HS256")
        mask_secret(token)
        return token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["auth"] = self.mint_token()
        request.headers["iid"] = self.iid
        request.headers["accountId"] = self.account_id
        return request

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(client_id={self.client_id!r}, iid={self.iid!r}, "
            f"account_id={self.account_id!r}, ttl={self.ttl})"
        )
