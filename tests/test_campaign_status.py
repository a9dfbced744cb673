"""The campaign sensor's rule: which status ends the wait, and what each change of status says."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_koreai.campaign_status import FAILURE, SUCCESS, CampaignStatusWatch

CAMPAIGN = "cd-renewals-0001"


def watch(last_status: str | None = None) -> CampaignStatusWatch:
    return CampaignStatusWatch(CAMPAIGN, ("Completed",), ("Stopped",), last_status=last_status)


def test_a_target_status_ends_the_wait_with_success() -> None:
    reading = watch().observe("Completed", "Renewals")

    assert reading.outcome == SUCCESS
    assert reading.as_xcom() == {"campaign_id": CAMPAIGN, "status": "Completed", "name": "Renewals"}


def test_a_failure_status_ends_the_wait_with_a_message_that_names_it() -> None:
    reading = watch().observe("Stopped", "Renewals")

    assert reading.outcome == FAILURE
    assert reading.level == logging.ERROR
    assert reading.message.startswith(f"Kore.ai campaign {CAMPAIGN} ('Renewals') is Stopped")
    assert "failure_statuses (Stopped)" in reading.message
    assert "start the campaign again" in reading.message


@pytest.mark.parametrize("status", ["Preparing", "Ready", "Active", "Paused", "Scheduled", "Rescheduled"])
def test_other_known_statuses_keep_waiting(status: str) -> None:
    reading = watch().observe(status)

    assert reading.outcome is None
    assert reading.level == logging.INFO


def test_each_change_is_logged_once_at_info_and_repeats_at_debug() -> None:
    seen = watch()
    statuses = ["Ready", "Ready", "Active", "Active", "Paused", "Active", "Active", "Completed"]

    readings = [seen.observe(status) for status in statuses]

    assert [r.changed for r in readings] == [True, False, True, False, True, True, False, True]
    assert [r.level for r in readings if not r.changed] == [logging.DEBUG] * 3
    assert [r.message for r in readings if r.changed][:4] == [
        f"Kore.ai campaign {CAMPAIGN}: status Ready; waiting for Completed",
        f"Kore.ai campaign {CAMPAIGN}: status changed from Ready to Active; waiting for Completed",
        f"Kore.ai campaign {CAMPAIGN}: status changed from Active to Paused; waiting for Completed "
        "(a paused campaign resumes when it is played again)",
        f"Kore.ai campaign {CAMPAIGN}: status changed from Paused to Active; waiting for Completed",
    ]
    assert seen.last_status == "Completed"


def test_a_known_last_status_is_not_logged_as_a_change_again() -> None:
    reading = watch(last_status="Active").observe("Active")

    assert (reading.changed, reading.level) == (False, logging.DEBUG)


def test_an_unknown_status_is_a_warning_once_then_waited_on() -> None:
    seen = watch(last_status="Active")

    first, again = seen.observe("Archived"), seen.observe("Archived")

    assert (first.outcome, first.level) == (None, logging.WARNING)
    assert "'Archived', which Kore.ai does not document" in first.message
    assert "until the timeout" in first.message
    assert (again.outcome, again.level) == (None, logging.DEBUG)


def test_the_timeout_message_names_the_last_status_and_problem() -> None:
    seen = watch()
    assert seen.timeout_message("HTTP 503") == (
        f"Kore.ai campaign {CAMPAIGN} did not reach Completed before the sensor's timeout; no status was "
        "read. Last problem: HTTP 503"
    )
    seen.observe("Paused")
    assert seen.timeout_message().endswith("last status read: Paused")


def test_several_targets_are_listed_as_alternatives() -> None:
    reading = CampaignStatusWatch(CAMPAIGN, ("Completed", "Stopped"), ()).observe("Active")

    assert reading.message.endswith("waiting for Completed or Stopped")
