from __future__ import annotations

from typing import Any
from unittest import mock

import pendulum
import pytest
import requests_mock as rm
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG

from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator
from tests.helpers.compat import serialize_round_trip
from tests.helpers.connections import BASE_URL, IID

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


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"allow_duplicates": "yes"}, "allow_duplicates"),
        ({"allow_duplicates": 1}, "allow_duplicates"),
        ({"allow_duplicates": "{{ params.missing }}"}, "allow_duplicates"),
        ({"name": "{{ params.missing }}"}, "name"),
        ({"name": "x" * 49}, "name"),
        ({"description": "d" * 257}, "description"),
        ({"contact_list_id": "cl-1/../../getAllListDetails"}, "contact_list_id"),
        ({"contact_list_id": "{{ params.missing }}"}, "contact_list_id"),
    ],
)
def test_bad_input_fails_the_task_for_good_before_any_request(
    requests_mock: rm.Mocker, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(AirflowFailException, match=field):
        run(make_operator(**overrides))
    assert requests_mock.call_count == 0


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
