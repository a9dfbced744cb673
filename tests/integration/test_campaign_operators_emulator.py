"""The campaign operators across a real wire: the emulator on 127.0.0.1, its campaign clock frozen and moved
by the tests (and by the start operator's Preparing wait), so that nothing depends on timing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_koreai import campaign_control
from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import KoreAIRequestRejectedError
from airflow_provider_koreai.operators.campaign import (
    CreateCampaignOperator,
    DeleteCampaignOperator,
    ExportCampaignResultsOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from tests.helpers.campaigns import voice_spec

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_backoff")]

LIST_NAME = "Renewal Due - August 2025"
DEMO_LIST_ID = "cl-demo-renewals-due"


def run(operator: Any) -> tuple[Any, dict[str, Any]]:
    """Render and execute as a worker would; returns (return value, XComs pushed by key)."""
    ti = mock.MagicMock()
    context: dict[str, Any] = {"ti": ti, "params": {}}
    operator.render_template_fields(context)
    result = operator.execute(context)
    return result, {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


def routes(server: EmulatorServer, name: str) -> int:
    return sum(1 for request in server.recorded_requests() if request["route"] == name)


@pytest.fixture
def clock(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator's campaign clock, frozen; the start operator's Preparing wait moves it instead of
    sleeping."""
    emulator.clock.freeze()
    monkeypatch.setattr(campaign_control, "sleep", emulator.clock.advance)
    return emulator.clock


def create(name: str = "Renewals outreach", **spec: Any) -> dict[str, Any]:
    result, _ = run(CreateCampaignOperator(task_id="create", spec=voice_spec(name=name, **spec)))
    return result


def test_create_start_wait_export_stop_delete(emulator: EmulatorServer, clock: Any, tmp_path: Path) -> None:
    contacts = len(emulator.contacts(DEMO_LIST_ID))
    assert contacts > 0, "the seeded list has contacts to dial"

    created = create()
    assert created["created"] is True
    assert created["status"] == "Preparing"
    again = create()
    assert (again["campaign_id"], again["created"]) == (created["campaign_id"], False)
    assert routes(emulator, "create_campaign") == 1
    campaign_id = created["campaign_id"]

    # Preparing: the operator waits (moving the frozen clock by its poll interval), then plays.
    started, _ = run(
        StartCampaignOperator(task_id="start", campaign_id=campaign_id, preparing_poll_interval=5)
    )
    assert started["started"] is True
    assert started["status"] == "Active"
    assert started["campaign_instance_id"].startswith("cid-")
    assert routes(emulator, "trigger_campaign") == 1

    # A re-run while it dials: no second play, the same instance.
    rerun, _ = run(StartCampaignOperator(task_id="start", campaign_id=campaign_id))
    assert rerun == {**started, "started": False}
    assert routes(emulator, "trigger_campaign") == 1

    clock.advance(contacts / emulator.settings.dial_rate + 1)
    assert emulator.campaign(campaign_id)["status"] == "Completed"  # type: ignore[index]

    destination = tmp_path / "results" / "renewals.csv"
    exported, _ = run(
        ExportCampaignResultsOperator(task_id="export", campaign_id=campaign_id, destination=str(destination))
    )
    assert exported["rows_written"] == contacts
    assert sum(exported["outcomes"].values()) == contacts
    assert exported["destination"] == destination.as_uri()
    assert len(destination.read_text().splitlines()) == contacts + 1, "a header and one row per contact"
    phones = {row["phoneNumber"] for row in emulator.campaign_results(campaign_id)}
    assert not any(phone in json.dumps(exported) for phone in phones)

    # Completed: stop sends nothing.
    stopped, _ = run(StopCampaignOperator(task_id="stop", campaign_id=campaign_id))
    assert stopped == {"campaign_id": campaign_id, "status": "Completed", "stopped": False}
    assert routes(emulator, "trigger_campaign") == 1

    deleted, _ = run(DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id))
    assert deleted is not None
    assert emulator.campaign(campaign_id) is None
    gone, _ = run(DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id, missing_ok=True))
    assert gone is None
    with pytest.raises(AirflowFailException, match="not found: check the campaign id"):
        run(DeleteCampaignOperator(task_id="delete", campaign_id=campaign_id))


def test_stop_stops_a_running_campaign_once(emulator: EmulatorServer, clock: Any) -> None:
    campaign_id = create()["campaign_id"]
    clock.advance(emulator.settings.campaign_preparation_seconds + 1)
    run(StartCampaignOperator(task_id="start", campaign_id=campaign_id))

    first, _ = run(StopCampaignOperator(task_id="stop", campaign_id=campaign_id))
    second, _ = run(StopCampaignOperator(task_id="stop", campaign_id=campaign_id))

    assert first == {"campaign_id": campaign_id, "status": "Stopped", "stopped": True}
    assert second == {"campaign_id": campaign_id, "status": "Stopped", "stopped": False}
    assert routes(emulator, "trigger_campaign") == 2, "one play, one stop"


def test_stop_of_a_campaign_never_started_sends_nothing(emulator: EmulatorServer, clock: Any) -> None:
    campaign_id = create()["campaign_id"]
    result, _ = run(StopCampaignOperator(task_id="stop", campaign_id=campaign_id))
    assert result == {"campaign_id": campaign_id, "status": "Preparing", "stopped": False}
    assert routes(emulator, "trigger_campaign") == 0


def test_if_active_fail_refuses_a_running_campaign(emulator: EmulatorServer, clock: Any) -> None:
    campaign_id = create()["campaign_id"]
    clock.advance(emulator.settings.campaign_preparation_seconds + 1)
    run(StartCampaignOperator(task_id="start", campaign_id=campaign_id))
    with pytest.raises(AirflowFailException, match="is already Active and if_active='fail'"):
        run(StartCampaignOperator(task_id="start", campaign_id=campaign_id, if_active="fail"))
    assert routes(emulator, "trigger_campaign") == 1


def test_a_start_on_a_list_another_campaign_dials_fails_for_good(
    emulator: EmulatorServer, clock: Any
) -> None:
    first = create("Renewals outreach")["campaign_id"]
    second = create("Renewals second pass")["campaign_id"]
    clock.advance(emulator.settings.campaign_preparation_seconds + 1)
    run(StartCampaignOperator(task_id="start", campaign_id=first))

    with pytest.raises(AirflowFailException) as caught:
        run(StartCampaignOperator(task_id="start", campaign_id=second))

    refusal = caught.value.__cause__
    assert isinstance(refusal, KoreAIRequestRejectedError)
    assert refusal.http_status == 409
    assert (
        f"Contact list '{LIST_NAME}' is in use by the Active campaign 'Renewals outreach' ({first})"
        in str(caught.value)
    )
    assert routes(emulator, "trigger_campaign") == 2, "one play each; the refused one not repeated"


def test_start_gives_up_on_a_campaign_that_stays_preparing(
    emulators: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = emulators.get(rate_limit_per_minute=0, campaign_preparation_seconds=3600)
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(server.airflow_connection()))
    server.clock.freeze()
    monkeypatch.setattr(campaign_control, "sleep", server.clock.advance)
    try:
        campaign_id = create()["campaign_id"]
        with pytest.raises(AirflowFailException, match="is still Preparing after 30 s; nothing was sent"):
            run(
                StartCampaignOperator(
                    task_id="start", campaign_id=campaign_id, preparing_timeout=30, preparing_poll_interval=10
                )
            )
        assert routes(server, "campaign_status") == 1 + 3
        assert routes(server, "trigger_campaign") == 0
    finally:
        server.reset()
