"""Property: every argument of every Kore.ai operator (and of the sensor) refuses bad input with
``KoreAIValidationError`` naming that argument, before any request; never a bare ``ValueError``,
``TypeError`` or ``AttributeError``.

Each argument in turn gets odd values (other types, ``"²"`` and other non-ASCII digits, ``"1.5"``,
``"-1"``, NaN, infinities, empty and blank strings, containers...) while the others stay valid. Then,
whether the value is refused when the DAG is parsed (the constructor) or when the task runs (a templated
argument, checked in ``execute``), the outcome is one of:

* accepted: the task runs to its end against a mocked Kore.ai;
* refused at parse time: ``KoreAIValidationError`` whose ``field`` names the argument;
* refused at run time: ``AirflowFailException`` (no task retry can fix it) caused by such an error, and
  no request sent.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
import requests_mock as rm
from airflow.providers.common.compat.sdk import AirflowFailException
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airflow_provider_koreai.exceptions import KoreAIValidationError
from airflow_provider_koreai.operators.contact_list import (
    AddContactsOperator,
    CreateContactListOperator,
    DeleteContactListOperator,
    UpdateContactListOperator,
)
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

NAME = "Renewals"
LIST = {"_id": "cl-1", "name": NAME, "totalRecordCount": 0, "allowDuplicates": False, "source": "x"}

#: Each operator with valid arguments, and the arguments under test.
OPERATORS: dict[str, tuple[type[Any], dict[str, Any], tuple[str, ...]]] = {
    "update": (
        UpdateContactListOperator,
        {"contact_list_id": "cl-1", "name": NAME, "allow_duplicates": True},
        ("contact_list_id", "name", "allow_duplicates", "description", "source", "hook_params"),
    ),
    "create": (
        CreateContactListOperator,
        {"name": NAME},
        ("name", "description", "allow_duplicates", "source", "if_exists", "hook_params"),
    ),
    "delete": (
        DeleteContactListOperator,
        {"contact_list_id": "cl-1"},
        ("contact_list_id", "missing_ok", "hook_params"),
    ),
    "add": (
        AddContactsOperator,
        {"contact_list_name": NAME, "records": [{"phoneNumber": "+15550000001"}]},
        (
            "contact_list_name",
            "records",
            "column_map",
            "max_invalid_rows",
            "chunk_size",
            "requests_per_minute",
            "hook_params",
        ),
    ),
    "sensor": (
        ContactListIngestedSensor,
        {"contact_list_id": "cl-1", "expected_count": 0},
        ("contact_list_id", "expected_count", "baseline_count", "settle_polls", "deferrable", "hook_params"),
    ),
}
CASES = [(operator, argument) for operator, (_, _, arguments) in OPERATORS.items() for argument in arguments]

ODD_TEXTS = [
    "²",
    "١٢",
    "٣",
    "1.5",
    "-1",
    "+1",
    "1e3",
    "0x10",
    "",
    " ",
    "\t",
    "None",
    "true",
    "TRUE",
    "12",
    " 7 ",
    "\x00",
]
ODD_TEXT = st.sampled_from(ODD_TEXTS)
#: Tried for every argument, whatever else hypothesis draws.
ALWAYS: list[Any] = [*ODD_TEXTS, None, True, False, 0, -1, 1.5, float("nan"), float("inf"), [], {}, b"1"]
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    ODD_TEXT,
    st.text(max_size=80),
    st.binary(max_size=4),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(
        st.text(max_size=12), st.one_of(st.integers(), st.floats(), st.text(max_size=3)), max_size=2
    ),
)


def kore_answers(mocker: rm.Mocker, name: Any) -> None:
    """A Kore.ai that answers every call successfully, with a list named ``name`` in it."""
    listed = {**LIST, "name": name if isinstance(name, str) else NAME}

    def answer(request: Any, context: Any) -> dict[str, Any]:
        if request.path.endswith("/getalllistdetails"):
            return {"status": "success", "data": [listed]}
        if request.path.endswith("/addcontacts"):
            return {"message": "Adding contacts to public list is in progress"}
        if request.method == "PUT":
            return {"status": "success", "data": {"contactListId": "cl-1", "body": {"name": NAME}}}
        return {"status": "success", "data": LIST}

    mocker.register_uri(rm.ANY, rm.ANY, json=answer)


def always_tried(test: Any) -> Any:
    for value in ALWAYS:
        test = example(value=value)(test)
    return test


@pytest.mark.usefixtures("koreai_connection")
@pytest.mark.parametrize(("operator", "argument"), CASES)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=ODD)
@always_tried
def test_every_argument_refuses_bad_input_with_a_validation_error(
    operator: str, argument: str, value: Any
) -> None:
    cls, valid, _ = OPERATORS[operator]
    refusal: BaseException | None = None
    sent_before_refusal = 0
    with rm.Mocker() as mocker:
        kore_answers(mocker, value if argument in ("name", "contact_list_name") else NAME)
        try:
            task = cls(task_id="t", **{**valid, argument: value})
        except KoreAIValidationError as error:  # refused when the DAG is parsed
            refusal = error
        else:
            context: dict[str, Any] = {"ti": mock.MagicMock(), "params": {}}
            try:
                if isinstance(task, ContactListIngestedSensor):
                    task.poke(context)  # type: ignore[arg-type]
                else:
                    task.execute(context)
            except AirflowFailException as failure:  # refused when the task runs
                refusal = failure.__cause__ or failure
                sent_before_refusal = mocker.call_count
    if refusal is not None:
        assert isinstance(refusal, KoreAIValidationError), f"refused with {refusal!r}"
        assert sent_before_refusal == 0, "refused after a request was sent"
        assert argument in refusal.field, f"{refusal!r} names {refusal.field!r}, not {argument!r}"
