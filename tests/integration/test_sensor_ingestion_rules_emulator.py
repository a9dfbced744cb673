"""The ingestion rule end to end on the emulator: ``AddContactsOperator`` reads the count before sending
and pushes the target, ``ContactListIngestedSensor`` waits for *this run's* rows, in poke, reschedule and
deferrable mode, on a fresh list, a reused list, a list that drops duplicates and a slow one.

The emulator de-duplicates by phone number on lists with ``allowDuplicates=false`` (its model of Kore.ai,
see the README) and ingests each ``addContacts`` call ``ingestion_delay_seconds`` after accepting it.
"""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.operators.contact_list import AddContactsOperator
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor
from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger
from tests.helpers.compat import AirflowRescheduleException

pytestmark = pytest.mark.integration

NAME = "Ingestion Rules - September 2025"


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
        # 3 unchanged reads 0.3 s apart: longer than the emulator takes to start ingesting (0.6 s).
        "poke_interval": 0.3,
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


def ingested(emulator: EmulatorServer, list_id: str, count: int) -> None:
    """Bounded wait until the emulator has applied every accepted call."""
    for _ in range(200):
        if emulator.contact_list(list_id)["totalRecordCount"] == count:  # type: ignore[index]
            return
        asyncio.run(asyncio.sleep(0.05))
    raise AssertionError(f"{list_id} never reached {count}")


@pytest.fixture
def slow(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """Ingestion lands 0.6 s after the call: the sensor's first read surely comes before it."""
    monkeypatch.setattr(emulator.settings, "ingestion_delay_seconds", 0.6)
    return emulator


# -- poke mode ------------------------------------------------------------------------------------------


def test_fresh_list(slow: EmulatorServer) -> None:
    list_id = new_list(allow_duplicates=False)
    sent = send(phones(0, 25))
    assert (sent["count_before"], sent["expected_count"]) == (0, 25)

    count, ingestion = wait(sensor_for(sent))

    assert count == 25
    assert ingestion == {
        "rule": "target_reached",
        "total_record_count": 25,
        "expected_count": 25,
        "baseline_count": 0,
        "missing": 0,
    }
    assert len(list_reads(slow, list_id)) >= 2, "the first read came before the rows were in"


def test_reused_list_waits_for_this_runs_rows(slow: EmulatorServer) -> None:
    """The issue's case: 123 rows before 120 are sent. The target is 243, not 120."""
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 123))
    ingested(slow, list_id, 123)

    sent = send(phones(1000, 120))

    assert (sent["count_before"], sent["expected_count"]) == (123, 243)
    assert slow.contact_list(list_id)["totalRecordCount"] == 123, "accepted, not yet ingested"  # type: ignore[index]
    count, ingestion = wait(sensor_for(sent))
    assert (count, ingestion["rule"]) == (243, "target_reached")
    assert slow.contact_list(list_id)["totalRecordCount"] == 243  # type: ignore[index]


def test_dropped_duplicates_settle_short_of_the_target(slow: EmulatorServer) -> None:
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 50))
    ingested(slow, list_id, 50)

    sent = send(phones(20, 40))  # 30 already in the list, 10 new

    assert sent["expected_count"] == 90
    count, ingestion = wait(sensor_for(sent))
    assert ingestion == {
        "rule": "settled",
        "total_record_count": 60,
        "expected_count": 90,
        "baseline_count": 50,
        "missing": 30,
    }
    assert count == 60
    assert slow.contact_list(list_id)["totalRecordCount"] == 60  # type: ignore[index]


def test_all_duplicates_settle_on_a_list_that_disallows_them(slow: EmulatorServer) -> None:
    """A re-run of the same month: every contact is already in the list, the count never moves."""
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 30))
    ingested(slow, list_id, 30)

    count, ingestion = wait(sensor_for(send(phones(0, 30))))

    assert (count, ingestion["rule"], ingestion["missing"]) == (30, "settled", 30)
    assert len(list_reads(slow, list_id)) >= 4, "settle_polls=3 unchanged reads after the first"


