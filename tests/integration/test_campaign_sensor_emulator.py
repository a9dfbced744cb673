"""``CampaignStatusSensor`` and its trigger against the real emulator on 127.0.0.1.

The emulator's dialer runs on its own clock, frozen here: the test advances it between reads (after
each poke's read, or in place of the trigger's sleep), so every run reads the same statuses in the same
order, and the assertions count reads and log lines instead of timing anything. The seeded campaign
dials the 3 contacts of the seeded list at 2 contacts a second: 1.5 s of dialling complete it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.emulator.campaigns import DEMO_CAMPAIGN_ID as CAMPAIGN
from airflow_provider_koreai.exceptions import KoreAICampaignStateError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.responses import CampaignStatus
from airflow_provider_koreai.sensors.campaign import CampaignStatusSensor
from airflow_provider_koreai.triggers.base import KoreAIPollingTrigger
from airflow_provider_koreai.triggers.campaign import CampaignStatusTrigger
from tests.helpers.emulator import EMULATOR_DEFAULTS
from tests.helpers.logs import lines_at, task_log

#: Emulator seconds between two reads: each read after the first sees one more contact dialled.
STEP = 0.5


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    return {**EMULATOR_DEFAULTS, "dial_rate": 2.0, "campaign_preparation_seconds": 0}


@pytest.fixture
def running(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The seeded campaign started (by the hook, as StartCampaignOperator does), its clock frozen."""
    emulator.clock.freeze()
    answer = KoreAIHook().start_campaign(CAMPAIGN)
    assert answer["status"] == "Active"
    yield emulator
    emulator.clock.reset()


def context_for(sensor: CampaignStatusSensor) -> dict[str, Any]:
    ti = mock.MagicMock()
    ti.get_first_reschedule_date.return_value = None
    context: dict[str, Any] = {"ti": ti, "params": {}}
    sensor.render_template_fields(context)  # type: ignore[arg-type]
    return context


def status_reads(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.recorded_requests() if r["path"].endswith(f"/campaign/{CAMPAIGN}/status")]


def reads_then(act: Callable[[int], None]) -> Any:
    """The hook's real status read, followed by ``act(n)`` after the n-th read (1-based)."""
    real = KoreAIHook.get_campaign_status
    count = 0

    def read(self: KoreAIHook, campaign_id: str) -> CampaignStatus:
        nonlocal count
        answer = real(self, campaign_id)
        count += 1
        act(count)
        return answer

    return mock.patch.object(KoreAIHook, "get_campaign_status", read)


def assert_no_secret(output: str, emulator: EmulatorServer) -> None:
    assert emulator.settings.client_secret not in output
    assert "eyJ" not in output, "no JWT in the log"


# -- poke mode -----------------------------------------------------------------------------------------------


