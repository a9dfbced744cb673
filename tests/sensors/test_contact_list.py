from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
import requests_mock as rm
from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    PokeReturnValue,
    TaskDeferred,
)

from airflow_provider_koreai.exceptions import KoreAIInvalidArgumentsError, KoreAIValidationError
from airflow_provider_koreai.sensors.base import DEFERRAL_TIMEOUT_GRACE_SECONDS
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor
from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger
from tests.helpers.compat import serialize_round_trip
from tests.helpers.connections import BASE_URL, CLIENT_SECRET, IID

LIST_ID = "cl-renewals-0001"
GET_URL = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList/{LIST_ID}"


def answer(count: Any = 3, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"_id": LIST_ID, "name": "Renewal Due", "status": "Ready", **extra}
    if count is not None:
        data["totalRecordCount"] = count
    return {"status": "success", "data": data}


def make_sensor(**overrides: Any) -> ContactListIngestedSensor:
    kwargs: dict[str, Any] = {
        "task_id": "wait_for_ingestion",
        "contact_list_id": LIST_ID,
        "expected_count": 3,
        "poke_interval": 0,
        "timeout": 5,
    }
    kwargs.update(overrides)
    return ContactListIngestedSensor(**kwargs)


def context_for(sensor: ContactListIngestedSensor, **values: Any) -> dict[str, Any]:
    """Rendered as a worker would render it; ``ti`` is a mock that records XCom pushes."""
    ti = mock.MagicMock()
    ti.get_first_reschedule_date.return_value = None
    context: dict[str, Any] = {"ti": ti, "params": {}, **values}
    sensor.render_template_fields(context)  # type: ignore[arg-type]
    return context


def verdict(
    count: int, expected: int, *, baseline: int | None, rule: str = "target_reached"
) -> dict[str, Any]:
    """What the sensor pushes under the key ``ingestion``."""
    return {
        "rule": rule,
        "total_record_count": count,
        "expected_count": expected,
        "baseline_count": baseline,
        "missing": max(expected - count, 0),
    }


def pushed(context: dict[str, Any]) -> dict[str, Any]:
    return {call.kwargs["key"]: call.kwargs["value"] for call in context["ti"].xcom_push.call_args_list}


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None) -> None:
    pass


@pytest.fixture
def no_retries(set_connection: Callable[..., None]) -> None:
    """One attempt per poke, so transient errors reach the sensor without the hook's backoff sleeps (and a
    retry budget shorter than the first backoff: 429s are bounded by time only)."""
    set_connection(extra={"max_attempts": 1, "retry_timeout": 0.5})


# -- poke ---------------------------------------------------------------------------------------------


def test_poke_is_not_done_below_the_count(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, json=answer(2))
    sensor = make_sensor(expected_count=3)
    context = context_for(sensor)

    assert sensor.poke(context) is False  # type: ignore[arg-type]
    assert pushed(context) == {}


def test_expected_count_zero_is_done_on_an_empty_list(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, json=answer(0))
    sensor = make_sensor(expected_count=0)

    result = sensor.poke(context_for(sensor))  # type: ignore[arg-type]

    assert isinstance(result, PokeReturnValue)
    assert result.xcom_value == 0


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (answer(None), "totalRecordCount is missing"),
        (answer("3"), "totalRecordCount is str '3'"),
        (answer(2.5), "totalRecordCount is float"),
        (answer(True), "totalRecordCount is bool"),
        (answer(-1), "totalRecordCount is int -1"),
        ({"status": "success", "data": [1, 2]}, "data is list, not an object"),
    ],
)
def test_poke_explains_an_answer_without_a_usable_count(
    requests_mock: rm.Mocker, payload: dict[str, Any], problem: str
) -> None:
    requests_mock.get(GET_URL, json=payload)
    sensor = make_sensor()

    with pytest.raises(AirflowFailException, match=r"totalRecordCount|data") as caught:
        sensor.poke(context_for(sensor))  # type: ignore[arg-type]

    assert problem in str(caught.value)
    assert f"GET .../contactList/{LIST_ID}" in str(caught.value)


def test_poke_fails_for_good_on_an_unknown_list(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, status_code=404, json={"errors": [{"msg": "Contact list not found"}]})
    sensor = make_sensor()

    with pytest.raises(AirflowFailException, match=r"HTTP 404.*Contact list not found"):
        sensor.poke(context_for(sensor))  # type: ignore[arg-type]
    assert requests_mock.call_count == 1


@pytest.mark.usefixtures("no_retries")
@pytest.mark.parametrize("status", [429, 502, 503])
def test_poke_waits_out_transient_errors(requests_mock: rm.Mocker, status: int) -> None:
    requests_mock.get(GET_URL, status_code=status, json={"errors": [{"msg": "busy"}]})
    sensor = make_sensor()

    assert sensor.poke(context_for(sensor)) is False  # type: ignore[arg-type]


