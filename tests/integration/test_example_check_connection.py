"""``koreai_check_connection``: the Test button as a task, through real Airflow against the emulator.

``dag.test()`` runs it in this process for its outcome. Its task log is read from ``airflow dags test`` in
a fresh process: Airflow's masker warns about a short secret once per process only, so a warning this
pytest process has already spent could not show.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.compat import TASK_SDK_MASKS_EACH_EXTRA
from tests.helpers.connections import extras_as_the_form_saves
from tests.helpers.dag_runs import run_example_dag

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAG_ID = "koreai_check_connection"
MASKING_WARNING = "Skipping masking for a secret as it's too short"


def test_the_check_passes_on_a_working_connection(emulator: EmulatorServer) -> None:
    dag_run = run_example_dag(DAG_ID)

    assert dag_run.state == "success"
    assert [(r["route"], r["status"]) for r in emulator.recorded_requests()] == [("list_contact_lists", 200)]


def test_a_wrong_secret_fails_the_check_at_once(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = emulator.airflow_connection()
    connection["password"] = "not-the-secret-of-this-jwt-app-0123456789"
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(connection))

    dag_run = run_example_dag(DAG_ID)

    assert dag_run.state == "failed"
    assert dag_run.get_task_instance("check_connection").state == "failed", "no retry"
    assert [r["status"] for r in emulator.recorded_requests()] == [401]


def task_log(connection: dict[str, Any]) -> str:
    """The output of ``airflow dags test koreai_check_connection``, the task's log included."""
    env = {**os.environ, "AIRFLOW_CONN_KOREAI_DEFAULT": json.dumps(connection)}
    airflow = str(Path(sys.executable).with_name("airflow"))
    result = subprocess.run(
        [airflow, "dags", "test", DAG_ID], env=env, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


@pytest.mark.slow  # a whole dag.test() run each (~10 s); make test-slow runs them
@pytest.mark.parametrize(
    ("saved_by", "warned"),
    [
        pytest.param("the form", False, id="saved-by-the-form"),
        # Before issue 19 the form pre-filled verify with the text "true": the capture sees that warning.
        pytest.param("the old form", True, id="verify-as-text-true"),
    ],
)
def test_a_task_log_of_a_form_saved_connection_has_no_masking_warning(
    emulator: EmulatorServer, saved_by: str, warned: bool
) -> None:
    settings = emulator.settings
    extras = extras_as_the_form_saves(iid=settings.iid, account_id=settings.account_id)
    if saved_by == "the old form":
        if not TASK_SDK_MASKS_EACH_EXTRA:
            pytest.skip("this Task SDK masks no extra one by one: there is no warning to see")
        extras["verify"] = "true"
    connection = {**emulator.airflow_connection(), "port": emulator.port, "extra": extras}

    output = task_log(connection)

    assert f"Kore.ai connection 'koreai_default' works: Connected to {emulator.base_url}" in output
    assert (MASKING_WARNING in output) is warned
