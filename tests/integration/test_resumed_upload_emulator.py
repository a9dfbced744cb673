"""A try of AddContactsOperator dies mid-upload, then Airflow retries it: against the emulator on 127.0.0.1,
the tries sharing one task state store (faked in memory, as Airflow 3.3 shares its rows between the tries
of a task instance). Each row ends up in the list once, and the sensor's rule ends with ``target_reached``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest

from airflow_provider_koreai import upload_progress
from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import KoreAIUploadLeaseError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.ingestion import TARGET_REACHED, IngestionWatch
from airflow_provider_koreai.operators.contact_list import AddContactsOperator
from airflow_provider_koreai.upload_progress import STATE_KEY
from tests.helpers.state_store import FakeTaskStateStore

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_backoff")]

DUPLICATES_ALLOWED = ("Overdue Invoices", "cl-demo-overdue-invoices", 1)
DUPLICATES_DROPPED = ("Churn Risk", "cl-demo-churn-risk", 0)
ROWS, CHUNK = 200, 20


class WorkerDied(BaseException):
    """The worker's process ends (as with SIGKILL): no ``except Exception`` sees it, no lease is released."""


def records(prefix: str = "+1415") -> list[dict[str, Any]]:
    return [{"phoneNumber": f"{prefix}{i:07d}", "firstName": f"n{i}"} for i in range(ROWS)]