# -- argument checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "parsed"), [(3, 3), (0, 0), ("3", 3), (" 12 ", 12), ("007", 7)])
def test_expected_count_accepts_whole_numbers_and_their_digits(
    requests_mock: rm.Mocker, value: Any, parsed: int
) -> None:
    requests_mock.get(GET_URL, json=answer(parsed))
    sensor = make_sensor(expected_count=value)

    result = sensor.poke(context_for(sensor))  # type: ignore[arg-type]

    assert isinstance(result, PokeReturnValue)
    assert result.xcom_value == parsed


@pytest.mark.parametrize("value", [-1, "-1", "1.5", 1.5, 3.0, True, None, "", "abc", "1e3", [3]])
def test_a_literal_bad_expected_count_is_refused_when_the_dag_is_parsed(value: Any) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_sensor(expected_count=value)
    assert caught.value.field == "expected_count"


@pytest.mark.parametrize("value", ["", "cl/../other", "cl 1", 42])
def test_a_literal_bad_contact_list_id_is_refused_when_the_dag_is_parsed(value: Any) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_sensor(contact_list_id=value)
    assert caught.value.field == "contact_list_id"


def test_every_literal_mistake_is_refused_at_once_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        make_sensor(
            contact_list_id="cl/../other",
            expected_count="many",
            baseline_count=-1,
            settle_polls=0,
            deferrable=True,
            poke_interval=0,
        )
    assert caught.value.fields == (
        "contact_list_id",
        "expected_count",
        "baseline_count",
        "settle_polls",
        "poke_interval",
    )
    assert "trigger's polling interval and must be above 0 seconds" in str(caught.value)


@pytest.mark.parametrize("value", ["-1", "1.5", "True", "", "abc", "1e3"])
def test_a_rendered_bad_expected_count_fails_before_any_request(requests_mock: rm.Mocker, value: str) -> None:
    sensor = make_sensor(expected_count="{{ params.rows }}")

    with pytest.raises(AirflowFailException, match="'expected_count'"):
        sensor.execute(context_for(sensor, params={"rows": value}))  # type: ignore[arg-type]
    assert requests_mock.call_count == 0


def test_rendered_mistakes_fail_the_task_at_once_before_any_request(requests_mock: rm.Mocker) -> None:
    sensor = make_sensor(
        contact_list_id="{{ params.list_id }}",
        expected_count="{{ params.rows }}",
        baseline_count="{{ params.before }}",
        deferrable=True,
        poke_interval=0.1,
    )
    params = {"list_id": "cl/../other", "rows": "many", "before": "-1"}

    with pytest.raises(AirflowFailException) as caught:
        sensor.execute(context_for(sensor, params=params))  # type: ignore[arg-type]

    refusal = caught.value.__cause__
    assert isinstance(refusal, KoreAIInvalidArgumentsError)
    assert refusal.fields == ("contact_list_id", "expected_count", "baseline_count")
    assert requests_mock.call_count == 0


def test_a_mapped_sensor_checks_its_partial_literals_when_the_dag_is_parsed() -> None:
    import pendulum
    from airflow.sdk import DAG

    with DAG("koreai_mapped_sensor", schedule=None, start_date=pendulum.datetime(2025, 8, 1)):
        with pytest.raises(KoreAIInvalidArgumentsError) as caught:
            ContactListIngestedSensor.partial(task_id="wait", expected_count=-1, settle_polls=0)
        ContactListIngestedSensor.partial(task_id="wait_ok", expected_count=3).expand(
            contact_list_id=["cl-1", "cl-2"]
        )
    assert caught.value.fields == ("expected_count", "settle_polls")


def test_arguments_are_rendered_from_templates(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, json=answer(1284))
    sensor = make_sensor(contact_list_id="{{ params.list_id }}", expected_count="{{ params.rows }}")
    context = context_for(sensor, params={"list_id": LIST_ID, "rows": 1284})

    assert sensor.expected_count == "1284"
    assert sensor.execute(context) == 1284  # type: ignore[arg-type]


# -- execute, not deferrable: Airflow's own poke loop ----------------------------------------------------


# -- execute, deferrable -----------------------------------------------------------------------------------


def test_deferrable_returns_at_once_when_already_done(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, json=answer(3))
    sensor = make_sensor(deferrable=True, poke_interval=0.1)
    context = context_for(sensor)

    assert sensor.execute(context) == 3  # type: ignore[arg-type]
    assert pushed(context) == {"total_record_count": 3, "ingestion": verdict(3, 3, baseline=3)}
    assert requests_mock.call_count == 1


