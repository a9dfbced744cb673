"""Fixtures of the emulator's own tests: the session's emulator (``tests/conftest.py``) with ingestion
0.3 s after acceptance, and a client of its HTTP API.

Tokens are minted with PyJWT in :mod:`tests.helpers.kore_api`, independently of the provider's hook, so
these tests pin the emulator's contract rather than re-testing the client against itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.emulator import EMULATOR_DEFAULTS
from tests.helpers.kore_api import Kore


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    return {**EMULATOR_DEFAULTS, "ingestion_delay_seconds": 0.3}


@pytest.fixture
def kore(emulator: EmulatorServer) -> Iterator[Kore]:
    client = Kore(emulator)
    yield client
    client.close()