@pytest.fixture
def die_before_chunk(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``die_before_chunk(k)``: the next try dies right before recording chunk ``k + 1`` (1-based), after
    Kore.ai accepted chunk ``k``, which its record still shows in flight: the worst case, in doubt."""
    real = KoreAIHook.add_contacts

    def arm(chunk: int) -> None:
        def add_contacts(self: KoreAIHook, *args: Any, before_chunk: Any = None, **kwargs: Any) -> Any:
            def dying(index: int, rows: int) -> None:
                if index == chunk:
                    monkeypatch.setattr(KoreAIHook, "add_contacts", real)  # the retry lives
                    raise WorkerDied
                before_chunk(index, rows)

            return real(self, *args, before_chunk=dying, **kwargs)

        monkeypatch.setattr(KoreAIHook, "add_contacts", add_contacts)

    return arm


@pytest.fixture(autouse=True)
def _short_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leases of a second or so (retry_timeout 1 s + this margin), polled every 0.1 s, no settle pause."""
    monkeypatch.setattr(upload_progress, "LEASE_MARGIN_SECONDS", 0.5)
    monkeypatch.setattr(upload_progress, "LEASE_POLL_SECONDS", 0.1)
    monkeypatch.setattr(upload_progress, "LEASE_SETTLE_SECONDS", 0.0)


def a_try(
    store: FakeTaskStateStore, try_number: int, name: str, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    operator = AddContactsOperator(
        task_id="add",
        contact_list_name=name,
        records=rows,
        chunk_size=CHUNK,
        hook_params={"retry_timeout": 1},
    )
    ti = mock.MagicMock(try_number=try_number)
    context: Any = {"ti": ti, "params": {}, "task_state_store": store}
    operator.render_template_fields(context)
    operator.execute(context)
    return {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


def settled_count(server: EmulatorServer, list_id: str, timeout: float = 10.0) -> int:
    """The list's count once ingestion stopped moving (the emulator ingests asynchronously, like Kore.ai)."""
    deadline = time.monotonic() + timeout
    last, unchanged = -1, 0
    while time.monotonic() < deadline and unchanged < 5:
        count = int(server.contact_list(list_id)["totalRecordCount"])  # type: ignore[index]
        unchanged = unchanged + 1 if count == last else 0
        last = count
        time.sleep(0.1)
    return last


def phones(server: EmulatorServer, list_id: str) -> Counter[str]:
    return Counter(contact["phoneNumber"] for contact in server.contacts(list_id))


def sensor_rule(xcom: dict[str, Any], count: int, allow_duplicates: bool) -> str | None:
    watch = IngestionWatch(expected_count=xcom["expected_count"], baseline_count=xcom["count_before"])
    verdict = watch.observe(count, allow_duplicates=allow_duplicates)
    return verdict.rule if verdict else None


def add_requests(server: EmulatorServer) -> int:
    return sum(1 for request in server.recorded_requests() if "addContacts" in request["path"])


@pytest.mark.parametrize(
    ("the_list", "allow_duplicates", "resent", "in_doubt"),
    [(DUPLICATES_DROPPED, False, 120, 0), (DUPLICATES_ALLOWED, True, 100, 20)],
    ids=["allowDuplicates=false", "allowDuplicates=true"],
)
def test_a_retry_after_a_dead_worker_leaves_each_row_once_in_the_list(
    emulator: EmulatorServer,
    die_before_chunk: Callable[[int], None],
    the_list: tuple[str, str, int],
    allow_duplicates: bool,
    resent: int,
    in_doubt: int,
) -> None:
    name, list_id, held = the_list
    store, rows = FakeTaskStateStore(), records()
    die_before_chunk(5)  # chunks 1-5 accepted, chunk 5 still recorded in flight
    with pytest.raises(WorkerDied):
        a_try(store, 1, name, rows)
    assert store.values[STATE_KEY]["in_flight"] == {"chunk": 4, "rows": CHUNK}

    xcom = a_try(store, 2, name, rows)  # waits out the dead try's lease (about 1.5 s), then resumes

    count = settled_count(emulator, list_id)
    assert count == held + ROWS
    assert set(phones(emulator, list_id).values()) == {1}, "every contact once"
    assert (xcom["rows_sent"], xcom["rows_sent_earlier"], xcom["rows_in_doubt"]) == (resent, 80, in_doubt)
    assert xcom["count_before"] == held
    assert xcom["expected_count"] == held + ROWS - in_doubt
    assert sensor_rule(xcom, count, allow_duplicates) == TARGET_REACHED


def test_a_changed_input_starts_over(
    emulator: EmulatorServer, die_before_chunk: Callable[[int], None], capsys: pytest.CaptureFixture[str]
) -> None:
    name, list_id, held = DUPLICATES_ALLOWED
    store = FakeTaskStateStore()
    die_before_chunk(3)
    with pytest.raises(WorkerDied):
        a_try(store, 1, name, records("+1415"))
    xcom = a_try(store, 2, name, records("+1212"))
    assert (xcom["rows_sent"], xcom["rows_sent_earlier"], xcom["rows_in_doubt"]) == (ROWS, 0, 0)
    assert "Starting the upload over: the input changed (its checksum (SHA-256))" in capsys.readouterr().out
    assert settled_count(emulator, list_id) == held + 60 + ROWS  # the first try's 3 chunks stay


def test_a_try_never_uploads_alongside_another_live_try(
    emulator: EmulatorServer, die_before_chunk: Callable[[int], None], capsys: pytest.CaptureFixture[str]
) -> None:
    """The first try is still alive (an orphan that keeps renewing its lease): the retry waits, then gives
    up having sent nothing, retryably."""
    name, _, _ = DUPLICATES_DROPPED
    store = FakeTaskStateStore()
    die_before_chunk(2)
    with pytest.raises(WorkerDied):
        a_try(store, 1, name, records())
    sent_by_first = add_requests(emulator)

    class Renewing(FakeTaskStateStore):
        def get(self, key: str, default: Any = None) -> Any:
            value = super().get(key, default)
            value["lease"]["expires_at"] = time.time() + 60
            return value

    renewing = Renewing()
    renewing.values = store.values
    with pytest.raises(KoreAIUploadLeaseError, match="is still uploading after") as excinfo:
        a_try(renewing, 2, name, records())
    assert excinfo.value.retryable
    assert add_requests(emulator) == sent_by_first, "the retry sent nothing"
    assert renewing.operations["set"] == 0
    assert "Waiting up to 3 s for it to end or expire" in capsys.readouterr().out
