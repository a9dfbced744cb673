"""The core example DAG through real Airflow (``dag.test()``) against the emulator."""

from __future__ import annotations

import pendulum
import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.dag_runs import run_example_dag, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAG_ID = "koreai_update_contact_list"


def test_core_example_updates_the_emulated_list(emulator: EmulatorServer) -> None:
    dag_run = run_example_dag(DAG_ID, logical_date=pendulum.datetime(2025, 8, 1, tz="UTC"))

    assert dag_run.state == "success"
    assert xcom(dag_run, "update_contact_list", "contact_list_id") == "cl-demo-renewals-due"
    body = xcom(dag_run, "update_contact_list", "body")
    assert body["name"] == "Renewal Due - August 2025"
    assert body["iId"] == emulator.settings.iid
    stored = emulator.contact_list("cl-demo-renewals-due")
    assert stored is not None
    assert stored["name"] == "Renewal Due - August 2025"
    assert stored["description"] == "1284 customers with a renewal due, loaded 2025-08-01"


def test_core_example_with_another_list_from_the_run_conf(emulator: EmulatorServer) -> None:
    dag_run = run_example_dag(
        DAG_ID,
        logical_date=pendulum.datetime(2025, 9, 1, tz="UTC"),
        run_conf={"contact_list_id": "cl-demo-overdue-invoices", "allow_duplicates": True},
    )

    assert dag_run.state == "success"
    assert xcom(dag_run, "update_contact_list", "contact_list_id") == "cl-demo-overdue-invoices"
    stored = emulator.contact_list("cl-demo-overdue-invoices")
    assert stored is not None
    assert (stored["name"], stored["allowDuplicates"]) == ("Renewal Due - September 2025", True)


def test_scheduled_runs_refresh_the_list_the_deployment_names(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run without conf, as the scheduler creates them, takes the list from the Airflow Variable."""
    monkeypatch.setenv("AIRFLOW_VAR_KOREAI_RENEWALS_CONTACT_LIST_ID", "cl-demo-churn-risk")

    dag_run = run_example_dag(DAG_ID, logical_date=pendulum.datetime(2025, 9, 2, tz="UTC"))

    assert dag_run.state == "success"
    assert xcom(dag_run, "update_contact_list", "contact_list_id") == "cl-demo-churn-risk"
    stored = emulator.contact_list("cl-demo-churn-risk")
    assert stored is not None
    assert stored["name"] == "Renewal Due - September 2025"
    default = emulator.contact_list("cl-demo-renewals-due")
    assert default is not None
    assert default["name"] != "Renewal Due - September 2025", "the emulator's default list is left alone"


def test_unknown_list_fails_the_task_without_retries(emulator: EmulatorServer) -> None:
    dag_run = run_example_dag(
        DAG_ID,
        logical_date=pendulum.datetime(2025, 10, 1, tz="UTC"),
        run_conf={"contact_list_id": "cl-no-such-list"},
    )

    assert dag_run.state == "failed"
    ti = dag_run.get_task_instance("update_contact_list")
    assert ti.state == "failed", "a 404 is permanent: AirflowFailException, no up_for_retry"
    updates = [r for r in emulator.recorded_requests() if r["route"] == "update_contact_list"]
    assert [r["status"] for r in updates] == [404]
