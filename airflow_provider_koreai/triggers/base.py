"""What the Kore.ai triggers share: the hook they poll with, the bound of one poll, the wait between two
polls, and the event of a trigger that cannot go on.

A trigger only reads (writes are sent on the worker: after a triggerer restart a trigger runs again from
its serialized arguments, apache/airflow#67945). Its reads are the hook's own ``a``-prefixed methods: the
same pipeline, signer, response parsing and error mapping as the worker's, on an ``httpx`` client that
never blocks the triggerer's event loop. Each poll is one request (``retry=False``): the poll interval is
the retry, the deadline the budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.providers.common.compat.sdk import AirflowNotFoundException
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_koreai.exceptions import KoreAIError, KoreAIRateLimitedError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.responses import Scrubber

#: A request started just before the deadline still gets at least this long to answer.
MIN_REQUEST_TIMEOUT_SECONDS = 1.0


class KoreAIPollingTrigger(BaseTrigger):
    """Base of the Kore.ai triggers: :meth:`run` builds the hook from ``koreai_conn_id`` and
    ``hook_params``, reads the connection, hands the hook to :meth:`poll` and closes it at the end; an
    error that escapes :meth:`poll` (an unknown connection id, malformed extras, a bug) becomes the
    subclass's :meth:`error_event`, its message scrubbed of tokens and the client secret.

    Subclasses set ``koreai_conn_id``, ``hook_params``, ``poll_interval`` and ``deadline`` (seconds since
    the epoch) and implement :meth:`poll`, :meth:`error_event` and :meth:`describe`.
    """

    koreai_conn_id: str
    hook_params: dict[str, Any]
    poll_interval: float
    deadline: float

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = KoreAIHook(koreai_conn_id=self.koreai_conn_id, **self.hook_params)
        scrub = Scrubber()
        try:
            await hook.aget_config()
            scrub = hook.scrub
            async for event in self.poll(hook):
                yield event
        except (KoreAIError, AirflowNotFoundException) as error:
            # An unknown connection id, a connection without host or secret, malformed extras...
            yield self.error_event(str(error))
        except Exception as error:  # a bug or an unforeseen library error: fail the task, explain why
            self.log.exception("%s: the trigger failed", self.describe())
            yield self.error_event(scrub(f"{type(error).__name__}: {error}"))
        finally:
            await hook.aclose()

    def poll(self, hook: KoreAIHook) -> AsyncIterator[TriggerEvent]:
        """Read until the wait is over; yield the one event that ends it."""
        raise NotImplementedError

    def error_event(self, message: str) -> TriggerEvent:
        """The event of a permanent failure, which the sensor's ``execute_complete`` turns into a failure."""
        raise NotImplementedError

    def describe(self) -> str:
        """What is polled, for the log (``Kore.ai list cl-...``)."""
        raise NotImplementedError

    def request_timeout(self, hook: KoreAIHook) -> float:
        """The read timeout of the next poll: the hook's, clipped to the deadline (a read started just
        before the deadline still gets :data:`MIN_REQUEST_TIMEOUT_SECONDS` to answer)."""
        return min(hook.timeout, max(self.deadline - time.time(), MIN_REQUEST_TIMEOUT_SECONDS))

    def next_wait(self, error: KoreAIError | None = None) -> float:
        """Seconds until the next poll: the poll interval, or longer when a 429 asked for it."""
        if isinstance(error, KoreAIRateLimitedError) and error.retry_after:
            return max(self.poll_interval, error.retry_after)
        return self.poll_interval

    async def wait_for_next_poll(self, wait: float) -> bool:
        """Sleep ``wait`` seconds, or until the deadline if that comes first; ``False`` when the deadline
        has already passed (the caller then yields its timeout event)."""
        remaining = self.deadline - time.time()
        if remaining <= 0:
            return False
        await self.sleep(min(wait, remaining))
        return True

    async def sleep(self, seconds: float) -> None:
        """The pause between two polls (``asyncio.sleep``; tests replace it to count, not wait)."""
        await asyncio.sleep(seconds)
