"""Where an upload of contacts records its progress, so that a retry on any worker resumes it, and the lease
that keeps two tries of one task instance from uploading alongside each other.

:class:`~airflow_provider_koreai.operators.contact_list.AddContactsOperator` keeps one **record** per task
instance (dag, run, task, map index), through one interface, :class:`ProgressStore`, with two backends
chosen when the task runs (:func:`store_for`):

* **Airflow's task state store** (Airflow 3.3+, ``context["task_state_store"]``). Read in Airflow 3.3.2's
  source: its rows are keyed by ``(dag_run_id, task_id, map_index, key)``, not by the try ("retries of the
  same task share the same rows", ``airflow/models/task_state_store.py``), and live in the metadata
  database behind the API server, so a retry finds the record on any worker. Each try gets a new task
  instance id (``prepare_db_for_next_try``), which the API server maps back to that scope.
* **An Airflow Variable** (Airflow 3.0 to 3.2, where there is no task state store), keyed by a hash of dag
  id, run id, task id and map index (``koreai_upload_progress__<40 hex digits>``: valid for any
  Variable backend and URL, whatever characters a run id holds), its description naming the task. Also in
  the metadata database, reached by every worker. The operator deletes it when the task succeeds.

Both are reached from a task through its supervisor. The record holds counts, hashes, a host name and a
process id: never a contact, never a secret. A try that **succeeds deletes it**: clearing a successful
task sends everything again; clearing a failed one resumes.

**The record** (:data:`RECORD_VERSION`): the input's identity (a file's size and SHA-256, or the mapped
records' SHA-256, with ``column_map``, ``chunk_size`` and the list's name: see
:class:`~airflow_provider_koreai.contacts_upload.CheckReport`); the list's id and its count before the
**first** try (the sensor's baseline stays that one); ``next_chunk``, the chunks and rows Kore.ai accepted
over every try; ``rows_in_doubt``; ``in_flight``, the chunk being sent, whose outcome is unknown if the try
dies; and the ``lease``.

**Resuming** (:meth:`UploadTracker.begin`): the same identity resumes at ``next_chunk``; any difference
starts over, and the log says what changed. A chunk left ``in_flight`` follows one rule: it is **sent again
when the list drops duplicates** (``allowDuplicates=false``, read with the count before sending), since a
second copy is dropped; **otherwise it is skipped** and its rows are reported as in doubt (log and XCom),
since sending it again could add every row twice.

**The lease**: ``{owner: {try_number, hostname, pid}, expires_at, seconds}``, taken before the first chunk
and renewed before each one, for :func:`lease_seconds` (the longest a chunk may take, plus a margin, and at
least :data:`LEASE_CHUNK_FACTOR` times the slowest chunk seen). Before each chunk the try reads the record
back and stops if another try holds the lease. A try that finds another try's live lease waits (polling
every :data:`LEASE_POLL_SECONDS`, logged, for at most :data:`LEASE_WAIT_FACTOR` times that lease) for it to
be released or to expire, then resumes from its progress; it never uploads alongside it. A record that
disappears while a try waits means the other try finished the upload: the waiting try fails for good
rather than send anything.

**What is left of the race.** Neither Variables nor the task state store offer a compare-and-set, so
"read, see no live lease, write mine" is not atomic. Taking over an *expired* lease is therefore followed
by a pause (:data:`LEASE_SETTLE_SECONDS`) and a read-back; and every chunk reads the record before it is
sent. Two tries can still both send one chunk if the stalled holder writes its renewal between the other's
read and write (one store round trip); the next chunk's read-back stops one of them. On Airflow 3, an orphan
whose supervisor was killed cannot reach either store at all (both go through the supervisor's socket), so
it stops at its next chunk. Measured on a CeleryExecutor deployment (``make e2e-celery``, Airflow 3.3.2, the
worker's process group SIGKILLed mid-upload): the task process survives the kill (it has a process group of
its own) and exits within about a second, once the chunk it was sending is answered,
having sent nothing more; that chunk, applied by Kore.ai, is the one left in doubt.

**Cost on the happy path**: no request to Kore.ai; in the store, one read and one write to begin, one read
and one write per chunk, one write and one delete at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_koreai.exceptions import KoreAIUploadLeaseError

if TYPE_CHECKING:
    import logging

    from airflow.providers.common.compat.sdk import Context

__all__ = [
    "LEASE_CHUNK_FACTOR",
    "LEASE_MARGIN_SECONDS",
    "LEASE_POLL_SECONDS",
    "LEASE_SETTLE_SECONDS",
    "LEASE_WAIT_FACTOR",
    "RECORD_VERSION",
    "STATE_KEY",
    "LeaseOwner",
    "ProgressStore",
    "ResumePlan",
    "TaskStateStore",
    "UploadTracker",
    "VariableStore",
    "lease_seconds",
    "store_for",
    "variable_key",
]

#: The record's layout; a record of another version is not resumed (the upload starts over).
RECORD_VERSION = 1
#: The key of the record in Airflow's task state store.
STATE_KEY = "koreai_upload_progress"
#: The prefix of the record's Variable where there is no task state store.
VARIABLE_PREFIX = "koreai_upload_progress__"
#: Added to the longest a chunk may take (its ``retry_timeout``, the pace) to make the lease.
LEASE_MARGIN_SECONDS = 60.0
#: The lease is at least this many times the slowest chunk seen so far.
LEASE_CHUNK_FACTOR = 3
#: How often a try waiting for another try's lease reads the record.
LEASE_POLL_SECONDS = 10.0
#: A try waits at most this many times the other try's lease (renewals included) before it gives up.
LEASE_WAIT_FACTOR = 2
#: After taking over an expired lease, how long a try waits before reading the record back.
LEASE_SETTLE_SECONDS = 2.0


class ProgressStore(Protocol):
    """Where the record of one task instance lives: one JSON object, read, written and deleted whole."""

    #: The store, as messages name it.
    described: str

    def load(self) -> dict[str, Any] | None: ...

    def save(self, record: dict[str, Any]) -> None: ...

    def delete(self) -> None: ...


class TaskStateStore:
    """The record in Airflow 3.3's task state store (``context["task_state_store"]``), under
    :data:`STATE_KEY`: shared by every try of the task instance, on any worker."""

    described = "Airflow's task state store"

    def __init__(self, accessor: Any) -> None:
        self.accessor = accessor

    def load(self) -> dict[str, Any] | None:
        value = self.accessor.get(STATE_KEY)
        return value if isinstance(value, dict) else None

    def save(self, record: dict[str, Any]) -> None:
        self.accessor.set(STATE_KEY, record)

    def delete(self) -> None:
        self.accessor.delete(STATE_KEY)


def variable_key(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The Variable of a task instance's record: letters, digits and ``_`` only, 64 characters."""
    scope = json.dumps([dag_id, run_id, task_id, map_index])
    return VARIABLE_PREFIX + hashlib.sha256(scope.encode()).hexdigest()[:40]


