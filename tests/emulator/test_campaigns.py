"""Campaigns in the emulator: the state machine, the dialer counted on a frozen clock, deterministic
outcomes, paging, every error of the wire contract, busy lists, faults and the admin routes."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest
import requests

from airflow_provider_koreai.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_koreai.emulator.campaigns import dial_outcome
from tests.helpers.kore_api import Kore, assert_error

DEMO = "cd-demo-renewals"
DEMO_NAME = "Renewal Reminders - August 2025"
RENEWALS = "cl-demo-renewals-due"
RENEWALS_NAME = "Renewal Due - August 2025"
RENEWAL_PHONES = ["+14155550101", "+14155550102", "+12125550103"]
CAMPAIGN_KEYS = {
    "_id",
    "name",
    "lname",
    "description",
    "status",
    "priority",
    "dialingMode",
    "dialingStrategy",
    "experienceFlow",
    "experienceFlowName",
    "enableMachineDetect",
    "schedule",
    "contactLists",
    "campaignType",
    "createdAt",
    "updatedAt",
}
ROW_KEYS = [
    "phoneNumber",
    "uniqueId",
    "dialerOutcome",
    "numberOfAttemptsSoFar",
    "botSessionId",
    "agentDispositionCodes",
    "botOutboundStatus",
    "botOutboundStatusDetail",
]
VOICE: dict[str, Any] = {
    "name": "Overdue reminders",
    "description": "Calls customers with an overdue invoice",
    "contactLists": ["Overdue Invoices"],
    "priority": "3",
    "dialingMode": "Progressive",
    "queue_name": "Collections",
    "enableMachineDetect": True,
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14155550199"},
        "callingHours": {
            "frequency": "WEEKLY",
            "timezone": "Europe/London",
            "days": [{"day": "MO", "start": "9:00 AM", "end": "5:30 PM"}],
        },
        "dialingOrder": "FIFO",
        "maxAttemptsPerRecord": 2,
        "defaultRetryPeriod": 30,
        "maxRingTime": 25,
    },
    "schedule": {"isSchedulingEnabled": False},
}
SMS: dict[str, Any] = {
    "name": "Churn texts",
    "description": "Texts customers at risk",
    "contactLists": ["Churn Risk"],
    "priority": "2",
    "format": "simple",
    "message": {"message": "SGVsbG8="},
    "dialingStrategy": {
        "callerId": {"phoneNumber": "+14155550198"},
        "callingHours": {
            "frequency": "DAILY",
            "timezone": "America/New_York",
            "days": [{"day": "TU", "start": "10:00 AM", "end": "4:00 PM"}],
        },
    },
}


@pytest.fixture
def clock(emulator: EmulatorServer) -> Any:
    """The emulator's campaign clock, frozen (the ``emulator`` fixture's reset thaws it)."""
    emulator.clock.freeze()
    return emulator.clock


def spec(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(VOICE)
    body.update(changes)
    return body


def strategy(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(VOICE["dialingStrategy"])
    body.update(changes)
    return body


def trigger(kore: Kore, campaign_id: str, action: str, campaign_type: str = "voice") -> requests.Response:
    params = {"campaignType": campaign_type, "trigger": action}
    response: requests.Response = kore.request("POST", kore.trigger_url(campaign_id), params=params, json={})
    return response


def status_of(kore: Kore, campaign_id: str) -> str:
    r = kore.request("POST", f"{kore.campaign_url(campaign_id)}/status", params={"view": "status"}, json={})
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["status"])


def results(kore: Kore, campaign_id: str, page: int = 1, limit: int = 100) -> dict[str, Any]:
    r = kore.request(
        "POST",
        f"{kore.campaign_url(campaign_id)}/status",
        params={"view": "contacts"},
        json={"page": page, "limit": limit},
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def create(kore: Kore, body: dict[str, Any], campaign_type: str = "voice") -> requests.Response:
    response: requests.Response = kore.request(
        "POST", kore.campaigns_url, params={"campaignType": campaign_type}, json=body
    )
    return response


def create_ready(kore: Kore, clock: Any, body: dict[str, Any]) -> str:
    r = create(kore, body)
    assert r.status_code == 200, r.text
    clock.advance(1.0)
    return str(r.json()["data"]["_id"])


def fill(emulator: EmulatorServer, list_id: str, phones: list[str]) -> None:
    """Contacts straight into the store (the asynchronous addContacts has tests of its own)."""
    tenant = (emulator.settings.account_id, emulator.settings.iid)
    records = [{"phoneNumber": phone, "uniqueId": f"u-{phone}"} for phone in phones]
    assert emulator.store.add_contacts(tenant, list_id, records, emulator.store.generation) == len(phones)


# ------------------------------------------------------------------------------------------ reads


def test_seeded_campaign_get_one(kore: Kore) -> None:
    r = kore.request("GET", kore.campaign_url(DEMO))
    assert r.status_code == 200
    payload = r.json()
    assert payload["status"] == "success"
    assert payload["message"] == f"Campaign {DEMO_NAME} retrieved successfully"
    data = payload["data"]
    assert set(data) == CAMPAIGN_KEYS
    assert (data["_id"], data["status"], data["campaignType"], data["dialingMode"]) == (
        DEMO,
        "Ready",
        "voice",
        "Agentless",
    )
    assert data["contactLists"] == [RENEWALS_NAME]
    assert data["lname"] == DEMO_NAME.lower()
    assert data["experienceFlow"].startswith("cf-")
    assert data["schedule"] == {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}


def test_status_view_is_the_default(kore: Kore) -> None:
    url = f"{kore.campaign_url(DEMO)}/status"
    expected = {"status": "success", "data": {"id": DEMO, "status": "Ready", "name": DEMO_NAME}}
    assert kore.request("POST", url, params={"view": "status"}, json={}).json() == expected
    assert kore.request("POST", url).json() == expected


def test_never_started_has_no_results(kore: Kore) -> None:
    assert results(kore, DEMO) == {"results": [], "page": 1, "limit": 100, "totalPages": 0, "totalResults": 0}


@pytest.mark.parametrize(
    ("method", "suffix", "params"),
    [
        ("GET", "", {}),
        ("POST", "/status", {"view": "status"}),
        ("POST", "/status", {"view": "contacts"}),
        ("PUT", "", {"campaignType": "voice"}),
        ("DELETE", "", {"campaignType": "voice"}),
    ],
)
def test_unknown_campaign_is_404(kore: Kore, method: str, suffix: str, params: dict[str, str]) -> None:
    body = VOICE if method == "PUT" else {}
    r = kore.request(method, kore.campaign_url("cd-nope") + suffix, params=params, json=body)
    assert_error(r, 404, 404, "cd-nope")


def test_list_campaigns_pages_and_filters(kore: Kore, clock: Any) -> None:
    ids = [create_ready(kore, clock, spec(name=f"Batch {i}")) for i in range(4)]
    url = f"{kore.campaigns_url}/getAllCampaignDetails"
    first = kore.request("POST", url, json={"type": "voice", "page": 1, "limit": 2}).json()["data"]
    assert [c["_id"] for c in first["results"]] == [DEMO, ids[0]]
    assert (first["skip"], first["limit"], first["hasMore"], first["totalPages"], first["totalResults"]) == (
        0,
        2,
        True,
        3,
        5,
    )
    last = kore.request("POST", url, json={"type": "voice", "page": 3, "limit": 2}).json()["data"]
    assert ([c["_id"] for c in last["results"]], last["hasMore"]) == ([ids[3]], False)
    assert trigger(kore, ids[1], "play").status_code == 200
    active = {"type": "voice", "filters": {"status": ["Active", "Paused"]}}
    assert [c["_id"] for c in kore.request("POST", url, json=active).json()["data"]["results"]] == [ids[1]]
    assert kore.request("POST", url, json={"type": "sms"}).json()["data"]["totalResults"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "type"),
        ({"type": "email"}, "type"),
        ({"type": "voice", "page": 0}, "page"),
        ({"type": "voice", "limit": 0}, "limit"),
        ({"type": "voice", "limit": 101}, "limit"),
        ({"type": "voice", "filters": {"status": ["Running"]}}, "filters.status[0]"),
        ({"type": "voice", "sortBy": {"name": "asc"}}, "sortBy"),
    ],
)
def test_list_campaigns_rejects_bad_bodies(kore: Kore, body: dict[str, Any], field: str) -> None:
    r = kore.request("POST", f"{kore.campaigns_url}/getAllCampaignDetails", json=body)
    assert_error(r, 400, 400, f"{field}:")


# ---------------------------------------------------------------------------- create / update / delete


def test_voice_campaign_is_preparing_then_ready(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    r = create(kore, VOICE)
    assert r.status_code == 200, r.text
    payload = r.json()
    assert payload["message"] == "Campaign Overdue reminders creation in progress"
    data = payload["data"]
    assert data["status"] == "Preparing"
    assert data["_id"].startswith("cd-")
    assert data["queue_name"] == "Collections"
    assert data["contactLists"] == ["Overdue Invoices"]
    assert "campaignInstanceId" not in data
    assert_error(trigger(kore, data["_id"], "play"), 409, 409, "still being prepared")
    clock.advance(0.999)
    assert status_of(kore, data["_id"]) == "Preparing"
    clock.advance(0.001)
    assert status_of(kore, data["_id"]) == "Ready"
    assert emulator.campaign(data["_id"])["status"] == "Ready"  # type: ignore[index]


def test_sms_campaign_is_ready_at_once(kore: Kore) -> None:
    r = create(kore, SMS, "sms")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["status"], data["campaignType"], data["format"]) == ("Ready", "sms", "simple")
    assert "dialingMode" not in data
    assert_error(trigger(kore, data["_id"], "play", "voice"), 400, 400, "sms campaign")


def test_create_reports_every_bad_field_at_once(kore: Kore) -> None:
    body = spec(name="n" * 49, priority=5, dialingStrategy=strategy(maxRingTime=4, dialingOrder="RANDOM"))
    r = create(kore, body)
    assert_error(
        r, 400, 400, "name:", "priority:", "dialingStrategy.maxRingTime:", "dialingStrategy.dialingOrder:"
    )
    assert len(r.json()["errors"]) == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (spec(description="d" * 257), "description"),
        (spec(contactLists=[]), "contactLists"),
        (spec(contactLists=[f"L{i}" for i in range(11)]), "contactLists"),
        (spec(contactLists=["Overdue Invoices", "Overdue Invoices"]), "contactLists[1]"),
        (spec(priority="6"), "priority"),
        (spec(dialingMode="Power"), "dialingMode"),
        (spec(queue_name=None), "queue_name"),
        (spec(dialingMode="Agentless"), "experienceFlowName"),
        (spec(dialingMode="Preview"), "maxSkips"),
        (spec(enableMachineDetect="yes"), "enableMachineDetect"),
        (spec(schedule={"isSchedulingEnabled": True}), "schedule.isSchedulingEnabled"),
        (spec(campaignType="sms"), "campaignType"),
        (spec(dialing_mode="Progressive"), "dialing_mode"),
        (spec(dialingStrategy=strategy(maxAttemptsPerRecord=0)), "dialingStrategy.maxAttemptsPerRecord"),
        (spec(dialingStrategy=strategy(maxAttemptsPerRecord=101)), "dialingStrategy.maxAttemptsPerRecord"),
        (spec(dialingStrategy=strategy(defaultRetryPeriod=1441)), "dialingStrategy.defaultRetryPeriod"),
        (spec(dialingStrategy=strategy(maxRingTime=121)), "dialingStrategy.maxRingTime"),
        (spec(dialingStrategy=strategy(callerId={})), "dialingStrategy.callerId.phoneNumber"),
        (
            spec(
                dialingStrategy=strategy(callingHours={"frequency": "HOURLY", "timezone": "UTC", "days": []})
            ),
            "dialingStrategy.callingHours.frequency",
        ),
        (
            spec(
                dialingStrategy=strategy(
                    callingHours={"frequency": "DAILY", "timezone": "Mars/Olympus", "days": [{}]}
                )
            ),
            "dialingStrategy.callingHours.timezone",
        ),
        (
            spec(
                dialingStrategy=strategy(
                    callingHours={
                        "frequency": "DAILY",
                        "timezone": "UTC",
                        "days": [{"day": "MO", "start": "6:00 PM", "end": "9:00 AM"}],
                    }
                )
            ),
            "dialingStrategy.callingHours.days[0]",
        ),
        (
            spec(
                dialingStrategy=strategy(
                    callingHours={
                        "frequency": "DAILY",
                        "timezone": "UTC",
                        "days": [{"day": "MON", "start": "09:00", "end": "6:00 PM"}],
                    }
                )
            ),
            "dialingStrategy.callingHours.days[0].start",
        ),
    ],
)
def test_create_validation_names_the_field(
    kore: Kore, emulator: EmulatorServer, body: dict[str, Any], field: str
) -> None:
    assert_error(create(kore, body), 400, 400, f"{field}:")
    assert [c["_id"] for c in emulator.campaigns()] == [DEMO]


def test_create_with_an_unknown_list_names_it(kore: Kore) -> None:
    r = create(kore, spec(contactLists=["Overdue Invoices", "No such list", "Nor this"]))
    assert_error(r, 400, 400, "'No such list'", "'Nor this'")


def test_create_with_a_taken_name_is_409(kore: Kore, emulator: EmulatorServer) -> None:
    assert_error(create(kore, spec(name=DEMO_NAME)), 409, 409, "already exists", DEMO)
    assert_error(create(kore, {**SMS, "name": DEMO_NAME}, "sms"), 409, 409, "already exists")
    assert len(emulator.campaigns()) == 1


def test_create_rejects_a_bad_campaign_type(kore: Kore) -> None:
    assert_error(kore.request("POST", kore.campaigns_url, json=VOICE), 400, 400, "campaignType")
    r = kore.request("POST", kore.campaigns_url, params={"campaignType": "email"}, json=VOICE)
    assert_error(r, 400, 400, "campaignType")


def test_update_is_a_full_replace(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    campaign_id = create_ready(kore, clock, VOICE)
    body = spec(name="Overdue reminders v2", contactLists=["Overdue Invoices", "Churn Risk"])
    r = kore.request("PUT", kore.campaign_url(campaign_id), params={"campaignType": "voice"}, json=body)
    assert r.status_code == 200, r.text
    payload = r.json()
    assert payload["message"] == "Campaign Overdue reminders v2 details updated successfully"
    assert payload["id"] == campaign_id
    assert payload["data"]["contactLists"] == ["Overdue Invoices", "Churn Risk"]
    assert payload["data"]["status"] == "Ready"
    again = kore.request("PUT", kore.campaign_url(campaign_id), params={"campaignType": "voice"}, json=body)
    assert again.json()["data"] == emulator.campaign(campaign_id)
    assert emulator.contact_list("cl-demo-churn-risk")["campaignInUse"] == [  # type: ignore[index]
        {"name": "Overdue reminders v2", "id": campaign_id}
    ]


def test_update_errors(kore: Kore, clock: Any) -> None:
    campaign_id = create_ready(kore, clock, VOICE)
    url = kore.campaign_url(campaign_id)
    assert_error(
        kore.request("PUT", url, params={"campaignType": "voice"}, json=spec(name=DEMO_NAME)),
        409,
        409,
        DEMO_NAME,
    )
    assert_error(
        kore.request("PUT", url, params={"campaignType": "sms"}, json=SMS), 400, 400, "voice campaign"
    )
    assert_error(kore.request("PUT", url, params={"campaignType": "voice"}, json=spec(priority=1)), 400, 400)
    assert trigger(kore, campaign_id, "play").status_code == 200
    r = kore.request("PUT", url, params={"campaignType": "voice"}, json=VOICE)
    assert_error(r, 409, 409, "Active", "cannot be edited")


def test_delete(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    campaign_id = create_ready(kore, clock, VOICE)
    url = kore.campaign_url(campaign_id)
    assert_error(kore.request("DELETE", url, params={"campaignType": "sms"}), 400, 400)
    assert trigger(kore, campaign_id, "play").status_code == 200
    assert_error(kore.request("DELETE", url, params={"campaignType": "voice"}), 409, 409, "Active")
    assert trigger(kore, campaign_id, "stop").status_code == 200
    r = kore.request("DELETE", url, params={"campaignType": "voice"})
    assert r.status_code == 200
    assert r.json()["message"] == "Campaign Overdue reminders deleted successfully"
    assert r.json()["data"]["status"] == "Stopped"
    assert emulator.campaign(campaign_id) is None
    assert_error(kore.request("DELETE", url, params={"campaignType": "voice"}), 404, 404)
    assert kore.request("DELETE", kore.list_url("cl-demo-overdue-invoices")).status_code == 200


# ----------------------------------------------------------------------------------- contact lists


def test_a_list_used_by_a_campaign_says_so_and_cannot_be_deleted(
    kore: Kore, emulator: EmulatorServer
) -> None:
    assert_error(kore.request("DELETE", kore.list_url(RENEWALS)), 409, 409, RENEWALS_NAME, DEMO_NAME)
    assert emulator.contact_list(RENEWALS) is not None
    listed = kore.request("POST", f"{kore.lists_url}/getAllListDetails").json()["data"]
    in_use = {cl["_id"]: (cl["isListInUse"], cl["campaignInUse"]) for cl in listed}
    assert in_use[RENEWALS] == (True, [{"name": DEMO_NAME, "id": DEMO}])
    assert in_use["cl-demo-overdue-invoices"] == (False, [])
    assert (
        kore.request("DELETE", kore.campaign_url(DEMO), params={"campaignType": "voice"}).status_code == 200
    )
    assert kore.request("DELETE", kore.list_url(RENEWALS)).status_code == 200


def test_renaming_a_list_renames_it_in_the_campaign(kore: Kore, emulator: EmulatorServer) -> None:
    body = {
        "name": "Renewal Due - September 2025",
        "source": "passiveApiIntegration",
        "allowDuplicates": False,
    }
    assert kore.request("PUT", kore.list_url(RENEWALS), json=body).status_code == 200
    assert emulator.campaign(DEMO)["contactLists"] == ["Renewal Due - September 2025"]  # type: ignore[index]


# ------------------------------------------------------------------------------- start, dial, stop


def test_the_dialer_counts_on_the_clock(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    started = trigger(kore, DEMO, "play")
    assert started.status_code == 200, started.text
    answer = started.json()
    assert set(answer) == {"status", "message", "totalCallsCompleted", "updatedAt", "campaignInstanceId"}
    assert (answer["status"], answer["message"], answer["totalCallsCompleted"]) == (
        "Active",
        "Campaign Started",
        0,
    )
    assert answer["campaignInstanceId"].startswith("cid-")
    campaign = emulator.campaign(DEMO)
    assert campaign is not None
    assert campaign["campaignInstanceId"] == answer["campaignInstanceId"]
    assert "campaignInstanceUpdatedAt" in campaign

    def dialled() -> list[str]:
        page = results(kore, DEMO)
        assert page["totalResults"] == 3
        assert [row["phoneNumber"] for row in page["results"]] == RENEWAL_PHONES
        assert all(list(row) == ROW_KEYS for row in page["results"])
        return [row["dialerOutcome"] for row in page["results"]]

    assert dialled() == ["", "", ""]
    pending = results(kore, DEMO)["results"][0]
    assert pending == {
        "phoneNumber": RENEWAL_PHONES[0],
        "uniqueId": "",
        "dialerOutcome": "",
        "numberOfAttemptsSoFar": 0,
        "botSessionId": "",
        "agentDispositionCodes": [],
        "botOutboundStatus": "",
        "botOutboundStatusDetail": "",
    }
    clock.advance(0.199)  # 5 a second: the first contact takes 0.2 s
    assert sum(outcome != "" for outcome in dialled()) == 0
    clock.advance(0.001)
    assert sum(outcome != "" for outcome in dialled()) == 1
    assert status_of(kore, DEMO) == "Active"
    clock.advance(0.4)
    assert all(outcome != "" for outcome in dialled())
    assert status_of(kore, DEMO) == "Completed"
    clock.advance(60)
    assert all(outcome != "" for outcome in dialled()), "results stay readable after Completed"
    assert_error(trigger(kore, DEMO, "stop"), 409, 409, "not running", "Completed")


def test_lifo_dials_from_the_bottom(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    phones = [f"+1555000{i:04d}" for i in range(5)]
    fill(emulator, "cl-demo-churn-risk", phones)
    body = spec(contactLists=["Churn Risk"], dialingStrategy=strategy(dialingOrder="LIFO"))
    campaign_id = create_ready(kore, clock, body)
    assert trigger(kore, campaign_id, "play").status_code == 200
    clock.advance(0.4)
    rows = results(kore, campaign_id)["results"]
    assert [row["phoneNumber"] for row in rows] == phones[::-1]
    assert [row["uniqueId"] for row in rows] == [f"u-{phone}" for phone in phones[::-1]]
    assert [row["dialerOutcome"] != "" for row in rows] == [True, True, False, False, False]


def test_outcomes_follow_the_phone_number(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    phones = [f"+4420794{i:05d}" for i in range(40)]
    fill(emulator, "cl-demo-churn-risk", phones)
    campaign_id = create_ready(kore, clock, spec(contactLists=["Churn Risk"]))

    def one_run() -> tuple[str, list[dict[str, Any]]]:
        cid = trigger(kore, campaign_id, "play").json()["campaignInstanceId"]
        clock.advance(8)
        assert status_of(kore, campaign_id) == "Completed"
        return cid, results(kore, campaign_id)["results"]

    first_id, first = one_run()
    second_id, second = one_run()
    assert first_id != second_id
    without_sessions = [{k: v for k, v in row.items() if k != "botSessionId"} for row in first]
    assert without_sessions == [{k: v for k, v in row.items() if k != "botSessionId"} for row in second]
    for row in first:
        expected = dial_outcome(row["phoneNumber"], max_attempts=2)
        assert {k: row[k] for k in expected} == expected
        if row["dialerOutcome"] == "completed":
            assert len(row["botSessionId"]) == 24
            int(row["botSessionId"], 16)
        else:
            assert (row["botSessionId"], row["numberOfAttemptsSoFar"]) == ("", 2)


def test_outcomes_spread_over_every_kind() -> None:
    kinds = Counter(
        (o["dialerOutcome"], o["botOutboundStatus"])
        for o in (dial_outcome(f"+1415555{i:04d}", 3) for i in range(2000))
    )
    assert set(kinds) == {
        ("completed", "userHangUp"),
        ("completed", "agentHangUp"),
        ("noAnswer", ""),
        ("busy", ""),
        ("failed", ""),
    }
    assert kinds[("completed", "userHangUp")] > kinds[("completed", "agentHangUp")] > kinds[("busy", "")]
    assert dial_outcome("+14155550101", 3) == dial_outcome("+14155550101", 3)


def test_pause_resume_stop_and_play_again(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    fill(emulator, "cl-demo-churn-risk", [f"+1555111{i:04d}" for i in range(10)])
    campaign_id = create_ready(kore, clock, spec(contactLists=["Churn Risk"]))
    first = trigger(kore, campaign_id, "play").json()["campaignInstanceId"]
    clock.advance(0.4)
    paused = kore.session.post(f"{emulator.base_url}/_emulator/campaigns/{campaign_id}/pause", timeout=5)
    assert paused.json()["data"]["status"] == "Paused"
    clock.advance(100)
    assert status_of(kore, campaign_id) == "Paused"
    assert sum(row["dialerOutcome"] != "" for row in results(kore, campaign_id)["results"]) == 2
    resumed = trigger(kore, campaign_id, "play").json()
    assert (resumed["campaignInstanceId"], resumed["totalCallsCompleted"]) == (first, 2)
    clock.advance(0.6)
    stopped = trigger(kore, campaign_id, "stop")
    assert stopped.status_code == 200
    assert stopped.json() == {
        "status": "Stopped",
        "message": "Campaign Stopped",
        "updatedAt": stopped.json()["updatedAt"],
        "campaignInstanceId": first,
    }
    clock.advance(100)
    assert sum(row["dialerOutcome"] != "" for row in results(kore, campaign_id)["results"]) == 5
    assert_error(trigger(kore, campaign_id, "stop"), 409, 409, "not running")
    again = trigger(kore, campaign_id, "play").json()
    assert again["campaignInstanceId"] != first
    assert again["totalCallsCompleted"] == 0
    assert all(row["dialerOutcome"] == "" for row in results(kore, campaign_id)["results"])


def test_a_new_run_dials_the_lists_as_they_are_at_play(
    kore: Kore, emulator: EmulatorServer, clock: Any
) -> None:
    assert trigger(kore, DEMO, "play").status_code == 200
    fill(emulator, RENEWALS, ["+19995550001"])
    assert results(kore, DEMO)["totalResults"] == 3
    clock.advance(1)
    assert status_of(kore, DEMO) == "Completed"
    assert trigger(kore, DEMO, "play").status_code == 200
    assert results(kore, DEMO)["totalResults"] == 4


def test_a_campaign_without_contacts_completes_at_once(kore: Kore, clock: Any) -> None:
    campaign_id = create_ready(kore, clock, spec(contactLists=["Warehouse Renewals"]))
    assert trigger(kore, campaign_id, "play").json()["status"] == "Active"
    assert status_of(kore, campaign_id) == "Completed"


def test_play_errors(kore: Kore) -> None:
    assert trigger(kore, DEMO, "play").status_code == 200
    assert_error(trigger(kore, DEMO, "play"), 409, 409, "already Active")
    assert_error(trigger(kore, DEMO, "play", "sms"), 400, 400, "voice campaign")
    assert_error(trigger(kore, "cd-nope", "play"), 404, 404, "cd-nope")
    url = kore.trigger_url(DEMO)
    for params in (
        {"campaignType": "voice", "trigger": "pause"},
        {"campaignType": "email", "trigger": "play"},
        {"trigger": "play"},
        {"campaignType": "voice"},
    ):
        assert_error(kore.request("POST", url, params=params, json={}), 400, 400)


def test_two_campaigns_cannot_run_on_one_list(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    other = create_ready(
        kore, clock, spec(name="Second on renewals", contactLists=["Churn Risk", RENEWALS_NAME])
    )
    assert trigger(kore, DEMO, "play").status_code == 200
    r = trigger(kore, other, "play")
    assert_error(r, 409, 409, RENEWALS_NAME, DEMO_NAME, "stop that campaign first")
    assert status_of(kore, other) == "Ready"
    emulator.pause_campaign(DEMO)
    assert_error(trigger(kore, other, "play"), 409, 409, "Paused")
    assert trigger(kore, DEMO, "stop").status_code == 200
    assert trigger(kore, other, "play").status_code == 200


# ------------------------------------------------------------------------------------ paging


def test_contacts_paging(kore: Kore, emulator: EmulatorServer, clock: Any) -> None:
    fill(emulator, "cl-demo-churn-risk", [f"+1666{i:06d}" for i in range(250)])
    campaign_id = create_ready(kore, clock, spec(contactLists=["Churn Risk"]))
    assert trigger(kore, campaign_id, "play").status_code == 200
    clock.advance(30)  # 150 of 250 at 5 a second
    pages = [results(kore, campaign_id, page) for page in (1, 2, 3)]
    assert [(p["page"], p["limit"], p["totalPages"], p["totalResults"]) for p in pages] == [
        (1, 100, 3, 250),
        (2, 100, 3, 250),
        (3, 100, 3, 250),
    ]
    rows = [row for page in pages for row in page["results"]]
    assert [row["phoneNumber"] for row in rows] == [f"+1666{i:06d}" for i in range(250)]
    assert sum(row["dialerOutcome"] != "" for row in rows) == 150
    assert results(kore, campaign_id, 4)["results"] == []
    small = results(kore, campaign_id, 2, 7)
    assert ([row["phoneNumber"] for row in small["results"]], small["totalPages"]) == (
        [f"+1666{i:06d}" for i in range(7, 14)],
        36,
    )
    assert len(emulator.campaign_results(campaign_id)) == 250


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": -1, "limit": 10}, "page"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"pageSize": 10}, "pageSize"),
    ],
)
def test_contacts_paging_bounds(kore: Kore, body: dict[str, Any], field: str) -> None:
    r = kore.request("POST", f"{kore.campaign_url(DEMO)}/status", params={"view": "contacts"}, json=body)
    assert_error(r, 400, 400, f"{field}:")


def test_unknown_view_is_400(kore: Kore) -> None:
    r = kore.request("POST", f"{kore.campaign_url(DEMO)}/status", params={"view": "summary"}, json={})
    assert_error(r, 400, 400, "view")


# ------------------------------------------------------------------------------- faults and admin


def test_a_play_dropped_after_applying_took_effect(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="trigger_campaign", drop="after")
    with pytest.raises(requests.exceptions.ConnectionError):
        trigger(kore, DEMO, "play")
    assert status_of(kore, DEMO) == "Active"
    assert_error(trigger(kore, DEMO, "play"), 409, 409, "already Active")
    recorded = [
        (r["route"], r["status"]) for r in emulator.recorded_requests() if r["route"] == "trigger_campaign"
    ]
    assert recorded == [("trigger_campaign", None), ("trigger_campaign", 409)]


def test_status_faults_are_not_applied(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="trigger_campaign", status=503)
    emulator.inject_fault(route="campaign_status", status=429, retry_after=2)
    assert_error(trigger(kore, DEMO, "play"), 503, 503)
    r = kore.request("POST", f"{kore.campaign_url(DEMO)}/status", params={"view": "status"}, json={})
    assert_error(r, 429, 429, "rate limit")
    assert r.headers["Retry-After"] == "2"
    assert status_of(kore, DEMO) == "Ready"


def test_admin_clock_state_and_reset(kore: Kore, emulator: EmulatorServer) -> None:
    admin = f"{emulator.base_url}/_emulator"
    frozen = kore.session.post(f"{admin}/clock", json={"freeze": True}, timeout=5).json()["data"]
    assert frozen["frozen"] is True
    assert trigger(kore, DEMO, "play").status_code == 200
    moved = kore.session.post(f"{admin}/clock", json={"advance": 0.4}, timeout=5).json()["data"]
    assert moved["now"] == pytest.approx(frozen["now"] + 0.4)
    assert_error(kore.session.post(f"{admin}/clock", json={"advance": -1}, timeout=5), 412, 412, "advance")
    state = kore.session.get(f"{admin}/state/campaigns", timeout=5).json()
    assert [(c["_id"], c["status"], c["totalContacts"], c["contactsDialled"]) for c in state] == [
        (DEMO, "Active", 3, 2)
    ]
    assert state[0]["accountId"] == emulator.settings.account_id
    assert_error(kore.session.post(f"{admin}/campaigns/cd-nope/pause", timeout=5), 404, 404)
    assert kore.session.post(f"{admin}/reset", timeout=5).status_code == 200
    assert emulator.clock.frozen is False
    after = kore.session.get(f"{admin}/state/campaigns", timeout=5).json()
    assert [(c["_id"], c["status"], c["contactsDialled"]) for c in after] == [(DEMO, "Ready", 0)]
    assert_error(kore.session.post(f"{admin}/campaigns/{DEMO}/pause", timeout=5), 409, 409, "Ready")


def test_settings_refuse_negative_rates() -> None:
    with pytest.raises(ValueError, match="dial_rate"):
        EmulatorSettings(dial_rate=-1)
    with pytest.raises(ValueError, match="campaign_preparation_seconds"):
        EmulatorSettings(campaign_preparation_seconds=-0.5)


def test_no_seed_has_no_campaign(emulators: Any) -> None:
    server = emulators.get(rate_limit_per_minute=0, seed_demo_data=False)
    assert server.campaigns() == []
    assert server.campaign(DEMO) is None
