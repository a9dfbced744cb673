"""``CampaignStatusSensor`` with the hook's status read patched: what it decides, logs, pushes and hands
to its trigger. The wire is the hook's (tests/hooks) and the emulator's (tests/integration)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    PokeReturnValue,
    TaskDeferred,
)

from airflow_provider_koreai.exceptions import (
    KoreAICampaignStateError,
    KoreAIInvalidArgumentsError,
    KoreAINotFoundError,
    KoreAIServerError,
    KoreAIValidationError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.responses import CampaignStatus
from airflow_provider_koreai.sensors.base import DEFERRAL_TIMEOUT_GRACE_SECONDS
from airflow_provider_koreai.sensors.campaign import STATE_KEY, CampaignStatusSensor
from airflow_provider_koreai.triggers.campaign import CampaignStatusTrigger
from tests.helpers.compat import serialize_round_trip
from tests.helpers.connections import CLIENT_SECRET
from tests.helpers.logs import lines_at

CAMPAIGN = "cd-renewals-0001"
NAME = "Renewals"
ENDPOINT = f"POST /agentassist/api/v1/public/st-x/campaign/{CAMPAIGN}/status"


def make_sensor(**overrides: Any) -> CampaignStatusSensor:
    kwargs: dict[str, Any] = {"task_id": "wait_for_campaign", "campaign_id": CAMPAIGN, "poke_interval": 0}
    kwargs.update(overrides)
    return CampaignStatusSensor(**kwargs)


def context_for(sensor: CampaignStatusSensor, **values: Any) -> dict[str, Any]:
    """Rendered as a worker would render it; ``ti`` is a mock."""
    ti = mock.MagicMock()
    ti.get_first_reschedule_date.return_value = None
    context: dict[str, Any] = {"ti": ti, "params": {}, **values}
    sensor.render_template_fields(context)  # type: ignore[arg-type]
    return context


def status(value: str) -> CampaignStatus:
    return CampaignStatus(campaign_id=CAMPAIGN, status=value, name=NAME)


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None) -> None:
    pass


@pytest.fixture
def reads() -> Iterator[mock.MagicMock]:
    """The hook's status read; a test sets ``side_effect`` to the statuses (or errors) it answers."""
    with mock.patch.object(KoreAIHook, "get_campaign_status", autospec=True) as read:
        yield read


def answers(read: mock.MagicMock, *values: str | Exception) -> None:
    read.side_effect = [status(v) if isinstance(v, str) else v for v in values]


