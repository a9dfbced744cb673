"""The campaign sensor's rule: which status ends the wait, how, and what each change of status says.

:class:`~airflow_provider_koreai.sensors.campaign.CampaignStatusSensor` on the worker and
:class:`~airflow_provider_koreai.triggers.campaign.CampaignStatusTrigger` in the triggerer both read a
campaign's status and hand it to a :class:`CampaignStatusWatch`, so that they decide and log alike:

* a status among ``target_statuses`` ends the wait with success;
* a status among ``failure_statuses`` ends it with a failure that names the status (no task retry:
  another try would read the same status);
* any other status keeps the wait going: ``Paused`` (the campaign resumes when somebody plays it
  again), ``Active``, ``Ready``... A status Kore.ai does not document
  (:data:`~airflow_provider_koreai.defaults.CAMPAIGN_STATUSES`) is logged as a warning and waited on
  until the timeout.

Each change of status is logged once, at INFO (the first status read too); an unchanged status only at
DEBUG, since a campaign may run for hours. The watch remembers the last status it saw; the sensor
carries it between reschedule-mode pokes and into the trigger.

The DAG processor loads this module with the sensor: it imports only our dependency-free modules.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from airflow_provider_koreai.defaults import CAMPAIGN_STATUSES

#: :attr:`StatusReading.outcome` of a status among ``target_statuses``.
SUCCESS = "success"
#: :attr:`StatusReading.outcome` of a status among ``failure_statuses``.
FAILURE = "failure"


@dataclass(frozen=True)
class StatusReading:
    """One status read, judged by :meth:`CampaignStatusWatch.observe`."""

    campaign_id: str
    status: str
    name: str | None
    #: :data:`SUCCESS`, :data:`FAILURE`, or ``None``: keep waiting.
    outcome: str | None
    #: The status differs from the last one seen (the first status read is a change too).
    changed: bool
    #: What to log, and at which level (``logging.INFO``...).
    message: str
    level: int

    def as_xcom(self) -> dict[str, str | None]:
        """The sensor's XCom: ``{"campaign_id", "status", "name"}``."""
        return {"campaign_id": self.campaign_id, "status": self.status, "name": self.name}


def _listed(statuses: Sequence[str]) -> str:
    return " or ".join(statuses)


class CampaignStatusWatch:
    """The wait on one campaign: its target and failure statuses, and the last status seen.

    :param campaign_id: the campaign (``cd-...``).
    :param target_statuses: statuses that end the wait with success (checked by the sensor).
    :param failure_statuses: statuses that end it with a failure; none of ``target_statuses``.
    :param last_status: the last status already seen (by an earlier poke, or by the worker before it
        deferred), so that only a change from it is logged as one.
    """

    def __init__(
        self,
        campaign_id: str,
        target_statuses: Sequence[str],
        failure_statuses: Sequence[str],
        last_status: str | None = None,
    ) -> None:
        self.campaign_id = campaign_id
        self.target_statuses = tuple(target_statuses)
        self.failure_statuses = tuple(failure_statuses)
        self.last_status = last_status

    def who(self, name: str | None = None) -> str:
        """``Kore.ai campaign cd-1 ('Renewals')``: how messages name the campaign."""
        return f"Kore.ai campaign {self.campaign_id}" + (f" ({name!r})" if name else "")

    def observe(self, status: str, name: str | None = None) -> StatusReading:
        """Judge one status read, and remember it as the last one seen."""
        previous, self.last_status = self.last_status, status
        changed = status != previous
        who = self.who(name)
        waiting = f"waiting for {_listed(self.target_statuses)}"
        outcome: str | None = None
        level = logging.INFO if changed else logging.DEBUG
        if status in self.target_statuses:
            outcome = SUCCESS
            message = f"{who} is {status}: the wait is over"
        elif status in self.failure_statuses:
            outcome = FAILURE
            level = logging.ERROR
            message = self.failure_message(status, name)
        elif status not in CAMPAIGN_STATUSES:
            message = (
                f"{who} reports status {status!r}, which Kore.ai does not document; {waiting} until the "
                f"timeout (known statuses: {', '.join(CAMPAIGN_STATUSES)})"
            )
            if changed:
                level = logging.WARNING
        elif not changed:
            message = f"{who} is still {status}; {waiting}"
        else:
            since = "status" if previous is None else f"status changed from {previous} to"
            message = f"{who}: {since} {status}; {waiting}"
            if status == "Paused":
                message += " (a paused campaign resumes when it is played again)"
        return StatusReading(
            campaign_id=self.campaign_id,
            status=status,
            name=name,
            outcome=outcome,
            changed=changed,
            message=message,
            level=level,
        )

    def failure_message(self, status: str, name: str | None = None) -> str:
        """What a failure status says: what is wrong and what to do first."""
        return (
            f"{self.who(name)} is {status}, one of the sensor's failure_statuses "
            f"({', '.join(self.failure_statuses)}): it will not reach {_listed(self.target_statuses)} by "
            f"itself; find out why in Kore.ai, start the campaign again and clear this task, or leave "
            f"{status!r} out of failure_statuses to wait through it"
        )

    def timeout_message(self, last_problem: str | None = None) -> str:
        """What a timeout says: the target, the last status seen, the last problem if any."""
        seen = f"last status read: {self.last_status}" if self.last_status else "no status was read"
        message = (
            f"{self.who()} did not reach {_listed(self.target_statuses)} before the sensor's timeout; {seen}"
        )
        if last_problem:
            message += f". Last problem: {last_problem}"
        return message
