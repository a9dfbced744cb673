"""AddContactsOperator across tries against mocked HTTP (requests-mock), its progress in a fake task state
store shared by the tries: what a retry sends, what it pushes for the sensor, what it costs, and when a
failure is left to Airflow's retries. The record's rules themselves: ``tests/test_upload_progress.py``;
across a real wire: ``tests/integration/test_resumed_upload_emulator.py``."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
import requests_mock as rm
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_koreai import upload_progress
from airflow_provider_koreai.exceptions import KoreAIPartialUploadError
from airflow_provider_koreai.operators.contact_list import AddContactsOperator
from airflow_provider_koreai.upload_progress import STATE_KEY
from tests.helpers.connections import BASE_URL, IID
from tests.helpers.logs import the_line
from tests.helpers.state_store import FakeTaskStateStore

PREFIX = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList"
LIST_ALL_URL = f"{PREFIX}/getAllListDetails"
ADD_URL = f"{BASE_URL}/api/1.1/public/{IID}/campaign/contactList/addContacts"
NAME = "Overdue Invoices"
ACCEPTED = {"message": "Adding contacts to public list is in progress"}
RECORDS = [{"phoneNumber": f"+1415555{i:04d}"} for i in range(50)]


class WorkerDied(BaseException):
    """The worker's process ends mid-upload (as SIGKILL would): no ``except Exception`` sees it."""


def the_list(count: int, *, allow_duplicates: bool) -> dict[str, Any]:
    return {"_id": "cl-overdue", "name": NAME, "allowDuplicates": allow_duplicates, "totalRecordCount": count}


