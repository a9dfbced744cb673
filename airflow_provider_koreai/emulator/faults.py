"""Scripted misbehaviour (faults) and request recording, the emulator's equivalent of moto's backdoors.

A client's retry, timeout and idempotency logic can only be tested against a server that fails on
demand: throttles, returns gateway errors or HTML, stalls, or hangs up with or without having applied the
request. Faults are queued per route name and consumed one per matching request, FIFO, so a test can say
"the next two updates get a 429, then behave". Recording lets tests assert what went over the wire
(without ever keeping the token).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import Response

from airflow_provider_koreai.emulator.errors import AUTH_ERROR_CODE, RATE_LIMIT_MESSAGE, error_body

ROUTE_NAMES: frozenset[str] = frozenset(
    {
        "update_contact_list",
        "create_contact_list",
        "get_contact_list",
        "list_contact_lists",
        "delete_contact_list",
        "add_contacts",
        "get_contacts",
        "trigger_campaign",
        "list_campaigns",
        "campaign_status",
        "create_campaign",
        "get_campaign",
        "update_campaign",
        "delete_campaign",
    }
)
ANY_ROUTE = "*"


class FaultSpec(BaseModel):
    """One queued fault; ``count`` matching requests consume it.

    * ``status`` (optionally with ``retry_after``, ``body``, ``content_type``, ``headers``): answer this
      instead of processing; the request is not applied. ``body`` is sent verbatim (default: Kore's error
      envelope for >= 400). A fault with ``body``/``retry_after`` but no ``status`` answers 200 / 429.
    * ``delay``: sleep that many seconds first (then continue with the rest of the fault, or normally).
    * ``drop="before"``: close the connection without a response, request not applied.
      ``drop="after"``: apply the request, then close the connection without a response.
    """

    model_config = ConfigDict(extra="forbid")

    route: str
    count: int = Field(default=1, ge=1)
    status: int | None = Field(default=None, ge=100, le=599)
    retry_after: int | str | None = None
    delay: float | None = Field(default=None, ge=0)
    drop: Literal["before", "after"] | None = None
    body: str | None = None
    content_type: str | None = None
    headers: dict[str, str] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FaultSpec:
        if self.route != ANY_ROUTE and self.route not in ROUTE_NAMES:
            raise ValueError(f"route must be one of {sorted(ROUTE_NAMES)} or '*', not {self.route!r}")
        if self.drop is not None and self.answers:
            raise ValueError("drop cannot be combined with status/body/retry_after/content_type/headers")
        return self

    @property
    def answers(self) -> bool:
        """True if this fault replaces the real response with a scripted one."""
        return any(
            v is not None for v in (self.status, self.body, self.retry_after, self.content_type, self.headers)
        )

    def response(self) -> Response:
        status = self.status
        if status is None:
            status = 429 if self.retry_after is not None else 200
        headers = dict(self.headers or {})
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        body = self.body
        if body is None:
            body = json.dumps(default_fault_body(status))
        return Response(
            content=body,
            status_code=status,
            headers=headers,
            media_type=self.content_type or "application/json",
        )


def default_fault_body(status: int) -> dict[str, Any]:
    """A body that fits the status, as Kore would have sent it."""
    if status == 429:
        return error_body(RATE_LIMIT_MESSAGE, 429)
    if status == 401:
        return error_body("Invalid JWT token", AUTH_ERROR_CODE)
    if status < 400:
        return {"status": "success", "message": "injected by the emulator"}
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return error_body(f"{phrase} (injected by the emulator)", status)


class FaultQueue:
    """FIFO of faults; :meth:`take` hands out the oldest one that matches a route, ``count`` times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[tuple[FaultSpec, list[int]]] = []

    def add(self, spec: FaultSpec) -> None:
        with self._lock:
            self._faults.append((spec, [spec.count]))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**spec.model_dump(), "remaining": left[0]} for spec, left in self._faults]

    def take(self, route: str) -> FaultSpec | None:
        with self._lock:
            for index, (spec, left) in enumerate(self._faults):
                if spec.route in (route, ANY_ROUTE):
                    left[0] -= 1
                    if left[0] <= 0:
                        del self._faults[index]
                    return spec
            return None


class RequestRecorder:
    """Every API request as seen on arrival (token redacted), with the status finally answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []

    def record(
        self,
        *,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: Any,
        route: str | None,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": dict(query),
            "headers": {k: ("<redacted>" if k.lower() == "auth" else v) for k, v in headers.items()},
            "body": body,
            "status": None,
            "route": route,
            "fault": None,
        }
        with self._lock:
            self._records.append(entry)
        return entry

    def update(self, entry: dict[str, Any], **changes: Any) -> None:
        with self._lock:
            entry.update(changes)

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
