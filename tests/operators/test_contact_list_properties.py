"""Property-based test of ``UpdateContactListOperator``: render, execute, and nothing goes astray.

Each argument is passed either literally or as a ``{{ params.<field> }}`` template whose param is drawn
from the same valid and hostile strategies as the hook's properties (unicode, control characters, very
long values, ``None``, other types; ``allow_duplicates`` also as case variants of ``"true"``/``"false"``
and junk). The operator has either

* refused, when the DAG is parsed (its constructor), exactly the literal arguments that break the rules
  once Airflow renders them, or
* failed, after ``render_template_fields`` and ``execute``, with ``AirflowFailException`` naming every
  offending argument at once, nothing sent and nothing pushed to XCom, or
* sent exactly one well-formed PUT to ``.../campaign/contactList/<one segment>`` and pushed the
  ``contact_list_id`` and ``body`` Kore.ai returned,

and which one is decided by the oracle of :mod:`tests.helpers.properties` applied to the
rendered values, plus the documented reading of ``allow_duplicates`` strings.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
import requests_mock as rm
from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator
from hypothesis import event, given
from hypothesis import strategies as st

from airflow_provider_koreai.exceptions import KoreAIInvalidArgumentsError
from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator
from tests.helpers.properties import (
    DEFAULT_SOURCE,
    HOSTILE_BOOL,
    HOSTILE_FIELDS,
    HOSTILE_UPDATE_VALUES,
    NOT_A_STRING,
    OMITTED,
    PROPERTY_SETTINGS,
    UPDATE_FIELDS,
    VALID_UPDATE_VALUES,
    assert_addresses_one_list,
    assert_body,
    expected_body,
    invalid_update_fields,
    mock_every_endpoint,
)

#: 1,000 cases: slow, so the older-Airflow legs skip it (they run the operator's example-based tests).
pytestmark = pytest.mark.slow

# -- allow_duplicates as a template renders it --------------------------------------------------------

PADDING = st.sampled_from(["", " ", "  ", "\t", "\n", " \n", "\u00a0", "\u3000"])


@st.composite
def case_variant(draw: st.DrawFn, words: tuple[str, ...] = ("true", "false")) -> str:
    """``true``/``false`` in any mix of case, possibly padded with whitespace."""
    word = draw(st.sampled_from(words))
    upper = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    cased = "".join(char.upper() if up else char for char, up in zip(word, upper, strict=True))
    return draw(PADDING) + cased + draw(PADDING)


VALID_ALLOW = st.one_of(st.booleans(), case_variant())
HOSTILE_ALLOW = st.one_of(
    HOSTILE_BOOL,
    case_variant(("ture", "fals", "truee", "yes", "no", "on", "off", "t", "f", "1", "0", "none")),
    st.sampled_from(
        [
            "tr ue",
            "true.",
            "'true'",
            '"false"',
            "true\x00",
            "\u200btrue",
            "fal\u017fe",
            "\uff54\uff52\uff55\uff45",
        ]
    ),
    NOT_A_STRING,
)


def parse_allow(value: Any) -> bool | None:
    """The documented reading: a bool, or ``true``/``false`` in any case around whitespace; else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return None


# -- operator arguments -----------------------------------------------------------------------------

OPERATOR_VALID = {**VALID_UPDATE_VALUES, "allow_duplicates": VALID_ALLOW}
OPERATOR_HOSTILE = {**HOSTILE_UPDATE_VALUES, "allow_duplicates": HOSTILE_ALLOW}


def without_jinja_syntax(value: Any) -> Any:
    """A literal that Jinja renders without a syntax error ("{{", "{%" and "{#" open a tag).

    Hostile text with braces still reaches the operator, through params: rendered values are not
    rendered again.
    """
    return value.replace("{", "(") if isinstance(value, str) else value


@st.composite
def operator_case(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(operator kwargs, params)``: each argument literal, templated from a param, or omitted."""
    hostile = draw(HOSTILE_FIELDS)
    kwargs: dict[str, Any] = {}
    params: dict[str, Any] = {}
    for field in UPDATE_FIELDS:
        value = draw(OPERATOR_HOSTILE[field] if field in hostile else OPERATOR_VALID[field])
        if value is OMITTED:
            continue
        if draw(st.booleans()):
            kwargs[field] = f"{{{{ params.{field} }}}}"
            params[field] = value
        else:
            kwargs[field] = without_jinja_syntax(value)
    return kwargs, params


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None) -> None:
    pass


def rendered_as_airflow_would(kwargs: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Each argument as the task receives it, rendered by Airflow itself (a bare task, no DAG)."""
    renderer = BaseOperator(task_id="renderer")
    context: Any = {"params": params}
    return {field: renderer.render_template(value, context) for field, value in kwargs.items()}


@PROPERTY_SETTINGS
@given(case=operator_case())
def test_execute_sends_one_well_formed_put_or_fails_naming_the_field(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    kwargs, params = case
    received = rendered_as_airflow_would(kwargs, params)
    allow = parse_allow(received["allow_duplicates"])
    rendered = {
        "contact_list_id": received["contact_list_id"],
        "name": received["name"],
        "allow_duplicates": received["allow_duplicates"] if allow is None else allow,
        "source": received.get("source", OMITTED),
        "description": received.get("description", OMITTED),
    }
    invalid = invalid_update_fields(rendered)
    invalid_literals = {field for field in invalid if field not in params}

    # Literal mistakes are refused when the DAG is parsed, every one of them and nothing else.
    if invalid_literals:
        event("refused when parsed")
        with pytest.raises(KoreAIInvalidArgumentsError) as refusal:
            UpdateContactListOperator(task_id="update_contact_list", **kwargs)
        assert set(refusal.value.fields) == invalid_literals, (refusal.value.fields, invalid_literals)
        return
    operator = UpdateContactListOperator(task_id="update_contact_list", **kwargs)

    ti = mock.MagicMock()
    context: dict[str, Any] = {"ti": ti, "params": params}
    operator.render_template_fields(context)  # type: ignore[arg-type]

    # A param reaches the operator as Jinja prints it, unchanged: the hostile value is what is checked.
    for field, value in params.items():
        assert getattr(operator, field) == str(value)
    assert operator.source == (rendered["source"] if "source" in kwargs else DEFAULT_SOURCE)

    with rm.Mocker() as mocker:
        mock_every_endpoint(mocker)
        failure: AirflowFailException | None = None
        try:
            result = operator.execute(context)  # type: ignore[arg-type]
        except AirflowFailException as error:
            failure = error

    if failure is not None:
        cause = failure.__cause__
        assert isinstance(cause, KoreAIInvalidArgumentsError), repr(cause)
        event(f"failed: {len(cause.fields)} field(s)")
        # Templated mistakes are refused when the task runs, every one of them at once.
        assert set(cause.fields) == invalid, (cause.fields, invalid)
        assert all(field in str(failure) for field in cause.fields)
        assert mocker.call_count == 0
        ti.xcom_push.assert_not_called()
        return

    event("sent")
    assert not invalid, f"request sent although {sorted(invalid)} break the rules"
    assert mocker.call_count == 1
    request = mocker.request_history[0]
    assert_addresses_one_list(request, "PUT", operator.contact_list_id)
    body = expected_body(rendered)
    assert_body(request, body)
    assert result["contactListId"] == operator.contact_list_id
    assert ti.xcom_push.call_args_list == [
        mock.call(key="contact_list_id", value=operator.contact_list_id),
        mock.call(key="body", value=body),
        mock.call(key="verified", value=False),
    ]