def test_a_count_that_never_moves_on_a_list_with_duplicates_times_out_and_says_why(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is dropped on such a list: an unmoving count means Kore.ai has not ingested yet."""
    monkeypatch.setattr(emulator.settings, "ingestion_delay_seconds", 30)
    new_list(allow_duplicates=True)
    sent = send(phones(0, 5))

    with pytest.raises(AirflowSensorTimeout, match=r"did not reach 5 contacts.*never moved"):
        wait(sensor_for(sent, timeout=1))


def test_slow_ingestion_is_waited_for(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingestion that takes longer than a few polls: the count has not moved yet on a list that allows
    duplicates, so ``settled`` does not apply and the sensor waits for the target."""
    monkeypatch.setattr(emulator.settings, "ingestion_delay_seconds", 1.5)
    list_id = new_list(allow_duplicates=True)

    count, ingestion = wait(sensor_for(send(phones(0, 40)), poke_interval=0.1, settle_polls=3))
    # 3 unchanged reads took 0.3 s, well before the rows landed: on a list that allows duplicates (and on
    # an empty one) a count that never moved is not taken as settled.

    assert (count, ingestion["rule"]) == (40, "target_reached")
    assert len(list_reads(emulator, list_id)) >= 10, "many unchanged reads did not end the wait"


# -- reschedule mode: every poke a new process, the reads carried by the task state store ---------------


class StateStore:
    """Airflow's ``task_state_store`` (3.3+): a per-task-instance key/value store that outlives a poke."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        self.values[key] = value


def reschedule_until_done(sent: dict[str, Any], pokes: int = 100) -> tuple[int, dict[str, Any], int]:
    store = StateStore()
    for poke in range(1, pokes + 1):
        sensor = sensor_for(sent, mode="reschedule")  # a fresh instance each time: a new process
        ctx = {**context(), "task_state_store": store}
        sensor.render_template_fields(ctx)  # type: ignore[arg-type]
        try:
            result = sensor.execute(ctx)  # type: ignore[arg-type]
        except AirflowRescheduleException:
            asyncio.run(asyncio.sleep(sensor.poke_interval))
            continue
        return result, pushed(ctx)["ingestion"], poke
    raise AssertionError("the sensor never finished")


def test_reschedule_mode_waits_for_this_runs_rows(slow: EmulatorServer) -> None:
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 10))
    ingested(slow, list_id, 10)

    count, ingestion, pokes = reschedule_until_done(send(phones(100, 15)))

    assert (count, ingestion["rule"], ingestion["baseline_count"]) == (25, "target_reached", 10)
    assert pokes >= 2


def test_reschedule_mode_settles_on_dropped_duplicates(slow: EmulatorServer) -> None:
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 10))
    ingested(slow, list_id, 10)

    count, ingestion, pokes = reschedule_until_done(send(phones(0, 10)))

    assert (count, ingestion["rule"]) == (10, "settled")
    assert pokes == 4, "the first read plus settle_polls=3 unchanged reads, across processes"


# -- deferrable mode: worker check, then the trigger as the triggerer runs it ---------------------------


def defer_and_trigger(sent: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    sensor = sensor_for(sent, deferrable=True)
    ctx = context()
    sensor.render_template_fields(ctx)  # type: ignore[arg-type]
    with pytest.raises(TaskDeferred) as caught:
        sensor.execute(ctx)  # type: ignore[arg-type]
    _, kwargs = caught.value.trigger.serialize()
    trigger = ContactListIngestedTrigger(**kwargs)

    async def first_event() -> Any:
        async for event in trigger.run():
            return event
        raise AssertionError("no event")

    event = asyncio.run(asyncio.wait_for(first_event(), timeout=30)).payload
    result = sensor.execute_complete(ctx, event)  # type: ignore[arg-type]
    return result, pushed(ctx)["ingestion"], kwargs


def test_deferrable_mode_waits_for_this_runs_rows(slow: EmulatorServer) -> None:
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 7))
    ingested(slow, list_id, 7)

    count, ingestion, kwargs = defer_and_trigger(send(phones(50, 8)))

    assert (kwargs["baseline_count"], kwargs["recent_counts"]) == (7, [7]), "the worker's read travels"
    assert (count, ingestion["rule"], ingestion["expected_count"]) == (15, "target_reached", 15)


def test_deferrable_mode_settles_on_dropped_duplicates(slow: EmulatorServer) -> None:
    list_id = new_list(allow_duplicates=False)
    send(phones(0, 7))
    ingested(slow, list_id, 7)

    count, ingestion, _ = defer_and_trigger(send(phones(0, 9)))  # 7 duplicates, 2 new

    assert (count, ingestion["rule"], ingestion["missing"]) == (9, "settled", 7)
