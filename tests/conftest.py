"""Shared test setup: an isolated Airflow home, connections from environment variables, the emulator.

Airflow reads its configuration once, at first import, so the environment is settled here before any
test module imports Airflow. ``make test`` passes a freshly migrated ``AIRFLOW_HOME``; a bare ``pytest``
gets a temporary one, migrated on demand by the ``airflow_db`` fixture.

Fixtures only: what tests share besides fixtures lives in :mod:`tests.helpers`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers.connections import connection_json
from tests.helpers.emulator import EMULATOR_DEFAULTS, Emulators
from tests.helpers.paths import EXAMPLE_DAGS, TEST_DAGS

if TYPE_CHECKING:
    from airflow_provider_koreai.emulator import EmulatorServer

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="koreai-airflow-home-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(EXAMPLE_DAGS))
# dag.test() runs only DAGs that a configured bundle serializes: the examples and the test-only DAGs.
os.environ.setdefault(
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST",
    json.dumps(
        [
            {
                "name": name,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(path), "refresh_interval": 0},
            }
            for name, path in (("koreai_examples", EXAMPLE_DAGS), ("koreai_test_dags", TEST_DAGS))
        ]
    ),
)


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Install a ``koreai`` connection from an environment variable, as a deployment would."""

    def install(conn_id: str = "koreai_default", **overrides: Any) -> None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(**overrides))

    return install


@pytest.fixture
def koreai_connection(set_connection: Callable[..., None]) -> None:
    set_connection()


@pytest.fixture(autouse=True)
def _fresh_secrets_masker() -> Iterator[None]:
    """Start every test with an empty secrets masker.

    In production each task runs in its own process, so the masker only holds that task's secrets. Here
    hundreds of tests share one process, and the masker recompiles one regex over every secret it holds
    on each addition (see benchmarks/mask_secret_cost.py): without a reset, the last tests would spend
    minutes masking the tokens of all earlier ones. A run that never loaded Airflow (the emulator's
    tests alone) has nothing to reset.
    """
    yield
    if "airflow.sdk" in sys.modules:
        from tests.helpers.compat import reset_secrets_masker

        reset_secrets_masker()


@pytest.fixture(autouse=True)
def _fresh_rate_budgets() -> Iterator[None]:
    """Every test starts with no request budget taken: in production a budget lives as long as its
    process (or its store), here hundreds of tests share one process."""
    yield
    if "airflow_provider_koreai.rate_limit" in sys.modules:
        from airflow_provider_koreai import rate_limit

        rate_limit.reset()


@pytest.fixture
def in_process_slots(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every slot taken from an in-process request budget during the test (each a pyrate-limiter
    ``RateItem``): a spy on ``InMemoryBucket.put``, the bucket of a budget without a store, or of one whose
    store is down. Slots in a store are counted in the store itself (``ZCARD``, ``count(*)``)."""
    from pyrate_limiter import InMemoryBucket

    taken: list[object] = []
    real_put = InMemoryBucket.put

    def put(self: InMemoryBucket, item: Any) -> bool:
        admitted = real_put(self, item)
        if admitted:
            taken.append(item)
        return admitted

    monkeypatch.setattr(InMemoryBucket, "put", put)
    return taken


@pytest.fixture
def masked_values() -> Iterator[list[str]]:
    """Every value handed to Airflow's ``mask_secret`` during the test (still masked for real).

    The spy sits on the function our code calls (``auth.register_long_lived_secret`` looks it up on each
    use): ``airflow.sdk.log.mask_secret``, or on Airflow 3.0.2 ``airflow.sdk.execution_time.
    secrets_masker.mask_secret``. So any path of ours that registers a value is counted, not only the
    one we expect.
    """
    import importlib
    from unittest import mock

    for module_name in ("airflow.sdk.log", "airflow.sdk.execution_time.secrets_masker"):
        module = importlib.import_module(module_name)
        real = getattr(module, "mask_secret", None)
        if real is not None:
            break
    assert real is not None, "no mask_secret in this Airflow"
    seen: list[str] = []

    def spy(value: Any, name: str | None = None) -> None:
        seen.append(str(value))
        real(value, name)

    with mock.patch.object(module, "mask_secret", spy):
        yield seen


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB in ``AIRFLOW_HOME`` (``make test`` migrates it beforehand)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    if not (home / "airflow.db").exists():
        airflow = Path(sys.executable).with_name("airflow")
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=300)
    return home


# -- the emulator ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulators() -> Iterator[Emulators]:
    """Every emulator server of the session, one per settings (:mod:`tests.helpers.emulator`)."""
    with Emulators() as servers:
        yield servers


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    """The settings of the ``emulator`` fixture's server; override this fixture in a module for others."""
    return dict(EMULATOR_DEFAULTS)


@pytest.fixture
def emulator(
    emulators: Emulators, emulator_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[EmulatorServer]:
    """The emulator in its seeded state, with ``koreai_default`` pointing at it."""
    server = emulators.get(**emulator_settings)
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(server.airflow_connection()))
    yield server
    server.reset()


@pytest.fixture
def memory_store() -> Iterator[Any]:
    """An in-memory object store under ``memory://``, attached as a deployment attaches S3 or GCS: a bucket
    for tests that read or write through Airflow's object storage."""
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    fs = MemoryFileSystem()
    attach("memory", fs=fs)
    yield fs
    fs.store.clear()
