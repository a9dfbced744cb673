"""The progress record of an upload and its lease (:mod:`airflow_provider_koreai.upload_progress`), with
the task state store faked in memory and a fake clock: resume, start over, the in-doubt rule, waiting for
another try's lease, what a try costs the store. The operator around it: ``tests/operators/
test_contact_list_resume.py``; across a real wire: ``tests/integration/test_resumed_upload_emulator.py``."""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

import pytest

from airflow_provider_koreai import upload_progress
from airflow_provider_koreai.exceptions import KoreAIUploadLeaseError
from airflow_provider_koreai.upload_progress import (
    STATE_KEY,
    LeaseOwner,
    TaskStateStore,
    UploadTracker,
    VariableStore,
    store_for,
    variable_key,
)
from tests.helpers.state_store import FakeTaskStateStore

IDENTITY = {"source": "path", "size": 1234, "sha256": "ab" * 32, "chunk_size": 10, "contact_list_name": "L"}
ME = LeaseOwner(try_number=2, hostname="worker-b", pid=200)
OTHER = LeaseOwner(try_number=1, hostname="worker-a", pid=100)
LEASE = 100.0


class Clock:
    """Time that moves only when the tracker sleeps; counts the sleeps."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def tracker(
    accessor: FakeTaskStateStore, owner: LeaseOwner = ME, clock: Clock | None = None
) -> UploadTracker:
    clock = clock or Clock()
    return UploadTracker(
        TaskStateStore(accessor), owner, log=logging.getLogger("test"), clock=clock, sleep=clock.sleep
    )


def begin(track: UploadTracker, allow_duplicates: bool | None = True, **identity: Any) -> Any:
    return track.begin(
        identity={**IDENTITY, **identity},
        contact_list_id="cl-1",
        count_now=7,
        allow_duplicates=allow_duplicates,
        lease_for=LEASE,
    )


def died_after(accessor: FakeTaskStateStore, accepted: int, *, in_flight: bool = True) -> None:
    """Try 1 on another worker sent ``accepted`` chunks of 10, then died (its lease left to expire) while
    sending the next one (``in_flight``), or before it."""
    first = tracker(accessor, OTHER)
    begin(first)
    for index in range(accepted + (1 if in_flight else 0)):
        first.before_chunk(index, 10)


def record(accessor: FakeTaskStateStore) -> dict[str, Any]:
    return accessor.values[STATE_KEY]


def test_a_first_try_takes_the_lease_and_costs_one_read_and_one_write_per_chunk() -> None:
    accessor = FakeTaskStateStore()
    track = tracker(accessor)
    plan = begin(track)
    assert (plan.first_chunk, plan.count_before, plan.resumed) == (0, 7, False)
    assert accessor.operations == {"get": 1, "set": 1}
    for index in range(5):
        track.before_chunk(index, 10)
    assert accessor.operations == {"get": 6, "set": 6}
    track.finished()
    assert record(accessor)["rows_accepted"] == 50
    assert record(accessor)["lease"] is None
    track.delete()
    assert accessor.operations == {"get": 6, "set": 7, "delete": 1}
    assert STATE_KEY not in accessor.values


def test_the_record_holds_no_contact_data_and_names_the_lease_owner() -> None:
    accessor = FakeTaskStateStore()
    track = tracker(accessor)
    begin(track)
    track.before_chunk(0, 10)
    saved = record(accessor)
    assert saved["lease"]["owner"] == {"try_number": 2, "hostname": "worker-b", "pid": 200}
    assert saved["in_flight"] == {"chunk": 0, "rows": 10}
    assert saved["lease"]["expires_at"] == pytest.approx(1_000_000.0 + LEASE)
    assert not re.search(r"\+\d{6,}", str(saved))


@pytest.mark.parametrize(
    ("allow_duplicates", "first_chunk", "in_doubt"),
    [(False, 4, 0), (True, 5, 10), (None, 5, 10)],
    ids=["drops-duplicates-resend", "allows-duplicates-skip", "unknown-policy-skip"],
)
def test_a_chunk_in_doubt_is_resent_only_when_the_list_drops_duplicates(
    allow_duplicates: bool | None, first_chunk: int, in_doubt: int, caplog: pytest.LogCaptureFixture
) -> None:
    accessor = FakeTaskStateStore()
    died_after(accessor, 4)
    clock = Clock()
    clock.now += 2 * LEASE  # the dead try's lease has expired
    plan = begin(tracker(accessor, clock=clock), allow_duplicates=allow_duplicates)
    assert plan.resumed
    assert (plan.first_chunk, plan.rows_sent_earlier, plan.chunks_sent_earlier) == (first_chunk, 40, 4)
    assert plan.rows_in_doubt == in_doubt
    assert plan.count_before == 7, "the first try's baseline"
    assert "Chunk 5 (10 row(s)) of an earlier try may or may not have been added" in caplog.text
    assert ("NOT sending it again" in caplog.text) == (in_doubt > 0)


def test_a_chunk_surely_not_added_is_sent_again_whatever_the_list() -> None:
    accessor = FakeTaskStateStore()
    first = tracker(accessor, OTHER)
    begin(first)
    for index in range(3):
        first.before_chunk(index, 10)
    first.failed(outcome_unknown=False)  # chunk 3 was refused (a 429 after every retry)
    plan = begin(tracker(accessor), allow_duplicates=True)
    assert (plan.first_chunk, plan.rows_sent_earlier, plan.rows_in_doubt) == (2, 20, 0)


def test_earlier_tries_add_up_over_several_resumes() -> None:
    accessor = FakeTaskStateStore()
    died_after(accessor, 2)
    clock = Clock()
    clock.now += 2 * LEASE
    second = tracker(accessor, clock=clock)
    plan = begin(second, allow_duplicates=True)  # chunk 3 (1-based) skipped, in doubt
    second.before_chunk(0, 10)  # chunk 4 in flight...
    second.before_chunk(1, 10)  # ... accepted; chunk 5 in flight
    second.failed(outcome_unknown=True)  # a timeout: chunk 5 in doubt too
    third_plan = begin(tracker(accessor, LeaseOwner(3, "worker-c", 300), clock), allow_duplicates=True)
    assert plan.first_chunk == 3
    assert (third_plan.first_chunk, third_plan.rows_sent_earlier, third_plan.rows_in_doubt) == (5, 30, 20)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"size": 999}, "size 1234 -> 999"),
        ({"sha256": "cd" * 32}, "its checksum (SHA-256)"),
        ({"chunk_size": 20}, "chunk_size 10 -> 20"),
    ],
)
def test_a_changed_input_or_chunking_starts_over_and_says_why(
    change: dict[str, Any], said: str, caplog: pytest.LogCaptureFixture
) -> None:
    accessor = FakeTaskStateStore()
    died_after(accessor, 4)
    clock = Clock()
    clock.now += 2 * LEASE
    plan = begin(tracker(accessor, clock=clock), **change)
    assert (plan.first_chunk, plan.rows_sent_earlier, plan.resumed) == (0, 0, False)
    assert plan.count_before == 7
    line = next(line for line in caplog.messages if line.startswith("Starting the upload over"))
    assert said in line
    assert "40 row(s) in 4 chunk(s) accepted then stay in the list" in line
    assert record(accessor)["next_chunk"] == 0


def test_a_live_lease_of_another_try_is_waited_for_then_taken_over(caplog: pytest.LogCaptureFixture) -> None:
    accessor = FakeTaskStateStore()
    died_after(accessor, 3)
    clock = Clock()
    clock.now += LEASE / 2  # the other try renewed its lease 50 s ago
    track = tracker(accessor, clock=clock)
    plan = begin(track, allow_duplicates=False)
    assert plan.first_chunk == 3
    # Polled every 10 s until the lease expired, then the settle pause before reading it back.
    assert clock.sleeps == [10.0] * 5 + [upload_progress.LEASE_SETTLE_SECONDS]
    assert "Another try of this task, try 1 on worker-a (pid 100), is still uploading" in caplog.text
    assert "Taking over the upload from try 1 on worker-a (pid 100)" in caplog.text
    assert record(accessor)["lease"]["owner"] == ME.as_dict()


def test_a_lease_renewed_past_the_wait_fails_the_try_retryably_having_sent_nothing() -> None:
    accessor = FakeTaskStateStore()
    died_after(accessor, 3)
    clock = Clock()

    class Renewing(FakeTaskStateStore):
        """The other try keeps renewing its lease each time this one looks."""

        def get(self, key: str, default: Any = None) -> Any:
            value = super().get(key, default)
            value["lease"]["expires_at"] = clock.now + LEASE
            return value

    renewing = Renewing()
    renewing.values = accessor.values
    with pytest.raises(KoreAIUploadLeaseError, match="is still uploading after 200 s of waiting") as excinfo:
        begin(tracker(renewing, clock=clock))
    assert excinfo.value.retryable
    assert renewing.operations["set"] == 0, "this try wrote nothing"
    assert sum(clock.sleeps) == pytest.approx(2 * LEASE)


def test_a_record_that_vanishes_while_waiting_fails_for_good() -> None:
    """The other try finished (a try deletes its record on success): starting over would send every row
    again."""
    accessor = FakeTaskStateStore()
    died_after(accessor, 3)
    clock = Clock()

    def finish_meanwhile(seconds: float) -> None:
        accessor.values.clear()

    track = UploadTracker(
        TaskStateStore(accessor), ME, log=logging.getLogger("test"), clock=clock, sleep=finish_meanwhile
    )
    with pytest.raises(KoreAIUploadLeaseError, match="finished the upload while this try waited") as excinfo:
        begin(track)
    assert not excinfo.value.retryable


def test_a_try_whose_lease_was_taken_over_stops_before_its_next_chunk() -> None:
    accessor = FakeTaskStateStore()
    clock = Clock()
    stalled = tracker(accessor, OTHER, clock)
    begin(stalled)
    stalled.before_chunk(0, 10)
    clock.now += 2 * LEASE  # it stalled past its lease; another try took over
    begin(tracker(accessor, clock=clock), allow_duplicates=False)
    with pytest.raises(
        KoreAIUploadLeaseError, match="Upload stopped before chunk 2: this try no longer holds"
    ):
        stalled.before_chunk(1, 10)
    stalled.abandoned()  # the error path: it must not release the other try's lease
    assert record(accessor)["lease"]["owner"] == ME.as_dict()


def test_a_store_that_cannot_be_written_leaves_the_upload_unrecorded_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(FakeTaskStateStore):
        def set(self, key: str, value: Any, **_: Any) -> None:
            raise RuntimeError("no supervisor")

    track = tracker(Broken())
    plan = begin(track)
    assert (plan.first_chunk, plan.count_before, track.recording) == (0, 7, False)
    track.before_chunk(0, 10)  # nothing recorded, nothing raised
    assert "progress is not recorded" in caplog.text
    assert "a retry would send every row again" in caplog.text


def test_the_store_is_the_task_state_store_where_airflow_offers_one_else_a_variable() -> None:
    class TI:
        dag_id, run_id, task_id, map_index = "d", "scheduled__2025-01-01T00:00:00+00:00", "add", 3

    assert isinstance(store_for({"task_state_store": FakeTaskStateStore(), "ti": TI()}), TaskStateStore)
    store = store_for({"ti": TI()})
    assert isinstance(store, VariableStore)
    assert store.key == variable_key("d", "scheduled__2025-01-01T00:00:00+00:00", "add", 3)
    assert re.fullmatch(r"koreai_upload_progress__[0-9a-f]{40}", store.key)
    assert store.key != variable_key("d", "scheduled__2025-01-01T00:00:00+00:00", "add", 4)
    assert "'add' (map index 3)" in store.description


def test_the_lease_owner_is_named_by_the_host_airflow_names_the_try_by() -> None:
    class TaskInstance:
        try_number = 3
        hostname = "worker-a.celery.internal"

    class NoHostYet(TaskInstance):
        hostname = ""

    assert LeaseOwner.current(TaskInstance()).hostname == "worker-a.celery.internal"
    assert LeaseOwner.current(NoHostYet()).hostname == socket.gethostname()
    assert LeaseOwner.current(TaskInstance()).try_number == 3
