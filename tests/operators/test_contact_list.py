from __future__ import annotations

from typing import Any
from unittest import mock

import pendulum
import pytest
import requests_mock as rm
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG

from airflow_provider_koreai.exceptions import KoreAIInvalidArgumentsError, KoreAIValidationError
from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator
from tests.helpers.compat import serialize_round_trip
from tests.helpers.connections import BASE_URL, IID
from tests.helpers.logs import lines_at, the_line

LIST_ID = "cl-renewals-0001"
UPDATE_URL = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList/{LIST_ID}"
DATA = {"contactListId": LIST_ID, "body": {"name": "Renewal Due - August 2025", "listType": "call"}}
SUCCESS = {"status": "success", "message": "updated", "data": DATA}


def make_operator(**overrides: Any) -> UpdateContactListOperator:
    kwargs: dict[str, Any] = {
        "task_id": "update_contact_list",
        "contact_list_id": LIST_ID,
        "name": "Renewal Due - August 2025",
        "allow_duplicates": False,
    }
    kwargs.update(overrides)
    return UpdateContactListOperator(**kwargs)


def run(operator: UpdateContactListOperator, **context: Any) -> tuple[Any, mock.MagicMock]:
    """Render the templates, then execute, as a worker would; returns (return value, ti mock)."""
    ti = mock.MagicMock()
    full_context: dict[str, Any] = {"ti": ti, "params": {}, **context}
    operator.render_template_fields(full_context)  # type: ignore[arg-type]
    return operator.execute(full_context), ti  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None) -> None:
    pass


def test_renders_templates_and_pushes_xcom(requests_mock: rm.Mocker) -> None:
    requests_mock.put(UPDATE_URL, json=SUCCESS)
    operator = make_operator(
        contact_list_id="{{ params.list_id }}",
        name="Renewal Due - {{ params.month }}",
        description="{{ params.rows }} customers",
        allow_duplicates="{{ params.allow }}",
        source="{{ params.source }}",
    )
    params = {"list_id": LIST_ID, "month": "August 2025", "rows": 1284, "allow": True, "source": "api"}

    result, ti = run(operator, params=params)

    assert result == DATA
    assert requests_mock.last_request.json() == {
        "name": "Renewal Due - August 2025",
        "description": "1284 customers",
        "allowDuplicates": True,
        "source": "api",
    }
    ti.xcom_push.assert_has_calls(
        [mock.call(key="contact_list_id", value=LIST_ID), mock.call(key="body", value=DATA["body"])]
    )


#: One mistake per argument, each with words of its fix.
MISTAKES: dict[str, tuple[Any, str]] = {
    "contact_list_id": ("cl-1/../../getAllListDetails", "not a path"),
    "name": ("Renewals due, every customer whose policy ends in August", "Shorten it"),
    "allow_duplicates": ("maybe", "'true'/'false'"),
    "description": ("d" * 257, "at most 256"),
    "source": (" ", "blank"),
}


def test_every_literal_mistake_is_refused_at_once_when_the_dag_is_parsed(requests_mock: rm.Mocker) -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        make_operator(
            **{field: value for field, (value, _) in MISTAKES.items()},
            koreai_conn_id="",
            hook_params={"timeout": 0},
        )
    error = caught.value
    assert error.fields == (*MISTAKES, "koreai_conn_id", "hook_params['timeout']")
    for problem, (_, fix) in zip(error.problems, MISTAKES.values(), strict=False):
        assert fix in str(problem), problem
    assert "task 'update_contact_list'" in str(error)
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("field", [*MISTAKES, "allow_duplicates_as_a_number"])
def test_one_literal_mistake_is_refused_when_the_dag_is_parsed(field: str) -> None:
    value = 1 if field == "allow_duplicates_as_a_number" else MISTAKES[field][0]
    argument = field.removesuffix("_as_a_number")
    with pytest.raises(KoreAIValidationError) as caught:
        make_operator(**{argument: value})
    assert caught.value.field == argument


def test_templated_arguments_are_checked_when_the_task_runs_every_mistake_at_once(
    requests_mock: rm.Mocker,
) -> None:
    operator = make_operator(**{field: f"{{{{ params.{field} }}}}" for field in MISTAKES})
    params = {field: value for field, (value, _) in MISTAKES.items()}

    with pytest.raises(AirflowFailException) as caught:
        run(operator, params=params)

    refusal = caught.value.__cause__
    assert isinstance(refusal, KoreAIInvalidArgumentsError)
    assert refusal.fields == tuple(MISTAKES)
    assert all(fix in str(caught.value) for _, fix in MISTAKES.values())
    assert requests_mock.call_count == 0


@pytest.mark.parametrize("field", ["contact_list_id", "name", "allow_duplicates"])
def test_a_template_that_renders_nothing_fails_the_task_for_good_before_any_request(
    requests_mock: rm.Mocker, field: str
) -> None:
    with pytest.raises(AirflowFailException, match=field):
        run(make_operator(**{field: "{{ params.missing }}"}))
    assert requests_mock.call_count == 0


