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
from airflow_provider_koreai.exceptions import (
    KoreAIInvalidArgumentsError,
    KoreAIPartialUploadError,
    KoreAIServerError,
)
from airflow_provider_koreai.operators.contact_list import (
    AddContactsOperator,
    CreateContactListOperator,
    DeleteContactListOperator,
)
from tests.helpers.compat import serialize_round_trip
from tests.helpers.connections import BASE_URL, IID
from tests.helpers.logs import the_line
from tests.helpers.state_store import FakeTaskStateStore

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
    """What AddContactsOperator pushes for the sensor: EXISTING held 3 contacts before sending (a first
    try: nothing sent earlier, nothing in doubt)."""
    return {
        "contact_list_id": LIST_ID,
        "count_before": 3,
        "expected_count": 3 + rows_sent,
        "rows_sent_earlier": 0,
        "chunks_sent_earlier": 0,
        "rows_in_doubt": 0,
    }


def run(operator: Any, **context: Any) -> tuple[Any, mock.MagicMock]:
    """Render the templates, then execute, as a worker would; returns (return value, ti mock)."""
    ti = mock.MagicMock()
    full_context: dict[str, Any] = {
        "ti": ti,
        "params": {},
        "task_state_store": FakeTaskStateStore(),
        **context,
    }
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


def test_create_refuses_every_literal_mistake_at_once_when_the_dag_is_parsed() -> None:
    """The issue's DAG: a 74-character name and allow_duplicates="maybe" are both named, with their fix."""
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        CreateContactListOperator(
            task_id="create",
            name="Renewals due " * 5 + "in August",
            allow_duplicates="maybe",
            if_exists="replace",
        )
    assert caught.value.fields == ("name", "allow_duplicates", "if_exists")
    text = str(caught.value)
    assert "74 characters long" in text
    assert "Shorten it" in text
    assert "'true'/'false'" in text
    assert "'skip', 'update', 'fail'" in text


def test_create_checks_its_rendered_arguments_at_once_before_any_request(requests_mock: rm.Mocker) -> None:
    operator = CreateContactListOperator(
        task_id="create",
        name="{{ params.missing }}",
        description="{{ params.description }}",
        allow_duplicates="{{ params.allow }}",
        source="{{ params.source }}",
    )
    with pytest.raises(AirflowFailException) as caught:
        run(operator, params={"description": "d" * 257, "allow": "maybe", "source": " "})
    refusal = caught.value.__cause__
    assert isinstance(refusal, KoreAIInvalidArgumentsError)
    assert refusal.fields == ("name", "description", "allow_duplicates", "source")
    assert requests_mock.call_count == 0


@pytest.mark.parametrize(
    ("lists", "if_exists", "line"),
    [
        (
            [[], [EXISTING]],
            "skip",
            f"Created Kore.ai contact list {LIST_ID} ('{NAME}'): allowDuplicates=True, "
            "source='passiveApiIntegration', description='Renewals due in August' (22 characters)",
        ),
        (
            [[EXISTING]],
            "skip",
            f"Reused existing Kore.ai contact list {LIST_ID} ('{NAME}') unchanged (if_exists='skip'): "
            "nothing sent",
        ),
        (
            [[EXISTING]],
            "update",
            f"Updated existing Kore.ai contact list {LIST_ID} ('{NAME}') (if_exists='update'): "
            "allowDuplicates=True, source='passiveApiIntegration', description='Renewals due in August' "
            "(22 characters)",
        ),
    ],
)
def test_create_says_in_one_line_whether_it_created_reused_or_updated_the_list(
    requests_mock: rm.Mocker,
    capsys: pytest.CaptureFixture[str],
    lists: list[list[dict[str, Any]]],
    if_exists: str,
    line: str,
) -> None:
    found = iter(lists)
    requests_mock.post(
        LIST_ALL_URL, json=lambda request, context: {"status": "success", "data": next(found, [EXISTING])}
    )
    requests_mock.post(CREATE_URL, json={"status": "success", "data": EXISTING})
    requests_mock.put(f"{PREFIX}/{LIST_ID}", json={"status": "success", "data": {"contactListId": LIST_ID}})
    requests_mock.get(f"{PREFIX}/{LIST_ID}", json={"status": "success", "data": EXISTING})
    operator = CreateContactListOperator(
        task_id="create",
        name=NAME,
        description="Renewals due in August",
        allow_duplicates=True,
        if_exists=if_exists,
    )

    run(operator)

    assert line in the_line(capsys.readouterr().out, f"Kore.ai contact list {LIST_ID} (")


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


