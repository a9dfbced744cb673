"""What start and stop do for each campaign status, and the bounded wait while a campaign is Preparing
(counted, never timed)."""

from __future__ import annotations

import pytest

from airflow_provider_koreai import campaign_control as control
from airflow_provider_koreai.defaults import CAMPAIGN_STATUSES


@pytest.mark.parametrize(
    ("status", "if_active", "action"),
    [
        ("Active", "skip", control.SKIP),
        ("Active", "fail", control.FAIL),
        ("Preparing", "fail", control.WAIT),
        ("Ready", "fail", control.PLAY),
        ("Paused", "fail", control.PLAY),
        ("Completed", "skip", control.PLAY),
        ("Stopped", "skip", control.PLAY),
        ("SomethingNew", "skip", control.PLAY),
    ],
)
def test_start_action(status: str, if_active: str, action: str) -> None:
    assert control.start_action(status, if_active) == action


def test_stop_action_covers_every_documented_status() -> None:
    actions = {status: control.stop_action(status) for status in CAMPAIGN_STATUSES}
    assert actions == {
        "Preparing": control.NOTHING_RUNNING,
        "Ready": control.NOTHING_RUNNING,
        "Active": control.STOP,
        "Paused": control.STOP,
        "Completed": control.ALREADY_STOPPED,
        "Stopped": control.ALREADY_STOPPED,
        "Scheduled": control.SCHEDULE_PENDING,
        "Rescheduled": control.SCHEDULE_PENDING,
    }
    assert control.stop_action("SomethingNew") == control.STOP, "an unknown status: Kore.ai decides"


@pytest.mark.parametrize(
    ("timeout", "interval", "polls"), [(600, 15, 40), (50, 15, 4), (1, 15, 1), (15, 15, 1)]
)
def test_preparing_polls(timeout: float, interval: float, polls: int) -> None:
    assert control.preparing_polls(timeout, interval) == polls


def test_the_wait_ends_at_the_first_status_that_is_not_preparing(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(control, "sleep", slept.append)
    statuses = iter(["Preparing", "Preparing", "Ready", "Active"])
    seen: list[tuple[int, str]] = []

    reached = control.wait_while_preparing(
        lambda: next(statuses), timeout=600, poll_interval=15, on_poll=lambda n, s: seen.append((n, s))
    )

    assert reached == "Ready"
    assert seen == [(1, "Preparing"), (2, "Preparing"), (3, "Ready")]
    assert slept == [15, 15, 15]


def test_the_wait_is_bounded_by_a_count_of_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(control, "sleep", slept.append)
    reads: list[str] = []

    def read() -> str:
        reads.append("Preparing")
        return "Preparing"

    reached = control.wait_while_preparing(read, timeout=40, poll_interval=15)

    assert reached == "Preparing"
    assert len(reads) == 3
    assert slept == [15, 15, 10], "the sleeps add up to the timeout"