def test_deferrable_defers_to_a_serializable_trigger_without_secrets(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, json=answer(1))
    sensor = make_sensor(
        expected_count="3",
        deferrable=True,
        poke_interval=15,
        timeout=600,
        hook_params={"timeout": 5, "retry_timeout": 20},
    )
    context = context_for(sensor)

    before = time.time()
    with pytest.raises(TaskDeferred) as caught:
        sensor.execute(context)  # type: ignore[arg-type]
    after = time.time()

    deferred = caught.value
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout is not None
    assert deferred.timeout.total_seconds() == 600 + DEFERRAL_TIMEOUT_GRACE_SECONDS
    trigger = deferred.trigger
    assert isinstance(trigger, ContactListIngestedTrigger)
    # The trigger's own serialization is pinned in tests/triggers; here, what the sensor hands it.
    classpath, kwargs = trigger.serialize()
    assert (kwargs["baseline_count"], kwargs["recent_counts"], kwargs["settle_polls"]) == (1, [1], 3)
    assert kwargs["contact_list_id"] == LIST_ID
    assert kwargs["expected_count"] == 3
    assert kwargs["koreai_conn_id"] == "koreai_default"
    assert kwargs["poll_interval"] == 15.0
    assert kwargs["hook_params"] == {"timeout": 5, "retry_timeout": 20}, "the trigger's polls use them too"
    assert before + 600 <= kwargs["deadline"] <= after + 600
    text = json.dumps(kwargs)
    assert CLIENT_SECRET not in text
    assert "eyJ" not in text
    # What the triggerer does with it: rebuild from the kwargs, which must serialize the same.
    assert ContactListIngestedTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert pushed(context) == {}


def test_deferrable_fails_at_once_on_a_permanent_error(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, status_code=401, json={"errors": [{"msg": "Invalid JWT token", "code": 4002}]})
    sensor = make_sensor(deferrable=True, poke_interval=0.1)

    with pytest.raises(AirflowFailException, match="HTTP 401"):
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]


def test_deferrable_with_soft_fail_skips_on_a_permanent_error(requests_mock: rm.Mocker) -> None:
    requests_mock.get(GET_URL, status_code=404, json={"errors": [{"msg": "not found"}]})
    sensor = make_sensor(deferrable=True, poke_interval=0.1, soft_fail=True)

    with pytest.raises(AirflowSkipException):
        sensor.execute(context_for(sensor))  # type: ignore[arg-type]


def test_deferrable_needs_a_polling_interval_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        make_sensor(deferrable=True, poke_interval=0)
    assert caught.value.field == "poke_interval"
    assert "above 0 seconds" in str(caught.value)


# -- execute_complete ----------------------------------------------------------------------------------------


def test_execute_complete_returns_and_pushes_the_count() -> None:
    sensor = make_sensor()
    context = context_for(sensor)
    event = {"status": "success", "contact_list_id": LIST_ID, "expected_count": 3, "total_record_count": 4}

    assert sensor.execute_complete(context, event) == 4  # type: ignore[arg-type]
    assert pushed(context) == {"total_record_count": 4, "ingestion": verdict(4, 3, baseline=None)}


def test_execute_complete_turns_a_timeout_into_a_sensor_timeout() -> None:
    sensor = make_sensor()
    event = {
        "status": "timeout",
        "total_record_count": 2,
        "message": "did not reach 3 contacts; last count 2",
    }

    with pytest.raises(AirflowSensorTimeout, match="last count 2"):
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]


def test_execute_complete_turns_an_error_into_a_failure() -> None:
    sensor = make_sensor()
    event = {"status": "error", "message": "Kore.ai GET ... failed with HTTP 404"}

    with pytest.raises(AirflowFailException, match="HTTP 404"):
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "event",
    [
        None,
        {},
        {"status": "mystery"},
        {"status": "success"},
        {"status": "success", "total_record_count": "4"},
    ],
)
def test_execute_complete_refuses_a_malformed_event(event: Any) -> None:
    sensor = make_sensor()

    with pytest.raises(AirflowFailException):
        sensor.execute_complete(context_for(sensor), event)  # type: ignore[arg-type]


def test_resume_after_a_trigger_timeout_honours_soft_fail() -> None:
    """Airflow resumes through ``resume_execution``, which applies the sensor's soft_fail."""
    sensor = make_sensor(soft_fail=True)
    event = {"status": "timeout", "message": "deadline"}

    with pytest.raises(AirflowSkipException):
        sensor.resume_execution("execute_complete", {"event": event}, context_for(sensor))  # type: ignore[arg-type]


# -- DAG files ---------------------------------------------------------------------------------------------


def test_sensor_survives_dag_serialization() -> None:
    import pendulum
    from airflow.sdk import DAG

    with DAG("koreai_sensor_serialization", schedule=None, start_date=pendulum.datetime(2025, 8, 1)) as dag:
        make_sensor(expected_count="{{ params.rows }}", deferrable=True, poke_interval=30)

    restored = serialize_round_trip(dag)
    task = restored.get_task("wait_for_ingestion")
    assert task.expected_count == "{{ params.rows }}"
    assert list(task.template_fields) == list(ContactListIngestedSensor.template_fields)
