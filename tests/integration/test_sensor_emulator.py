"""``ContactListIngestedSensor`` through real Airflow (``dag.test()``, which runs the trigger in-process)
against the emulator, in deferrable and reschedule mode. Poke, reschedule and deferrable mode driven by
hand, on fresh, reused and de-duplicating lists: ``test_sensor_ingestion_rules_emulator.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.transport import TRIGGERER_USER_AGENT as USER_AGENT
from tests.helpers.compat import AIRFLOW_V_3_3_PLUS, dag_bag
from tests.helpers.dag_runs import xcom

pytestmark = pytest.mark.integration

LIST_ID = "cl-demo-overdue-invoices"  # seeded with 1 contact; duplicates allowed
LIST_NAME = "Overdue Invoices"
TEST_DAGS = Path(__file__).resolve().parent / "dags"
TEST_DAG_ID = "koreai_sensor_deferrable_test"


def reads_after_the_write(emulator: EmulatorServer) -> list[dict[str, Any]]:
    requests = emulator.recorded_requests()
    write = max(i for i, r in enumerate(requests) if r["route"] == "add_contacts")
    return requests[write + 1 :]


@pytest.fixture
def slow_ingestion(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Long enough that the sensor's first read surely comes before the contacts land."""
    monkeypatch.setattr(emulator.settings, "ingestion_delay_seconds", 0.6)


@pytest.mark.usefixtures("airflow_db", "slow_ingestion")
def test_deferrable_mode_through_dag_test(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``dag.test()`` on Airflow 3.3 runs the trigger inline (``[DAG TEST] running trigger in line``).

    It only runs DAGs of a configured bundle, so the test DAG folder is added as a second bundle for the
    duration of the test. The worker's check gets one 503 (the hook does not retry: ``max_attempts`` 1),
    so the task defers however long the first task took, and the trigger polls until ingestion.
    """
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    bundles = [
        {"name": "koreai-test-dags", "classpath": local, "kwargs": {"path": str(TEST_DAGS)}},
        {"name": "dags-folder", "classpath": local, "kwargs": {}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    conn = emulator.airflow_connection()
    conn["extra"]["max_attempts"] = 1
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(conn))
    emulator.inject_fault(route="get_contact_list", status=503)
    bag = dag_bag(str(TEST_DAGS))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(TEST_DAG_ID)
    assert dag is not None

    dag_run = dag.test()

    assert dag_run.state == "success"
    expected = xcom(dag_run, "send_contacts")
    assert expected == 5
    assert xcom(dag_run, "wait_for_ingestion") == expected
    assert xcom(dag_run, "wait_for_ingestion", "total_record_count") == expected
    reads = reads_after_the_write(emulator)
    worker, triggerer = reads[0], reads[1:]
    assert (worker["status"], worker["headers"]["user-agent"] != USER_AGENT) == (503, True)
    assert triggerer, "the task deferred and the trigger polled"
    assert {(r["method"], r["headers"]["user-agent"]) for r in triggerer} == {("GET", USER_AGENT)}
    assert triggerer[-1]["status"] == 200
    assert [r["route"] for r in emulator.recorded_requests() if r["method"] != "GET"] == [
        "list_contact_lists",
        "add_contacts",
    ]


def run_test_dag(dag_id: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    """``dag.test()`` runs only DAGs of a configured bundle: the test DAG folder is added as one."""
    local = "airflow.dag_processing.bundles.local.LocalDagBundle"
    bundles = [
        {"name": "koreai-test-dags", "classpath": local, "kwargs": {"path": str(TEST_DAGS)}},
        {"name": "dags-folder", "classpath": local, "kwargs": {}},
    ]
    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", json.dumps(bundles))
    bag = dag_bag(str(TEST_DAGS))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None
    return dag.test(**kwargs)


def reschedules(dag_run: Any, task_id: str) -> int:
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    ti = dag_run.get_task_instance(task_id)
    with create_session() as session:
        return int(
            session.scalar(select(func.count(TaskReschedule.id)).where(TaskReschedule.ti_id == ti.id)) or 0
        )


@pytest.mark.usefixtures("airflow_db", "slow_ingestion")
def test_reschedule_mode_through_dag_test_waits_for_this_runs_rows(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real reschedules: the sensor gives its slot back until the 4 new rows are in (1 + 4)."""
    records = [{"phoneNumber": f"+1917555{n:04d}"} for n in range(4)]

    dag_run = run_test_dag(
        "koreai_sensor_reschedule_test", monkeypatch, run_conf={"list_name": LIST_NAME, "records": records}
    )

    assert dag_run.state == "success"
    assert xcom(dag_run, "wait_for_ingestion", "ingestion") == {
        "rule": "target_reached",
        "total_record_count": 5,
        "expected_count": 5,
        "baseline_count": 1,
        "missing": 0,
    }
    if AIRFLOW_V_3_3_PLUS:  # before 3.3, dag.test() records no TaskReschedule rows to count
        assert reschedules(dag_run, "wait_for_ingestion") >= 1


@pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS,
    reason="the task state store that keeps reads between reschedule pokes exists from Airflow 3.3; "
    "before it, reschedule mode ends only at the target or the timeout (documented in the README)",
)
@pytest.mark.usefixtures("airflow_db", "slow_ingestion")
def test_reschedule_mode_through_dag_test_settles_on_dropped_duplicates(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seeded renewals list (no duplicates, 3 contacts) is sent its own 3 contacts again: the count
    never moves, and the reads kept in the task state store across reschedules end the wait."""
    renewals = emulator.contact_list("cl-demo-renewals-due")
    assert renewals is not None
    records = [{"phoneNumber": c["phoneNumber"]} for c in emulator.contacts("cl-demo-renewals-due")]

    dag_run = run_test_dag(
        "koreai_sensor_reschedule_test",
        monkeypatch,
        run_conf={"list_name": renewals["name"], "records": records},
    )

    assert dag_run.state == "success"
    assert xcom(dag_run, "wait_for_ingestion", "ingestion") == {
        "rule": "settled",
        "total_record_count": 3,
        "expected_count": 6,
        "baseline_count": 3,
        "missing": 3,
    }
    assert reschedules(dag_run, "wait_for_ingestion") >= 2, "settle_polls=2: the reads outlived each poke"
