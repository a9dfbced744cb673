"""One emulator for the integration tests, and a ``koreai_default`` connection pointing at it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_koreai.emulator import EmulatorServer, EmulatorSettings


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
