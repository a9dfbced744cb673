"""The campaign calls of Kore.ai's Campaign Management API (v1), as the fact sheet documents them.

Start and stop live under ``/campaign/api/v1/public/{iid}/campaign/{campaignId}`` (``trigger=play|stop``);
every other call under ``/agentassist/api/v1/public/{iid}/campaign``. Status and the per-contact results
are POSTs that only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from airflow_provider_koreai.api import Call
from airflow_provider_koreai.responses import CAMPAIGN_NOT_FOUND_HINT

PREFIX = "/agentassist/api/v1/public/{iid}/campaign"
TRIGGER_PREFIX = "/campaign/api/v1/public/{iid}/campaign"
#: Kore.ai's ``trigger`` values.
PLAY = "play"
STOP = "stop"


class CampaignEndpoints:
    """The campaign calls of one application (``iid``). Arguments are assumed checked by the caller
    (:mod:`~airflow_provider_koreai.validation`); path segments are percent-encoded here."""

    def __init__(self, iid: str) -> None:
        application = quote(iid, safe="")
        self._prefix = PREFIX.format(iid=application)
        self._trigger_prefix = TRIGGER_PREFIX.format(iid=application)

    def path(self, *segments: str) -> str:
        """The path of a campaign call, each segment percent-encoded."""
        return "/".join([self._prefix, *(quote(segment, safe="") for segment in segments)])

    def trigger(self, campaign_id: str, campaign_type: str, action: str) -> Call:
        """Start (``play``) or stop a campaign. Not safe to repeat: a second play after one that took
        effect may be refused, or start another run."""
        return Call(
            "POST",
            f"{self._trigger_prefix}/{quote(campaign_id, safe='')}",
            params={"campaignType": campaign_type, "trigger": action},
            json={},
            idempotent=False,
            not_found_hint=CAMPAIGN_NOT_FOUND_HINT,
            not_found=_missing(campaign_id),
            enveloped=False,
        )

    def status(self, campaign_id: str) -> Call:
        return self._read_status(campaign_id, {"view": "status"}, {})

    def contacts_page(self, campaign_id: str, *, page: int, limit: int) -> Call:
        """One page of the per-contact dial results."""
        return self._read_status(campaign_id, {"view": "contacts"}, {"page": page, "limit": limit})

    def _read_status(self, campaign_id: str, params: dict[str, str], body: dict[str, Any]) -> Call:
        return Call(
            "POST",
            self.path(campaign_id, "status"),
            params=params,
            json=body,
            not_found_hint=CAMPAIGN_NOT_FOUND_HINT,
            not_found=_missing(campaign_id),
        )

    def get(self, campaign_id: str) -> Call:
        return Call(
            "GET",
            self.path(campaign_id),
            not_found_hint=CAMPAIGN_NOT_FOUND_HINT,
            not_found=_missing(campaign_id),
        )

    def list_page(
        self, campaign_type: str, *, page: int, limit: int, statuses: Sequence[str] | None = None
    ) -> Call:
        """One page of the application's campaigns of a type: a read, although Kore.ai made it a POST."""
        body: dict[str, Any] = {"type": campaign_type, "page": page, "limit": limit}
        if statuses:
            body["filters"] = {"status": list(statuses)}
        return Call(
            "POST",
            self.path("getAllCampaignDetails"),
            json=body,
            not_found_hint=CAMPAIGN_NOT_FOUND_HINT,
            not_found=_NO_APPLICATION,
        )

    def create(self, campaign_type: str, body: dict[str, Any]) -> Call:
        """Not safe to repeat: a second POST may create a second campaign of the same name."""
        return Call(
            "POST",
            self._prefix,
            params={"campaignType": campaign_type},
            json=body,
            idempotent=False,
            not_found_hint=CAMPAIGN_NOT_FOUND_HINT,
            not_found=_NO_APPLICATION,
        )

    def update(self, campaign_id: str, campaign_type: str, body: dict[str, Any]) -> Call:
        """A PUT of the whole definition: sending it twice leaves the same campaign."""
        return Call(
            "PUT",
            self.path(campaign_id),
            params={"campaignType": campaign_type},
            json=body,
            not_found_hint=CAMPAIGN_NOT_FOUND_HINT,
            not_found=_missing(campaign_id),
        )

    def delete(self, campaign_id: str, campaign_type: str) -> Call:
        """Not safe to repeat blindly: a repeat after a success answers 404."""
        return Call(
            "DELETE",
            self.path(campaign_id),
            params={"campaignType": campaign_type},
            idempotent=False,
            not_found_hint=CAMPAIGN_NOT_FOUND_HINT,
            not_found=_missing(campaign_id),
        )


#: A 404 from a call that names no campaign: the application (iid) or the route is unknown.
_NO_APPLICATION = "Campaigns not found for this application"


def _missing(campaign_id: str) -> str:
    return f"Campaign {campaign_id} not found"