class VariableStore:
    """The record in an Airflow Variable (Airflow before 3.3), keyed by :func:`variable_key`."""

    def __init__(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> None:
        self.key = variable_key(dag_id, run_id, task_id, map_index)
        self.description = (
            f"Progress of the Kore.ai upload of task {task_id!r} (map index {map_index}) in run "
            f"{run_id!r} of DAG {dag_id!r}: read by its retries, deleted when it succeeds"
        )
        self.described = f"the Airflow Variable {self.key!r}"

    def load(self) -> dict[str, Any] | None:
        from airflow.providers.common.compat.sdk import Variable

        _forget_cached_variable(self.key)
        value = Variable.get(self.key, default=None, deserialize_json=True)
        return value if isinstance(value, dict) else None

    def save(self, record: dict[str, Any]) -> None:
        from airflow.providers.common.compat.sdk import Variable

        Variable.set(self.key, record, description=self.description, serialize_json=True)

    def delete(self) -> None:
        from airflow.providers.common.compat.sdk import Variable

        Variable.delete(self.key)


def _forget_cached_variable(key: str) -> None:
    """With ``[secrets] use_cache``, a worker caches Variables: a waiting try must read the store itself."""
    try:
        from airflow.sdk.execution_time.cache import SecretCache
    except ImportError:  # pragma: no cover - every supported Airflow has it
        return
    invalidate = getattr(SecretCache, "invalidate_variable", None)
    if invalidate is not None:
        invalidate(key)


def store_for(context: Context | Mapping[str, Any]) -> ProgressStore:
    """The task's record store: the task state store where Airflow offers one, else a Variable."""
    accessor = context.get("task_state_store")
    if accessor is not None:
        return TaskStateStore(accessor)
    ti = context["ti"]
    map_index = _whole(getattr(ti, "map_index", None), None)
    scope = (str(ti.dag_id), str(ti.run_id), str(ti.task_id))
    return VariableStore(*scope, -1 if map_index is None else map_index)


def lease_seconds(*, retry_timeout: float, requests_per_minute: int | None) -> float:
    """How long a lease lasts when renewed before a chunk: the longest that chunk may take (its pace, its
    ``retry_timeout`` of 429s and backoffs) plus :data:`LEASE_MARGIN_SECONDS`."""
    pace = 60.0 / requests_per_minute if requests_per_minute else 0.0
    return retry_timeout + pace + LEASE_MARGIN_SECONDS


def _whole(value: Any, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True)
class LeaseOwner:
    """Which try holds a lease: its try number, host and process."""

    try_number: int | None
    hostname: str
    pid: int

    @classmethod
    def current(cls, ti: Any) -> LeaseOwner:
        """This try: the host as Airflow names it (``[core] hostname_callable``, the name the UI shows for
        the try), else the OS's."""
        hostname = getattr(ti, "hostname", None)
        if not isinstance(hostname, str) or not hostname:
            hostname = socket.gethostname()
        return cls(_whole(getattr(ti, "try_number", None), None), hostname, os.getpid())

    def as_dict(self) -> dict[str, Any]:
        return {"try_number": self.try_number, "hostname": self.hostname, "pid": self.pid}

    @staticmethod
    def describe(owner: Any) -> str:
        if not isinstance(owner, Mapping):
            return "an unknown try"
        return f"try {owner.get('try_number')} on {owner.get('hostname')} (pid {owner.get('pid')})"


@dataclass(frozen=True)
class ResumePlan:
    """Where a try starts: what earlier tries settled, and the first try's baseline."""

    #: Chunks settled by earlier tries (accepted, or skipped as in doubt): this try starts after them.
    first_chunk: int
    rows_sent_earlier: int
    chunks_sent_earlier: int
    #: Rows of chunks whose outcome stayed unknown and that were not sent again, over every try.
    rows_in_doubt: int
    #: The list's count before the first try: the sensor's baseline.
    count_before: int
    #: Whether this try continues an earlier try's upload.
    resumed: bool


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class UploadTracker:
    """One try's side of the record: :meth:`begin` (wait for another try's lease, resume or start over,
    take the lease), :meth:`before_chunk` (the hook's ``before_chunk``), then :meth:`finished` and
    :meth:`delete`, or :meth:`failed` / :meth:`abandoned`.

    When the store cannot be written at all (no Variable API outside a task), the upload goes on unrecorded,
    with a warning: a retry would then send every row again, so the hook's partial-upload rule applies.
    """

    def __init__(
        self,
        store: ProgressStore,
        owner: LeaseOwner,
        *,
        log: logging.Logger | Any,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.owner = owner
        self.log = log
        self.clock = clock
        self.sleep = sleep
        self.record: dict[str, Any] = {}
        #: Whether the record is kept (``False`` once the store refused the first write).
        self.recording = False
        self._holding = False
        self._lease_seconds = LEASE_MARGIN_SECONDS
        self._renewed_at = 0.0
        self._slowest_chunk = 0.0

    # -- beginning a try

    def begin(
        self,
        *,
        identity: Mapping[str, Any],
        contact_list_id: str,
        count_now: int,
        allow_duplicates: bool | None,
        lease_for: float,
    ) -> ResumePlan:
        """Wait for another try's live lease, then resume the recorded upload of the same input (or start
        over), and take the lease. Sends nothing to Kore.ai.

        :param identity: the input's identity, ``chunk_size`` and list name included.
        :param count_now: the list's count read by this try (the baseline if the upload starts over).
        :param allow_duplicates: the list's policy, which decides the fate of a chunk in doubt.
        :param lease_for: :func:`lease_seconds`.
        :raises KoreAIUploadLeaseError: another try still holds the lease after the wait (retryable), or
            finished the upload meanwhile (not retryable).
        """
        self._lease_seconds = lease_for
        try:
            found = self.store.load()
        except Exception as error:
            return self._unrecorded(error, count_now)
        found, took_over = self._wait_for_other_tries(found)
        plan = self._plan(found, dict(identity), contact_list_id, count_now, allow_duplicates)
        self.record["lease"] = self._lease()
        try:
            self.store.save(self.record)
        except Exception as error:
            return self._unrecorded(error, count_now)
        self.recording = self._holding = True
        if took_over:
            self.sleep(LEASE_SETTLE_SECONDS)
            self._check_lease(plan.first_chunk)
        return plan

    def _unrecorded(self, error: Exception, count_now: int) -> ResumePlan:
        self.log.warning(
            "This upload's progress is not recorded (%s cannot be used: %s): a retry would send every row "
            "again, so once a row is accepted a failure ends the task without an automatic retry",
            self.store.described,
            error,
        )
        self.recording = False
        return ResumePlan(0, 0, 0, 0, count_now, resumed=False)

    def _wait_for_other_tries(self, found: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
        """The record once no other try holds a live lease on it; whether an expired lease is taken over."""
        deadline: float | None = None
        waited = False
        while found is not None:
            lease = found.get("lease")
            owner = lease.get("owner") if isinstance(lease, Mapping) else None
            if owner is None or owner == self.owner.as_dict():
                return found, False
            now = self.clock()
            expires_at = float(lease.get("expires_at") or 0)  # type: ignore[union-attr]
            if expires_at <= now:
                self.log.warning(
                    "Taking over the upload from %s, whose lease expired at %s (it stopped renewing it "
                    "before each chunk: its worker died, or it stalled)",
                    LeaseOwner.describe(owner),
                    _when(expires_at),
                )
                return found, True
            if deadline is None:
                held_for = float(lease.get("seconds") or self._lease_seconds)  # type: ignore[union-attr]
                deadline = now + LEASE_WAIT_FACTOR * held_for
                self.log.warning(
                    "Another try of this task, %s, is still uploading: its lease runs until %s and is "
                    "renewed before each chunk. Waiting up to %d s for it to end or expire, then resuming "
                    "from its progress; this try sends nothing meanwhile",
                    LeaseOwner.describe(owner),
                    _when(expires_at),
                    round(deadline - now),
                )
            if now >= deadline:
                raise KoreAIUploadLeaseError(
                    f"Another try of this task, {LeaseOwner.describe(owner)}, is still uploading after "
                    f"{round(now - deadline + LEASE_WAIT_FACTOR * float(lease.get('seconds') or 0))} s of "  # type: ignore[union-attr]
                    f"waiting (its lease runs until {_when(expires_at)}); this try sent nothing. A later try "
                    f"resumes from its progress, recorded in {self.store.described}",
                    retryable=True,
                )
            self.sleep(max(min(LEASE_POLL_SECONDS, expires_at - now, deadline - now), 0.01))
            waited = True
            found = self.store.load()
        if waited:
            raise KoreAIUploadLeaseError(
                "Another try of this task finished the upload while this try waited for its lease (a try "
                f"deletes its record in {self.store.described} when it succeeds); this try sent nothing and "
                "fails rather than send every row again. Check the list's count, then mark the task "
                "successful",
                retryable=False,
            )
        return None, False

    def _plan(
        self,
        found: dict[str, Any] | None,
        identity: dict[str, Any],
        contact_list_id: str,
        count_now: int,
        allow_duplicates: bool | None,
    ) -> ResumePlan:
        fresh = {
            "version": RECORD_VERSION,
            "identity": identity,
            "contact_list_id": contact_list_id,
            "count_before": count_now,
            "next_chunk": 0,
            "chunks_accepted": 0,
            "rows_accepted": 0,
            "rows_in_doubt": 0,
            "in_flight": None,
        }
        if found is None:
            self.record = fresh
            return ResumePlan(0, 0, 0, 0, count_now, resumed=False)
        changed = self._what_changed(found, identity, contact_list_id)
        if changed:
            self.log.warning(
                "Starting the upload over: %s since %s recorded its progress (%d row(s) in %d chunk(s) "
                "accepted then stay in the list)",
                changed,
                LeaseOwner.describe((found.get("lease") or {}).get("owner") or found.get("last_owner")),
                _whole(found.get("rows_accepted"), 0),
                _whole(found.get("chunks_accepted"), 0),
            )
            self.record = fresh
            return ResumePlan(0, 0, 0, 0, count_now, resumed=False)
        record = {**fresh, **{key: found[key] for key in fresh if key in found}, "identity": identity}
        in_flight = record["in_flight"]
        if isinstance(in_flight, Mapping):
            chunk, rows = int(in_flight["chunk"]), int(in_flight["rows"])
            if allow_duplicates is False:
                self.log.info(
                    "Chunk %d (%d row(s)) of an earlier try may or may not have been added: sending it "
                    "again, since the list drops duplicates (allowDuplicates=false)",
                    chunk + 1,
                    rows,
                )
                record["next_chunk"] = chunk
            else:
                self.log.warning(
                    "Chunk %d (%d row(s)) of an earlier try may or may not have been added: NOT sending it "
                    "again, since the list %s duplicates; its rows are reported as in doubt (XCom "
                    "rows_in_doubt). Check the list for them",
                    chunk + 1,
                    rows,
                    "allows" if allow_duplicates else "may allow",
                )
                record["rows_in_doubt"] += rows
                record["next_chunk"] = chunk + 1
            record["in_flight"] = None
        self.record = record
        self.log.info(
            "Resuming the upload at chunk %d: earlier tries sent %d row(s) in %d chunk(s) (recorded in %s); "
            "the list held %d contact(s) before the first try",
            record["next_chunk"] + 1,
            record["rows_accepted"],
            record["chunks_accepted"],
            self.store.described,
            record["count_before"],
        )
        return ResumePlan(
            first_chunk=record["next_chunk"],
            rows_sent_earlier=record["rows_accepted"],
            chunks_sent_earlier=record["chunks_accepted"],
            rows_in_doubt=record["rows_in_doubt"],
            count_before=record["count_before"],
            resumed=True,
        )

    @staticmethod
    def _what_changed(found: Mapping[str, Any], identity: Mapping[str, Any], contact_list_id: str) -> str:
        """What differs from the recorded upload, in words (sizes and settings; hashes by name only)."""
        if found.get("version") != RECORD_VERSION:
            return f"the record has version {found.get('version')!r}, not {RECORD_VERSION}"
        recorded = found.get("identity")
        recorded = recorded if isinstance(recorded, Mapping) else {}
        changes = []
        for key in sorted(set(recorded) | set(identity)):
            before, now = recorded.get(key), identity.get(key)
            if before == now:
                continue
            if key == "sha256":
                changes.append("its checksum (SHA-256)")
            elif key == "column_map":
                changes.append("column_map")
            else:
                changes.append(f"{key} {before!r} -> {now!r}")
        if found.get("contact_list_id") != contact_list_id:
            changes.append(f"the list's id {found.get('contact_list_id')!r} -> {contact_list_id!r}")
        return "the input changed (" + ", ".join(changes) + ")" if changes else ""

    # -- while sending

    def before_chunk(self, index: int, rows: int) -> None:
        """The hook's ``before_chunk``: the previous chunk was accepted; this one goes in flight, with the
        lease renewed. Stops the upload if another try holds the lease."""
        if not self.recording:
            return
        record = self.record
        self._check_lease(record["next_chunk"] + (record["in_flight"] is not None))
        now = self.clock()
        if record["in_flight"] is not None:
            self._accept()
            self._slowest_chunk = max(self._slowest_chunk, now - self._renewed_at)
        record["in_flight"] = {"chunk": record["next_chunk"], "rows": rows}
        record["lease"] = self._lease()
        self.store.save(record)

    def _accept(self) -> None:
        record = self.record
        record["rows_accepted"] += record["in_flight"]["rows"]
        record["chunks_accepted"] += 1
        record["next_chunk"] += 1
        record["in_flight"] = None

    def _lease(self) -> dict[str, Any]:
        self._renewed_at = self.clock()
        seconds = max(self._lease_seconds, LEASE_CHUNK_FACTOR * self._slowest_chunk)
        return {"owner": self.owner.as_dict(), "expires_at": self._renewed_at + seconds, "seconds": seconds}

    def _check_lease(self, chunk: int) -> None:
        current = self.store.load()
        lease = (current or {}).get("lease")
        owner = lease.get("owner") if isinstance(lease, Mapping) else None
        if current is not None and owner == self.owner.as_dict():
            return
        self._holding = False
        holder = (
            f"{LeaseOwner.describe(owner)} has taken over its lease"
            if owner is not None
            else "its record is gone or released (another try finished or failed meanwhile)"
        )
        raise KoreAIUploadLeaseError(
            f"Upload stopped before chunk {chunk + 1}: this try no longer holds the upload's lease, "
            f"{holder} (this try's lease had expired, or two tries started together). Nothing more is sent "
            f"by this try; a later try resumes from the progress recorded in {self.store.described}",
            retryable=True,
        )

    # -- ending a try

    @property
    def rows_accepted(self) -> int:
        """Rows Kore.ai accepted over every try (so far)."""
        return int(self.record.get("rows_accepted", 0))

    def finished(self) -> None:
        """The hook returned: the last chunk was accepted; the lease is released."""
        if not self._holding:
            return
        if self.record["in_flight"] is not None:
            self._accept()
        self.record["lease"] = None
        self.record["last_owner"] = self.owner.as_dict()
        self.store.save(self.record)

    def failed(self, *, outcome_unknown: bool) -> None:
        """A chunk failed: if Kore.ai surely did not add it, it is no longer in doubt; the lease is released.
        A failure to write is logged, not raised: the chunk's own error is the one to report."""
        if self._holding and self.record.get("in_flight") is not None and not outcome_unknown:
            self.record["in_flight"] = None
        self.abandoned()

    def abandoned(self) -> None:
        """The try stops on an error: the lease is released (a chunk in flight stays in doubt)."""
        if not self._holding:
            return
        self._holding = False
        self.record["lease"] = None
        self.record["last_owner"] = self.owner.as_dict()
        try:
            self.store.save(self.record)
        except Exception as error:
            self.log.warning(
                "Could not release the upload's lease in %s (%s): a retry waits for it to expire",
                self.store.described,
                error,
            )

    def delete(self) -> None:
        """The task succeeded: the record goes (a cleared task then starts afresh)."""
        if not self.recording:
            return
        try:
            self.store.delete()
        except Exception as error:
            self.log.warning(
                "Could not delete the upload's record in %s (%s): clearing this task would resume it, "
                "sending nothing; delete the record to send the contacts again",
                self.store.described,
                error,
            )
