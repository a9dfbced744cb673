"""Request signing for Kore.ai: a fresh HS256 JWT on every request.

Kore.ai authenticates each call with a JWT in a header literally named ``auth`` (not
``Authorization: Bearer``), signed with the JWT app's client secret, plus the ``iid`` and ``accountId``
headers. Tenants may switch on "Enforce JTI", which rejects any token whose ``jti`` was seen before and
any ``exp`` more than an hour after ``iat``. Minting a new token per request (microseconds of HMAC)
keeps one code path valid for both kinds of tenant, and makes retries safe: every retried request is
signed again by :class:`requests.Session`, so a token is never sent twice.

Every token is handed to Airflow's secrets masker the moment it exists, so it is redacted from task
logs even if something downstream prints a header. The masker recompiles one regular expression over all
its secrets on each addition, so its cost grows with the square of the number of tokens in a process
(see ``benchmarks/mask_secret_cost.py``). Tenants that do not enforce JTI can opt out of per-request
tokens (``enforce_jti=False``): one token, without ``jti``, is then reused until shortly before it expires.
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
#: With ``enforce_jti=False``, a token is replaced this long (at most a fifth of its life) before expiry.
REUSE_MARGIN_SECONDS = 60.0


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
    :param enforce_jti: mint a fresh token with a random ``jti`` for every request (the default, accepted
        whether or not the JWT app enforces JTI). ``False`` reuses one token without ``jti`` until
        ``REUSE_MARGIN_SECONDS`` before it expires; only for apps with "Enforce JTI" switched off.
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
        enforce_jti: bool = True,
    ) -> None:
        if not 1 <= ttl <= MAX_JWT_TTL_SECONDS:
            raise ValueError(f"ttl must be between 1 and {MAX_JWT_TTL_SECONDS} seconds, got {ttl}")
        self.client_id = client_id
        self._client_secret = client_secret
        self.iid = iid
        self.account_id = account_id
        self.ttl = ttl
        self.subject = subject
        self.enforce_jti = enforce_jti
        self._reusable: tuple[str, float] | None = None

    def mint_token(self) -> str:
        """Return a new signed token, already registered with the masker.

        It carries a random ``jti`` unless ``enforce_jti`` is off.
        """
        now = int(time.time())
        claims: dict[str, object] = {
            "appId": self.client_id,
            "sub": self.subject,
            "iat": now,
            "exp": now + self.ttl,
        }
        if self.enforce_jti:
            claims["jti"] = uuid.uuid4().hex
        token = jwt.encode(claims, self._client_secret, algorithm="HS256")
        mask_secret(token)
        return token

    def token_for_request(self) -> str:
        """A fresh token per request, or (``enforce_jti=False``) the current token while it stays valid."""
        if self.enforce_jti:
            return self.mint_token()
        now = time.time()
        if self._reusable is None or now >= self._reusable[1]:
            margin = min(REUSE_MARGIN_SECONDS, self.ttl / 5)
            self._reusable = (self.mint_token(), now + self.ttl - margin)
        return self._reusable[0]

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["auth"] = self.token_for_request()
        request.headers["iid"] = self.iid
        request.headers["accountId"] = self.account_id
        return request

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(client_id={self.client_id!r}, iid={self.iid!r}, "
            f"account_id={self.account_id!r}, ttl={self.ttl}, enforce_jti={self.enforce_jti})"
        )
