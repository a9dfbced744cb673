"""``ContactListIngestedTrigger``: wait in Airflow's triggerer until a contact list holds enough contacts.

Kore.ai ingests added contacts asynchronously and hands out no job id: the only sign of completion is the
list's ``totalRecordCount`` (see the docs, "ContactListIngestedSensor"). This trigger polls that one read,
``GET .../contactList/{id}``, and nothing else. Writes are sent on the worker, never from here: after a
triggerer restart a trigger runs again from its serialized arguments (apache/airflow#67945), which is
harmless for a read and would add the contacts twice for a write.

The reads are the hook's own (:meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.acount_contacts`):
the same pipeline, signer, response parsing and error mapping as the worker's reads, on an ``httpx``
client that never blocks the triggerer's event loop; the trigger parses nothing itself. So the sensor
on the worker and this trigger agree on what is a success, a transient failure (429, 5xx, connection
errors: keep polling until the deadline) and a permanent one (401, 404, an unexpected answer: stop with
an error event). Each poll is one request: the poll interval is the retry.

This module is imported when a sensor defers: ``httpx``, ``jwt`` and ``requests`` load only when a
trigger runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import TriggerEvent

from airflow_provider_koreai import validation
from airflow_provider_koreai.defaults import DEFAULT_CONN_ID
from airflow_provider_koreai.exceptions import KoreAIError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.ingestion import IngestionWatch
from airflow_provider_koreai.triggers.base import KoreAIPollingTrigger

#: Kore.ai allows 60 requests per minute per account across all Contact Center APIs: poll gently.
DEFAULT_POLL_INTERVAL_SECONDS = 60.0


class ContactListIngestedTrigger(KoreAIPollingTrigger):
    """Poll a Kore.ai contact list until the ingestion rule of :mod:`airflow_provider_koreai.ingestion`
    says the wait is over: ``totalRecordCount`` reached ``expected_count``, or it settled short of it.

    :param contact_list_id: id of the list (``cl-...``).
    :param expected_count: the number of contacts to wait for (``totalRecordCount >= expected_count``).
    :param deadline: when to give up, in seconds since the epoch (absolute, so that a trigger restarted
        by the triggerer keeps the original deadline).
    :param koreai_conn_id: the ``koreai`` connection, read in the triggerer.
    :param poll_interval: seconds between two reads (a 429's ``Retry-After`` may lengthen one wait).
    :param baseline_count: the count before the contacts were sent (``None``: the first count read).
    :param settle_polls: unchanged reads that end the wait short of the target; ``None``: never.
    :param recent_counts: the reads the worker already made, oldest first (they count towards
        ``settle_polls``).
    :param moved: whether the worker already saw the count move away from the baseline.
    :param hook_params: the sensor's ``hook_params`` (``timeout``, ``retry_timeout``...), so that a poll
        in the triggerer is bound by the same limits as a poke on the worker. Each poll is one request:
        the poll interval is the retry.

    Events: ``{"status": "success", "rule": "target_reached" or "settled", "total_record_count": n,
    "baseline_count": b, "missing": m, ...}``;
    ``{"status": "timeout", "total_record_count": last count seen or None, "message": ...}`` at the
    deadline; ``{"status": "error", "message": ...}`` on a permanent failure (401, 404, an answer that
    is not the documented shape, a broken connection definition). Messages never contain a token or
    the client secret.
    """

    def __init__(
        self,
        *,
        contact_list_id: str,
        expected_count: int,
        deadline: float,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
        baseline_count: int | None = None,
        settle_polls: int | None = None,
        recent_counts: list[int] | None = None,
        moved: bool = False,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.contact_list_id = validation.contact_list_id(contact_list_id)
        self.expected_count = validation.record_count(expected_count, "expected_count")
        self.baseline_count = (
            None if baseline_count is None else validation.record_count(baseline_count, "baseline_count")
        )
        self.settle_polls = None if settle_polls is None else validation.settle_polls(settle_polls)
        self.recent_counts = [validation.record_count(c, "recent_counts") for c in recent_counts or []]
        self.moved = validation.strict_bool(moved, "moved")
        self.poll_interval = validation.seconds(poll_interval, "poll_interval")
        self.deadline = validation.epoch_seconds(deadline, "deadline")
        self.koreai_conn_id = koreai_conn_id
        self.hook_params = validation.hook_params(hook_params)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Only identifiers, numbers and the connection *id*: no secret, no token, nothing derived."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "contact_list_id": self.contact_list_id,
                "expected_count": self.expected_count,
                "deadline": self.deadline,
                "koreai_conn_id": self.koreai_conn_id,
                "poll_interval": self.poll_interval,
                "baseline_count": self.baseline_count,
                "settle_polls": self.settle_polls,
                "recent_counts": list(self.recent_counts),
                "moved": self.moved,
                "hook_params": dict(self.hook_params),
            },
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(contact_list_id={self.contact_list_id!r}, "
            f"expected_count={self.expected_count}, koreai_conn_id={self.koreai_conn_id!r})"
        )

    def describe(self) -> str:
        return f"Kore.ai list {self.contact_list_id}"

    async def poll(self, hook: KoreAIHook) -> AsyncIterator[TriggerEvent]:
        last_count: int | None = self.recent_counts[-1] if self.recent_counts else None
        last_problem: str | None = None
        watch = IngestionWatch(
            expected_count=self.expected_count,
            baseline_count=self.baseline_count,
            settle_polls=self.settle_polls,
            recent=list(self.recent_counts),
            moved=self.moved,
        )
        self.log.info(
            "Kore.ai list %s: waiting for %d contacts (baseline %s, settle after %s unchanged reads), "
            "polling every %g s until %s",
            self.contact_list_id,
            self.expected_count,
            self.baseline_count,
            self.settle_polls,
            self.poll_interval,
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.deadline)),
        )
        while True:
            wait = self.poll_interval
            timeout = self.request_timeout(hook)
            try:
                # One request per poll: the poll interval is the retry, the deadline the budget.
                reading = await hook.acount_contacts(self.contact_list_id, timeout=timeout, retry=False)
            except KoreAIError as error:
                if not error.retryable:
                    yield self._error(str(error), total_record_count=last_count)
                    return
                last_problem = str(error)
                wait = self.next_wait(error)
                self.log.warning("%s; polling again in %.1f s", error, wait)
            else:
                count = last_count = reading.total_record_count
                last_problem = None
                verdict = watch.observe(count, allow_duplicates=reading.allow_duplicates)
                if verdict is not None:
                    self.log.info("%s; rule: %s", verdict.describe(self.contact_list_id), verdict.rule)
                    yield TriggerEvent(
                        {"status": "success", "contact_list_id": self.contact_list_id, **verdict.as_dict()}
                    )
                    return
                self.log.info(watch.progress(self.contact_list_id, count))
            if not await self.wait_for_next_poll(wait):
                yield self._timeout(last_count, last_problem, watch)
                return

    # -- events ------------------------------------------------------------------------------------

    def error_event(self, message: str) -> TriggerEvent:
        return self._error(message)

    def _error(self, message: str, total_record_count: int | None = None) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": "error",
                "contact_list_id": self.contact_list_id,
                "expected_count": self.expected_count,
                "total_record_count": total_record_count,
                "message": message,
            }
        )

    def _timeout(
        self, last_count: int | None, last_problem: str | None, watch: IngestionWatch
    ) -> TriggerEvent:
        seen = watch.timeout_hint()
        message = (
            f"Kore.ai list {self.contact_list_id} did not reach {self.expected_count} contacts before the "
            f"deadline; {seen}"
        )
        if last_problem:
            message += f". Last problem: {last_problem}"
        return TriggerEvent(
            {
                "status": "timeout",
                "contact_list_id": self.contact_list_id,
                "expected_count": self.expected_count,
                "total_record_count": last_count,
                "message": message,
            }
        )
