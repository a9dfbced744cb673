"""Request signing for Kore.ai: a fresh HS256 JWT on every request.

Kore.ai authenticates each call with a JWT in a header literally named ``auth`` (not
``Authorization: Bearer``), signed with the JWT app's client secret, plus the ``iid`` and ``accountId``
headers. Tenants may switch on "Enforce JTI", which rejects any token whose ``jti`` was seen before and
any ``exp`` more than an hour after ``iat``. Minting a new token per request (microseconds of HMAC)
keeps one code path valid for both kinds of tenant, and makes retries safe: every retried request is
signed again by :class:`requests.Session`, so a token is never sent twice.

Which secrets go to Airflow's masker (the one rule, :meth:`KoreAIJWTAuth.token_for_request`; the hook and
the trigger both sign through it):

* the **client secret** is the connection password, which Airflow itself registers with the masker;
* a token with a fresh ``jti`` is **not** registered. It is single-use: sent once, only in the ``auth``
  header (never a URL), refused by Kore.ai if replayed, expired after ``jwt_ttl``; our code never logs
  headers, and text that comes back from the server is scrubbed of anything JWT-shaped before it reaches
  an exception. Registering it would buy nothing and cost much: the masker recompiles one regular
  expression over all its values on each addition and matches every log line against it, so one value
  per request makes a long-lived process (a large upload, the triggerer) slower with every call; on
  Airflow 3.0 the registration itself is logged, token included, at DEBUG by the task supervisor;
* with ``enforce_jti=False`` one token is reused for its whole life, which makes it a long-lived secret:
  it is registered once, when minted (one registration per ``jwt_ttl``, not per request).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from jwt import PyJWS
from jwt.algorithms import HMACAlgorithm
from requests.auth import AuthBase

from airflow_provider_koreai.defaults import DEFAULT_JWT_TTL_SECONDS, MAX_JWT_TTL_SECONDS

if TYPE_CHECKING:
    from requests import PreparedRequest

DEFAULT_SUBJECT = "airflow-provider-koreai"
#: With ``enforce_jti=False``, a token is replaced this long (at most a fifth of its life) before expiry.
REUSE_MARGIN_SECONDS = 60.0


def register_long_lived_secret(value: str) -> None:
    """Hand a secret that lives for many requests to Airflow's masker (never a single-use token).

    Imported on first use: most processes never register a token at all.
    """
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(value)


class _CheckedKeyHS256(HMACAlgorithm):
    """HS256 whose one key is checked and prepared once, not for every token.

    ``jwt.encode`` re-runs PyJWT's key checks on each call (is it PEM, SSH, a DER key or certificate,
    JSON?); with one token per request that was the largest part of signing. The checks still run, and
    still refuse an asymmetric key, but once per secret.
    """

    def __init__(self, secret: str) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._secret = secret
        self._prepared = super().prepare_key(secret)
        # Newer PyJWT releases check the key length on every encode; older ones have no such check.
        check_length = getattr(super(), "check_key_length", None)
        self._length_warning = check_length(self._prepared) if check_length else None

    def prepare_key(self, key: str | bytes) -> bytes:
        return self._prepared if key is self._secret else super().prepare_key(key)

    def check_key_length(self, key: Any) -> str | None:
        return self._length_warning if key is self._prepared else super().check_key_length(key)


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
        self._jws = PyJWS(algorithms=[])
        self._jws.register_algorithm("HS256", _CheckedKeyHS256(client_secret))

    def mint_token(self) -> str:
        """Return a new signed token, with a random ``jti`` unless ``enforce_jti`` is off.

        Minting registers nothing with the masker: :meth:`token_for_request` decides what is long-lived.
        """
        now = int(time.time())
        claims: dict[str, Any] = {
            "appId": self.client_id,
            "sub": self.subject,
            "iat": now,
            "exp": now + self.ttl,
        }
        if self.enforce_jti:
            claims["jti"] = secrets.token_hex(16)
        payload = json.dumps(claims, separators=(",", ":")).encode()
        return self._jws.encode(payload, self._client_secret, algorithm="HS256")

    def token_for_request(self) -> str:
        """A fresh single-use token per request (not masked), or (``enforce_jti=False``) the current
        reusable token while it stays valid, registered with the masker once, when minted."""
        if self.enforce_jti:
            return self.mint_token()
        now = time.time()
        if self._reusable is None or now >= self._reusable[1]:
            token = self.mint_token()
            register_long_lived_secret(token)
            margin = min(REUSE_MARGIN_SECONDS, self.ttl / 5)
            self._reusable = (token, now + self.ttl - margin)
        return self._reusable[0]

    def headers(self) -> dict[str, str]:
        """The headers that authenticate one request; the requests and the httpx clients both send them."""
        return {"auth": self.token_for_request(), "iid": self.iid, "accountId": self.account_id}

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers.update(self.headers())
        return request

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(client_id={self.client_id!r}, iid={self.iid!r}, "
            f"account_id={self.account_id!r}, ttl={self.ttl}, enforce_jti={self.enforce_jti})"
        )
