"""Each route's success shape as in the reference, plus validation, 404 and 405 in Kore's envelope."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.kore_api import Kore, assert_error

RENEWALS = "cl-demo-renewals-due"
OVERDUE = "cl-demo-overdue-invoices"
LIST_KEYS = {
    "_id",
    "name",
    "description",
    "totalRecordCount",
    "status",
    "isListInUse",
    "listType",
    "campaignInUse",
    "source",
    "allowDuplicates",
    "createdAt",
    "updatedAt",
}
VALID_UPDATE = {
    "name": "Renewal Due - September 2025",
    "source": "passiveApiIntegration",
    "allowDuplicates": True,
}


def test_update_contact_list_matches_reference(kore: Kore, emulator: EmulatorServer) -> None:
    before = emulator.contact_list(RENEWALS)
    assert before is not None
    body = {**VALID_UPDATE, "description": "moved to September"}
    r = kore.request("PUT", kore.list_url(RENEWALS), json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "success",
        "message": "Contact list Renewal Due - September 2025 updated successfully",
        "data": {
            "contactListId": RENEWALS,
            "body": {
                "name": "Renewal Due - September 2025",
                "orgId": emulator.settings.org_id,
                "iId": emulator.settings.iid,
                "listType": "call",
                "accountId": emulator.settings.account_id,
                "updatedBy": emulator.settings.user_id,
            },
        },
    }
    after = emulator.contact_list(RENEWALS)
    assert after is not None
    assert after["name"] == "Renewal Due - September 2025"
    assert after["description"] == "moved to September"
    assert after["allowDuplicates"] is True
    assert after["updatedAt"] > before["updatedAt"]
    assert after["createdAt"] == before["createdAt"]


def test_update_without_description_keeps_it(kore: Kore, emulator: EmulatorServer) -> None:
    r = kore.request("PUT", kore.list_url(RENEWALS), json=VALID_UPDATE)
    assert r.status_code == 200
    after = emulator.contact_list(RENEWALS)
    assert after is not None
    assert after["description"] == "Policies whose renewal is due this month"


def test_update_onto_another_lists_name_is_409(kore: Kore, emulator: EmulatorServer) -> None:
    body = {**VALID_UPDATE, "name": "Overdue Invoices"}
    assert_error(kore.request("PUT", kore.list_url(RENEWALS), json=body), 409, 409, "Overdue Invoices")
    assert emulator.contact_list(RENEWALS)["name"] == "Renewal Due - August 2025"  # type: ignore[index]


def test_update_unknown_list_is_404(kore: Kore) -> None:
    assert_error(kore.request("PUT", kore.list_url("cl-nope"), json=VALID_UPDATE), 404, 404, "cl-nope")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "s", "allowDuplicates": True}, "name"),
        ({**VALID_UPDATE, "name": ""}, "name"),
        ({**VALID_UPDATE, "name": "x" * 49}, "name"),
        ({**VALID_UPDATE, "description": "d" * 257}, "description"),
        ({**VALID_UPDATE, "allowDuplicates": "true"}, "allowDuplicates"),
        ({"name": "n", "source": "s"}, "allowDuplicates"),
        ({"name": "n", "allowDuplicates": False}, "source"),
        ({**VALID_UPDATE, "name1": "typo"}, "name1"),
        ({**VALID_UPDATE, "name": 42}, "name"),
    ],
)
def test_update_validation_names_the_field(
    kore: Kore, emulator: EmulatorServer, body: dict[str, object], field: str
) -> None:
    r = kore.request("PUT", kore.list_url(RENEWALS), json=body)
    assert_error(r, 412, 412, f"{field}:")
    assert emulator.contact_list(RENEWALS)["name"] == "Renewal Due - August 2025"  # type: ignore[index]


def test_update_accepts_limits_exactly(kore: Kore) -> None:
    body = {**VALID_UPDATE, "name": "n" * 48, "description": "d" * 256}
    assert kore.request("PUT", kore.list_url(RENEWALS), json=body).status_code == 200


def test_invalid_json_is_400(kore: Kore) -> None:
    headers = {**kore.headers(), "Content-Type": "application/json"}
    r = kore.request("PUT", kore.list_url(RENEWALS), data=b'{"name": ', headers=headers)
    assert_error(r, 400, 400, "JSON")


def test_create_contact_list(kore: Kore, emulator: EmulatorServer) -> None:
    body = {"name": "Fresh list", "source": "passiveApiIntegration", "description": "new"}
    r = kore.request("POST", f"{kore.lists_url}/createContactList", json=body)
    assert r.status_code == 200, r.text
    payload = r.json()
    assert payload["status"] == "success"
    assert "Fresh list" in payload["message"]
    data = payload["data"]
    assert set(data) == LIST_KEYS
    assert data["_id"].startswith("cl-")
    assert data["allowDuplicates"] is False
    assert data["totalRecordCount"] == 0
    assert emulator.contact_list(data["_id"]) == data


def test_create_duplicate_name_is_409(kore: Kore, emulator: EmulatorServer) -> None:
    body = {"name": "Overdue Invoices", "source": "passiveApiIntegration"}
    r = kore.request("POST", f"{kore.lists_url}/createContactList", json=body)
    assert_error(r, 409, 409, "already exists")
    assert len(emulator.contact_lists()) == 4


def test_create_validation(kore: Kore) -> None:
    r = kore.request(
        "POST", f"{kore.lists_url}/createContactList", json={"source": "s", "allowDuplicates": 1}
    )
    assert_error(r, 412, 412, "name:", "allowDuplicates:")


def test_get_contact_list(kore: Kore) -> None:
    r = kore.request("GET", kore.list_url(RENEWALS))
    assert r.status_code == 200
    payload = r.json()
    assert payload["status"] == "success"
    data = payload["data"]
    assert set(data) == LIST_KEYS
    assert data["_id"] == RENEWALS
    assert data["status"] == "Ready"
    assert data["isListInUse"] is True  # the seeded campaign cd-demo-renewals dials it
    assert data["listType"] == "call"
    assert data["campaignInUse"] == [{"name": "Renewal Reminders - August 2025", "id": "cd-demo-renewals"}]
    assert data["totalRecordCount"] == 3
    assert data["createdAt"].endswith("Z")


def test_get_unknown_list_is_404(kore: Kore) -> None:
    assert_error(kore.request("GET", kore.list_url("cl-missing")), 404, 404, "cl-missing")


def test_list_contact_lists(kore: Kore) -> None:
    for url in (f"{kore.lists_url}/getAllListDetails?type=call", f"{kore.lists_url}/getAllListDetails"):
        r = kore.request("POST", url)
        assert r.status_code == 200
        data = r.json()["data"]
        assert isinstance(data, list)
        assert {cl["_id"] for cl in data} == {
            RENEWALS,
            OVERDUE,
            "cl-demo-churn-risk",
            "cl-demo-warehouse-renewals",
        }
        assert all(set(cl) == LIST_KEYS for cl in data)


def test_list_contact_lists_rejects_other_type(kore: Kore) -> None:
    assert_error(kore.request("POST", f"{kore.lists_url}/getAllListDetails?type=sms"), 400, 400, "type")


def test_delete_contact_list(kore: Kore, emulator: EmulatorServer) -> None:
    r = kore.request("DELETE", kore.list_url(OVERDUE))
    assert r.status_code == 200
    payload = r.json()
    assert payload["status"] == "success"
    assert payload["message"] == "Contact list Overdue Invoices deleted successfully"
    assert payload["data"]["_id"] == OVERDUE
    assert emulator.contact_list(OVERDUE) is None
    assert_error(kore.request("DELETE", kore.list_url(OVERDUE)), 404, 404)


def test_add_contacts_is_asynchronous(kore: Kore, emulator: EmulatorServer) -> None:
    body = {
        "contact_list_name": "Overdue Invoices",
        "data": [{"phoneNumber": "+15550001"}, {"phoneNumber": "+15550002", "firstName": "Bo"}],
    }
    r = kore.request("POST", kore.add_contacts_url, json=body)
    assert r.status_code == 200
    assert r.json() == {"message": "Adding contacts to public list is in progress"}
    assert emulator.contact_list(OVERDUE)["totalRecordCount"] == 1  # type: ignore[index]
    wait_for_count(emulator, OVERDUE, 3)
    contacts = emulator.contacts(OVERDUE)
    assert contacts[-1]["firstName"] == "Bo"
    assert all(c["_id"] for c in contacts)


def wait_for_count(emulator: EmulatorServer, list_id: str, count: int, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if emulator.contact_list(list_id)["totalRecordCount"] == count:  # type: ignore[index]
            return
        time.sleep(0.02)
    raise AssertionError(f"{list_id} never reached {count} contacts: {emulator.contact_list(list_id)}")


def test_add_contacts_skips_duplicates_when_not_allowed(kore: Kore, emulator: EmulatorServer) -> None:
    body = {
        "contact_list_name": "Renewal Due - August 2025",
        "data": [{"phoneNumber": "+14155550101"}, {"phoneNumber": "+1999"}, {"phoneNumber": "+1999"}],
    }
    assert kore.request("POST", kore.add_contacts_url, json=body).status_code == 200
    wait_for_count(emulator, RENEWALS, 4)


def test_add_contacts_unknown_list_is_404(kore: Kore) -> None:
    body = {"contact_list_name": "No such list", "data": [{"phoneNumber": "+1"}]}
    assert_error(kore.request("POST", kore.add_contacts_url, json=body), 404, 404, "No such list")


@pytest.mark.parametrize(
    ("records", "where"),
    [
        ([{"phoneNumber": "+1"}, {"firstName": "no phone"}], "data[1].phoneNumber"),
        ([{"phoneNumber": ""}], "data[0].phoneNumber"),
        ([{"phoneNumber": 15550001}], "data[0].phoneNumber"),
        ([{"phoneNumber": "+1"}, "+2"], "data[1]"),
    ],
)
def test_add_contacts_validation_names_the_record(
    kore: Kore, emulator: EmulatorServer, records: list[object], where: str
) -> None:
    body = {"contact_list_name": "Overdue Invoices", "data": records}
    assert_error(kore.request("POST", kore.add_contacts_url, json=body), 412, 412, where)


def test_get_contacts_paging(kore: Kore, emulator: EmulatorServer) -> None:
    body = {"contact_list_name": "Overdue Invoices", "data": [{"phoneNumber": f"+1{i}"} for i in range(6)]}
    assert kore.request("POST", kore.add_contacts_url, json=body).status_code == 200
    wait_for_count(emulator, OVERDUE, 7)
    url = f"{kore.list_url(OVERDUE)}/getAllContacts"
    r = kore.request("GET", url, params={"skip": 0, "limit": 3})
    assert r.status_code == 200
    payload = r.json()
    assert payload["status"] == "success"
    data = payload["data"]
    assert [c["phoneNumber"] for c in data["results"]] == ["+442079460001", "+10", "+11"]
    assert (data["skip"], data["limit"], data["hasMore"], data["totalPages"], data["totalResults"]) == (
        0,
        3,
        True,
        3,
        7,
    )
    last = kore.request("GET", url, params={"skip": 6, "limit": 3}).json()["data"]
    assert [c["phoneNumber"] for c in last["results"]] == ["+15"]
    assert last["hasMore"] is False
    beyond = kore.request("GET", url).json()["data"]
    assert (beyond["skip"], beyond["limit"], len(beyond["results"]), beyond["hasMore"]) == (0, 100, 7, False)


@pytest.mark.parametrize(
    ("params", "field"),
    [({"skip": -1}, "skip"), ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "x"}, "limit")],
)
def test_get_contacts_rejects_bad_paging(kore: Kore, params: dict[str, object], field: str) -> None:
    r = kore.request("GET", f"{kore.list_url(OVERDUE)}/getAllContacts", params=params)
    assert_error(r, 400, 400, field)


def test_get_contacts_unknown_list(kore: Kore) -> None:
    assert_error(kore.request("GET", f"{kore.list_url('cl-x')}/getAllContacts"), 404, 404)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("PATCH", "/cl-demo-renewals-due"), ("POST", "/cl-demo-renewals-due"), ("GET", "/createContactList/x")],
)
def test_wrong_method_or_unknown_route(kore: Kore, method: str, suffix: str) -> None:
    r = kore.request(method, kore.lists_url + suffix, json={})
    if suffix.endswith("/x"):
        assert_error(r, 404, 404)
    else:
        assert_error(r, 405, 405, method)
        assert "Allow" in r.headers


def test_wrong_method_on_add_contacts(kore: Kore) -> None:
    assert_error(kore.request("GET", kore.add_contacts_url), 405, 405)


def test_unknown_route_is_404_envelope(kore: Kore) -> None:
    assert_error(kore.request("GET", f"{kore.server.base_url}/api/1.1/nothing/here"), 404, 404, "No route")


def test_concurrent_clients(emulator: EmulatorServer) -> None:
    """The test process drives the emulator from several threads at once; nothing is lost or duplicated."""
    errors: list[str] = []

    def worker(index: int) -> None:
        kore = Kore(emulator)
        try:
            for j in range(5):
                body = {"name": f"Parallel {index}-{j}", "source": "passiveApiIntegration"}
                r = kore.request("POST", f"{kore.lists_url}/createContactList", json=body)
                if r.status_code != 200:
                    errors.append(r.text)
        finally:
            kore.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []
    assert len(emulator.contact_lists()) == 4 + 8 * 5
