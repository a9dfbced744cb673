"""Fixtures for the emulator's own tests: one real server per module on 127.0.0.1, reset between tests.

Tokens are minted with PyJWT in ``_helpers``, independently of the provider's hook, so these tests pin
the emulator's contract rather than re-testing the client against itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_koreai.emulator import EmulatorServer, EmulatorSettings

from ._helpers import Kore


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(rate_limit_per_minute=0, ingestion_delay_seconds=0.3)
    with EmulatorServer(settings, host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def server(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture
def kore(server: EmulatorServer) -> Iterator[Kore]:
    client = Kore(server)
    yield client
    client.close()