def a_try(store: FakeTaskStateStore, try_number: int, **overrides: Any) -> tuple[Any, dict[str, Any]]:
    """One try of the task, as a worker runs it; returns (return value, XCom pushed by key)."""
    operator = AddContactsOperator(
        task_id="add", contact_list_name=NAME, records=RECORDS, chunk_size=10, **overrides
    )
    ti = mock.MagicMock(try_number=try_number)
    context: Any = {"ti": ti, "params": {}, "task_state_store": store}
    operator.render_template_fields(context)
    result = operator.execute(context)
    return result, {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


def sent_phones(requests_mock: rm.Mocker) -> list[str]:
    return [
        row["phoneNumber"]
        for request in requests_mock.request_history
        if request.url == ADD_URL
        for row in request.json()["data"]
    ]


def dies_after(accepted: int, *, sent: bool) -> list[dict[str, Any]]:
    """The addContacts answers of a try that dies while sending chunk ``accepted + 1``: after Kore.ai
    took it (``sent``), or before it left."""

    def die(request: Any, context: Any) -> Any:
        raise WorkerDied

    def taken_then_die(request: Any, context: Any) -> Any:
        taken.append(request.json())
        raise WorkerDied

    taken: list[Any] = []
    return [{"json": ACCEPTED}] * accepted + [{"json": taken_then_die if sent else die}]


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # No pause after taking over a dead try's lease (its read-back is tested in test_upload_progress).
    monkeypatch.setattr(upload_progress, "LEASE_SETTLE_SECONDS", 0.0)


@pytest.mark.parametrize(
    ("allow_duplicates", "resent", "in_doubt"), [(False, 30, 0), (True, 20, 10)], ids=["no-dups", "dups"]
)
def test_a_retry_after_the_worker_died_skips_the_accepted_chunks(
    requests_mock: rm.Mocker, allow_duplicates: bool, resent: int, in_doubt: int
) -> None:
    store = FakeTaskStateStore()
    requests_mock.post(
        LIST_ALL_URL, json={"status": "success", "data": [the_list(5, allow_duplicates=allow_duplicates)]}
    )
    requests_mock.post(ADD_URL, dies_after(2, sent=True))
    with pytest.raises(WorkerDied):
        a_try(store, 1)
    assert store.values[STATE_KEY]["lease"] is not None, "a dead try leaves its lease to expire"
    store.values[STATE_KEY]["lease"]["expires_at"] = 0  # ... which it has when Airflow retries

    # Kore.ai ingested the first try's 20 rows (and maybe the chunk in doubt) meanwhile.
    requests_mock.post(
        LIST_ALL_URL, json={"status": "success", "data": [the_list(35, allow_duplicates=allow_duplicates)]}
    )
    requests_mock.post(ADD_URL, json=ACCEPTED)
    requests_mock.reset_mock()
    result, xcom = a_try(store, 2)

    assert sent_phones(requests_mock) == [r["phoneNumber"] for r in RECORDS[50 - resent :]]
    assert xcom["rows_sent"] == resent
    assert (xcom["rows_sent_earlier"], xcom["chunks_sent_earlier"]) == (20, 2)
    assert xcom["rows_in_doubt"] == in_doubt
    assert xcom["count_before"] == 5, "the first try's count, not the retry's"
    assert xcom["expected_count"] == 5 + 50 - in_doubt
    assert result["expected_count"] == xcom["expected_count"]
    assert STATE_KEY not in store.values, "a try that succeeds deletes the record"


def test_the_success_line_says_what_this_try_and_earlier_tries_sent(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    store = FakeTaskStateStore()
    requests_mock.post(
        LIST_ALL_URL, json={"status": "success", "data": [the_list(0, allow_duplicates=False)]}
    )
    requests_mock.post(ADD_URL, dies_after(3, sent=False))
    with pytest.raises(WorkerDied):
        a_try(store, 1)
    store.values[STATE_KEY]["lease"]["expires_at"] = 0
    requests_mock.post(ADD_URL, json=ACCEPTED)
    a_try(store, 2)
    line = the_line(capsys.readouterr().out, "Added ")
    assert "Added 20 contact(s) after 30 sent by earlier tries in 3 chunk(s) to Kore.ai" in line
    assert "the list held 0 contact(s) before, 50 expected once ingested" in line


def test_a_resumable_upload_costs_no_extra_request_to_kore_ai(requests_mock: rm.Mocker) -> None:
    store = FakeTaskStateStore()
    requests_mock.post(LIST_ALL_URL, json={"status": "success", "data": [the_list(0, allow_duplicates=True)]})
    requests_mock.post(ADD_URL, json=ACCEPTED)
    _, xcom = a_try(store, 1)
    # One lookup (the count before sending, as before), then one request per chunk: nothing else.
    sent = [request.url.partition("?")[0] for request in requests_mock.request_history]
    assert sent == [LIST_ALL_URL] + [ADD_URL] * 5
    assert xcom["chunks_sent"] == 5
    # The store: a read and a write to begin, a read and a write per chunk, a write and a delete to end.
    assert store.operations == {"get": 1 + 5, "set": 1 + 5 + 1, "delete": 1}


def test_a_transient_failure_after_accepted_chunks_is_left_to_airflows_retry(
    requests_mock: rm.Mocker,
) -> None:
    store = FakeTaskStateStore()
    requests_mock.post(LIST_ALL_URL, json={"status": "success", "data": [the_list(0, allow_duplicates=True)]})
    requests_mock.post(ADD_URL, [{"json": ACCEPTED}] * 2 + [{"status_code": 429, "json": {}}])
    with pytest.raises(KoreAIPartialUploadError) as excinfo:
        a_try(store, 1, hook_params={"max_attempts": 1, "retry_timeout": 0.5})
    assert excinfo.value.retryable, "raised as it is: Airflow retries the task"
    assert "a retry resumes after the accepted chunks, recorded in Airflow's task state store" in str(
        excinfo.value
    )
    saved = store.values[STATE_KEY]
    assert (saved["next_chunk"], saved["in_flight"], saved["lease"]) == (2, None, None)

    requests_mock.post(ADD_URL, json=ACCEPTED)
    requests_mock.reset_mock()
    _, xcom = a_try(store, 2)
    assert sent_phones(requests_mock) == [r["phoneNumber"] for r in RECORDS[20:]]
    assert (xcom["rows_sent"], xcom["rows_in_doubt"], xcom["expected_count"]) == (30, 0, 50)


def test_without_a_store_to_record_progress_the_old_rule_applies(requests_mock: rm.Mocker) -> None:
    """No task state store, and no Variable API outside a running task: the upload goes on unrecorded,
    and a failure after accepted rows fails the task for good (a retry would send every row again)."""
    requests_mock.post(LIST_ALL_URL, json={"status": "success", "data": [the_list(0, allow_duplicates=True)]})
    requests_mock.post(ADD_URL, [{"json": ACCEPTED}] * 2 + [{"status_code": 429, "json": {}}])
    operator = AddContactsOperator(
        task_id="add",
        contact_list_name=NAME,
        records=RECORDS,
        chunk_size=10,
        hook_params={"max_attempts": 1, "retry_timeout": 0.5},
    )
    context: Any = {"ti": mock.MagicMock(), "params": {}}
    operator.render_template_fields(context)
    with pytest.raises(AirflowFailException, match="compare the list's totalRecordCount before running"):
        operator.execute(context)
