"""The contact-list calls of Kore.ai's Campaign Management API (see the wire contract, sections 3.1-3.7).

Most calls live under ``/agentassist/api/v1/public/{iid}/campaign/contactList``; adding contacts lives under
another prefix and addresses the list by name, not id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from airflow_provider_koreai.api import Call
from airflow_provider_koreai.responses import NOT_FOUND_BY_NAME_HINT

PREFIX = "/agentassist/api/v1/public/{iid}/campaign/contactList"
ADD_CONTACTS_PATH = "/api/1.1/public/{iid}/campaign/contactList/addContacts"
#: The largest page ``getAllContacts`` serves.
MAX_PAGE_SIZE = 1000


class ContactListEndpoints:
    """The contact-list calls of one application (``iid``). Arguments are assumed checked by the caller
    (:mod:`~airflow_provider_koreai.validation`); path segments are percent-encoded here."""

    def __init__(self, iid: str) -> None:
        application = quote(iid, safe="")
        self._prefix = PREFIX.format(iid=application)
        self._add_contacts = ADD_CONTACTS_PATH.format(iid=application)

    def path(self, *segments: str) -> str:
        """The path of a contact-list call, each segment percent-encoded."""
        return "/".join([self._prefix, *(quote(segment, safe="") for segment in segments)])

    def get(self, contact_list_id: str) -> Call:
        return Call("GET", self.path(contact_list_id), not_found=_missing(contact_list_id))

    def update(self, contact_list_id: str, body: dict[str, Any]) -> Call:
        """A PUT of the whole settings: sending it twice leaves the same list."""
        return Call("PUT", self.path(contact_list_id), json=body, not_found=_missing(contact_list_id))

    def list_all(self) -> Call:
        """Every call-type list of the application: a read, although Kore.ai made it a POST."""
        return Call(
            "POST", self.path("getAllListDetails"), params={"type": "call"}, not_found=_NO_APPLICATION
        )

    def create(self, body: dict[str, Any]) -> Call:
        """Not safe to repeat: a second POST may create a second list of the same name."""
        return Call(
            "POST", self.path("createContactList"), json=body, idempotent=False, not_found=_NO_APPLICATION
        )

    def delete(self, contact_list_id: str) -> Call:
        """Not safe to repeat blindly: a repeat after a success answers 404."""
        return Call(
            "DELETE", self.path(contact_list_id), idempotent=False, not_found=_missing(contact_list_id)
        )

    def add_contacts(self, contact_list_name: str, records: list[dict[str, Any]]) -> Call:
        """Not safe to repeat: a list that allows duplicates would hold the contacts twice."""
        return Call(
            "POST",
            self._add_contacts,
            json={"contact_list_name": contact_list_name, "data": records},
            idempotent=False,
            not_found_hint=NOT_FOUND_BY_NAME_HINT,
            not_found=f"No contact list named {contact_list_name!r}",
        )

    def contacts_page(self, contact_list_id: str, *, skip: int, limit: int) -> Call:
        params = {"skip": str(skip), "limit": str(limit)}
        path = self.path(contact_list_id, "getAllContacts")
        return Call("GET", path, params=params, not_found=_missing(contact_list_id))


#: A 404 from a call that names no list: the application (iid) or the route is unknown.
_NO_APPLICATION = "Contact lists not found for this application"


def _missing(contact_list_id: str) -> str:
    return f"Contact list {contact_list_id} not found"
