"""Campaigns: the state machine, the simulated dialer and the per-contact results.

A campaign moves ``Preparing`` -> ``Ready`` -> ``Active`` -> ``Completed`` or ``Stopped`` (``Paused`` only
through the admin route ``POST /_emulator/campaigns/{id}/pause``: Kore.ai documents no API trigger for it).
Nothing runs in the background: every read and write first brings the campaign up to date from the
emulator's :class:`EmulatorClock`, so tests can freeze and advance that clock and count instead of sleeping.

Kore.ai documents none of the following; they are the emulator's **model assumptions** (also listed in
``docs/emulator.rst``):

* A voice campaign is ``Preparing`` for ``EmulatorSettings.campaign_preparation_seconds`` after it was
  created, then ``Ready``; an SMS campaign is ``Ready`` at once. Updating a campaign keeps its status.
* ``play`` on ``Preparing`` or ``Active`` is a 409; on ``Paused`` it resumes the same instance where it
  left off; on ``Ready``, ``Stopped`` or ``Completed`` it starts a new instance (a new ``cid-`` id) that
  dials a snapshot of its lists' contacts taken at play time, from the top. Contacts added to a list later
  are dialled by the next instance, not this one.
* ``play`` while another ``Active`` or ``Paused`` campaign uses one of the campaign's lists is a 409
  naming the list and the other campaign (two campaigns may not run on one list at once).
* ``stop`` on ``Active`` or ``Paused`` gives ``Stopped``; on any other status it is a 409. A
  ``campaignType`` that is not the campaign's own, or an unknown ``trigger``/``campaignType``, is a 400;
  an unknown campaign a 404. Update and delete of an ``Active`` or ``Paused`` campaign are 409s.
* The dialer dials ``EmulatorSettings.dial_rate`` contacts a second while the campaign is ``Active``
  (not while ``Paused``): ``t`` seconds of dialling have done ``floor(t * rate)`` contacts, in the order
  of the campaign's lists and of the contacts in each (``dialingOrder`` ``LIFO`` reverses it). When all
  are done the campaign is ``Completed``; a campaign with no contacts completes at once. A rate of 0
  never dials: the campaign stays ``Active`` until stopped.
* Each dialled contact's outcome follows from the SHA-256 of its phone number (:func:`dial_outcome`):
  60 % answered and hung up by the user, 20 % hung up by the agent (both ``dialerOutcome``
  ``"completed"`` after 1 attempt), 10 % ``noAnswer``, 5 % ``busy`` and 5 % ``failed`` (these three
  after ``maxAttemptsPerRecord`` attempts, without a bot session). The unreached outcome names are
  guesses from Kore.ai's dashboard dispositions. A contact not yet dialled has ``dialerOutcome`` ``""``,
  0 attempts, ``agentDispositionCodes`` ``[]`` and every other field ``""``.
* The results of the last instance stay readable after ``Completed`` or ``Stopped`` until the next play;
  a campaign never played has no results. SMS campaigns run through the same dialer.
* Campaign names are unique in an account across voice and SMS (409), compared exactly like list names.
  A campaign keeps its lists by id, so renaming a list renames it in the campaign's ``contactLists``,
  and a list any campaign names cannot be deleted (409), whatever the campaign's status.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from airflow_provider_koreai.emulator.errors import KoreApiError, error_body
from airflow_provider_koreai.emulator.models import SmsCampaignSpec, VoiceCampaignSpec
from airflow_provider_koreai.emulator.settings import EmulatorSettings
from airflow_provider_koreai.emulator.state import ContactStore, TenantKey, utc_now_iso

RUNNING = frozenset({"Active", "Paused"})
#: The seeded campaign: voice, Agentless, Ready, on the seeded list "Renewal Due - August 2025".
DEMO_CAMPAIGN_ID = "cd-demo-renewals"
DEMO_CAMPAIGN_LIST_ID = "cl-demo-renewals-due"

# The dialer's float arithmetic: 0.29 s * 100/s is 28.999999999999996, which must count as 29.
_EPSILON = 1e-9


class EmulatorClock:
    """Seconds, monotonic: the source's time plus an offset, or a frozen instant plus that offset.

    Tests (and ``POST /_emulator/clock``) :meth:`freeze` it and :meth:`advance` it, so that counting
    dialled contacts needs no sleeping; :meth:`reset` returns to real time.
    """

    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._frozen_at: float | None = None
        self._offset = 0.0

    def __call__(self) -> float:
        with self._lock:
            base = self._source() if self._frozen_at is None else self._frozen_at
            return base + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self) -> float:
        """Stop time where it is now; return that instant."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = self._source()
            return self._frozen_at + self._offset

    def advance(self, seconds: float) -> float:
        """Move time forward (frozen or not); return the new now."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, not by {seconds} seconds")
        with self._lock:
            self._offset += seconds
        return self()

    def reset(self) -> None:
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def dial_outcome(phone_number: str, max_attempts: int) -> dict[str, Any]:
    """The outcome of dialling ``phone_number``: the same for the same number, every run, every process.

    Returns the result fields other than ``phoneNumber``, ``uniqueId`` and ``botSessionId``.
    """
    digest = _digest(phone_number)
    bucket = digest[0] % 20
    if bucket < 12:
        return {
            "dialerOutcome": "completed",
            "numberOfAttemptsSoFar": 1,
            "agentDispositionCodes": ["System Generated"],
            "botOutboundStatus": "userHangUp",
            "botOutboundStatusDetail": "user_hangup",
        }
    if bucket < 16:
        return {
            "dialerOutcome": "completed",
            "numberOfAttemptsSoFar": 1,
            "agentDispositionCodes": ["Requires Supervisor Attention"],
            "botOutboundStatus": "agentHangUp",
            "botOutboundStatusDetail": "agent_hangup",
        }
    unreached = "noAnswer" if bucket < 18 else ("busy" if bucket == 18 else "failed")
    return {
        "dialerOutcome": unreached,
        "numberOfAttemptsSoFar": max_attempts,
        "agentDispositionCodes": [],
        "botOutboundStatus": "",
        "botOutboundStatusDetail": "",
    }


def _pending_row(contact: dict[str, str]) -> dict[str, Any]:
    return {
        "phoneNumber": contact["phoneNumber"],
        "uniqueId": contact["uniqueId"],
        "dialerOutcome": "",
        "numberOfAttemptsSoFar": 0,
        "botSessionId": "",
        "agentDispositionCodes": [],
        "botOutboundStatus": "",
        "botOutboundStatusDetail": "",
    }


@dataclass
class Instance:
    """One run of a campaign: the contacts it dials (a snapshot taken at play) and how far it got."""

    id: str
    run: int
    contacts: list[dict[str, str]]
    max_attempts: int
    dialled_seconds: float = 0.0  # dialling time before the current Active stretch
    active_since: float | None = None  # clock at the start of the current Active stretch
    final_count: int | None = None  # contacts done, once Stopped or Completed

    def done(self, now: float, rate: float) -> int:
        if self.final_count is not None:
            return self.final_count
        running = 0.0 if self.active_since is None else max(0.0, now - self.active_since)
        seconds = self.dialled_seconds + running
        dialled = math.floor(seconds * rate + _EPSILON) if rate > 0 else 0
        return min(dialled, len(self.contacts))

    def pause(self, now: float) -> None:
        if self.active_since is not None:
            self.dialled_seconds += now - self.active_since
            self.active_since = None

    def finish(self, now: float, rate: float) -> None:
        self.final_count = self.done(now, rate)
        self.active_since = None

    def row(self, campaign_id: str, index: int, done: int) -> dict[str, Any]:
        contact = self.contacts[index]
        if index >= done:
            return _pending_row(contact)
        outcome = dial_outcome(contact["phoneNumber"], self.max_attempts)
        session = ""
        if outcome["dialerOutcome"] == "completed":
            session = hashlib.sha256(
                f"{campaign_id}:{self.run}:{index}:{contact['phoneNumber']}".encode()
            ).hexdigest()[:24]
        return {
            "phoneNumber": contact["phoneNumber"],
            "uniqueId": contact["uniqueId"],
            "dialerOutcome": outcome["dialerOutcome"],
            "numberOfAttemptsSoFar": outcome["numberOfAttemptsSoFar"],
            "botSessionId": session,
            "agentDispositionCodes": outcome["agentDispositionCodes"],
            "botOutboundStatus": outcome["botOutboundStatus"],
            "botOutboundStatusDetail": outcome["botOutboundStatusDetail"],
        }


@dataclass
class Campaign:
    id: str
    campaign_type: str
    spec: dict[str, Any]  # the validated body, without contactLists and campaignType
    list_ids: list[str]
    status: str
    created_at: str
    updated_at: str
    ready_at: float | None = None  # clock at which a Preparing campaign becomes Ready
    instance: Instance | None = None
    instance_updated_at: str | None = None
    runs: int = 0

    @property
    def name(self) -> str:
        return str(self.spec["name"])


def _flow_id(name: str) -> str:
    return "cf-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:24]


def _demo_spec() -> dict[str, Any]:
    return {
        "name": "Renewal Reminders - August 2025",
        "description": "Reminds policy holders whose renewal is due this month",
        "priority": "5",
        "dialingMode": "Agentless",
        "experienceFlowName": "Renewal Reminder Flow",
        "enableMachineDetect": False,
        "dialingStrategy": {
            "callerId": {"phoneNumber": "+14155550100"},
            "callingHours": {
                "frequency": "WEEKLY",
                "timezone": "America/Los_Angeles",
                "days": [
                    {"day": day, "start": "9:00 AM", "end": "6:00 PM"}
                    for day in ("MO", "TU", "WE", "TH", "FR")
                ],
            },
            "dialingOrder": "FIFO",
            "maxAttemptsPerRecord": 3,
            "defaultRetryPeriod": 60,
            "maxRingTime": 30,
        },
        "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
    }


class CampaignStore:
    """Campaigns per tenant, on the contact store's lock. Nothing it returns is stored state."""

    def __init__(self, settings: EmulatorSettings, lists: ContactStore, clock: EmulatorClock) -> None:
        self._settings = settings
        self._lists = lists
        self._lock = lists.lock
        self.clock = clock
        self._campaigns: dict[TenantKey, dict[str, Campaign]] = {}
        lists.link_usage(self._usage)
        self.reset()

    # ----------------------------------------------------------------------------------------- internals

    def reset(self) -> None:
        """Forget every campaign; seed the demo campaign when the demo list is there."""
        with self._lock:
            self._campaigns = {}
            tenant = (self._settings.account_id, self._settings.iid)
            if self._settings.seed_demo_data and self._lists.name_of(tenant, DEMO_CAMPAIGN_LIST_ID):
                self._campaigns[tenant] = {
                    DEMO_CAMPAIGN_ID: Campaign(
                        id=DEMO_CAMPAIGN_ID,
                        campaign_type="voice",
                        spec=_demo_spec(),
                        list_ids=[DEMO_CAMPAIGN_LIST_ID],
                        status="Ready",
                        created_at="2025-07-28T09:30:00.000Z",
                        updated_at="2025-07-28T09:30:00.000Z",
                    )
                }

    def _usage(self, tenant: TenantKey, list_id: str) -> list[dict[str, str]]:
        return [
            {"name": c.name, "id": c.id}
            for c in self._campaigns.get(tenant, {}).values()
            if list_id in c.list_ids
        ]

    def _refresh(self, campaign: Campaign, now: float) -> Campaign:
        """Bring a campaign up to ``now``: Preparing -> Ready, Active -> Completed."""
        if campaign.status == "Preparing" and campaign.ready_at is not None and now >= campaign.ready_at:
            campaign.status = "Ready"
            campaign.updated_at = utc_now_iso()
        instance = campaign.instance
        rate = self._settings.dial_rate
        if (
            campaign.status == "Active"
            and instance is not None
            and instance.done(now, rate) >= len(instance.contacts)
        ):
            instance.finish(now, rate)
            campaign.status = "Completed"
            campaign.updated_at = campaign.instance_updated_at = utc_now_iso()
        return campaign

    def _get(self, tenant: TenantKey, campaign_id: str) -> Campaign:
        found = self._campaigns.get(tenant, {}).get(campaign_id)
        if found is None:
            raise KoreApiError(
                404, f"Campaign {campaign_id} not found: check the campaign id and the connection's iid", 404
            )
        return self._refresh(found, self.clock())

    def _check_type(self, campaign: Campaign, campaign_type: str) -> None:
        if campaign.campaign_type != campaign_type:
            raise KoreApiError(
                400,
                f"campaignType '{campaign_type}' does not match the campaign: "
                f"'{campaign.name}' ({campaign.id}) is a {campaign.campaign_type} campaign",
                400,
            )

    def _list_ids(self, tenant: TenantKey, names: list[str]) -> list[str]:
        ids: list[str] = []
        unknown: list[str] = []
        for name in names:
            list_id = self._lists.id_by_name(tenant, name)
            if list_id is None:
                unknown.append(name)
            else:
                ids.append(list_id)
        if unknown:
            messages = [
                (f"contactLists: no contact list is named '{name}': create it first or fix the name", 400)
                for name in unknown
            ]
            raise KoreApiError(400, messages[0][0], 400, body=error_body(messages))
        return ids

    def _ensure_unique_name(self, tenant: TenantKey, name: str, except_id: str | None = None) -> None:
        for other in self._campaigns.get(tenant, {}).values():
            if other.name == name and other.id != except_id:
                raise KoreApiError(
                    409, f"Campaign with name '{name}' already exists ({other.id}): choose another name", 409
                )

    def _to_api(self, tenant: TenantKey, campaign: Campaign) -> dict[str, Any]:
        spec = campaign.spec
        data: dict[str, Any] = {
            "_id": campaign.id,
            "name": campaign.name,
            "lname": campaign.name.lower(),
            "description": spec.get("description", ""),
            "status": campaign.status,
            "priority": spec["priority"],
        }
        if campaign.campaign_type == "voice":
            data["dialingMode"] = spec["dialingMode"]
        data["dialingStrategy"] = spec["dialingStrategy"]
        if spec.get("experienceFlowName") is not None:
            data["experienceFlow"] = _flow_id(spec["experienceFlowName"])
            data["experienceFlowName"] = spec["experienceFlowName"]
        for key in ("queue_name", "maxSkips", "enableMachineDetect", "format", "message", "dncLists"):
            if spec.get(key) is not None:
                data[key] = spec[key]
        if campaign.campaign_type == "sms":
            data["enableMachineDetect"] = False
        data["schedule"] = {
            "isSchedulingEnabled": False,
            "isRecurrenceEnabled": False,
            **spec.get("schedule", {}),
        }
        data["contactLists"] = [
            self._lists.name_of(tenant, list_id) or list_id for list_id in campaign.list_ids
        ]
        data["campaignType"] = campaign.campaign_type
        data["createdAt"] = campaign.created_at
        data["updatedAt"] = campaign.updated_at
        if campaign.instance is not None:
            data["campaignInstanceId"] = campaign.instance.id
            data["campaignInstanceUpdatedAt"] = campaign.instance_updated_at
        return copy_json(data)

    @staticmethod
    def _spec_of(body: VoiceCampaignSpec | SmsCampaignSpec) -> tuple[dict[str, Any], list[str]]:
        spec = body.model_dump(exclude_none=True)
        names = spec.pop("contactLists")
        spec.pop("campaignType", None)
        return spec, names

    # -------------------------------------------------------------------------------------- API answers

    def create(
        self, tenant: TenantKey, campaign_type: str, body: VoiceCampaignSpec | SmsCampaignSpec
    ) -> dict[str, Any]:
        spec, names = self._spec_of(body)
        with self._lock:
            list_ids = self._list_ids(tenant, names)
            self._ensure_unique_name(tenant, spec["name"])
            now_iso = utc_now_iso()
            preparation = self._settings.campaign_preparation_seconds
            preparing = campaign_type == "voice" and preparation > 0
            campaign = Campaign(
                id=f"cd-{uuid.uuid4()}",
                campaign_type=campaign_type,
                spec=spec,
                list_ids=list_ids,
                status="Preparing" if preparing else "Ready",
                created_at=now_iso,
                updated_at=now_iso,
                ready_at=self.clock() + preparation if preparing else None,
            )
            self._campaigns.setdefault(tenant, {})[campaign.id] = campaign
            return self._to_api(tenant, campaign)

    def update(
        self,
        tenant: TenantKey,
        campaign_id: str,
        campaign_type: str,
        body: VoiceCampaignSpec | SmsCampaignSpec,
    ) -> dict[str, Any]:
        """A full replace of the definition; the status and the last instance stay."""
        spec, names = self._spec_of(body)
        with self._lock:
            campaign = self._get(tenant, campaign_id)
            self._check_type(campaign, campaign_type)
            if campaign.status in RUNNING:
                raise KoreApiError(
                    409,
                    f"Campaign '{campaign.name}' is {campaign.status} and cannot be edited: stop it first",
                    409,
                )
            list_ids = self._list_ids(tenant, names)
            self._ensure_unique_name(tenant, spec["name"], except_id=campaign.id)
            campaign.spec = spec
            campaign.list_ids = list_ids
            campaign.updated_at = utc_now_iso()
            return self._to_api(tenant, campaign)

    def delete(self, tenant: TenantKey, campaign_id: str, campaign_type: str) -> dict[str, Any]:
        with self._lock:
            campaign = self._get(tenant, campaign_id)
            self._check_type(campaign, campaign_type)
            if campaign.status in RUNNING:
                raise KoreApiError(
                    409,
                    f"Campaign '{campaign.name}' is {campaign.status} and cannot be deleted: stop it first",
                    409,
                )
            answer = self._to_api(tenant, campaign)
            del self._campaigns[tenant][campaign_id]
            return answer

    def get(self, tenant: TenantKey, campaign_id: str) -> dict[str, Any]:
        with self._lock:
            return self._to_api(tenant, self._get(tenant, campaign_id))

    def find(self, tenant: TenantKey, campaign_id: str) -> dict[str, Any] | None:
        with self._lock:
            if campaign_id not in self._campaigns.get(tenant, {}):
                return None
            return self.get(tenant, campaign_id)

    def all(
        self,
        tenant: TenantKey,
        campaign_type: str,
        *,
        statuses: Collection[str] | None = None,
        priorities: Collection[int] | None = None,
        dialing_modes: Collection[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The tenant's campaigns of one type, oldest first, filtered like getAllCampaignDetails."""
        with self._lock:
            now = self.clock()
            found = []
            for campaign in self._campaigns.get(tenant, {}).values():
                self._refresh(campaign, now)
                if campaign.campaign_type != campaign_type:
                    continue
                if statuses is not None and campaign.status not in statuses:
                    continue
                if priorities is not None and int(campaign.spec["priority"]) not in priorities:
                    continue
                if dialing_modes is not None and campaign.spec.get("dialingMode") not in dialing_modes:
                    continue
                found.append(self._to_api(tenant, campaign))
            return found

    def status(self, tenant: TenantKey, campaign_id: str) -> dict[str, Any]:
        with self._lock:
            campaign = self._get(tenant, campaign_id)
            return {"id": campaign.id, "status": campaign.status, "name": campaign.name}

    def contacts_page(self, tenant: TenantKey, campaign_id: str, page: int, limit: int) -> dict[str, Any]:
        """One page of the current/last instance's per-contact results, in dialling order."""
        with self._lock:
            campaign = self._get(tenant, campaign_id)
            instance = campaign.instance
            rows: list[dict[str, Any]] = []
            total = 0
            if instance is not None:
                total = len(instance.contacts)
                done = instance.done(self.clock(), self._settings.dial_rate)
                start = (page - 1) * limit
                rows = [instance.row(campaign.id, i, done) for i in range(start, min(start + limit, total))]
            return {
                "results": rows,
                "page": page,
                "limit": limit,
                "totalPages": math.ceil(total / limit),
                "totalResults": total,
            }

    def play(self, tenant: TenantKey, campaign_id: str, campaign_type: str) -> dict[str, Any]:
        with self._lock:
            now = self.clock()
            campaign = self._get(tenant, campaign_id)
            self._check_type(campaign, campaign_type)
            if campaign.status == "Preparing":
                raise KoreApiError(
                    409,
                    f"Campaign '{campaign.name}' is still being prepared: start it once its status is Ready",
                    409,
                )
            if campaign.status == "Active":
                raise KoreApiError(
                    409, f"Campaign '{campaign.name}' is already Active: it is running, nothing to start", 409
                )
            self._ensure_lists_free(tenant, campaign, now)
            rate = self._settings.dial_rate
            if campaign.status == "Paused" and campaign.instance is not None:
                instance = campaign.instance
                instance.active_since = now
            else:
                instance = self._new_instance(tenant, campaign, now)
                campaign.instance = instance
            campaign.status = "Active"
            campaign.updated_at = campaign.instance_updated_at = utc_now_iso()
            done = instance.done(now, rate)
            self._refresh(campaign, now)  # no contacts: Completed from the next read on
            return {
                "status": "Active",
                "message": "Campaign Started",
                "totalCallsCompleted": done,
                "updatedAt": campaign.updated_at,
                "campaignInstanceId": instance.id,
            }

    def _ensure_lists_free(self, tenant: TenantKey, campaign: Campaign, now: float) -> None:
        for other in self._campaigns.get(tenant, {}).values():
            if other.id == campaign.id or self._refresh(other, now).status not in RUNNING:
                continue
            shared = [list_id for list_id in campaign.list_ids if list_id in other.list_ids]
            if shared:
                name = self._lists.name_of(tenant, shared[0]) or shared[0]
                raise KoreApiError(
                    409,
                    f"Contact list '{name}' is in use by the {other.status} campaign '{other.name}' "
                    f"({other.id}): stop that campaign first, two campaigns cannot run on one list",
                    409,
                )

    def _new_instance(self, tenant: TenantKey, campaign: Campaign, now: float) -> Instance:
        contacts = [
            {"phoneNumber": str(c.get("phoneNumber", "")), "uniqueId": str(c.get("uniqueId") or "")}
            for list_id in campaign.list_ids
            for c in self._lists.contacts_of(tenant, list_id)
        ]
        strategy = campaign.spec["dialingStrategy"]
        if strategy.get("dialingOrder") == "LIFO":
            contacts.reverse()
        campaign.runs += 1
        return Instance(
            id=f"cid-{uuid.uuid4()}",
            run=campaign.runs,
            contacts=contacts,
            max_attempts=int(strategy.get("maxAttemptsPerRecord", 1)),
            active_since=now,
        )

    def stop(self, tenant: TenantKey, campaign_id: str, campaign_type: str) -> dict[str, Any]:
        with self._lock:
            now = self.clock()
            campaign = self._get(tenant, campaign_id)
            self._check_type(campaign, campaign_type)
            if campaign.status not in RUNNING or campaign.instance is None:
                raise KoreApiError(
                    409,
                    f"Campaign '{campaign.name}' is not running (status {campaign.status}): nothing to stop",
                    409,
                )
            campaign.instance.finish(now, self._settings.dial_rate)
            campaign.status = "Stopped"
            campaign.updated_at = campaign.instance_updated_at = utc_now_iso()
            return {
                "status": "Stopped",
                "message": "Campaign Stopped",
                "updatedAt": campaign.updated_at,
                "campaignInstanceId": campaign.instance.id,
            }

    # ----------------------------------------------------------------------------------- admin (tests)

    def pause(self, tenant: TenantKey, campaign_id: str) -> dict[str, Any]:
        """What Kore.ai's UI can do and its API cannot: pause an Active campaign."""
        with self._lock:
            now = self.clock()
            campaign = self._get(tenant, campaign_id)
            if campaign.status != "Active" or campaign.instance is None:
                raise KoreApiError(
                    409, f"Campaign '{campaign.name}' is {campaign.status}: only an Active one can pause", 409
                )
            campaign.instance.pause(now)
            campaign.status = "Paused"
            campaign.updated_at = campaign.instance_updated_at = utc_now_iso()
            return {"id": campaign.id, "status": campaign.status, "name": campaign.name}

    def tenant_of(self, campaign_id: str) -> TenantKey | None:
        with self._lock:
            for tenant, campaigns in self._campaigns.items():
                if campaign_id in campaigns:
                    return tenant
            return None

    def snapshot(self) -> list[dict[str, Any]]:
        """Every campaign of every tenant and how far its last run got (``/_emulator/state/campaigns``)."""
        with self._lock:
            now = self.clock()
            found = []
            for (account, iid), campaigns in self._campaigns.items():
                for campaign in campaigns.values():
                    self._refresh(campaign, now)
                    instance = campaign.instance
                    found.append(
                        {
                            **self._to_api((account, iid), campaign),
                            "accountId": account,
                            "iId": iid,
                            "totalContacts": 0 if instance is None else len(instance.contacts),
                            "contactsDialled": 0
                            if instance is None
                            else instance.done(now, self._settings.dial_rate),
                        }
                    )
            return found


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), cheaper than ``copy.deepcopy``."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value
