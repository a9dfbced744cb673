"""``CampaignStatusTrigger`` with the hook's async status read patched, run by ``asyncio.run`` as a
triggerer would. Polls are counted and the waits between them recorded, never timed; the wire is the
hook's (tests/hooks) and the emulator's (tests/integration/test_campaign_sensor_emulator.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from airflow_provider_koreai.exceptions import (
    KoreAIAuthenticationError,
    KoreAINotFoundError,
    KoreAIRateLimitedError,
    KoreAIServerError,
    KoreAITransportError,
    KoreAIValidationError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.responses import CampaignStatus
from airflow_provider_koreai.triggers.base import KoreAIPollingTrigger
from airflow_provider_koreai.triggers.campaign import CampaignStatusTrigger
from tests.helpers.connections import CLIENT_SECRET
from tests.helpers.logs import lines_at

CAMPAIGN = "cd-renewals-0001"
NAME = "Renewals"
ENDPOINT = f"POST /agentassist/api/v1/public/st-x/campaign/{CAMPAIGN}/status"
CLASSPATH = "airflow_provider_koreai.triggers.campaign.CampaignStatusTrigger"


def make_trigger(within: float = 3600.0, **kwargs: Any) -> CampaignStatusTrigger:
    kwargs.setdefault("poll_interval", 5)
    kwargs.setdefault("target_statuses", ["Completed"])
    kwargs.setdefault("failure_statuses", ["Stopped"])
    return CampaignStatusTrigger(campaign_id=CAMPAIGN, deadline=time.time() + within, **kwargs)


def events_of(trigger: CampaignStatusTrigger) -> list[dict[str, Any]]:
    """Every event the run yields (it must end by itself, after exactly one)."""

    async def take() -> list[dict[str, Any]]:
        return [dict(event.payload) async for event in trigger.run()]

    return asyncio.run(asyncio.wait_for(take(), timeout=30))


def the_event(trigger: CampaignStatusTrigger) -> dict[str, Any]:
    (event,) = events_of(trigger)
    return event


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None) -> None:
    pass


@pytest.fixture
def reads() -> Iterator[mock.AsyncMock]:
    """The hook's async status read; a test sets ``side_effect`` to what it answers."""
    with mock.patch.object(KoreAIHook, "aget_campaign_status", autospec=True) as read:
        yield read


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """The triggers' sleeps between polls: recorded, and not slept."""
    recorded: list[float] = []

    async def sleep(self: KoreAIPollingTrigger, seconds: float) -> None:
        recorded.append(seconds)

    with mock.patch.object(KoreAIPollingTrigger, "sleep", sleep):
        yield recorded


def answers(read: mock.AsyncMock, *values: str | Exception) -> None:
    read.side_effect = [
        CampaignStatus(campaign_id=CAMPAIGN, status=v, name=NAME) if isinstance(v, str) else v for v in values
    ]


def server_error() -> KoreAIServerError:
    return KoreAIServerError(http_status=503, endpoint=ENDPOINT, message="busy")


# -- construction and serialization -------------------------------------------------------------------


def test_serialize_round_trips_and_holds_no_secret() -> None:
    trigger = CampaignStatusTrigger(
        campaign_id=CAMPAIGN,
        target_statuses=("Completed", "Stopped"),
        failure_statuses=[],
        deadline=1_900_000_000.5,
        poll_interval=300,
        last_status="Active",
        hook_params={"timeout": 5},
    )

    classpath, kwargs = trigger.serialize()

    assert classpath == CLASSPATH
    assert kwargs == {
        "campaign_id": CAMPAIGN,
        "target_statuses": ["Completed", "Stopped"],
        "failure_statuses": [],
        "deadline": 1_900_000_000.5,
        "koreai_conn_id": "koreai_default",
        "poll_interval": 300.0,
        "last_status": "Active",
        "hook_params": {"timeout": 5.0},
    }
    rebuilt = CampaignStatusTrigger(**json.loads(json.dumps(kwargs)))  # as the triggerer stores it
    assert rebuilt.serialize() == (classpath, kwargs)
    text = json.dumps(kwargs) + repr(trigger)
    assert CLIENT_SECRET not in text
    assert "eyJ" not in text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"campaign_id": "cd/../x"}, "campaign_id"),
        ({"campaign_id": ""}, "campaign_id"),
        ({"target_statuses": ["Done"]}, "target_statuses"),
        ({"failure_statuses": "Stoped"}, "failure_statuses"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"hook_params": {"timeout": "soon"}}, "hook_params"),
    ],
)
def test_bad_arguments_are_refused(overrides: dict[str, Any], field: str) -> None:
    kwargs: dict[str, Any] = {
        "campaign_id": CAMPAIGN,
        "target_statuses": ["Completed"],
        "failure_statuses": ["Stopped"],
        "deadline": time.time(),
    }
    kwargs.update(overrides)

    with pytest.raises(KoreAIValidationError) as caught:
        CampaignStatusTrigger(**kwargs)
    assert caught.value.field.startswith(field)


# -- run ----------------------------------------------------------------------------------------------------


def test_success_once_the_target_status_is_read(reads: mock.AsyncMock, waits: list[float]) -> None:
    answers(reads, "Active", "Paused", "Active", "Completed")

    event = the_event(make_trigger(poll_interval=300))

    assert event == {
        "status": "success",
        "campaign_id": CAMPAIGN,
        "campaign_status": "Completed",
        "name": NAME,
    }
    assert reads.await_count == 4
    assert waits == [300.0] * 3