def test_delete_refuses_its_literal_mistakes_at_once_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        DeleteContactListOperator(
            task_id="delete",
            contact_list_id="cl-1/../getAllListDetails",
            missing_ok="yes",  # type: ignore[arg-type]
        )
    assert caught.value.fields == ("contact_list_id", "missing_ok")


def test_delete_checks_the_rendered_id_before_any_request(requests_mock: rm.Mocker) -> None:
    operator = DeleteContactListOperator(task_id="delete", contact_list_id="{{ params.list_id }}")
    with pytest.raises(AirflowFailException, match="contact_list_id"):
        run(operator, params={"list_id": "cl-1/../getAllListDetails"})
    assert requests_mock.call_count == 0


def test_delete_says_which_list_it_deleted(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.delete(f"{PREFIX}/{LIST_ID}", json={"status": "success", "data": EXISTING})
    run(DeleteContactListOperator(task_id="delete", contact_list_id=LIST_ID))
    line = the_line(capsys.readouterr().out, "Deleted Kore.ai contact list")
    assert f"Deleted Kore.ai contact list {LIST_ID} ('{NAME}'), which held 3 contact(s)" in line


def test_delete_of_a_missing_list_with_missing_ok_says_nothing_was_deleted(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.delete(f"{PREFIX}/{LIST_ID}", status_code=404, json={"errors": [{"msg": "not found"}]})
    assert (
        run(DeleteContactListOperator(task_id="delete", contact_list_id=LIST_ID, missing_ok=True))[0] is None
    )
    line = the_line(capsys.readouterr().out, "Deleted nothing")
    assert f"Kore.ai contact list {LIST_ID} does not exist (missing_ok=True)" in line


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
    context: dict[str, Any] = {"ti": ti, "params": {}, "task_state_store": FakeTaskStateStore()}
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
        ({"records": "{{ params.text }}"}, "records"),
        ({"column_map": {"phone": "{{ params.missing }}"}}, "column_map"),
        ({"max_invalid_rows": "{{ params.text }}"}, "max_invalid_rows"),
        ({"records": [{"firstName": "Ada"}]}, "records"),  # a row: known only by reading the source
        ({"records": None, "path": "/nonexistent/contacts.csv"}, "path"),  # known only on the worker
    ],
)
def test_add_checks_what_is_known_when_it_runs_before_any_request(
    requests_mock: rm.Mocker, overrides: dict[str, Any], field: str
) -> None:
    operator = add_operator(**{"records": RECORDS, **overrides})
    with pytest.raises(AirflowFailException, match=f"'{field}'"):
        run(operator, params={"text": "not a list"})
    assert requests_mock.call_count == 0


def test_add_checks_its_rendered_arguments_at_once(requests_mock: rm.Mocker) -> None:
    operator = add_operator(
        contact_list_name="{{ params.name }}",
        path="{{ params.path }}",
        path_conn_id="{{ params.conn }}",
        column_map="{{ params.renames }}",
        max_invalid_rows="{{ params.limit }}",
    )
    params = {"name": " ", "path": "/exports/renewals.xlsx", "conn": " ", "renames": "x", "limit": "-1"}
    with pytest.raises(AirflowFailException) as caught:
        run(operator, params=params)
    refusal = caught.value.__cause__
    assert isinstance(refusal, KoreAIInvalidArgumentsError)
    assert refusal.fields == ("contact_list_name", "path_conn_id", "max_invalid_rows", "column_map", "path")
    assert requests_mock.call_count == 0


