"""The campaign half of ``KoreAIHook`` across a real wire: the emulator's campaigns on 127.0.0.1, its
clock frozen and advanced so that the dialer is counted, never waited on."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import KoreAIRequestRejectedError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.campaigns import voice_spec

pytestmark = pytest.mark.integration

DEMO = "cd-demo-renewals"


def fast_hook(**kwargs: Any) -> KoreAIHook:
    return KoreAIHook(backoff_initial=0.05, backoff_max=0.2, **kwargs)


def test_create_start_read_results_stop_delete(emulator: EmulatorServer) -> None:
    emulator.clock.freeze()
    hook = fast_hook()
    ensured = hook.ensure_campaign("voice", voice_spec(contactLists=["Overdue Invoices"]))
    assert ensured.created is True
    assert hook.get_campaign_status(ensured.campaign_id).status == "Preparing"
    emulator.clock.advance(emulator.settings.campaign_preparation_seconds)
    assert hook.get_campaign_status(ensured.campaign_id).status == "Ready"
    assert hook.ensure_campaign("voice", voice_spec(contactLists=["Overdue Invoices"])).created is False

    started = hook.start_campaign(DEMO)
    assert started["campaignInstanceId"] == emulator.campaign(DEMO)["campaignInstanceId"]  # type: ignore[index]
    emulator.clock.advance(0.4)  # 2 of the 3 seeded contacts at 5 a second
    pages = list(hook.iter_campaign_contact_pages(DEMO, page_size=2))
    assert [(p.page, p.total_pages, p.total_results) for p in pages] == [(1, 2, 3), (2, 2, 3)]
    assert [row["dialerOutcome"] != "" for row in hook.iter_campaign_contacts(DEMO)] == [True, True, False]
    with pytest.raises(KoreAIRequestRejectedError):
        hook.start_campaign(DEMO)
    assert hook.stop_campaign(DEMO)["status"] == "Stopped"
    assert hook.get_campaign_status(DEMO).status == "Stopped"

    assert hook.delete_campaign(ensured.campaign_id)["name"] == "Renewals outreach"
    assert emulator.campaign(ensured.campaign_id) is None


def test_a_play_whose_answer_was_lost_is_not_sent_again(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="trigger_campaign", drop="after")
    answer = fast_hook().start_campaign(DEMO)
    assert answer["status"] == "Active"
    assert answer["campaignInstanceId"] == emulator.campaign(DEMO)["campaignInstanceId"]  # type: ignore[index]
    plays = [r["status"] for r in emulator.recorded_requests() if r["route"] == "trigger_campaign"]
    assert plays == [None]
