"""The campaign endpoints as data: paths, queries, bodies and which calls are safe to repeat."""

from __future__ import annotations

import pytest

from airflow_provider_koreai.api.campaigns import PLAY, STOP, CampaignEndpoints

ENDPOINTS = CampaignEndpoints("st-app")
AGENTASSIST = "/agentassist/api/v1/public/st-app/campaign"


@pytest.mark.parametrize("action", [PLAY, STOP])
def test_start_and_stop_are_triggers_that_are_not_repeated(action: str) -> None:
    call = ENDPOINTS.trigger("cd-1", "voice", action)
    assert (call.method, call.path) == ("POST", "/campaign/api/v1/public/st-app/campaign/cd-1")
    assert call.params == {"campaignType": "voice", "trigger": action}
    assert call.json == {}
    assert call.idempotent is False


def test_status_and_contacts_are_reads_on_one_path() -> None:
    status = ENDPOINTS.status("cd-1")
    page = ENDPOINTS.contacts_page("cd-1", page=3, limit=100)
    assert status.path == page.path == f"{AGENTASSIST}/cd-1/status"
    assert (status.params, status.json) == ({"view": "status"}, {})
    assert (page.params, page.json) == ({"view": "contacts"}, {"page": 3, "limit": 100})
    assert status.idempotent
    assert page.idempotent


def test_list_page_filters_by_status_only_when_asked() -> None:
    plain = ENDPOINTS.list_page("sms", page=1, limit=100)
    filtered = ENDPOINTS.list_page("voice", page=2, limit=50, statuses=("Active",))
    assert plain.path == f"{AGENTASSIST}/getAllCampaignDetails"
    assert plain.json == {"type": "sms", "page": 1, "limit": 100}
    assert filtered.json == {"type": "voice", "page": 2, "limit": 50, "filters": {"status": ["Active"]}}


def test_writes() -> None:
    create = ENDPOINTS.create("voice", {"name": "x"})
    update = ENDPOINTS.update("cd-1", "voice", {"name": "x"})
    delete = ENDPOINTS.delete("cd-1", "sms")
    assert (create.method, create.path, create.idempotent) == ("POST", AGENTASSIST, False)
    assert (update.method, update.path, update.idempotent) == ("PUT", f"{AGENTASSIST}/cd-1", True)
    assert (delete.method, delete.path, delete.idempotent) == ("DELETE", f"{AGENTASSIST}/cd-1", False)
    assert create.params == update.params == {"campaignType": "voice"}
    assert delete.params == {"campaignType": "sms"}


def test_ids_are_percent_encoded_and_404s_name_the_campaign() -> None:
    call = ENDPOINTS.get("cd 1?")
    assert call.path == f"{AGENTASSIST}/cd%201%3F"
    assert call.not_found == "Campaign cd 1? not found"
    assert "campaign id" in call.not_found_hint
