"""``ContactListIngestedTrigger``: wait in Airflow's triggerer until a contact list holds enough contacts.

Kore.ai ingests ``addContacts`` asynchronously and hands out no job id (reference 3.6): the only sign of
completion is the list's ``totalRecordCount`` (reference 3.3). This trigger polls that one read,
``GET .../contactList/{id}``, and nothing else. Writes are sent on the worker, never from here: after a
triggerer restart a trigger runs again from its serialized arguments (apache/airflow#67945), which is
harmless for a read and would add the contacts twice for a write.

In the triggerer, blocking calls stall every other trigger of the process, so:

* the connection is read once per :meth:`~ContactListIngestedTrigger.run` with
  ``common.compat``'s ``get_async_connection``, which picks the safe way for the running Airflow
  (``aget_connection`` where it masks asynchronously, ``get_connection`` in a worker thread before
  3.3.2, where ``aget_connection`` can raise ``DeadlockImminentError``), and turned into the hook's
  validated :class:`~airflow_provider_koreai.connection.KoreAIConnectionConfig` in
  a worker thread (reading the extras hands them to the secrets masker, a blocking call to the
  supervisor);
* each request is signed by the hook's :class:`~airflow_provider_koreai.auth.KoreAIJWTAuth`, the same
  signer and the same masking rule as the worker's requests, in a worker thread (a reusable token, with
  ``enforce_jti=False``, is registered with the masker when minted: a blocking call);
* HTTP goes through ``httpx.AsyncClient`` (already one of Airflow's dependencies), with the connection's
  timeouts and TLS verification.

Responses are parsed and mapped to errors by :class:`~airflow_provider_koreai.hooks.koreai.KoreAIHook`
itself, so the sensor's worker-side check and this trigger agree on what is a success, a transient
failure (429, 5xx, connection errors: keep polling until the deadline) and a permanent one (401, 404,
an unexpected answer: stop with an error event).

This module is imported at DAG parse time (through the sensor): ``httpx``, ``jwt`` and ``requests`` load
only when a trigger runs.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, cast

from airflow.providers.common.compat.sdk import AirflowNotFoundException
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_koreai import __version__, validation
from airflow_provider_koreai.connection import KoreAIConnectionConfig
from airflow_provider_koreai.exceptions import (
    KoreAIError,
    KoreAIRateLimitedError,
    KoreAITransportError,
    KoreAIValidationError,
)
from airflow_provider_koreai.hooks.koreai import (
    _JWT_PATTERN,
    _REDACTED,
    KoreAIHook,
    _data_object,
    total_record_count,
)
from airflow_provider_koreai.ingestion import IngestionWatch, allow_duplicates_of

if TYPE_CHECKING:
    import httpx

    from airflow_provider_koreai.auth import KoreAIJWTAuth

#: Kore.ai allows 60 requests per minute per account across all Contact Center APIs: poll gently.
DEFAULT_POLL_INTERVAL_SECONDS = 60.0
#: A request started just before the deadline still gets at least this long to answer.
MIN_REQUEST_TIMEOUT_SECONDS = 1.0
#: Tells the trigger's reads apart from the worker's in Kore.ai's (or a proxy's) access logs.
USER_AGENT = f"airflow-provider-koreai/{__version__} (triggerer)"


class ContactListIngestedTrigger(BaseTrigger):
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
        koreai_conn_id: str = KoreAIHook.default_conn_name,
        poll_interval: float = DEFAULT_POLL_INTERVAL_SECONDS,
        baseline_count: int | None = None,
        settle_polls: int | None = None,
        recent_counts: list[int] | None = None,
        moved: bool = False,
    ) -> None:
        super().__init__()
        self.contact_list_id = validation.contact_list_id(contact_list_id)
        self.expected_count = validation.record_count(expected_count, "expected_count")
        self.baseline_count = (
            None if baseline_count is None else validation.record_count(baseline_count, "baseline_count")
        )
        self.settle_polls = None if settle_polls is None else validation.settle_polls(settle_polls)
        self.recent_counts = [validation.record_count(c, "recent_counts") for c in recent_counts or []]
        self.moved = bool(moved)
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, int | float)
            or poll_interval <= 0
        ):
            raise KoreAIValidationError(
                "poll_interval", f"must be a number of seconds above 0, got {poll_interval!r}"
            )
        if isinstance(deadline, bool) or not isinstance(deadline, int | float):
            raise KoreAIValidationError("deadline", f"must be seconds since the epoch, got {deadline!r}")
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline)
        self.koreai_conn_id = koreai_conn_id

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
            },
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(contact_list_id={self.contact_list_id!r}, "
            f"expected_count={self.expected_count}, koreai_conn_id={self.koreai_conn_id!r})"
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook: KoreAIHook | None = None
        try:
            hook = await self._load_hook()
            async for event in self._poll(hook):
                yield event
        except (KoreAIError, AirflowNotFoundException) as error:
            # An unknown connection id, a connection without host or secret, malformed extras...
            yield self._error(str(error))
        except Exception as error:  # a bug or an unforeseen library error: fail the task, explain why
            self.log.exception("Kore.ai list %s: the trigger failed", self.contact_list_id)
            text = f"{type(error).__name__}: {error}"
            yield self._error(hook._scrub(text) if hook is not None else _JWT_PATTERN.sub(_REDACTED, text))

    # -- connection --------------------------------------------------------------------------------

    async def _load_hook(self) -> KoreAIHook:
        """The hook, for its URL building and response parsing, with the connection read once, async."""
        from airflow.providers.common.compat.connection import get_async_connection

        conn = await get_async_connection(self.koreai_conn_id)
        config = await asyncio.to_thread(KoreAIConnectionConfig.from_connection, conn)
        hook = KoreAIHook(koreai_conn_id=self.koreai_conn_id)
        # ``config`` is a cached_property: filled here, the hook never reads the connection (sync) again.
        hook.config = config
        return hook

    # -- polling -----------------------------------------------------------------------------------

    async def _poll(self, hook: KoreAIHook) -> AsyncIterator[TriggerEvent]:
        import httpx

        config = hook.config
        auth = hook.get_auth()
        verify = await asyncio.to_thread(_ssl_context, config.verify)
        path = hook.contact_list_path(self.contact_list_id)
        endpoint = f"GET {path}"
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
        async with httpx.AsyncClient(
            verify=verify,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        ) as client:
            while True:
                wait = self.poll_interval
                try:
                    count, allow_duplicates = await self._read_count(
                        client, hook, auth, config.base_url + path, endpoint
                    )
                except KoreAIError as error:
                    if not error.retryable:
                        yield self._error(str(error), total_record_count=last_count)
                        return
                    last_problem = str(error)
                    if isinstance(error, KoreAIRateLimitedError) and error.retry_after:
                        wait = max(wait, error.retry_after)
                    self.log.warning("%s; polling again in %.1f s", error, wait)
                else:
                    last_count, last_problem = count, None
                    verdict = watch.observe(count, allow_duplicates=allow_duplicates)
                    if verdict is not None:
                        self.log.info("%s; rule: %s", verdict.describe(self.contact_list_id), verdict.rule)
                        yield TriggerEvent(
                            {
                                "status": "success",
                                "contact_list_id": self.contact_list_id,
                                **verdict.as_dict(),
                            }
                        )
                        return
                    self.log.info(watch.progress(self.contact_list_id, count))
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    yield self._timeout(last_count, last_problem, watch)
                    return
                await asyncio.sleep(min(wait, remaining))

    async def _read_count(
        self, client: httpx.AsyncClient, hook: KoreAIHook, auth: KoreAIJWTAuth, url: str, endpoint: str
    ) -> tuple[int, bool | None]:
        """The list's ``totalRecordCount`` and ``allowDuplicates``."""
        import httpx

        config = hook.config
        # In a thread: with ``enforce_jti=False`` a new reusable token goes to the masker, a blocking call
        # to the supervisor (auth.py holds the rule; single-use tokens are never registered).
        headers = await asyncio.to_thread(auth.headers)
        read_timeout = min(config.timeout, max(self.deadline - time.time(), MIN_REQUEST_TIMEOUT_SECONDS))
        timeout = httpx.Timeout(read_timeout, connect=min(config.connect_timeout, read_timeout))
        try:
            response = await client.get(url, headers=headers, timeout=timeout)
        except httpx.TransportError as exc:
            raise _transport_error(exc, endpoint, config.base_url) from None
        # httpx.Response offers what the hook reads from a requests.Response: status_code, json(),
        # headers (case-insensitive), content.
        payload = hook.parse_response(cast(Any, response), endpoint)
        contact_list = _data_object(payload, endpoint)
        return total_record_count(contact_list, endpoint), allow_duplicates_of(contact_list)

    # -- events ------------------------------------------------------------------------------------

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


def _ssl_context(verify: bool | str) -> ssl.SSLContext | bool:
    """httpx 0.28 deprecates ``verify=<path>``: a CA bundle (file or directory) becomes an SSL context."""
    if isinstance(verify, bool):
        return verify
    import os

    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def _transport_error(exc: httpx.TransportError, endpoint: str, base_url: str) -> KoreAITransportError:
    """A failed read is safe to repeat, except that a TLS failure will not fix itself."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        error = KoreAITransportError(
            f"Kore.ai {endpoint}: TLS with {base_url} failed ({type(cause).__name__}). If your host uses a "
            "private CA, set the connection extra 'verify' to the path of its CA bundle.",
            endpoint=endpoint,
            outcome_unknown=False,
        )
        error.retryable = False
        return error
    return KoreAITransportError(
        f"Kore.ai {endpoint}: no answer from {base_url} ({type(exc).__name__})",
        endpoint=endpoint,
        outcome_unknown=False,
    )