def test_add_refuses_every_literal_mistake_at_once_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        add_operator(
            contact_list_name="x" * 49,
            path="/exports/renewals.xlsx",
            path_conn_id=7,
            file_format="xlsx",
            column_map={"phone": ""},
            max_invalid_rows=-1,
            chunk_size=0,
            requests_per_minute=True,
            hook_params={"retries": 3},
        )
    assert caught.value.fields == (
        "contact_list_name",
        "path",
        "path_conn_id",
        "file_format",
        "column_map",
        "max_invalid_rows",
        "chunk_size",
        "requests_per_minute",
        "hook_params",
    )
    assert "name the format with file_format='csv' or 'jsonl'" in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "'records/path'"),
        ({"records": [], "path": "x.csv"}, "'records/path'"),
        ({"records": "not a list"}, "'records'"),
        ({"records": {"phoneNumber": "+1"}}, "'records'"),
        ({"records": [], "chunk_size": 0}, "'chunk_size'"),
        ({"records": [], "chunk_size": "10"}, "'chunk_size'"),
        ({"records": [], "requests_per_minute": 0}, "'requests_per_minute'"),
        ({"records": [], "requests_per_minute": True}, "'requests_per_minute'"),
        ({"path": "exports/renewals.data"}, "'path'"),
    ],
)
def test_add_modes_are_checked_when_the_dag_is_parsed(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        add_operator(**kwargs)


def test_a_file_named_by_its_format_is_accepted_when_the_dag_is_parsed() -> None:
    assert add_operator(path="exports/renewals.data", file_format="csv").file_format == "csv"


def test_a_mapped_task_checks_its_partial_literals_when_the_dag_is_parsed() -> None:
    with DAG("koreai_mapped_mistakes", schedule=None, start_date=pendulum.datetime(2025, 1, 1)):
        with pytest.raises(KoreAIInvalidArgumentsError) as caught:
            AddContactsOperator.partial(task_id="add", contact_list_name="x" * 49, chunk_size=0)
        # What is expanded is not known yet: a partial without records or path is fine.
        AddContactsOperator.partial(task_id="add_ok", contact_list_name="{{ params.name }}").expand(
            records=[RECORDS]
        )
    assert caught.value.fields == ("contact_list_name", "chunk_size")
    assert "task 'add'" in str(caught.value)


def test_a_mapped_task_checks_its_expanded_values_when_it_runs(requests_mock: rm.Mocker) -> None:
    """Airflow builds each mapped task from the expanded values when it runs: a wrong one fails that task
    for good (no retry can fix it), naming every mistake, before any request."""
    with DAG("koreai_mapped_values", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        mapped = AddContactsOperator.partial(task_id="add", contact_list_name=NAME).expand(
            records=[RECORDS, {"phoneNumber": "+1"}], chunk_size=[10, 0]
        )
    # The cross product's last task: records {"phoneNumber": "+1"} (not a list), chunk_size 0.
    ti = mock.MagicMock(map_index=3, _upstream_map_indexes={})
    context: dict[str, Any] = {"ti": ti, "params": {}, "dag": dag, "dag_run": mock.MagicMock(conf={})}

    with pytest.raises(AirflowFailException) as caught:
        mapped.render_template_fields(context)  # type: ignore[arg-type]

    assert isinstance(caught.value, KoreAIInvalidArgumentsError)
    assert caught.value.fields == ("records", "chunk_size")
    assert requests_mock.call_count == 0


def test_the_success_line_counts_what_was_sent_and_holds_no_contact_data(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.post(ADD_URL, json=ACCEPTED)
    records = [*RECORDS, {"firstName": "Grace"}]
    run(add_operator(records=records, chunk_size=2, max_invalid_rows=1))

    output = capsys.readouterr().out
    line = the_line(output, "Added 3 contact(s)")
    assert (
        f"Added 3 contact(s) to Kore.ai contact list {LIST_ID} ('{NAME}') from 4 record(s), in 2 chunk(s) "
        "of up to 2; 1 invalid row(s) not sent; the list held 3 contact(s) before, 6 expected once ingested"
    ) in line
    contact_data = [value for record in records for value in record.values() if value]
    assert [value for value in contact_data if value in output] == []


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