def test_poke_mode_logs_each_change_until_completed(
    running: EmulatorServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Active, paused after the 2nd read, resumed after the 3rd, then dialled to the end."""

    def act(n: int) -> None:
        if n == 2:
            running.pause_campaign(CAMPAIGN)
        elif n == 3:
            KoreAIHook().start_campaign(CAMPAIGN)  # play on Paused resumes the same instance
        else:
            running.clock.advance(STEP)

    sensor = CampaignStatusSensor(task_id="wait_for_campaign", campaign_id=CAMPAIGN, poke_interval=0)
    with reads_then(act):
        result = sensor.execute(context_for(sensor))  # type: ignore[arg-type]

    campaign = running.campaign(CAMPAIGN)
    assert campaign is not None
    assert result == {"campaign_id": CAMPAIGN, "status": "Completed", "name": campaign["name"]}
    # Reads: Active (0 dialled), Active (1) then paused, Paused then resumed, Active (1), Active (2),
    # Completed.
    assert len(status_reads(running)) == 6
    output = task_log(capsys, caplog)
    changes = [
        line for line in lines_at(output, "info", "CampaignStatusSensor") if "Kore.ai campaign" in line
    ]
    assert len(changes) == 4, changes
    assert f"Kore.ai campaign {CAMPAIGN} (" in changes[0]
    assert "status Active; waiting for Completed" in changes[0]
    assert "status changed from Active to Paused; waiting for Completed (a paused campaign" in changes[1]
    assert "status changed from Paused to Active; waiting for Completed" in changes[2]
    assert "is Completed: the wait is over" in changes[3]
    assert_no_secret(output, running)


def test_poke_mode_fails_for_good_on_a_stopped_campaign(
    running: EmulatorServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    KoreAIHook().stop_campaign(CAMPAIGN)
    sensor = CampaignStatusSensor(task_id="wait_for_campaign", campaign_id=CAMPAIGN, poke_interval=0)

    with pytest.raises(KoreAICampaignStateError) as caught:
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]

    assert caught.value.status == "Stopped"
    assert str(caught.value).startswith(f"Kore.ai campaign {CAMPAIGN} (")
    assert "is Stopped, one of the sensor's failure_statuses" in str(caught.value)
    assert len(status_reads(running)) == 1
    assert_no_secret(task_log(capsys, caplog), running)


def test_an_unknown_campaign_fails_at_once(emulator: EmulatorServer) -> None:
    from airflow.providers.common.compat.sdk import AirflowFailException

    sensor = CampaignStatusSensor(task_id="wait_for_campaign", campaign_id="cd-no-such", poke_interval=0)

    with pytest.raises(AirflowFailException, match="HTTP 404"):
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]
    assert len([r for r in emulator.recorded_requests() if r["path"].endswith("/status")]) == 1


# -- deferrable: the worker's first read, then the trigger's run() in an event loop --------------------------


def run_trigger(trigger: CampaignStatusTrigger, emulator: EmulatorServer) -> dict[str, Any]:
    """The trigger's run, as the triggerer drives it; its sleeps advance the emulator's clock instead."""

    async def sleep(self: KoreAIPollingTrigger, seconds: float) -> None:
        emulator.clock.advance(seconds)

    async def take() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    with mock.patch.object(KoreAIPollingTrigger, "sleep", sleep):
        return asyncio.run(asyncio.wait_for(take(), timeout=30))


def test_deferrable_waits_in_the_trigger_until_completed(
    running: EmulatorServer, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    sensor = CampaignStatusSensor(
        task_id="wait_for_campaign", campaign_id=CAMPAIGN, deferrable=True, poke_interval=STEP
    )
    context = context_for(sensor)

    with pytest.raises(TaskDeferred) as caught:
        sensor.execute(context)  # type: ignore[arg-type]
    trigger = caught.value.trigger
    assert isinstance(trigger, CampaignStatusTrigger)
    assert trigger.serialize()[1]["last_status"] == "Active"
    # What the triggerer does: rebuild the trigger from its serialized kwargs, then run it.
    _, kwargs = trigger.serialize()
    event = run_trigger(CampaignStatusTrigger(**kwargs), running)

    assert (event["status"], event["campaign_status"]) == ("success", "Completed")
    result = sensor.execute_complete(context, event)  # type: ignore[arg-type]
    assert result["status"] == "Completed"
    # The worker's read at emulator time 0, then the trigger's at 0, 0.5, 1.0 (Active) and 1.5 (Completed).
    assert len(status_reads(running)) == 5
    output = task_log(capsys, caplog)
    worker = lines_at(output, "info", "CampaignStatusSensor")
    triggerer = lines_at(output, "info", "CampaignStatusTrigger")
    assert "status Active; waiting for Completed" in worker[0], "the worker's first read"
    assert [line for line in triggerer if "changed" in line or "is Completed" in line] == [
        line for line in triggerer if "is Completed: the wait is over" in line
    ], "the trigger knew the worker's Active: its only change is Completed"
    assert len([line for line in triggerer if "is Completed" in line]) == 1
    assert_no_secret(output, running)


def test_deferred_trigger_reports_a_stop_as_a_failure_status(running: EmulatorServer) -> None:
    trigger = CampaignStatusTrigger(
        campaign_id=CAMPAIGN,
        target_statuses=["Completed"],
        failure_statuses=["Stopped"],
        deadline=time.time() + 600,
        poll_interval=STEP,
        last_status="Active",
    )
    KoreAIHook().stop_campaign(CAMPAIGN)

    event = run_trigger(trigger, running)

    assert (event["status"], event["campaign_status"]) == ("failure", "Stopped")
    sensor = CampaignStatusSensor(task_id="wait_for_campaign", campaign_id=CAMPAIGN)
    with pytest.raises(KoreAICampaignStateError, match="is Stopped"):
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]


def test_deferred_trigger_times_out_on_a_campaign_that_never_ends(running: EmulatorServer) -> None:
    """A rate of 0 would never dial; here the deadline has passed before the first poll ends."""
    trigger = CampaignStatusTrigger(
        campaign_id=CAMPAIGN,
        target_statuses=["Completed"],
        failure_statuses=["Stopped"],
        deadline=time.time() - 1,
        poll_interval=STEP,
    )

    event = run_trigger(trigger, running)

    assert (event["status"], event["campaign_status"]) == ("timeout", "Active")
    assert "last status read: Active" in event["message"]
    assert len(status_reads(running)) == 1