class FakeStateStore:
    """Airflow's task state store (3.3+), as a dict shared by the pokes of one task."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = json.loads(json.dumps(value))  # stored as JSON


# -- poke ----------------------------------------------------------------------------------------------------


def test_poke_is_done_on_a_target_status_and_pushes_the_status(reads: mock.MagicMock) -> None:
    answers(reads, "Completed")
    sensor = make_sensor()

    result = sensor.poke(context_for(sensor))  # type: ignore[arg-type]

    assert isinstance(result, PokeReturnValue)
    assert result.is_done
    assert result.xcom_value == {"campaign_id": CAMPAIGN, "status": "Completed", "name": NAME}
    assert reads.call_args.args[1:] == (CAMPAIGN,)


@pytest.mark.parametrize("value", ["Active", "Paused", "Ready", "Preparing"])
def test_poke_keeps_waiting_on_other_statuses(reads: mock.MagicMock, value: str) -> None:
    answers(reads, value)
    sensor = make_sensor()

    assert sensor.poke(context_for(sensor)) is False  # type: ignore[arg-type]


def test_a_failure_status_fails_the_task_for_good_naming_it(reads: mock.MagicMock) -> None:
    answers(reads, "Stopped")
    sensor = make_sensor()

    with pytest.raises(KoreAICampaignStateError) as caught:
        sensor.poke(context_for(sensor))  # type: ignore[arg-type]

    assert isinstance(caught.value, AirflowFailException)
    assert (caught.value.campaign_id, caught.value.status) == (CAMPAIGN, "Stopped")
    assert str(caught.value).startswith(f"Kore.ai campaign {CAMPAIGN} ('{NAME}') is Stopped")


def test_paused_fails_only_when_listed_as_a_failure_status(reads: mock.MagicMock) -> None:
    answers(reads, "Paused")
    sensor = make_sensor(failure_statuses=["Stopped", "Paused"])

    with pytest.raises(KoreAICampaignStateError, match="is Paused"):
        sensor.poke(context_for(sensor))  # type: ignore[arg-type]


def test_an_unknown_status_is_a_warning_and_waited_on(
    reads: mock.MagicMock, capsys: pytest.CaptureFixture[str]
) -> None:
    answers(reads, "Archived", "Archived")
    sensor = make_sensor()
    context = context_for(sensor)

    assert sensor.poke(context) is False  # type: ignore[arg-type]
    assert sensor.poke(context) is False  # type: ignore[arg-type]

    warnings = lines_at(capsys.readouterr().out, "warning", CAMPAIGN)
    assert len(warnings) == 1, "warned once, not on every poke"
    assert "'Archived', which Kore.ai does not document" in warnings[0]


def test_poke_waits_out_a_transient_error(reads: mock.MagicMock, capsys: pytest.CaptureFixture[str]) -> None:
    answers(reads, KoreAIServerError(http_status=503, endpoint=ENDPOINT, message="busy"))
    sensor = make_sensor()

    assert sensor.poke(context_for(sensor)) is False  # type: ignore[arg-type]
    assert any(
        "no status this time" in m and "HTTP 503" in m
        for m in lines_at(capsys.readouterr().out, "warning", CAMPAIGN)
    )


def test_poke_fails_for_good_on_an_unknown_campaign(reads: mock.MagicMock) -> None:
    answers(reads, KoreAINotFoundError(http_status=404, endpoint=ENDPOINT, message="Campaign not found"))
    sensor = make_sensor()

    with pytest.raises(AirflowFailException, match="HTTP 404"):
        sensor.poke(context_for(sensor))  # type: ignore[arg-type]
    assert reads.call_count == 1


# -- execute in poke mode: Airflow's own loop ----------------------------------------------------------------


def test_each_change_of_status_is_logged_once(
    reads: mock.MagicMock, capsys: pytest.CaptureFixture[str]
) -> None:
    answers(reads, "Ready", "Active", "Active", "Active", "Paused", "Paused", "Active", "Completed")
    sensor = make_sensor()

    result = sensor.execute(context_for(sensor))  # type: ignore[arg-type]

    assert result == {"campaign_id": CAMPAIGN, "status": "Completed", "name": NAME}
    assert reads.call_count == 8
    output = capsys.readouterr().out
    changes = lines_at(output, "info", CAMPAIGN)
    assert len(changes) == 5, changes
    assert "status Ready" in changes[0]
    assert "status changed from Active to Paused" in changes[2]
    assert "status changed from Paused to Active" in changes[3]
    assert "is Completed: the wait is over" in changes[4]
    assert not [line for line in output.splitlines() if "is still" in line], "repeats only at DEBUG"


def test_timeout_names_the_last_status(reads: mock.MagicMock) -> None:
    answers(reads, "Active")
    sensor = make_sensor(timeout=0)

    with pytest.raises(AirflowSensorTimeout, match=r"did not reach Completed.*last status read: Active"):
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]


def test_soft_fail_skips_on_a_failure_status(reads: mock.MagicMock) -> None:
    answers(reads, "Stopped")
    sensor = make_sensor(soft_fail=True)

    with pytest.raises(AirflowSkipException):
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]


# -- reschedule mode: a new sensor per poke ------------------------------------------------------------------


def test_reschedule_pokes_carry_the_last_status_in_the_task_state_store(
    reads: mock.MagicMock, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FakeStateStore()
    answers(reads, "Active", "Active", "Paused")

    for _ in range(3):  # each poke of a rescheduled sensor runs in a new process: a new instance
        sensor = make_sensor(mode="reschedule")
        assert sensor.poke(context_for(sensor, task_state_store=store)) is False  # type: ignore[arg-type]

    changes = lines_at(capsys.readouterr().out, "info", CAMPAIGN)
    assert len(changes) == 2, changes
    assert "status changed from Active to Paused" in changes[1]
    assert store.values[STATE_KEY] == {"campaign_id": CAMPAIGN, "status": "Paused"}


def test_reschedule_pokes_without_a_state_store_log_each_status_read(
    reads: mock.MagicMock, capsys: pytest.CaptureFixture[str]
) -> None:
    answers(reads, "Active", "Active")

    for _ in range(2):
        sensor = make_sensor(mode="reschedule")
        assert sensor.poke(context_for(sensor)) is False  # type: ignore[arg-type]

    assert len(lines_at(capsys.readouterr().out, "info", CAMPAIGN)) == 2, (
        "each poke reads the status afresh: it cannot know the last one"
    )


def test_a_state_store_entry_of_another_campaign_is_ignored(
    reads: mock.MagicMock, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FakeStateStore()
    store.set(STATE_KEY, {"campaign_id": "cd-other", "status": "Ready"})
    answers(reads, "Active")
    sensor = make_sensor(mode="reschedule")

    sensor.poke(context_for(sensor, task_state_store=store))  # type: ignore[arg-type]

    (change,) = lines_at(capsys.readouterr().out, "info", CAMPAIGN)
    assert "('Renewals'): status Active; waiting for Completed" in change


# -- argument checks -----------------------------------------------------------------------------------------


def test_defaults_suit_campaigns_that_run_for_hours() -> None:
    sensor = CampaignStatusSensor(task_id="wait", campaign_id=CAMPAIGN)

    assert sensor.poke_interval == 300
    assert sensor.target_statuses == ("Completed",)
    assert sensor.failure_statuses == ("Stopped",)


def test_every_literal_mistake_is_refused_at_once_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        make_sensor(
            campaign_id="cd/../other",
            target_statuses=["Done"],
            failure_statuses="Stoped",
            deferrable=True,
            poke_interval=0,
        )
    assert caught.value.fields == ("campaign_id", "target_statuses", "failure_statuses", "poke_interval")
    assert "use Kore.ai's spelling" in str(caught.value)


@pytest.mark.parametrize("value", ["", "cd 1", "cd/../x", 42, None])
def test_a_bad_campaign_id_is_refused_when_the_dag_is_parsed(value: Any) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_sensor(campaign_id=value)
    assert caught.value.field == "campaign_id"


def test_target_and_failure_statuses_must_not_overlap() -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_sensor(target_statuses=["Completed", "Stopped"], failure_statuses=["Stopped"])
    assert caught.value.field == "failure_statuses"
    assert "['Stopped'], also in target_statuses" in str(caught.value)


@pytest.mark.parametrize("value", [[], ()])
def test_target_statuses_must_name_one(value: Any) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_sensor(target_statuses=value)
    assert caught.value.field == "target_statuses"


def test_statuses_may_be_one_string_and_failures_none(reads: mock.MagicMock) -> None:
    answers(reads, "Stopped")
    sensor = make_sensor(target_statuses="Stopped", failure_statuses=())

    assert (sensor.target_statuses, sensor.failure_statuses) == (("Stopped",), ())
    assert isinstance(sensor.poke(context_for(sensor)), PokeReturnValue)  # type: ignore[arg-type]


def test_a_rendered_bad_campaign_id_fails_before_any_request(reads: mock.MagicMock) -> None:
    sensor = make_sensor(campaign_id="{{ params.campaign }}", deferrable=True, poke_interval=1)

    with pytest.raises(AirflowFailException, match="'campaign_id'"):
        sensor.execute(context_for(sensor, params={"campaign": "cd/../x"}))  # type: ignore[arg-type]
    assert reads.call_count == 0


def test_the_campaign_id_is_rendered_from_a_template(reads: mock.MagicMock) -> None:
    answers(reads, "Completed")
    sensor = make_sensor(campaign_id="{{ params.campaign }}")

    result = sensor.execute(context_for(sensor, params={"campaign": CAMPAIGN}))  # type: ignore[arg-type]

    assert result["campaign_id"] == CAMPAIGN
    assert reads.call_args.args[1:] == (CAMPAIGN,)


# -- execute, deferrable -------------------------------------------------------------------------------------


def test_deferrable_returns_at_once_when_already_done(reads: mock.MagicMock) -> None:
    answers(reads, "Completed")
    sensor = make_sensor(deferrable=True, poke_interval=60)

    assert sensor.execute(context_for(sensor))["status"] == "Completed"  # type: ignore[arg-type]
    assert reads.call_count == 1


def test_deferrable_fails_at_once_on_a_failure_status(reads: mock.MagicMock) -> None:
    answers(reads, "Stopped")
    sensor = make_sensor(deferrable=True, poke_interval=60)

    with pytest.raises(KoreAICampaignStateError, match="is Stopped"):
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]


def test_deferrable_with_soft_fail_skips_on_a_failure_status(reads: mock.MagicMock) -> None:
    answers(reads, "Stopped")
    sensor = make_sensor(deferrable=True, poke_interval=60, soft_fail=True)

    with pytest.raises(AirflowSkipException):
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]


def test_deferrable_defers_to_a_serializable_trigger_without_secrets(reads: mock.MagicMock) -> None:
    answers(reads, "Active")
    sensor = make_sensor(
        deferrable=True,
        poke_interval=120,
        timeout=6 * 3600,
        target_statuses=["Completed", "Stopped"],
        failure_statuses=[],
        hook_params={"timeout": 5, "retry_timeout": 20},
    )

    before = time.time()
    with pytest.raises(TaskDeferred) as caught:
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]
    after = time.time()

    deferred = caught.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is not None
    assert deferred.timeout.total_seconds() == 6 * 3600 + DEFERRAL_TIMEOUT_GRACE_SECONDS
    trigger = deferred.trigger
    assert isinstance(trigger, CampaignStatusTrigger)
    _, kwargs = trigger.serialize()
    deadline = kwargs.pop("deadline")
    assert before + 6 * 3600 <= deadline <= after + 6 * 3600
    assert kwargs == {
        "campaign_id": CAMPAIGN,
        "target_statuses": ["Completed", "Stopped"],
        "failure_statuses": [],
        "koreai_conn_id": "koreai_default",
        "poll_interval": 120.0,
        "last_status": "Active",
        "hook_params": {"timeout": 5, "retry_timeout": 20},
    }
    text = json.dumps(kwargs)
    assert CLIENT_SECRET not in text
    assert "eyJ" not in text
    assert reads.call_count == 1


def test_deferrable_needs_a_polling_interval_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_sensor(deferrable=True, poke_interval=0)
    assert caught.value.field == "poke_interval"


# -- execute_complete ----------------------------------------------------------------------------------------


def test_execute_complete_returns_the_status_reached() -> None:
    sensor = make_sensor()
    event = {"status": "success", "campaign_id": CAMPAIGN, "campaign_status": "Completed", "name": NAME}

    result = sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]

    assert result == {"campaign_id": CAMPAIGN, "status": "Completed", "name": NAME}


def test_execute_complete_turns_a_failure_status_into_a_campaign_state_error() -> None:
    sensor = make_sensor()
    event = {
        "status": "failure",
        "campaign_id": CAMPAIGN,
        "campaign_status": "Stopped",
        "name": NAME,
        "message": f"Kore.ai campaign {CAMPAIGN} is Stopped, one of the sensor's failure_statuses",
    }

    with pytest.raises(KoreAICampaignStateError, match="is Stopped") as caught:
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]
    assert caught.value.status == "Stopped"


def test_execute_complete_turns_a_timeout_into_a_sensor_timeout() -> None:
    sensor = make_sensor()
    event = {"status": "timeout", "campaign_status": "Active", "message": "did not reach Completed; Active"}

    with pytest.raises(AirflowSensorTimeout, match="did not reach Completed"):
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]


def test_execute_complete_turns_an_error_into_a_failure() -> None:
    sensor = make_sensor()
    event = {"status": "error", "campaign_status": None, "message": "Not found (HTTP 404, POST ...)"}

    with pytest.raises(AirflowFailException, match="HTTP 404"):
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "event",
    [None, {}, {"status": "mystery"}, {"status": "success"}, {"status": "failure", "campaign_status": 3}],
)
def test_execute_complete_refuses_a_malformed_event(event: Any) -> None:
    sensor = make_sensor()

    with pytest.raises(AirflowFailException):
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]


def test_resume_after_a_failure_status_honours_soft_fail() -> None:
    """Airflow resumes through ``resume_execution``, which applies the sensor's soft_fail."""
    sensor = make_sensor(soft_fail=True)
    event = {"status": "failure", "campaign_status": "Stopped", "message": "is Stopped"}

    with pytest.raises(AirflowSkipException):
        sensor.resume_execution("execute_complete", {"event": event}, context_for(sensor))  # type: ignore[arg-type]


# -- DAG files -----------------------------------------------------------------------------------------------


def test_sensor_survives_dag_serialization() -> None:
    import pendulum
    from airflow.sdk import DAG

    with DAG("koreai_campaign_sensor", schedule=None, start_date=pendulum.datetime(2025, 8, 1)) as dag:
        make_sensor(campaign_id="{{ params.campaign }}", deferrable=True, poke_interval=300)

    restored = serialize_round_trip(dag)
    task = restored.get_task("wait_for_campaign")
    assert task.campaign_id == "{{ params.campaign }}"
    assert list(task.template_fields) == list(CampaignStatusSensor.template_fields)
