"""``ContactListIngestedSensor`` wired to the emulator, once per mode.

The ingestion rule itself (which read ends the wait, and why) is tested on its own in
``tests/test_ingestion.py``. Here: that the sensor feeds it what Kore.ai says (the list's count and its
``allowDuplicates``), with the baseline ``AddContactsOperator`` read before sending; that the reads travel
where the mode needs them (to the trigger, across reschedules); and that a timeout says why.

Poke mode and the trigger's hand-over are driven by hand; reschedule and deferrable mode also through
real Airflow (``dag.test()``, which runs the trigger in-process). The emulator de-duplicates by phone
number on lists with ``allowDuplicates=false`` (its model of Kore.ai). It ingests here before it
answers, and "not ingested yet" is the list's next read answering what it held before the run sent its
contacts (:func:`first_read_answers`): what the sensor sees, and so each assertion, is then the same
however fast or loaded the machine is.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.operators.contact_list import AddContactsOperator
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor
from airflow_provider_koreai.transport import TRIGGERER_USER_AGENT as USER_AGENT
from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger
from tests.helpers.compat import AIRFLOW_V_3_3_PLUS
from tests.helpers.dag_runs import run_test_dag, xcom
from tests.helpers.emulator import EMULATOR_DEFAULTS

pytestmark = pytest.mark.integration

NAME = "Ingestion Rules - September 2025"
OVERDUE = "Overdue Invoices"  # seeded with 1 contact; duplicates allowed
RENEWALS = "cl-demo-renewals-due"  # seeded with 3 contacts; no duplicates


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    """Contacts are in the list when ``addContacts`` answers; see :func:`first_read_answers`."""
    return {**EMULATOR_DEFAULTS, "ingestion_delay_seconds": 0}


def phones(start: int, count: int) -> list[dict[str, str]]:
    return [{"phoneNumber": f"+1646555{n:04d}"} for n in range(start, start + count)]


def context() -> dict[str, Any]:
    ti = mock.MagicMock()
    ti.get_first_reschedule_date.return_value = None
    return {"ti": ti, "params": {}}


def pushed(ctx: dict[str, Any]) -> dict[str, Any]:
    return {call.kwargs["key"]: call.kwargs["value"] for call in ctx["ti"].xcom_push.call_args_list}


def new_list(*, allow_duplicates: bool) -> str:
    created = KoreAIHook().create_contact_list(name=NAME, allow_duplicates=allow_duplicates)
    return str(created["_id"])


def send(records: list[dict[str, str]]) -> dict[str, Any]:
    """``add_contacts`` as a worker runs it; returns what it pushed for the sensor."""
    ctx = context()
    operator = AddContactsOperator(task_id="add_contacts", contact_list_name=NAME, records=records)
    operator.render_template_fields(ctx)  # type: ignore[arg-type]
    operator.execute(ctx)  # type: ignore[arg-type]
    return pushed(ctx)


def sensor_for(sent: dict[str, Any], **overrides: Any) -> ContactListIngestedSensor:
    """The sensor as the example wires it: every argument a rendered template (a string)."""
    kwargs: dict[str, Any] = {
        "task_id": "wait_for_ingestion",
        "contact_list_id": sent["contact_list_id"],
        "expected_count": str(sent["expected_count"]),
        "baseline_count": str(sent["count_before"]),
        "poke_interval": 0.1,
        "settle_polls": 3,
        "timeout": 20,
    }
    kwargs.update(overrides)
    return ContactListIngestedSensor(**kwargs)


def wait(sensor: ContactListIngestedSensor) -> tuple[int, dict[str, Any]]:
    ctx = context()
    sensor.render_template_fields(ctx)  # type: ignore[arg-type]
    result = sensor.execute(ctx)  # type: ignore[arg-type]
    return result, pushed(ctx)["ingestion"]


def list_reads(emulator: EmulatorServer, list_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.recorded_requests()
        if r["route"] == "get_contact_list" and r["path"].endswith(list_id)
    ]


def first_read_answers(emulator: EmulatorServer, contact_list: dict[str, Any] | None) -> None:
    """The next read of a list (``GET .../contactList/{id}``) answers ``contact_list``, e.g. the list as it
    was before this run's contacts landed: Kore.ai has accepted them, not ingested them yet."""
    assert contact_list is not None
    body = json.dumps({"status": "success", "data": contact_list})
    emulator.inject_fault(route="get_contact_list", status=200, body=body)


# -- poke mode ------------------------------------------------------------------------------------------


def test_poke_mode_waits_for_this_runs_rows_on_a_reused_list(emulator: EmulatorServer) -> None:
    """The issue's case: 123 rows before 120 are sent. The target is 243, not 120."""
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 123))
    before = emulator.contact_list(list_id)

    sent = send(phones(1000, 120))
    first_read_answers(emulator, before)

    assert (sent["count_before"], sent["expected_count"]) == (123, 243)
    count, ingestion = wait(sensor_for(sent))
    assert (count, ingestion["rule"]) == (243, "target_reached")
    assert ingestion["baseline_count"] == 123
    assert len(list_reads(emulator, list_id)) == 2, "123 was not taken for done; 243 was"


def test_poke_mode_settles_when_every_contact_sent_was_a_duplicate(emulator: EmulatorServer) -> None:
    """A re-run of the same month on a list that disallows duplicates: the count never moves, and the
    list's ``allowDuplicates=false`` (read with the count) lets it settle."""
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 30))

    count, ingestion = wait(sensor_for(send(phones(0, 30))))

    assert ingestion == {
        "rule": "settled",
        "total_record_count": 30,
        "expected_count": 60,
        "baseline_count": 30,
        "missing": 30,
    }
    assert count == 30
    assert len(list_reads(emulator, list_id)) == 4, "the first read, then settle_polls=3 unchanged ones"


