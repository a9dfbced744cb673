"""One emulator for the integration tests, and a ``koreai_default`` connection pointing at it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_koreai.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.operators.base import KoreAIHookMixin


@pytest.fixture(scope="session")
def kore_emulator() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(rate_limit_per_minute=0, ingestion_delay_seconds=0.2)
    with EmulatorServer(settings, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def emulator(kore_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """The emulator in its seeded state, with ``koreai_default`` pointing at it."""
    kore_emulator.reset()
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(kore_emulator.airflow_connection()))
    yield kore_emulator
    kore_emulator.reset()


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operators' and the sensor's hooks as deployed, with backoffs of milliseconds instead of seconds:
    the retries still happen on the wire, without the waits (the backoff policy has tests of its own)."""

    def fast_hook(self: KoreAIHookMixin) -> KoreAIHook:
        params = {"backoff_initial": 0.05, "backoff_max": 0.2, **self.hook_params}
        return KoreAIHook(koreai_conn_id=self.koreai_conn_id, **params)

    monkeypatch.setattr(KoreAIHookMixin, "hook", property(fast_hook))
