"""The dynamic-task-mapping example (``koreai_update_many_contact_lists.py``) through real Airflow and the
emulator: one mapped task instance per contact list, each updating its own list."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.dag_runs import run_example_dag, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAG_ID = "koreai_update_many_contact_lists"
TASK_ID = "update_contact_list"
LOGICAL_DATE = pendulum.datetime(2025, 9, 1, tz="UTC")
EXPECTED = [
    {
        "contact_list_id": "cl-demo-overdue-invoices",
        "name": "Overdue Invoices - September 2025",
        "description": "97 customers with an invoice more than 30 days overdue, loaded 2025-09-01",
    },
    {
        "contact_list_id": "cl-demo-churn-risk",
        "name": "Churn Risk - September 2025",
        "description": "412 customers whose usage dropped last month, loaded 2025-09-01",
    },
]


def update_requests(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.recorded_requests() if r.get("route") == "update_contact_list"]


def assert_every_list_updated(dag_run: Any, emulator: EmulatorServer) -> None:
    assert dag_run.state == "success"
    assert xcom(dag_run, "plan_segments") == EXPECTED

    mapped = sorted(
        (ti for ti in dag_run.get_task_instances() if ti.task_id == TASK_ID), key=lambda ti: ti.map_index
    )
    assert [(ti.map_index, ti.state) for ti in mapped] == [(i, "success") for i in range(len(EXPECTED))]
    # No pool a fresh deployment lacks (the scheduler would leave the task instances scheduled): the
    # default pool.
    assert {ti.pool for ti in mapped} == {"default_pool"}

    for ti, segment in zip(mapped, EXPECTED, strict=True):
        list_id = segment["contact_list_id"]
        assert ti.xcom_pull(task_ids=TASK_ID, map_indexes=ti.map_index, key="contact_list_id") == list_id
        body = ti.xcom_pull(task_ids=TASK_ID, map_indexes=ti.map_index, key="body")
        assert body["name"] == segment["name"]
        stored = emulator.contact_list(list_id)
        assert stored is not None
        assert stored["name"] == segment["name"]
        assert stored["description"] == segment["description"]
        assert stored["allowDuplicates"] is False


def test_one_mapped_task_instance_updates_each_list(emulator: EmulatorServer) -> None:
    dag_run = run_example_dag(DAG_ID, logical_date=LOGICAL_DATE)

    assert_every_list_updated(dag_run, emulator)
    assert len(update_requests(emulator)) == len(EXPECTED)


@pytest.mark.usefixtures("fast_backoff")
def test_transient_kore_errors_are_retried_by_the_hook(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", count=2, status=503)

    dag_run = run_example_dag(DAG_ID, logical_date=LOGICAL_DATE)

    assert_every_list_updated(dag_run, emulator)
    statuses = [r["status"] for r in update_requests(emulator)]
    assert statuses.count(503) == 2
    assert statuses.count(200) == len(EXPECTED)
    assert emulator.pending_faults() == []
    # Absorbed inside the hook's call: no task instance needed an Airflow retry.
    assert {ti.try_number for ti in dag_run.get_task_instances() if ti.task_id == TASK_ID} == {1}


def test_scheduled_runs_refresh_the_lists_the_deployment_names(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run without conf, as the scheduler creates them, takes segment -> list from the Airflow Variable
    (a JSON object); a segment it leaves out is not refreshed."""
    monkeypatch.setenv(
        "AIRFLOW_VAR_KOREAI_SEGMENT_CONTACT_LISTS", json.dumps({"churn_risk": "cl-demo-renewals-due"})
    )

    dag_run = run_example_dag(DAG_ID, logical_date=LOGICAL_DATE)

    assert dag_run.state == "success"
    assert xcom(dag_run, "plan_segments") == [{**EXPECTED[1], "contact_list_id": "cl-demo-renewals-due"}]
    assert [r["path"].rsplit("/", 1)[-1] for r in update_requests(emulator)] == ["cl-demo-renewals-due"]