def test_poke_mode_times_out_on_an_unmoving_count_of_a_list_with_duplicates_and_says_why(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is dropped on such a list (``allowDuplicates=true``): an unmoving count means Kore.ai has
    not ingested yet, so the sensor keeps waiting, and its timeout says the count never moved."""
    monkeypatch.setattr(emulator.settings, "ingestion_delay_seconds", 30)
    list_id = new_list(allow_duplicates=True)
    sent = send(phones(0, 5))

    with pytest.raises(AirflowSensorTimeout, match=r"did not reach 5 contacts.*never moved"):
        wait(sensor_for(sent, timeout=2))
    assert len(list_reads(emulator, list_id)) >= 4, "more than settle_polls=3 unchanged reads"


# -- deferrable mode: worker check, then the trigger --------------------------------------------------


def test_deferrable_mode_settles_on_dropped_duplicates(emulator: EmulatorServer) -> None:
    """The worker's first read travels to the trigger, which applies the same rule: 7 of 9 contacts were
    already in the list, so the count moves to 9 and stops short of 16."""
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 7))
    before = emulator.contact_list(list_id)
    sensor = sensor_for(send(phones(0, 9)), deferrable=True)
    first_read_answers(emulator, before)  # the worker's check
    ctx = context()
    sensor.render_template_fields(ctx)  # type: ignore[arg-type]
    with pytest.raises(TaskDeferred) as caught:
        sensor.execute(ctx)  # type: ignore[arg-type]
    _, kwargs = caught.value.trigger.serialize()
    assert (kwargs["baseline_count"], kwargs["recent_counts"]) == (7, [7]), "the worker's read travels"
    trigger = ContactListIngestedTrigger(**kwargs)  # as the triggerer rebuilds it

    async def first_event() -> Any:
        async for event in trigger.run():
            return event
        raise AssertionError("no event")

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=30)).payload
    count = sensor.execute_complete(ctx, event)  # type: ignore[arg-type]

    assert count == 9
    assert pushed(ctx)["ingestion"] == {
        "rule": "settled",
        "total_record_count": 9,
        "expected_count": 16,
        "baseline_count": 7,
        "missing": 7,
    }


@pytest.mark.usefixtures("airflow_db")
def test_deferrable_mode_through_dag_test(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``dag.test()`` on Airflow 3.3 runs the trigger inline (``[DAG TEST] running trigger in line``).

    The worker's check gets one 503 (the hook does not retry: ``max_attempts`` 1), so the task defers
    however long the first task took, and the trigger polls until ingestion.
    """
    conn = emulator.airflow_connection()
    conn["extra"]["max_attempts"] = 1
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(conn))
    emulator.inject_fault(route="get_contact_list", status=503)

    dag_run = run_test_dag("koreai_sensor_deferrable_test")

    assert dag_run.state == "success"
    expected = xcom(dag_run, "send_contacts")
    assert expected == 5
    assert xcom(dag_run, "wait_for_ingestion") == expected
    assert xcom(dag_run, "wait_for_ingestion", "total_record_count") == expected
    requests = emulator.recorded_requests()
    write = max(i for i, r in enumerate(requests) if r["route"] == "add_contacts")
    worker, triggerer = requests[write + 1], requests[write + 2 :]
    assert (worker["status"], worker["headers"]["user-agent"] != USER_AGENT) == (503, True)
    assert triggerer, "the task deferred and the trigger polled"
    assert {(r["method"], r["headers"]["user-agent"]) for r in triggerer} == {("GET", USER_AGENT)}
    assert triggerer[-1]["status"] == 200
    assert [r["route"] for r in requests if r["method"] != "GET"] == ["list_contact_lists", "add_contacts"]


# -- reschedule mode: every poke a new process, the reads carried by the task state store ---------------


def reschedules(dag_run: Any, task_id: str) -> int:
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    ti = dag_run.get_task_instance(task_id)
    with create_session() as session:
        return int(
            session.scalar(select(func.count(TaskReschedule.id)).where(TaskReschedule.ti_id == ti.id)) or 0
        )


@pytest.mark.usefixtures("airflow_db")
def test_reschedule_mode_through_dag_test_waits_for_this_runs_rows(emulator: EmulatorServer) -> None:
    """Real reschedules: the sensor gives its slot back until the 4 new rows are in (1 + 4)."""
    records = [{"phoneNumber": f"+1917555{n:04d}"} for n in range(4)]
    overdue = next(item for item in emulator.contact_lists() if item["name"] == OVERDUE)
    first_read_answers(emulator, emulator.contact_list(overdue["_id"]))  # the sensor's first poke: 1

    dag_run = run_test_dag(
        "koreai_sensor_reschedule_test", run_conf={"list_name": OVERDUE, "records": records}
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
@pytest.mark.usefixtures("airflow_db")
def test_reschedule_mode_through_dag_test_settles_on_dropped_duplicates(emulator: EmulatorServer) -> None:
    """The seeded renewals list (no duplicates, 3 contacts) is sent its own 3 contacts again: the count
    never moves, and the reads kept in the task state store across reschedules end the wait."""
    renewals = emulator.contact_list(RENEWALS)
    assert renewals is not None
    records = [{"phoneNumber": c["phoneNumber"]} for c in emulator.contacts(RENEWALS)]

    dag_run = run_test_dag(
        "koreai_sensor_reschedule_test", run_conf={"list_name": renewals["name"], "records": records}
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
