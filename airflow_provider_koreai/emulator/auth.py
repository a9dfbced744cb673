"""JWT verification and per-account rate limiting, the way Kore's gateway does them.

The emulator is only useful if it rejects what Kore rejects: a token signed with the wrong secret, an
unknown ``appId``, an expired token, a wrong algorithm, a replayed ``jti`` and tenant headers that do not
match. A client that passes here should pass against a real tenant, and a client bug (``Authorization:
Bearer`` instead of ``auth``, a missing ``exp``) shows up as the same 401 envelope the tenant would send.
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from airflow_provider_koreai.emulator.errors import REPLAY_MESSAGE, KoreApiError, auth_error
from airflow_provider_koreai.emulator.settings import EmulatorSettings


@dataclass(frozen=True)
class AuthContext:
    """Who is calling: the verified client and the tenant the request addresses."""

    client_id: str
    account_id: str
    iid: str
    claims: Mapping[str, Any]

    @property
    def tenant(self) -> tuple[str, str]:
        return (self.account_id, self.iid)


class TokenVerifier:
    """Verify Kore-style JWTs (HS256, ``appId`` claim) and remember ``jti`` values until they expire."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._seen_jti: dict[tuple[str, str], float] = {}
        #: ``(exp, key)`` in expiry order, so that forgetting expired ``jti`` values costs O(log n) per
        #: request, not a pass over all of them (a long soak would make the emulator slower per request).
        self._expiries: list[tuple[float, tuple[str, str]]] = []

    def reset(self) -> None:
        with self._lock:
            self._seen_jti.clear()
            self._expiries.clear()

    def verify(self, token: str | None) -> tuple[str, dict[str, Any]]:
        """Return ``(client_id, claims)`` or raise a 401 :class:`KoreApiError`."""
        if not token:
            raise auth_error("Invalid SDK credentials: the 'auth' header with a JWT is missing")
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise auth_error(f"Invalid JWT token: {exc}") from exc
        app_id = unverified.get("appId")
        secret = self._settings.clients().get(app_id) if isinstance(app_id, str) else None
        if not isinstance(app_id, str) or secret is None:
            raise auth_error("Invalid SDK credentials: unknown appId")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                options={"require": ["exp", "appId"], "verify_iat": True},
                leeway=self._settings.jwt_leeway_seconds,
            )
        except jwt.PyJWTError as exc:
            raise auth_error(f"Invalid JWT token: {exc}") from exc
        if "jti" in claims:
            self._check_jti(app_id, claims)
        return app_id, claims

    def _check_jti(self, app_id: str, claims: Mapping[str, Any]) -> None:
        iat = claims.get("iat")
        if not isinstance(iat, int | float):
            raise auth_error("Invalid JWT token: a token with a jti must carry iat")
        exp = float(claims["exp"])
        if exp - float(iat) > self._settings.max_jti_lifetime_seconds:
            raise auth_error(
                f"Invalid JWT token: with a jti, exp must be at most "
                f"{self._settings.max_jti_lifetime_seconds} seconds after iat"
            )
        key = (app_id, str(claims["jti"]))
        now = time.time()
        with self._lock:
            horizon = now - self._settings.jwt_leeway_seconds
            while self._expiries and self._expiries[0][0] <= horizon:
                expired, old = heapq.heappop(self._expiries)
                if self._seen_jti.get(old) == expired:
                    del self._seen_jti[old]
            if key in self._seen_jti:
                raise KoreApiError(401, REPLAY_MESSAGE, 401)
            self._seen_jti[key] = exp
            heapq.heappush(self._expiries, (exp, key))

    def authenticate(self, headers: Mapping[str, str], path_iid: str) -> AuthContext:
        """Check the token, then the ``iid`` and ``accountId`` headers against the path and the settings."""
        client_id, claims = self.verify(headers.get("auth"))
        iid = headers.get("iid")
        if iid is None:
            raise auth_error("Invalid SDK credentials: the 'iid' header is missing")
        if iid != path_iid:
            raise auth_error("Invalid SDK credentials: the 'iid' header does not match the iid in the path")
        if iid != self._settings.iid:
            raise auth_error("Invalid SDK credentials: the 'iid' header names an unknown app")
        account_id = headers.get("accountId")
        if account_id is None:
            raise auth_error("Invalid SDK credentials: the 'accountId' header is missing")
        if account_id != self._settings.account_id:
            raise auth_error("Invalid SDK credentials: the 'accountId' header names an unknown account")
        return AuthContext(client_id=client_id, account_id=account_id, iid=iid, claims=claims)


class RateLimiter:
    """At most ``limit`` requests per rolling ``window`` seconds per key (the account id); 0 disables it."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def acquire(self, key: str) -> int | None:
        """Count one request; return ``None`` if allowed, else whole seconds until a slot frees (>= 1)."""
        if self.limit <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            return None
