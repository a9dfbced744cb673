"""Kore.ai's error envelope, in one place.

Kore's public APIs answer errors as ``{"errors": [{"msg": ..., "code": ...}]}`` (campaign routes also carry a
top-level ``"status"``). The provider's client parses exactly that shape, so every error the emulator
produces (auth, validation, unknown routes, injected faults) goes through :func:`error_body` to keep the
emulator from ever leaking FastAPI's default ``{"detail": ...}`` bodies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Kore's code for a bad/missing token, unknown client or wrong tenant headers (always with HTTP 401).
AUTH_ERROR_CODE = 4002
RATE_LIMIT_MESSAGE = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying."
REPLAY_MESSAGE = "error verifying the jwt: possibly a replay"


def error_body(messages: Sequence[tuple[str, int]] | str, code: int | None = None) -> dict[str, Any]:
    """Build the envelope from one message (with ``code``) or several ``(msg, code)`` pairs."""
    if isinstance(messages, str):
        pairs: Sequence[tuple[str, int]] = [(messages, code if code is not None else 400)]
    else:
        pairs = messages
    return {"status": "failure", "errors": [{"msg": msg, "code": c} for msg, c in pairs]}


class KoreApiError(Exception):
    """Raised anywhere in a request; the app's exception handler renders it with :func:`error_body`."""

    def __init__(
        self,
        status_code: int,
        msg: str,
        code: int | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(msg)
        self.status_code = status_code
        self.msg = msg
        self.code = code if code is not None else status_code
        self.headers = dict(headers or {})
        self.body = body if body is not None else error_body(msg, self.code)


def field_path(loc: Sequence[int | str]) -> str:
    """A pydantic error location as the field a client wrote: ``data[3].phoneNumber``, ``name``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def not_found(list_id: str) -> KoreApiError:
    return KoreApiError(404, f"Contact list {list_id} not found", 404)


def auth_error(msg: str) -> KoreApiError:
    return KoreApiError(401, msg, AUTH_ERROR_CODE)
