"""In-memory contact-list store, the emulator's stand-in for Kore's database.

State is keyed per ``(account_id, iid)`` like a real tenant, guarded by one lock because the test process
drives the server (event-loop thread) and inspects it (test threads) at the same time. The campaign store
(:mod:`.campaigns`) shares that lock and tells this store which campaigns use a list
(:meth:`ContactStore.link_usage`): a list in use says so (``isListInUse``, ``campaignInUse``) and cannot be
deleted (409), as Kore.ai's UI says of a list linked to a campaign. Everything that
leaves the store is a fresh dict in the wire shape of Kore.ai's "Get contact list" answer, so callers can
never mutate the stored state by accident.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow_provider_koreai.emulator.errors import KoreApiError, not_found
from airflow_provider_koreai.emulator.settings import EmulatorSettings

TenantKey = tuple[str, str]
#: ``(tenant, list_id)`` -> the campaigns that use the list, as ``[{"name": .., "id": ..}]``.
ListUsage = Callable[[TenantKey, str], list[dict[str, str]]]


def _unused(tenant: TenantKey, list_id: str) -> list[dict[str, str]]:
    return []


def utc_now_iso() -> str:
    """Timestamps the way Kore (a Node/Mongo stack) prints them: ``2025-08-01T09:00:00.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class ContactList:
    id: str
    name: str
    description: str
    source: str
    allow_duplicates: bool
    created_at: str
    updated_at: str
    contacts: list[dict[str, Any]] = field(default_factory=list)

    def to_api(self, campaigns: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """The wire shape; ``campaigns`` are the campaigns using the list (``campaignInUse``)."""
        in_use = campaigns or []
        return {
            "_id": self.id,
            "name": self.name,
            "description": self.description,
            "totalRecordCount": len(self.contacts),
            "status": "Ready",
            "isListInUse": bool(in_use),
            "listType": "call",
            "campaignInUse": [dict(campaign) for campaign in in_use],
            "source": self.source,
            "allowDuplicates": self.allow_duplicates,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


def _seed_lists() -> list[ContactList]:
    """Realistic lists with fixed ids so demos and tests can address them without creating anything.

    Each example DAG that updates lists by id owns its own seeded lists (and names them distinctly), so
    the examples can run in any order, at the same time, against one emulator:
    ``koreai_update_contact_list`` owns ``cl-demo-renewals-due``, ``koreai_update_many_contact_lists``
    owns ``cl-demo-overdue-invoices`` and ``cl-demo-churn-risk``, ``koreai_refresh_on_customer_data``
    owns ``cl-demo-warehouse-renewals``; ``koreai_refresh_contact_list`` creates its own.
    """
    return [
        ContactList(
            id="cl-demo-renewals-due",
            name="Renewal Due - August 2025",
            description="Policies whose renewal is due this month",
            source="passiveApiIntegration",
            allow_duplicates=False,
            created_at="2025-07-28T09:00:00.000Z",
            updated_at="2025-07-28T09:00:00.000Z",
            contacts=[
                {
                    "_id": "c-demo-renewal-1",
                    "phoneNumber": "+14155550101",
                    "firstName": "Ada",
                    "lastName": "Lovelace",
                    "timeZone": "America/Los_Angeles",
                },
                {
                    "_id": "c-demo-renewal-2",
                    "phoneNumber": "+14155550102",
                    "firstName": "Alan",
                    "lastName": "Turing",
                    "timeZone": "America/Los_Angeles",
                },
                {
                    "_id": "c-demo-renewal-3",
                    "phoneNumber": "+12125550103",
                    "firstName": "Grace",
                    "lastName": "Hopper",
                    "timeZone": "America/New_York",
                },
            ],
        ),
        ContactList(
            id="cl-demo-overdue-invoices",
            name="Overdue Invoices",
            description="Customers with an invoice more than 30 days overdue",
            source="passiveApiIntegration",
            allow_duplicates=True,
            created_at="2025-07-30T14:30:00.000Z",
            updated_at="2025-07-30T14:30:00.000Z",
            contacts=[
                {
                    "_id": "c-demo-overdue-1",
                    "phoneNumber": "+442079460001",
                    "firstName": "Edsger",
                    "lastName": "Dijkstra",
                    "timeZone": "Europe/London",
                },
            ],
        ),
        ContactList(
            id="cl-demo-churn-risk",
            name="Churn Risk",
            description="Customers whose usage dropped last month",
            source="passiveApiIntegration",
            allow_duplicates=False,
            created_at="2025-07-30T14:45:00.000Z",
            updated_at="2025-07-30T14:45:00.000Z",
        ),
        ContactList(
            id="cl-demo-warehouse-renewals",
            name="Warehouse Renewals",
            description="Renewals due, as loaded by the warehouse",
            source="passiveApiIntegration",
            allow_duplicates=False,
            created_at="2025-07-31T08:00:00.000Z",
            updated_at="2025-07-31T08:00:00.000Z",
        ),
    ]


class ContactStore:
    """Contact lists per tenant. Every public method takes the lock; none returns stored objects."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self._settings = settings
        self._lock = threading.RLock()
        self._lists: dict[TenantKey, dict[str, ContactList]] = {}
        self._generation = 0
        self._usage: ListUsage = _unused
        self.reset()

    @property
    def lock(self) -> threading.RLock:
        """The one lock of the emulator's state, shared with the campaign store."""
        return self._lock

    def link_usage(self, usage: ListUsage) -> None:
        """Ask ``usage`` (under the lock) which campaigns use a list, for its answer and its deletion."""
        self._usage = usage

    def _api(self, tenant: TenantKey, contact_list: ContactList) -> dict[str, Any]:
        return contact_list.to_api(self._usage(tenant, contact_list.id))

    @property
    def generation(self) -> int:
        """Bumped by :meth:`reset`; delayed ingestions scheduled before a reset are dropped."""
        return self._generation

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._lists = {}
            if self._settings.seed_demo_data:
                tenant = self._tenant_lists((self._settings.account_id, self._settings.iid))
                for contact_list in _seed_lists():
                    tenant[contact_list.id] = contact_list

    def _tenant_lists(self, tenant: TenantKey) -> dict[str, ContactList]:
        return self._lists.setdefault(tenant, {})

    def _get(self, tenant: TenantKey, list_id: str) -> ContactList:
        found = self._lists.get(tenant, {}).get(list_id)
        if found is None:
            raise not_found(list_id)
        return found

    def _ensure_unique_name(self, tenant: TenantKey, name: str, except_id: str | None = None) -> None:
        for other in self._lists.get(tenant, {}).values():
            if other.name == name and other.id != except_id:
                raise KoreApiError(409, f"Contact list with name '{name}' already exists", 409)

    def create(
        self, tenant: TenantKey, *, name: str, description: str, source: str, allow_duplicates: bool
    ) -> dict[str, Any]:
        with self._lock:
            self._ensure_unique_name(tenant, name)
            now = utc_now_iso()
            contact_list = ContactList(
                id=f"cl-{uuid.uuid4()}",
                name=name,
                description=description,
                source=source,
                allow_duplicates=allow_duplicates,
                created_at=now,
                updated_at=now,
            )
            self._tenant_lists(tenant)[contact_list.id] = contact_list
            return self._api(tenant, contact_list)

    def update(
        self,
        tenant: TenantKey,
        list_id: str,
        *,
        name: str,
        description: str | None,
        source: str,
        allow_duplicates: bool,
    ) -> dict[str, Any]:
        """Apply a PUT. ``description=None`` (field absent) keeps the stored description."""
        with self._lock:
            contact_list = self._get(tenant, list_id)
            self._ensure_unique_name(tenant, name, except_id=list_id)
            contact_list.name = name
            if description is not None:
                contact_list.description = description
            contact_list.source = source
            contact_list.allow_duplicates = allow_duplicates
            contact_list.updated_at = utc_now_iso()
            return self._api(tenant, contact_list)

    def get(self, tenant: TenantKey, list_id: str) -> dict[str, Any]:
        with self._lock:
            return self._api(tenant, self._get(tenant, list_id))

    def find(self, tenant: TenantKey, list_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._lists.get(tenant, {}).get(list_id)
            return None if found is None else self._api(tenant, found)

    def all(self, tenant: TenantKey) -> list[dict[str, Any]]:
        with self._lock:
            return [self._api(tenant, cl) for cl in self._lists.get(tenant, {}).values()]

    def delete(self, tenant: TenantKey, list_id: str) -> dict[str, Any]:
        """Model assumption: a list that any campaign names cannot be deleted (409 naming them)."""
        with self._lock:
            contact_list = self._get(tenant, list_id)
            users = self._usage(tenant, list_id)
            if users:
                names = ", ".join(f"'{c['name']}' ({c['id']})" for c in users)
                raise KoreApiError(
                    409,
                    f"Contact list '{contact_list.name}' is used by the campaign(s) {names}: "
                    "delete those campaigns or remove the list from them first",
                    409,
                )
            del self._lists[tenant][list_id]
            return contact_list.to_api()

    def name_of(self, tenant: TenantKey, list_id: str) -> str | None:
        with self._lock:
            found = self._lists.get(tenant, {}).get(list_id)
            return None if found is None else found.name

    def id_by_name(self, tenant: TenantKey, name: str) -> str | None:
        """The id of the tenant's list called ``name``, or None (campaigns name their lists)."""
        with self._lock:
            for contact_list in self._lists.get(tenant, {}).values():
                if contact_list.name == name:
                    return contact_list.id
            return None

    def contacts_of(self, tenant: TenantKey, list_id: str) -> list[dict[str, Any]]:
        """A copy of every contact of a list in list order ([] for an unknown list)."""
        with self._lock:
            found = self._lists.get(tenant, {}).get(list_id)
            return [] if found is None else copy.deepcopy(found.contacts)

    def id_for_name(self, tenant: TenantKey, name: str) -> str:
        """``addContacts`` addresses lists by name; unknown names are a 404 like unknown ids."""
        found = self.id_by_name(tenant, name)
        if found is None:
            raise KoreApiError(404, f"Contact list with name '{name}' not found", 404)
        return found

    def add_contacts(
        self, tenant: TenantKey, list_id: str, records: Iterable[Mapping[str, Any]], generation: int
    ) -> int:
        """Append records (each gets a generated ``_id``); return how many were added.

        With ``allowDuplicates`` false, a record whose ``phoneNumber`` is already in the list (or earlier in
        the same batch) is skipped silently, as the asynchronous API has no channel to report it. Nothing
        happens if the list was deleted meanwhile or the store was reset since the call was accepted.
        """
        with self._lock:
            if generation != self._generation:
                return 0
            contact_list = self._lists.get(tenant, {}).get(list_id)
            if contact_list is None:
                return 0
            seen = {str(c.get("phoneNumber")) for c in contact_list.contacts}
            added = 0
            for record in records:
                phone = str(record.get("phoneNumber"))
                if not contact_list.allow_duplicates and phone in seen:
                    continue
                seen.add(phone)
                fields = {k: copy.deepcopy(v) for k, v in record.items() if k != "_id"}
                contact_list.contacts.append({"_id": f"c-{uuid.uuid4()}", **fields})
                added += 1
            if added:
                contact_list.updated_at = utc_now_iso()
            return added

    def contacts_page(
        self, tenant: TenantKey, list_id: str, skip: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            contacts = self._get(tenant, list_id).contacts
            return copy.deepcopy(contacts[skip : skip + limit]), len(contacts)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every list of every tenant with its contacts (for ``GET /_emulator/state``)."""
        with self._lock:
            return [
                {
                    **self._api((account, iid), cl),
                    "accountId": account,
                    "iId": iid,
                    "contacts": copy.deepcopy(cl.contacts),
                }
                for (account, iid), lists in self._lists.items()
                for cl in lists.values()
            ]
