"""``CampaignStatusTrigger``: wait in Airflow's triggerer until a Kore.ai campaign reaches a status.

It polls one read, the campaign's status (``POST .../campaign/{id}/status?view=status``, safe to
repeat), through the hook's :meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.aget_campaign_status`,
and nothing else: starting and stopping a campaign are writes, sent on the worker. Which status ends the
wait, and what each change of status says, is the rule of :mod:`airflow_provider_koreai.campaign_status`,
shared with the sensor's pokes. Transient failures (429, 5xx, connection errors) are logged and polled
again until the deadline; a permanent one (401/403, 404, an answer that is not the documented shape)
ends the wait with an error event.

This module is imported when a sensor defers: ``httpx``, ``jwt`` and ``requests`` load only when a
trigger runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_koreai import validation
from airflow_provider_koreai.campaign_status import FAILURE, CampaignStatusWatch, StatusReading
from airflow_provider_koreai.defaults import DEFAULT_CONN_ID
from airflow_provider_koreai.exceptions import KoreAIError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.triggers.base import KoreAIPollingTrigger

#: The sensor's default: campaigns run for hours, and the account allows 60 requests per minute.
DEFAULT_POLL_INTERVAL_SECONDS = 300.0


class CampaignStatusTrigger(KoreAIPollingTrigger):
    """Poll a Kore.ai campaign's status until it is in ``target_statuses`` or ``failure_statuses``, or
    until the deadline.

    :param campaign_id: id of the campaign (``cd-...``).
    :param target_statuses: statuses that end the wait with success.
    :param failure_statuses: statuses that end it with a failure; none of ``target_statuses``.
    :param deadline: when to give up, in seconds since the epoch (absolute, so that a trigger restarted
        by the triggerer keeps the original deadline).
    :param koreai_conn_id: the ``koreai`` connection, read in the triggerer.
    :param poll_interval: seconds between two reads (a 429's ``Retry-After`` may lengthen one wait).
    :param last_status: the status the worker read before deferring, so that only a change from it is
        logged as a change.
    :param hook_params: the sensor's ``hook_params`` (``timeout``, ``retry_timeout``...), so that a poll
        in the triggerer is bound by the same limits as a poke on the worker. Each poll is one request:
        the poll interval is the retry.

    Events (``status`` is the event's kind; the campaign's own status is ``campaign_status``):
    ``{"status": "success", "campaign_id", "campaign_status", "name"}``;
    ``{"status": "failure", "campaign_id", "campaign_status", "name", "message"}`` on a failure status;
    ``{"status": "timeout", "campaign_id", "campaign_status": last status read or None, "message"}`` at
    the deadline; ``{"status": "error", "campaign_id", "campaign_status", "message"}`` on a permanent
    failure. Messages never contain a token or the client secret.
    """

    def __init__(
        self,
        *,
        campaign_id: str,
        target_statuses: list[str] | tuple[str, ...],
        failure_statuses: list[str] | tuple[str, ...],
        deadline: float,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
        last_status: str | None = None,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.campaign_id = validation.campaign_id(campaign_id)
        self.target_statuses = list(validation.campaign_statuses(target_statuses, "target_statuses"))
        self.failure_statuses = list(validation.campaign_statuses(failure_statuses, "failure_statuses"))
        self.deadline = validation.epoch_seconds(deadline, "deadline")
        self.koreai_conn_id = koreai_conn_id
        self.poll_interval = validation.seconds(poll_interval, "poll_interval")
        # Any text: the worker may have read a status Kore.ai does not document.
        self.last_status = None if last_status is None else str(last_status)
        self.hook_params = validation.hook_params(hook_params)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Only identifiers, statuses, numbers and the connection *id*: no secret, no token."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "campaign_id": self.campaign_id,
                "target_statuses": list(self.target_statuses),
                "failure_statuses": list(self.failure_statuses),
                "deadline": self.deadline,
                "koreai_conn_id": self.koreai_conn_id,
                "poll_interval": self.poll_interval,
                "last_status": self.last_status,
                "hook_params": dict(self.hook_params),
            },
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(campaign_id={self.campaign_id!r}, "
            f"target_statuses={self.target_statuses!r}, koreai_conn_id={self.koreai_conn_id!r})"
        )

    def describe(self) -> str:
        return f"Kore.ai campaign {self.campaign_id}"

    async def poll(self, hook: KoreAIHook) -> AsyncIterator[TriggerEvent]:
        watch = CampaignStatusWatch(
            self.campaign_id, self.target_statuses, self.failure_statuses, last_status=self.last_status
        )
        last_problem: str | None = None
        self.log.info(
            "%s: waiting for %s (failing on %s), polling every %g s until %s",
            watch.who(),
            " or ".join(self.target_statuses),
            ", ".join(self.failure_statuses) or "no status",
            self.poll_interval,
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.deadline)),
        )
        while True:
            wait = self.poll_interval
            try:
                # One request per poll: the poll interval is the retry, the deadline the budget.
                read = await hook.aget_campaign_status(
                    self.campaign_id, timeout=self.request_timeout(hook), retry=False
                )
            except KoreAIError as error:
                if not error.retryable:
                    yield self._event("error", watch.last_status, message=str(error))
                    return
                last_problem = str(error)
                wait = self.next_wait(error)
                self.log.warning("%s; polling again in %.1f s", error, wait)
            else:
                last_problem = None
                reading = watch.observe(read.status, read.name)
                self.log.log(reading.level, reading.message)
                if reading.outcome is not None:
                    yield self._outcome(reading)
                    return
            if not await self.wait_for_next_poll(wait):
                message = watch.timeout_message(last_problem)
                yield self._event("timeout", watch.last_status, message=message)
                return

    # -- events ------------------------------------------------------------------------------------

    def error_event(self, message: str) -> TriggerEvent:
        return self._event("error", None, message=message)

    def _outcome(self, reading: StatusReading) -> TriggerEvent:
        if reading.outcome == FAILURE:
            return self._event("failure", reading.status, name=reading.name, message=reading.message)
        return self._event("success", reading.status, name=reading.name)

    def _event(self, kind: str, campaign_status: str | None, **fields: Any) -> TriggerEvent:
        return TriggerEvent(
            {"status": kind, "campaign_id": self.campaign_id, "campaign_status": campaign_status, **fields}
        )
