"""Create / delete / add-contacts operators against mocked HTTP (requests-mock): argument checks,
templating, record sources and what the emulator cannot stage (a concurrent create, twin lists, a lookup
without a count). Create, re-run, update, delete and upload across a real wire:
``tests/integration/test_lifecycle_operators_emulator.py``; an upload's sources, check and progress:
``tests/test_contacts_upload.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pendulum
import pytest
import requests_mock as rm
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG

from airflow_provider_koreai.contacts import RenderedRecords
from airflow_provider_koreai.exceptions import KoreAIPartialUploadError, KoreAIServerError
from airflow_provider_koreai.operators.contact_list import (
    AddContactsOperator,
    CreateContactListOperator,
    DeleteContactListOperator,
)
from tests.helpers.compat import serialize_round_trip
from tests.helpers.connections import BASE_URL, IID

PREFIX = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList"
LIST_ALL_URL = f"{PREFIX}/getAllListDetails"
CREATE_URL = f"{PREFIX}/createContactList"
ADD_URL = f"{BASE_URL}/api/1.1/public/{IID}/campaign/contactList/addContacts"
LIST_ID = "cl-renewals-0001"
NAME = "Renewal Due - August 2025"
EXISTING = {
    "_id": LIST_ID,
    "name": NAME,
    "description": "old",
    "source": "passiveApiIntegration",
    "allowDuplicates": False,
    "totalRecordCount": 3,
}
ACCEPTED = {"message": "Adding contacts to public list is in progress"}


def baseline(rows_sent: int) -> dict[str, Any]:
    """What AddContactsOperator pushes for the sensor: EXISTING held 3 contacts before sending."""
    return {"contact_list_id": LIST_ID, "count_before": 3, "expected_count": 3 + rows_sent}


def run(operator: Any, **context: Any) -> tuple[Any, mock.MagicMock]:
    """Render the templates, then execute, as a worker would; returns (return value, ti mock)."""
    ti = mock.MagicMock()
    full_context: dict[str, Any] = {"ti": ti, "params": {}, **context}
    operator.render_template_fields(full_context)
    return operator.execute(full_context), ti


def pushed(ti: mock.MagicMock) -> dict[str, Any]:
    return {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None) -> None:
    pass


@pytest.fixture(autouse=True)
def _existing_list(requests_mock: rm.Mocker) -> None:
    """The lookup AddContactsOperator makes before sending; tests that need other lists register their own."""
    requests_mock.post(LIST_ALL_URL, json={"status": "success", "data": [EXISTING]})


# -- registration and shape ------------------------------------------------------------------------------


def test_operators_serialize_in_a_dag() -> None:
    with DAG("koreai_lifecycle", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        CreateContactListOperator(task_id="create", name="{{ params.name }}", if_exists="update")
        DeleteContactListOperator(task_id="delete", contact_list_id="{{ params.id }}", missing_ok=True)
        AddContactsOperator(task_id="add", contact_list_name="x", path="{{ params.path }}", chunk_size=10)
    restored = serialize_round_trip(dag)
    assert restored.get_task("create").name == "{{ params.name }}"
    assert restored.get_task("add").path == "{{ params.path }}"


# -- create ---------------------------------------------------------------------------------------------


def test_a_409_on_create_means_someone_else_created_it(requests_mock: rm.Mocker) -> None:
    lookups = iter([[], [EXISTING]])
    requests_mock.post(
        LIST_ALL_URL, json=lambda request, context: {"status": "success", "data": next(lookups)}
    )
    requests_mock.post(CREATE_URL, status_code=409, json={"errors": [{"msg": "name exists", "code": 409}]})
    result, ti = run(CreateContactListOperator(task_id="create", name=NAME))
    assert result == EXISTING
    assert pushed(ti) == {"contact_list_id": LIST_ID, "created": False}


def test_several_lists_of_that_name_fail_for_good(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        LIST_ALL_URL, json={"status": "success", "data": [EXISTING, {**EXISTING, "_id": "cl-twin"}]}
    )
    with pytest.raises(AirflowFailException, match=r"2 Kore\.ai contact lists are named"):
        run(CreateContactListOperator(task_id="create", name=NAME))


def test_if_exists_is_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"'if_exists'.*'skip', 'update', 'fail'.*'replace'"):
        CreateContactListOperator(task_id="create", name=NAME, if_exists="replace")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "{{ params.missing }}"}, "name"),
        ({"name": "x" * 49}, "name"),
        ({"description": "d" * 257}, "description"),
        ({"allow_duplicates": "maybe"}, "allow_duplicates"),
        ({"source": " "}, "source"),
    ],
)
def test_create_validates_everything_before_any_request(
    requests_mock: rm.Mocker, overrides: dict[str, Any], field: str
) -> None:
    kwargs: dict[str, Any] = {"task_id": "create", "name": NAME, **overrides}
    with pytest.raises(AirflowFailException, match=field):
        run(CreateContactListOperator(**kwargs))
    assert requests_mock.call_count == 0


def test_create_transient_failure_stays_retryable(requests_mock: rm.Mocker, set_connection: Any) -> None:
    set_connection(extra={"max_attempts": 1})
    requests_mock.post(LIST_ALL_URL, status_code=503, json={})
    with pytest.raises(KoreAIServerError) as excinfo:
        run(CreateContactListOperator(task_id="create", name=NAME))
    assert not isinstance(excinfo.value, AirflowFailException)


# -- delete ---------------------------------------------------------------------------------------------


def test_delete_other_errors_are_not_hidden_by_missing_ok(requests_mock: rm.Mocker) -> None:
    requests_mock.delete(f"{PREFIX}/{LIST_ID}", status_code=401, json={"errors": [{"msg": "Invalid JWT"}]})
    with pytest.raises(AirflowFailException, match="Invalid JWT"):
        run(DeleteContactListOperator(task_id="delete", contact_list_id=LIST_ID, missing_ok=True))


def test_delete_validates_the_id_before_any_request(requests_mock: rm.Mocker) -> None:
    with pytest.raises(AirflowFailException, match="contact_list_id"):
        run(DeleteContactListOperator(task_id="delete", contact_list_id="cl-1/../getAllListDetails"))
    assert requests_mock.call_count == 0


def test_missing_ok_is_checked_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="'missing_ok'"):
        DeleteContactListOperator(task_id="delete", contact_list_id=LIST_ID, missing_ok="yes")  # type: ignore[arg-type]


# -- add contacts ---------------------------------------------------------------------------------------


def add_operator(**overrides: Any) -> AddContactsOperator:
    kwargs: dict[str, Any] = {"task_id": "add", "contact_list_name": NAME}
    kwargs.update(overrides)
    return AddContactsOperator(**kwargs)


def sent_chunks(requests_mock: rm.Mocker) -> list[list[dict[str, Any]]]:
    chunks = []
    for request in requests_mock.request_history:
        if request.url == ADD_URL:
            body = request.json()
            assert body["contact_list_name"] == NAME
            chunks.append(body["data"])
    return chunks


RECORDS = [
    {"phoneNumber": "+14155550101", "firstName": "Ada", "lastName": "Lovelace", "policy": "P-1"},
    {"phoneNumber": "+14155550102", "firstName": "Zoë", "timeZone": ""},
    {"phoneNumber": "+14155550103", "uniqueId": "u-3"},
]


class RecordsTI:
    """A task instance whose XCom holds records (the Jinja sandbox refuses to call a MagicMock)."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value") -> Any:
        return RECORDS

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def test_add_records_from_xcom_as_a_template(requests_mock: rm.Mocker) -> None:
    # Without render_template_as_native_obj the list renders as its Python repr, which is accepted.
    requests_mock.post(ADD_URL, json=ACCEPTED)
    ti = RecordsTI()
    operator = add_operator(records="{{ ti.xcom_pull(task_ids='extract') }}")
    context: dict[str, Any] = {"ti": ti, "params": {}}
    operator.render_template_fields(context)  # type: ignore[arg-type]
    assert isinstance(operator.records, RenderedRecords)
    assert isinstance(operator.records.value, str)
    assert "+1415" not in str(operator.records), "the rendered view shows no phone number"
    operator.execute(context)  # type: ignore[arg-type]
    assert ti.pushed == {"rows_sent": 3, "rows_rejected": 0, "chunks_sent": 1, **baseline(3)}
    assert sent_chunks(requests_mock)[0][1] == {"phoneNumber": "+14155550102", "firstName": "Zoë"}


