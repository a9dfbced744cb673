"""The contact-list endpoints as data: what each call sends and whether it is safe to repeat."""

from __future__ import annotations

import pytest

from airflow_provider_koreai.api import Call
from airflow_provider_koreai.api.contact_lists import ContactListEndpoints
from airflow_provider_koreai.responses import NOT_FOUND_BY_NAME_HINT, NOT_FOUND_HINT

IID = "st-1/2 3"
PREFIX = "/agentassist/api/v1/public/st-1%2F2%203/campaign/contactList"
ENDPOINTS = ContactListEndpoints(IID)
#: What a 404 means, the start of its message.
MISSING = "Contact list cl-1 not found"
NO_APPLICATION = "Contact lists not found for this application"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (ENDPOINTS.get("cl-1"), Call("GET", f"{PREFIX}/cl-1", not_found=MISSING)),
        (
            ENDPOINTS.update("cl-1", {"name": "n"}),
            Call("PUT", f"{PREFIX}/cl-1", json={"name": "n"}, not_found=MISSING),
        ),
        (
            ENDPOINTS.list_all(),
            Call("POST", f"{PREFIX}/getAllListDetails", params={"type": "call"}, not_found=NO_APPLICATION),
        ),
        (
            ENDPOINTS.create({"name": "n"}),
            Call(
                "POST",
                f"{PREFIX}/createContactList",
                json={"name": "n"},
                idempotent=False,
                not_found=NO_APPLICATION,
            ),
        ),
        (ENDPOINTS.delete("cl-1"), Call("DELETE", f"{PREFIX}/cl-1", idempotent=False, not_found=MISSING)),
        (
            ENDPOINTS.contacts_page("cl-1", skip=200, limit=100),
            Call(
                "GET",
                f"{PREFIX}/cl-1/getAllContacts",
                params={"skip": "200", "limit": "100"},
                not_found=MISSING,
            ),
        ),
    ],
)
def test_each_call_is_described_once(call: Call, expected: Call) -> None:
    assert call == expected
    assert call.not_found_hint == NOT_FOUND_HINT


def test_adding_contacts_addresses_the_list_by_name_under_its_own_prefix() -> None:
    call = ENDPOINTS.add_contacts("Renewals due", [{"phoneNumber": "+1"}])

    assert call.endpoint == "POST /api/1.1/public/st-1%2F2%203/campaign/contactList/addContacts"
    assert call.json == {"contact_list_name": "Renewals due", "data": [{"phoneNumber": "+1"}]}
    assert not call.idempotent
    assert call.not_found_hint == NOT_FOUND_BY_NAME_HINT
    assert call.not_found == "No contact list named 'Renewals due'"


def test_path_segments_are_percent_encoded() -> None:
    assert ENDPOINTS.path("a/b", "c d") == f"{PREFIX}/a%2Fb/c%20d"
