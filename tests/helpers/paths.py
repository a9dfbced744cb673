"""Where the DAGs the tests run live."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The example DAGs users copy (``AIRFLOW__CORE__DAGS_FOLDER`` of the tests and ``make demo``).
EXAMPLE_DAGS = REPO_ROOT / "example_dags"
#: DAGs that exist only for the tests (a second bundle).
TEST_DAGS = REPO_ROOT / "tests" / "integration" / "dags"