def test_records_stay_as_written_until_airflow_renders_them(requests_mock: rm.Mocker) -> None:
    """The DAG serializes, and an XComArg sets its upstream task from, ``records`` as the author wrote it.
    A value assigned after ``__init__`` (an XComArg here) is kept behind the summary at once, and still
    renders: Airflow renders the summary's value as a nested template field."""
    from airflow.sdk import task

    @task
    def export() -> list[dict[str, Any]]:
        return RECORDS

    with DAG("koreai_records", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        exported = export()
        written = add_operator(task_id="add_written", records=exported)
        templated = add_operator(task_id="add_templated", records="{{ params.records }}")
        late = add_operator(task_id="add_late", records=[])
        late.records = exported
    assert written.records is exported
    assert "export" in written.upstream_task_ids
    assert "export" in late.upstream_task_ids
    assert serialize_round_trip(dag).get_task(templated.task_id).records == "{{ params.records }}"

    requests_mock.post(ADD_URL, json=ACCEPTED)
    result, _ = run(late, ti=mock.MagicMock(**{"xcom_pull.return_value": RECORDS}))
    assert isinstance(late.records, RenderedRecords)
    assert late.records.value == RECORDS
    assert result["rows_sent"] == 3


def test_a_mapped_tasks_records_are_rendered_behind_a_summary() -> None:
    """Airflow builds a task per map index from the expanded ``records`` and renders it in place (its
    ``render_template_fields`` leaves it in ``context["task"]``): that task's records are a summary too."""
    with DAG("koreai_mapped_records", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        mapped = AddContactsOperator.partial(task_id="add", contact_list_name=NAME).expand(
            records=[RECORDS[:1], RECORDS[1:]]
        )
    ti = mock.MagicMock(map_index=1, _upstream_map_indexes={})
    context: dict[str, Any] = {"ti": ti, "params": {}, "dag": dag, "dag_run": mock.MagicMock(conf={})}

    mapped.render_template_fields(context)  # type: ignore[arg-type]

    records = context["task"].records
    assert isinstance(records, RenderedRecords)
    assert records.value == RECORDS[1:]
    assert str(records) == "<2 contact records; columns: firstName, phoneNumber, timeZone, uniqueId>"


def test_add_from_a_file_names_it_as_the_lineage_input(requests_mock: rm.Mocker, tmp_path: Path) -> None:
    requests_mock.post(ADD_URL, json=ACCEPTED)
    path = tmp_path / "contacts.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in RECORDS) + "\n", encoding="utf-8")
    operator = add_operator(path=str(path), chunk_size=2)
    result, _ = run(operator)
    assert (result["rows_sent"], result["chunks_sent"]) == (3, 2)
    assert operator.read_from == ("file", str(path))


def test_every_invalid_row_is_counted_but_only_the_first_20_logged(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.post(ADD_URL, json=ACCEPTED)
    records = [{"phoneNumber": "+1"}] + [{"firstName": f"n{i}"} for i in range(50)]
    # max_invalid_rows as a template renders it: a string of digits.
    result, ti = run(
        add_operator(records=records, max_invalid_rows="{{ params.limit }}"), params={"limit": 100}
    )
    assert pushed(ti)["rows_rejected"] == 50
    assert len(result["rejected"]) == 20
    assert capsys.readouterr().out.count("Invalid row, not sent") == 20


def test_a_chunk_refused_before_anything_was_accepted_may_be_retried_by_airflow(
    requests_mock: rm.Mocker, set_connection: Any
) -> None:
    # 429s are bounded by time only: a budget shorter than the first backoff ends the call at once.
    set_connection(extra={"max_attempts": 1, "retry_timeout": 0.5})
    requests_mock.post(ADD_URL, status_code=429, json={})
    with pytest.raises(KoreAIPartialUploadError) as excinfo:
        run(add_operator(records=RECORDS))
    assert excinfo.value.retryable
    assert not excinfo.value.outcome_unknown
    assert "record 1 to record 3 (the failed chunk) were not added" in str(excinfo.value)


def test_unknown_list_name_fails_for_good(requests_mock: rm.Mocker) -> None:
    requests_mock.post(
        ADD_URL, status_code=404, json={"errors": [{"msg": "Contact list with name not found"}]}
    )
    with pytest.raises(AirflowFailException, match="record 1 to record 3 \\(the failed chunk\\)"):
        run(add_operator(records=RECORDS))


def test_empty_source_sends_nothing_and_succeeds(requests_mock: rm.Mocker) -> None:
    _, ti = run(add_operator(records=[]))
    assert sent_chunks(requests_mock) == []
    assert pushed(ti) == {"rows_sent": 0, "rows_rejected": 0, "chunks_sent": 0, **baseline(0)}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        # One refusal per argument: the rules themselves are tested where they live (validation,
        # contacts_upload); here, that each fails the task for good before any request.
        ({"contact_list_name": "{{ params.missing }}"}, "contact_list_name"),
        ({"records": "not a list"}, "records"),
        ({"records": [{"phoneNumber": "+1"}], "column_map": {"phone": ""}}, "column_map"),
        ({"records": [{"phoneNumber": "+1"}], "max_invalid_rows": -1}, "max_invalid_rows"),
        ({"records": [{"firstName": "Ada"}]}, "records"),
        ({"path": "/nonexistent/contacts.csv"}, "path"),
    ],
)
def test_add_validates_before_any_request(
    requests_mock: rm.Mocker, overrides: dict[str, Any], field: str
) -> None:
    kwargs = {"records": RECORDS, **overrides} if "path" not in overrides else overrides
    with pytest.raises(AirflowFailException, match=f"'{field}'"):
        run(add_operator(**kwargs))
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "'records/path'"),
        ({"records": [], "path": "x.csv"}, "'records/path'"),
        ({"records": [], "chunk_size": 0}, "'chunk_size'"),
        ({"records": [], "chunk_size": "10"}, "'chunk_size'"),
        ({"records": [], "requests_per_minute": 0}, "'requests_per_minute'"),
        ({"records": [], "requests_per_minute": True}, "'requests_per_minute'"),
    ],
)
def test_add_modes_are_checked_when_the_dag_is_parsed(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        add_operator(**kwargs)


@pytest.mark.parametrize(("requests_per_minute", "paced_chunks"), [(12, 3), (None, 0)])
def test_the_hook_paces_each_chunk_at_the_operators_rate(
    requests_mock: rm.Mocker, requests_per_minute: int | None, paced_chunks: int
) -> None:
    """Counted, not timed: the operator's rate reaches pyrate-limiter, asked for a slot before each chunk
    (``None`` disables pacing)."""
    import pyrate_limiter

    requests_mock.post(ADD_URL, json=ACCEPTED)
    real_acquire = pyrate_limiter.Limiter.try_acquire
    with (
        mock.patch("pyrate_limiter.Rate", wraps=pyrate_limiter.Rate) as rate,
        mock.patch.object(
            pyrate_limiter.Limiter, "try_acquire", autospec=True, side_effect=real_acquire
        ) as acquire,
    ):
        result, _ = run(add_operator(records=RECORDS, chunk_size=1, requests_per_minute=requests_per_minute))
    assert result["chunks_sent"] == 3
    assert [call.args[0] for call in rate.call_args_list] == (
        [requests_per_minute] if requests_per_minute else []
    )
    assert acquire.call_count == paced_chunks


def test_the_count_is_read_from_the_list_when_the_lookup_omits_it(requests_mock: rm.Mocker) -> None:
    without_count = {key: value for key, value in EXISTING.items() if key != "totalRecordCount"}
    requests_mock.post(LIST_ALL_URL, json={"status": "success", "data": [without_count]})
    requests_mock.get(
        f"{PREFIX}/{LIST_ID}", json={"status": "success", "data": {**EXISTING, "totalRecordCount": 7}}
    )
    requests_mock.post(ADD_URL, json=ACCEPTED)

    result, _ = run(add_operator(records=RECORDS))

    assert (result["count_before"], result["expected_count"]) == (7, 10)


def test_an_unknown_list_fails_before_anything_is_sent(requests_mock: rm.Mocker) -> None:
    requests_mock.post(LIST_ALL_URL, json={"status": "success", "data": []})
    with pytest.raises(AirflowFailException, match=r"no contact list named .*nothing was sent"):
        run(add_operator(records=RECORDS))
    assert sent_chunks(requests_mock) == []
