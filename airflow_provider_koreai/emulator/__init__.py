"""Local emulator of Kore.ai's Contact Center "Campaign Management" REST API (like moto for AWS).

Lets the provider's tests and ``make demo`` run against real HTTP on 127.0.0.1 with Kore's auth rules,
error envelopes, asynchronous contact ingestion, rate limiting and scripted faults, without a tenant.
Imports are lazy so that ``import airflow_provider_koreai.emulator`` stays cheap and does not pull in
FastAPI/uvicorn (the ``emulator`` extra) until a server or app is actually built.
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