def test_the_success_line_says_what_was_sent(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.put(UPDATE_URL, json=SUCCESS)
    run(make_operator(description="Renewals due within 30 days (Q3)"))

    line = the_line(capsys.readouterr().out, "Updated Kore.ai contact list")
    assert (
        f"Updated Kore.ai contact list {LIST_ID} ('Renewal Due - August 2025'): allowDuplicates=False, "
        "source='passiveApiIntegration', description='Renewals due within 30 days (Q3)' (32 characters)"
    ) in line


def test_the_success_line_cuts_a_long_description_and_says_when_none_was_sent(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.put(UPDATE_URL, json=SUCCESS)
    run(make_operator(description="x" * 200))
    long = the_line(capsys.readouterr().out, "Updated Kore.ai contact list")
    run(make_operator(allow_duplicates="TRUE", source="api"))
    none = the_line(capsys.readouterr().out, "Updated Kore.ai contact list")

    assert f"description='{'x' * 56}... (200 characters)" in long
    assert "allowDuplicates=True, source='api', description not sent" in none


def test_uses_the_named_connection(requests_mock: rm.Mocker, set_connection: Any) -> None:
    set_connection("koreai_eu", host="https://de-platform.kore.ai/")
    requests_mock.put(rm.ANY, json=SUCCESS)
    run(make_operator(koreai_conn_id="koreai_eu"))
    assert requests_mock.last_request.url.startswith("https://de-platform.kore.ai/agentassist/")


def test_operator_serializes_in_a_dag() -> None:
    with DAG("koreai_serialization", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        make_operator(name="{{ params.name }}", description=None)
    restored = serialize_round_trip(dag)
    task = restored.get_task("update_contact_list")
    assert task.name == "{{ params.name }}"
    assert list(task.template_fields) == list(UpdateContactListOperator.template_fields)


def test_a_change_is_recorded_on_the_lists_asset_through_an_alias(requests_mock: rm.Mocker) -> None:
    """The list's asset URI needs the connection's host and iid, known only at run time: an AssetAlias
    outlet receives an event for it; a declared asset of another list gets nothing."""
    from airflow.providers.common.compat.sdk import Asset, AssetAlias

    requests_mock.put(UPDATE_URL, json=SUCCESS)
    alias, other = AssetAlias("koreai_contact_lists"), Asset("koreai://platform.kore.ai/st-1/contact-lists/x")
    outlet_events = mock.MagicMock()
    run(make_operator(outlets=[alias, other]), outlet_events=outlet_events)

    expected = Asset(f"koreai://platform.kore.ai/{IID}/contact-lists/{LIST_ID}")
    outlet_events.__getitem__.assert_called_once_with(alias)
    outlet_events[alias].add.assert_called_once_with(expected, extra={"operation": "update"})


# -- verify: a concurrent writer is visible ----------------------------------------------------------------

#: The list as Kore.ai reports it after this task's update, nobody else having written since.
AS_WRITTEN = {
    "_id": LIST_ID,
    "name": "Renewal Due - August 2025",
    "description": "Renewals due within 30 days",
    "allowDuplicates": False,
    "source": "passiveApiIntegration",
    "totalRecordCount": 1284,
}


def pushed(ti: mock.MagicMock) -> dict[str, Any]:
    return {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


def test_verify_reads_the_list_back_and_pushes_no_conflict_when_it_holds_what_was_written(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.put(UPDATE_URL, json=SUCCESS)
    requests_mock.get(UPDATE_URL, json={"status": "success", "data": AS_WRITTEN})

    result, ti = run(make_operator(description="Renewals due within 30 days", verify=True))

    assert [request.method for request in requests_mock.request_history] == ["PUT", "GET"]
    assert result == DATA
    assert pushed(ti) == {
        "contact_list_id": LIST_ID,
        "body": DATA["body"],
        "verified": True,
        "conflict": False,
        "differences": {},
    }
    assert (
        f"Verified Kore.ai contact list {LIST_ID}: it holds what this task wrote" in capsys.readouterr().out
    )


def test_verify_warns_and_pushes_a_conflict_naming_the_settings_another_writer_changed(
    requests_mock: rm.Mocker, capsys: pytest.CaptureFixture[str]
) -> None:
    requests_mock.put(UPDATE_URL, json=SUCCESS)
    changed = {**AS_WRITTEN, "name": "Renewal Due - September 2025", "allowDuplicates": True}
    requests_mock.get(UPDATE_URL, json={"status": "success", "data": changed})

    result, ti = run(make_operator(description="Renewals due within 30 days", verify=True))

    assert result == DATA
    assert pushed(ti)["conflict"] is True
    assert pushed(ti)["differences"] == {
        "name": {"written": "Renewal Due - August 2025", "found": "Renewal Due - September 2025"},
        "allowDuplicates": {"written": False, "found": True},
    }
    (warning,) = lines_at(capsys.readouterr().out, "warning", "no longer holds what this task wrote")
    assert f"Kore.ai contact list {LIST_ID} no longer holds what this task wrote" in warning
    assert "a pool of size 1 per list" in warning
    assert (
        "name: wrote 'Renewal Due - August 2025', found 'Renewal Due - September 2025'; "
        "allowDuplicates: wrote False, found True"
    ) in warning


def test_without_verify_nothing_is_read_back_and_the_xcom_says_so(requests_mock: rm.Mocker) -> None:
    requests_mock.put(UPDATE_URL, json=SUCCESS)

    _, ti = run(make_operator())

    assert requests_mock.call_count == 1
    assert pushed(ti) == {"contact_list_id": LIST_ID, "body": DATA["body"], "verified": False}
    assert None not in pushed(ti).values()


def test_verify_is_checked_when_the_dag_is_parsed(requests_mock: rm.Mocker) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_operator(verify="yes")
    assert caught.value.field == "verify"
    assert requests_mock.call_count == 0
