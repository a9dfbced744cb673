"""Local emulator of Kore.ai's Contact Center "Campaign Management" REST API (like moto for AWS).

Lets the provider's tests and ``make demo`` run against real HTTP on 127.0.0.1 with Kore's auth rules,
error envelopes, asynchronous contact ingestion, campaigns with a simulated dialer (:mod:`.campaigns`),
rate limiting and scripted faults, without a tenant.
Imports are lazy so that ``import airflow_provider_koreai.emulator`` stays cheap and does not pull in
FastAPI/uvicorn (the ``emulator`` extra) until a server or app is actually built.

Usage::

    with EmulatorServer(EmulatorSettings(rate_limit_per_minute=0), port=0) as server:
        server.base_url                      # http://127.0.0.1:<port>
        server.inject_fault(route="update_contact_list", count=2, status=429, retry_after=1)
        server.recorded_requests(); server.contact_list("cl-demo-renewals-due"); server.reset()
        server.clock.freeze(); server.clock.advance(2.0); server.campaign("cd-demo-renewals")

or ``python -m airflow_provider_koreai.emulator --port 8765``. Loopback admin API (no auth):
``POST/GET/DELETE /_emulator/faults``, ``GET/DELETE /_emulator/requests``, ``POST /_emulator/reset``,
``GET /_emulator/state`` (lists), ``GET /_emulator/state/campaigns``, ``POST /_emulator/clock``,
``POST /_emulator/campaigns/{id}/pause``. Fault semantics are documented on :class:`~.faults.FaultSpec`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_koreai.emulator.settings import EmulatorSettings

if TYPE_CHECKING:
    from airflow_provider_koreai.emulator.app import create_app
    from airflow_provider_koreai.emulator.server import EmulatorServer

__all__ = ["EmulatorServer", "EmulatorSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from airflow_provider_koreai.emulator.app import create_app

        return create_app
    if name == "EmulatorServer":
        from airflow_provider_koreai.emulator.server import EmulatorServer

        return EmulatorServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
