"""Fault injection (Python and admin API), request recording and the delayed ingestion of contacts."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.kore_api import Kore, assert_error

RENEWALS = "cl-demo-renewals-due"
DEMO = "cd-demo-renewals"
UPDATE = {"name": "Renamed by a faulty call", "source": "passiveApiIntegration", "allowDuplicates": False}


def renamed(emulator: EmulatorServer) -> bool:
    current = emulator.contact_list(RENEWALS)
    assert current is not None
    return bool(current["name"] == UPDATE["name"])


def test_status_fault_with_retry_after_is_fifo_and_not_applied(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", count=2, status=429, retry_after=1)
    emulator.inject_fault(route="update_contact_list", status=503)
    for _ in range(2):
        r = kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE)
        assert_error(r, 429, 429, "rate limit")
        assert r.headers["Retry-After"] == "1"
    assert not renamed(emulator)
    assert_error(kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE), 503, 503)
    assert not renamed(emulator)
    assert kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE).status_code == 200
    assert renamed(emulator)


def test_fault_only_hits_its_route(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", status=500)
    assert kore.request("GET", kore.list_url(RENEWALS)).status_code == 200
    assert kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE).status_code == 500


def test_wildcard_fault(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="*", status=502, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    r = kore.request("GET", kore.list_url(RENEWALS))
    assert_error(r, 502, 502)
    assert r.headers["Retry-After"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert kore.request("GET", kore.list_url(RENEWALS)).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("<html><body>502 Bad Gateway</body></html>", "text/html", 502),
        ("", "application/json", 200),
        ('{"status": "success", "data": {"contactL', "application/json", 200),
        ('{"status": "failure", "errors": [{"message": "odd"}]}', None, 200),
        ("x" * 2_000_000, "text/plain", 500),
    ],
    ids=["html", "empty", "truncated-json", "status-failure", "huge"],
)
def test_raw_body_fault_is_sent_verbatim(
    kore: Kore, emulator: EmulatorServer, body: str, content_type: str | None, status: int
) -> None:
    emulator.inject_fault(route="get_contact_list", status=status, body=body, content_type=content_type)
    r = kore.request("GET", kore.list_url(RENEWALS))
    assert r.status_code == status
    assert r.text == body
    assert r.headers["Content-Type"].startswith(content_type or "application/json")


def test_extra_headers_fault(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="get_contacts", status=200, body="{}", headers={"X-Test": "yes"})
    r = kore.request("GET", f"{kore.list_url(RENEWALS)}/getAllContacts")
    assert r.headers["X-Test"] == "yes"
    assert r.json() == {}


def test_delay_fault_times_out_the_client_but_is_applied(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", delay=0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE, timeout=0.2)
    deadline = time.monotonic() + 3
    while not renamed(emulator) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert renamed(emulator)


def test_delay_fault_then_normal_answer(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="get_contact_list", delay=0.3)
    started = time.monotonic()
    assert kore.request("GET", kore.list_url(RENEWALS)).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_drop_before_is_a_connection_error_and_not_applied(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", drop="before")
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE)
    assert "without response" in str(info.value) or "reset" in str(info.value).lower()
    assert not renamed(emulator)
    recorded = emulator.recorded_requests()[-1]
    assert recorded["status"] is None
    assert recorded["fault"]["drop"] == "before"
    # the same session carries on over a fresh connection
    assert kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE).status_code == 200


def test_drop_after_is_a_connection_error_but_applied(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", drop="after")
    with pytest.raises(requests.exceptions.ConnectionError):
        kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE)
    assert renamed(emulator)
    recorded = emulator.recorded_requests()[-1]
    assert recorded["status"] is None
    assert recorded["applied_status"] == 200


def test_drop_after_create_leaves_the_list_behind(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="create_contact_list", drop="after")
    body = {"name": "Ambiguous", "source": "passiveApiIntegration"}
    with pytest.raises(requests.exceptions.ConnectionError):
        kore.request("POST", f"{kore.lists_url}/createContactList", json=body)
    assert "Ambiguous" in {cl["name"] for cl in emulator.contact_lists()}
    assert_error(kore.request("POST", f"{kore.lists_url}/createContactList", json=body), 409, 409)


def test_drop_with_status_is_rejected(emulator: EmulatorServer) -> None:
    with pytest.raises(ValueError, match="drop"):
        emulator.inject_fault(route="get_contacts", drop="before", status=500)
    with pytest.raises(ValueError, match="route"):
        emulator.inject_fault(route="getContacts", status=500)


def test_admin_api(kore: Kore, emulator: EmulatorServer) -> None:
    admin = f"{emulator.base_url}/_emulator"
    s = kore.session
    r = s.post(f"{admin}/faults", json={"route": "get_contact_list", "count": 2, "status": 500}, timeout=5)
    assert r.status_code == 201
    assert s.get(f"{admin}/faults", timeout=5).json()[0]["remaining"] == 2
    assert kore.request("GET", kore.list_url(RENEWALS)).status_code == 500
    assert s.delete(f"{admin}/faults", timeout=5).status_code == 200
    assert kore.request("GET", kore.list_url(RENEWALS)).status_code == 200

    bad = s.post(f"{admin}/faults", json={"route": "nope", "status": 500}, timeout=5)
    assert_error(bad, 412, 412, "route")
    bad = s.post(f"{admin}/faults", json={"route": "*", "drop": "sideways"}, timeout=5)
    assert_error(bad, 412, 412, "drop")

    recorded = s.get(f"{admin}/requests", timeout=5).json()
    assert [r["route"] for r in recorded] == ["get_contact_list", "get_contact_list"]
    assert s.delete(f"{admin}/requests", timeout=5).status_code == 200
    assert s.get(f"{admin}/requests", timeout=5).json() == []

    assert kore.request("DELETE", kore.list_url("cl-demo-churn-risk")).status_code == 200
    state = s.get(f"{admin}/state", timeout=5).json()
    by_id = {cl["_id"]: cl for cl in state}
    assert "cl-demo-churn-risk" not in by_id
    assert len(by_id) == 3
    assert by_id["cl-demo-overdue-invoices"]["contacts"][0]["phoneNumber"] == "+442079460001"
    assert s.post(f"{admin}/reset", timeout=5).status_code == 200
    assert len(s.get(f"{admin}/state", timeout=5).json()) == 4
    assert s.get(f"{admin}/requests", timeout=5).json() == []


def test_recording_redacts_the_token(kore: Kore, emulator: EmulatorServer) -> None:
    headers = kore.headers()
    token = headers["auth"]
    kore.request("PUT", kore.list_url(RENEWALS), json=UPDATE, headers=headers)
    kore.request("GET", kore.list_url(RENEWALS), headers=kore.headers(auth="garbage-token"))
    kore.request("POST", f"{kore.lists_url}/getAllListDetails?type=call", data="not json", headers=headers)
    kore.request("GET", f"{emulator.base_url}/unknown", headers=headers)
    records = emulator.recorded_requests()
    assert len(records) == 4
    update, rejected, listing, unknown = records
    assert update["method"] == "PUT"
    assert update["path"].endswith(f"/contactList/{RENEWALS}")
    assert update["body"] == UPDATE
    assert update["status"] == 200
    assert update["route"] == "update_contact_list"
    assert update["headers"]["iid"] == kore.settings.iid
    assert update["headers"]["accountid"] == kore.settings.account_id
    assert rejected["status"] == 401
    assert listing["query"] == {"type": "call"}
    assert listing["body"] == "not json"
    assert unknown["route"] is None
    assert unknown["status"] == 404
    for record in records:
        assert record["headers"]["auth"] == "<redacted>"
    dumped = repr(records)
    assert token not in dumped
    assert "garbage-token" not in dumped


def test_ingestion_applies_only_after_the_delay(kore: Kore, emulator: EmulatorServer) -> None:
    delay = emulator.settings.ingestion_delay_seconds
    body = {"contact_list_name": "Overdue Invoices", "data": [{"phoneNumber": "+15551234"}]}
    started = time.monotonic()
    assert kore.request("POST", kore.add_contacts_url, json=body).status_code == 200
    listed = kore.request("GET", kore.list_url("cl-demo-overdue-invoices")).json()["data"]
    assert listed["totalRecordCount"] == 1
    while time.monotonic() - started < delay + 2:
        listed = kore.request("GET", kore.list_url("cl-demo-overdue-invoices")).json()["data"]
        if listed["totalRecordCount"] == 2:
            break
        time.sleep(0.05)
    assert listed["totalRecordCount"] == 2
    assert time.monotonic() - started >= delay


def test_reset_drops_pending_ingestion(kore: Kore, emulator: EmulatorServer) -> None:
    body = {"contact_list_name": "Overdue Invoices", "data": [{"phoneNumber": "+15551234"}]}
    assert kore.request("POST", kore.add_contacts_url, json=body).status_code == 200
    emulator.reset()
    time.sleep(emulator.settings.ingestion_delay_seconds + 0.2)
    assert emulator.contact_list("cl-demo-overdue-invoices")["totalRecordCount"] == 1  # type: ignore[index]


def test_drop_before_on_add_contacts_adds_nothing(kore: Kore, emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="add_contacts", drop="before")
    body = {"contact_list_name": "Overdue Invoices", "data": [{"phoneNumber": "+15551234"}]}
    with pytest.raises(requests.exceptions.ConnectionError):
        kore.request("POST", kore.add_contacts_url, json=body)
    time.sleep(emulator.settings.ingestion_delay_seconds + 0.2)
    assert emulator.contact_list("cl-demo-overdue-invoices")["totalRecordCount"] == 1  # type: ignore[index]


def test_every_api_route_is_named_and_faultable(kore: Kore, emulator: EmulatorServer) -> None:
    """Each API route is recorded under its name and takes its fault, whatever FastAPI does with
    ``include_router`` (0.137 stopped copying routes into the app's route list)."""
    from airflow_provider_koreai.emulator.app import api
    from airflow_provider_koreai.emulator.faults import ROUTE_NAMES

    assert {getattr(route, "name", None) for route in api.routes} == ROUTE_NAMES
    calls = {
        "update_contact_list": ("PUT", kore.list_url(RENEWALS)),
        "create_contact_list": ("POST", f"{kore.lists_url}/createContactList"),
        "get_contact_list": ("GET", kore.list_url(RENEWALS)),
        "list_contact_lists": ("POST", f"{kore.lists_url}/getAllListDetails"),
        "delete_contact_list": ("DELETE", kore.list_url(RENEWALS)),
        "add_contacts": ("POST", kore.add_contacts_url),
        "get_contacts": ("GET", f"{kore.list_url(RENEWALS)}/getAllContacts"),
        "trigger_campaign": ("POST", f"{kore.trigger_url(DEMO)}?campaignType=voice&trigger=play"),
        "list_campaigns": ("POST", f"{kore.campaigns_url}/getAllCampaignDetails"),
        "campaign_status": ("POST", f"{kore.campaign_url(DEMO)}/status?view=status"),
        "create_campaign": ("POST", f"{kore.campaigns_url}?campaignType=voice"),
        "get_campaign": ("GET", kore.campaign_url(DEMO)),
        "update_campaign": ("PUT", f"{kore.campaign_url(DEMO)}?campaignType=voice"),
        "delete_campaign": ("DELETE", f"{kore.campaign_url(DEMO)}?campaignType=voice"),
    }
    assert set(calls) == ROUTE_NAMES
    for name, (method, url) in calls.items():
        emulator.inject_fault(route=name, status=418)
        assert_error(kore.request(method, url), 418, 418)
    assert emulator.contact_list(RENEWALS) is not None, "a faulted request must not be applied"
    assert emulator.campaign(DEMO)["status"] == "Ready"  # type: ignore[index]
    recorded = [
        (r["route"], r["status"])
        for r in kore.session.get(f"{emulator.base_url}/_emulator/requests", timeout=5).json()
    ]
    assert recorded == [(name, 418) for name in calls]