def test_each_poll_is_one_request_bounded_by_the_hook_timeout_and_the_deadline(
    reads: mock.AsyncMock, waits: list[float]
) -> None:
    answers(reads, "Active", "Completed")

    the_event(make_trigger(within=3600, hook_params={"timeout": 7}))
    assert [call.kwargs["retry"] for call in reads.await_args_list] == [False, False]
    assert [call.kwargs["timeout"] for call in reads.await_args_list] == [7.0, 7.0]
    assert [call.args[1:] for call in reads.await_args_list] == [(CAMPAIGN,), (CAMPAIGN,)]

    reads.reset_mock()
    answers(reads, "Completed")
    the_event(make_trigger(within=0.2, hook_params={"timeout": 7}))
    (call,) = reads.await_args_list
    assert call.kwargs["timeout"] == 1.0, "clipped to the deadline, but never below one second"


def test_a_failure_status_ends_the_wait_naming_it(reads: mock.AsyncMock, waits: list[float]) -> None:
    answers(reads, "Active", "Stopped")

    event = the_event(make_trigger())

    assert (event["status"], event["campaign_status"], event["name"]) == ("failure", "Stopped", NAME)
    assert event["message"].startswith(f"Kore.ai campaign {CAMPAIGN} ('{NAME}') is Stopped")
    assert reads.await_count == 2


def test_an_unknown_status_is_waited_on_until_the_deadline(
    reads: mock.AsyncMock, waits: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    answers(reads, "Archived", "Archived", "Completed")

    event = the_event(make_trigger())

    assert event["campaign_status"] == "Completed"
    assert len(lines_at(capsys.readouterr().out, "warning", "'Archived'")) == 1


@pytest.mark.parametrize(
    "error",
    [
        server_error(),
        KoreAITransportError("connection refused", endpoint=ENDPOINT, outcome_unknown=False),
    ],
)
def test_transient_errors_are_logged_and_polled_again(
    reads: mock.AsyncMock, waits: list[float], capsys: pytest.CaptureFixture[str], error: Exception
) -> None:
    answers(reads, error, error, "Completed")

    event = the_event(make_trigger(poll_interval=60))

    assert event["status"] == "success"
    assert reads.await_count == 3
    assert waits == [60.0, 60.0]
    assert len(lines_at(capsys.readouterr().out, "warning", "polling again in 60.0 s")) == 2


def test_a_rate_limit_waits_as_long_as_retry_after_asks(reads: mock.AsyncMock, waits: list[float]) -> None:
    limited = KoreAIRateLimitedError(http_status=429, endpoint=ENDPOINT, message="slow down", retry_after=90)
    answers(reads, limited, "Completed")

    the_event(make_trigger(poll_interval=30))

    assert waits == [90.0]


@pytest.mark.parametrize(
    "error",
    [
        KoreAINotFoundError(http_status=404, endpoint=ENDPOINT, message="Campaign not found"),
        KoreAIAuthenticationError(http_status=401, endpoint=ENDPOINT, message="Invalid JWT token"),
    ],
)
def test_permanent_errors_end_the_wait_at_once(
    reads: mock.AsyncMock, waits: list[float], error: Exception
) -> None:
    answers(reads, "Active", error)

    event = the_event(make_trigger())

    assert event["status"] == "error"
    assert event["campaign_status"] == "Active", "the last status read"
    assert str(error) == event["message"]
    assert reads.await_count == 2


def test_timeout_at_the_deadline_names_the_last_status(reads: mock.AsyncMock, waits: list[float]) -> None:
    answers(reads, "Active")

    event = the_event(make_trigger(within=-1))

    assert event["status"] == "timeout"
    assert event["campaign_status"] == "Active"
    assert "did not reach Completed before the sensor's timeout; last status read: Active" in event["message"]
    assert (reads.await_count, waits) == (1, [])


def test_timeout_after_transient_errors_names_the_last_problem(
    reads: mock.AsyncMock, waits: list[float]
) -> None:
    answers(reads, server_error())

    event = the_event(make_trigger(within=-1))

    assert event["status"] == "timeout"
    assert event["campaign_status"] is None
    assert "no status was read. Last problem: Kore.ai failed with a server error" in event["message"]


def test_status_changes_are_logged_from_the_triggerer(
    reads: mock.AsyncMock, waits: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    """The worker read ``Active`` before deferring: only the changes after it are logged at INFO."""
    answers(reads, "Active", "Active", "Paused", "Paused", "Active", "Completed")

    the_event(make_trigger(last_status="Active"))

    output = capsys.readouterr().out
    changes = lines_at(output, "info", f"Kore.ai campaign {CAMPAIGN} ('{NAME}')")
    assert len(changes) == 3, changes
    assert "status changed from Active to Paused; waiting for Completed (a paused campaign" in changes[0]
    assert "status changed from Paused to Active; waiting for Completed" in changes[1]
    assert "is Completed: the wait is over" in changes[2]
    assert not lines_at(output, "info", "is still")
    assert CLIENT_SECRET not in output
    assert "eyJ" not in output


def test_a_missing_connection_is_an_error_event(reads: mock.AsyncMock) -> None:
    event = the_event(make_trigger(koreai_conn_id="koreai_nowhere"))

    assert event["status"] == "error"
    assert "koreai_nowhere" in event["message"]
    assert reads.await_count == 0


def test_an_unforeseen_failure_is_an_error_event_without_secrets(
    reads: mock.AsyncMock, waits: list[float]
) -> None:
    answers(reads, RuntimeError(f"boom near {CLIENT_SECRET}"))

    event = the_event(make_trigger())

    assert event["status"] == "error"
    assert event["message"].startswith("RuntimeError: boom near")
    assert CLIENT_SECRET not in event["message"]
