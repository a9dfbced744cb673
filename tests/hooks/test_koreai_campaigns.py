"""``KoreAIHook``'s campaign calls against mocked HTTP: what is sent, how answers are read, and how a start,
stop, create or delete that got no clear answer is resolved without being repeated blindly. The same calls
across a real wire: ``tests/integration/test_campaigns_hook_emulator.py``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import requests_mock as rm

from airflow_provider_koreai.exceptions import (
    KoreAICampaignExistsError,
    KoreAIInvalidArgumentsError,
    KoreAINotFoundError,
    KoreAIRequestRejectedError,
    KoreAITransportError,
    KoreAIUnexpectedResponseError,
    KoreAIValidationError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.responses import CampaignStatus
from tests.helpers.campaigns import voice_spec
from tests.helpers.connections import BASE_URL, IID

AGENTASSIST = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign"
TRIGGER_URL = f"{BASE_URL}/campaign/api/v1/public/{IID}/campaign/cd-1"
STATUS_URL = f"{AGENTASSIST}/cd-1/status"
LIST_URL = f"{AGENTASSIST}/getAllCampaignDetails"
STARTED = {"status": "Active", "message": "Campaign Started", "campaignInstanceId": "cid-1"}


def envelope(data: Any) -> dict[str, Any]:
    return {"status": "success", "message": "ok", "data": data}


def status_answer(status: str) -> dict[str, Any]:
    return envelope({"id": "cd-1", "status": status, "name": "Renewals outreach"})


def page_of_campaigns(items: list[dict[str, Any]], page: int = 1, total_pages: int = 1) -> dict[str, Any]:
    return envelope({"results": items, "hasMore": page < total_pages, "totalPages": total_pages})


@pytest.fixture
def hook(koreai_connection: None) -> KoreAIHook:
    return KoreAIHook(backoff_initial=0.001, backoff_max=0.01)


def sent(requests_mock: rm.Mocker) -> list[tuple[str, str]]:
    return [(r.method, r.url.split("?")[0].rsplit("/", 1)[-1]) for r in requests_mock.request_history]


class TestStatus:
    def test_reads_the_status_view(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(STATUS_URL, json=status_answer("Ready"))
        assert hook.get_campaign_status("cd-1") == CampaignStatus("cd-1", "Ready", "Renewals outreach")
        assert requests_mock.last_request.qs == {"view": ["status"]}

    def test_an_answer_without_a_status_is_a_clear_error(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.post(STATUS_URL, json=envelope({"id": "cd-1"}))
        with pytest.raises(KoreAIUnexpectedResponseError, match="status"):
            hook.get_campaign_status("cd-1")

    def test_unknown_campaign_says_which(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(STATUS_URL, status_code=404, json={"errors": [{"msg": "no", "code": 404}]})
        with pytest.raises(KoreAINotFoundError, match="Campaign cd-1 not found"):
            hook.get_campaign_status("cd-1")

    @pytest.mark.parametrize("bad", ["", "cd/1", None, ".."])
    def test_bad_id_refused_before_sending(
        self, hook: KoreAIHook, requests_mock: rm.Mocker, bad: Any
    ) -> None:
        with pytest.raises(KoreAIValidationError, match="campaign_id"):
            hook.get_campaign_status(bad)
        assert requests_mock.call_count == 0


class TestStartAndStop:
    def test_start_sends_play_once(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(TRIGGER_URL, json=STARTED)
        assert hook.start_campaign("cd-1") == STARTED
        assert requests_mock.last_request.qs == {"campaigntype": ["voice"], "trigger": ["play"]}
        assert requests_mock.last_request.json() == {}

    def test_stop_sends_stop(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(TRIGGER_URL, json={"status": "Stopped", "message": "Campaign Stopped"})
        assert hook.stop_campaign("cd-1", campaign_type="sms")["status"] == "Stopped"
        assert requests_mock.last_request.qs == {"campaigntype": ["sms"], "trigger": ["stop"]}

    def test_a_play_that_took_effect_is_never_sent_twice(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.post(TRIGGER_URL, exc=requests.exceptions.ReadTimeout("read timed out"))
        requests_mock.post(STATUS_URL, json=status_answer("Active"))
        requests_mock.get(
            f"{AGENTASSIST}/cd-1", json=envelope({"_id": "cd-1", "campaignInstanceId": "cid-9"})
        )
        answer = hook.start_campaign("cd-1")
        assert (answer["status"], answer["campaignInstanceId"]) == ("Active", "cid-9")
        assert sent(requests_mock) == [("POST", "cd-1"), ("POST", "status"), ("GET", "cd-1")]

    def test_a_play_that_did_not_take_effect_is_sent_again(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.post(TRIGGER_URL, [{"status_code": 502, "text": "Bad Gateway"}, {"json": STARTED}])
        requests_mock.post(STATUS_URL, json=status_answer("Ready"))
        assert hook.start_campaign("cd-1") == STARTED
        assert sent(requests_mock) == [("POST", "cd-1"), ("POST", "status"), ("POST", "cd-1")]

    @pytest.mark.parametrize("status", ["Stopped", "Completed"])
    def test_a_stop_found_applied_is_not_sent_again(
        self, hook: KoreAIHook, requests_mock: rm.Mocker, status: str
    ) -> None:
        requests_mock.post(TRIGGER_URL, exc=requests.exceptions.ConnectionError("connection reset"))
        requests_mock.post(STATUS_URL, json=status_answer(status))
        requests_mock.get(f"{AGENTASSIST}/cd-1", json=envelope({"_id": "cd-1"}))
        assert hook.stop_campaign("cd-1")["status"] == status
        assert [m for m, last in sent(requests_mock) if last == "cd-1"] == ["POST", "GET"]

    def test_unclear_after_the_budget_says_to_check(
        self, set_connection: Any, requests_mock: rm.Mocker
    ) -> None:
        set_connection(extra={"max_attempts": 2})
        requests_mock.post(TRIGGER_URL, exc=requests.exceptions.ReadTimeout("read timed out"))
        requests_mock.post(STATUS_URL, json=status_answer("Ready"))
        with pytest.raises(KoreAITransportError) as caught:
            KoreAIHook(backoff_initial=0.001).start_campaign("cd-1")
        assert caught.value.outcome_unknown
        assert [m for m, last in sent(requests_mock) if last == "cd-1"] == ["POST", "POST"]

    def test_kore_refusal_is_raised_not_retried(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(
            TRIGGER_URL,
            status_code=409,
            json={"errors": [{"msg": "Campaign is already Active", "code": 409}]},
        )
        with pytest.raises(KoreAIRequestRejectedError, match="HTTP 409"):
            hook.start_campaign("cd-1")
        assert requests_mock.call_count == 1

    def test_campaign_type_checked_before_sending(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        with pytest.raises(KoreAIValidationError, match="campaign_type"):
            hook.start_campaign("cd-1", campaign_type="email")
        assert requests_mock.call_count == 0


class TestReads:
    def test_list_reads_every_page(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(
            LIST_URL,
            [
                {"json": page_of_campaigns([{"_id": "cd-1", "name": "a"}], page=1, total_pages=2)},
                {"json": page_of_campaigns([{"_id": "cd-2", "name": "b"}], page=2, total_pages=2)},
            ],
        )
        found = hook.list_campaigns("voice", statuses=["Active", "Paused"])
        assert [c["_id"] for c in found] == ["cd-1", "cd-2"]
        bodies = [r.json() for r in requests_mock.request_history]
        assert [b["page"] for b in bodies] == [1, 2]
        assert bodies[0]["filters"] == {"status": ["Active", "Paused"]}

    def test_list_refuses_an_unknown_status(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        with pytest.raises(KoreAIValidationError, match="Running"):
            hook.list_campaigns(statuses=["Running"])
        assert requests_mock.call_count == 0

    def test_find_is_exact(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(LIST_URL, json=page_of_campaigns([{"_id": "cd-1", "name": "Renewals outreach 2"}]))
        assert hook.find_campaign("Renewals outreach") is None

    def test_contact_pages_are_fetched_as_iterated(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        pages = [
            envelope({"results": [{"phoneNumber": str(n)}], "page": n, "totalPages": 3, "totalResults": 3})
            for n in (1, 2, 3)
        ]
        requests_mock.post(STATUS_URL, [{"json": page} for page in pages])
        rows = hook.iter_campaign_contacts("cd-1", page_size=1)
        assert next(rows) == {"phoneNumber": "1"}
        assert requests_mock.call_count == 1, "lazily: one page per page consumed"
        assert [row["phoneNumber"] for row in rows] == ["2", "3"]
        assert [r.json() for r in requests_mock.request_history] == [
            {"page": n, "limit": 1} for n in (1, 2, 3)
        ]
        assert requests_mock.last_request.qs == {"view": ["contacts"]}

    def test_a_campaign_never_run_has_no_rows(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(
            STATUS_URL, json=envelope({"results": [], "page": 1, "totalPages": 0, "totalResults": 0})
        )
        assert list(hook.iter_campaign_contacts("cd-1")) == []
        assert requests_mock.call_count == 1

    @pytest.mark.parametrize("size", [0, 101, "10", True])
    def test_page_size_bounds(self, hook: KoreAIHook, requests_mock: rm.Mocker, size: Any) -> None:
        with pytest.raises(KoreAIValidationError, match="page_size"):
            next(hook.iter_campaign_contacts("cd-1", page_size=size))
        assert requests_mock.call_count == 0


class TestCreateUpdateDelete:
    def test_create_sends_the_checked_definition(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(AGENTASSIST, json=envelope({"_id": "cd-new", "status": "Preparing"}))
        created = hook.create_campaign("voice", voice_spec(priority=3))
        assert created["_id"] == "cd-new"
        assert requests_mock.last_request.json()["priority"] == "3"
        assert requests_mock.last_request.qs == {"campaigntype": ["voice"]}

    def test_create_after_an_unclear_answer_looks_up_the_name(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.post(AGENTASSIST, status_code=504, text="Gateway Timeout")
        requests_mock.post(LIST_URL, json=page_of_campaigns([{"_id": "cd-new", "name": "Renewals outreach"}]))
        assert hook.create_campaign("voice", voice_spec())["_id"] == "cd-new"
        assert [r.url for r in requests_mock.request_history].count(AGENTASSIST + "?campaignType=voice") == 1

    def test_every_bad_field_is_named_before_sending(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        spec = voice_spec(name="x" * 49, priority=9, contactLists=[])
        with pytest.raises(KoreAIInvalidArgumentsError) as caught:
            hook.create_campaign("voice", spec)
        assert set(caught.value.fields) == {"spec.name", "spec.priority", "spec.contactLists"}
        assert requests_mock.call_count == 0

    def test_ensure_reuses_a_campaign_of_the_name(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(LIST_URL, json=page_of_campaigns([{"id": "cd-7", "name": "Renewals outreach"}]))
        ensured = hook.ensure_campaign("voice", voice_spec())
        assert (ensured.campaign_id, ensured.created) == ("cd-7", False)
        assert requests_mock.call_count == 1

    def test_ensure_fail_mode(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(LIST_URL, json=page_of_campaigns([{"_id": "cd-7", "name": "Renewals outreach"}]))
        with pytest.raises(KoreAICampaignExistsError, match="cd-7"):
            hook.ensure_campaign("voice", voice_spec(), if_exists="fail")

    def test_ensure_takes_a_409_race_as_existing(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.post(
            LIST_URL,
            [
                {"json": page_of_campaigns([])},
                {"json": page_of_campaigns([{"_id": "cd-8", "name": "Renewals outreach"}])},
            ],
        )
        requests_mock.post(
            AGENTASSIST, status_code=409, json={"errors": [{"msg": "name taken", "code": 409}]}
        )
        ensured = hook.ensure_campaign("voice", voice_spec())
        assert (ensured.campaign_id, ensured.created) == ("cd-8", False)

    def test_update_puts_the_whole_definition(self, hook: KoreAIHook, requests_mock: rm.Mocker) -> None:
        requests_mock.put(f"{AGENTASSIST}/cd-1", json=envelope({"_id": "cd-1"}))
        hook.update_campaign("cd-1", "voice", voice_spec())
        assert requests_mock.last_request.json()["name"] == "Renewals outreach"

    def test_delete_retry_that_finds_it_gone_is_success(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.delete(
            f"{AGENTASSIST}/cd-1",
            [{"exc": requests.exceptions.ReadTimeout("read timed out")}, {"status_code": 404, "json": {}}],
        )
        assert hook.delete_campaign("cd-1") == {}

    def test_delete_of_an_unknown_campaign_is_not_found(
        self, hook: KoreAIHook, requests_mock: rm.Mocker
    ) -> None:
        requests_mock.delete(f"{AGENTASSIST}/cd-1", status_code=404, json={})
        with pytest.raises(KoreAINotFoundError):
            hook.delete_campaign("cd-1")
