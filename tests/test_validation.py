"""Each rule of :mod:`airflow_provider_koreai.validation`, directly: what it accepts (and returns), what it
refuses, and that the refusal names the field. The layers that call these rules (operators, sensor,
hook, trigger, connection reader) test only that they call them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_koreai import validation as v
from airflow_provider_koreai.exceptions import KoreAIValidationError

INF, NAN = float("inf"), float("nan")
Rule = Callable[[Any, str], Any]


def template_count(value: Any, field: str) -> int:
    """A whole number as a templated argument takes it (``expected_count``, ``max_invalid_rows``)."""
    return v.whole_number(value, field)


def python_count(value: Any, field: str) -> int:
    """A whole number as an argument that is not templated takes it (``chunk_size``)."""
    return v.whole_number(value, field, minimum=1, maximum=1000, allow_text=False)


def connection_count(value: Any, field: str) -> int:
    """A whole number as a connection extra takes it (``jwt_ttl``)."""
    return v.whole_number(value, field, minimum=1, maximum=3600, allow_decimal_point=True)


def connection_seconds(value: Any, field: str) -> float:
    return v.seconds(value, field, allow_text=True)


def connection_bool(value: Any, field: str) -> bool:
    return v.parse_bool(value, field, words=v.CONNECTION_BOOLEAN_WORDS)


def text(value: Any, field: str) -> str:
    return v.require_text(field, value, max_length=5)


def optional_text(value: Any, field: str) -> str | None:
    return v.optional_text(field, value, max_length=5, allow_newlines=True)


def mode(value: Any, field: str) -> str:
    return v.one_of(value, field, ("skip", "fail"))


ACCEPTED: list[tuple[Rule, Any, Any]] = [
    (template_count, 0, 0),
    (template_count, 12, 12),
    (template_count, "12", 12),
    (template_count, " 7 ", 7),
    (python_count, 1, 1),
    (python_count, 1000, 1000),
    (connection_count, "30", 30),
    (connection_count, "30.0", 30),
    (connection_count, 30.0, 30),
    (connection_count, " 3e2 ", 300),
    (connection_count, 3600, 3600),
    (v.record_count, "0", 0),
    (v.settle_polls, 1, 1),
    (v.optional_whole_number, None, None),
    (v.seconds, 0.001, 0.001),
    (v.seconds, 30, 30.0),
    (connection_seconds, "0.5", 0.5),
    (connection_seconds, " 30 ", 30.0),
    (connection_seconds, ".5", 0.5),
    (v.optional_seconds, None, None),
    (v.epoch_seconds, 0, 0.0),
    (v.epoch_seconds, 1.7e9, 1.7e9),
    (v.strict_bool, False, False),
    (v.parse_bool, True, True),
    (v.parse_bool, " TRUE\n", True),
    (v.parse_bool, "False", False),
    (connection_bool, "Yes", True),
    (connection_bool, "no", False),
    (connection_bool, "1", True),
    (connection_bool, " 0 ", False),
    (connection_bool, "false", False),
    (text, " a ", " a "),
    (text, "abcde", "abcde"),
    (optional_text, None, None),
    (optional_text, "", ""),
    (optional_text, "a\nb\t", "a\nb\t"),
    (v.contact_list_name, "Renewals", "Renewals"),
    (v.contact_list_description, None, None),
    (v.source, "passiveApiIntegration", "passiveApiIntegration"),
    (v.contact_list_id, "cl-1a2b", "cl-1a2b"),
    (v.contact_list_id, "cl-1.2", "cl-1.2"),
    (mode, "skip", "skip"),
]

REFUSED: list[tuple[Rule, Any, str]] = [
    (template_count, "1.5", "whole number of at least 0 (or its digits as a string)"),
    (template_count, "12.0", "whole number"),
    (template_count, "-1", "whole number"),
    (template_count, "+1", "whole number"),
    (template_count, "²", "whole number"),
    (template_count, "١٢", "whole number"),
    (template_count, 12.0, "whole number"),
    (template_count, True, "whole number"),
    (template_count, None, "whole number"),
    (template_count, -1, "got -1"),
    (python_count, "12", "from 1 to 1000, got '12'"),
    (python_count, 0, "from 1 to 1000, got 0"),
    (python_count, 1001, "got 1001"),
    (connection_count, "30.5", "whole number from 1 to 3600, got '30.5'"),
    (connection_count, 7200, "got 7200"),
    (connection_count, "abc", "(or a number as text, e.g. '30'), got 'abc'"),
    (connection_count, "inf", "whole number"),
    (connection_count, INF, "whole number"),
    (connection_count, NAN, "whole number"),
    (connection_count, "1_000", "whole number"),
    (connection_count, "٣", "whole number"),
    (connection_count, False, "whole number"),
    (v.settle_polls, 0, "at least 1"),
    (v.seconds, 0, "number of seconds above 0, got 0"),
    (v.seconds, -1.5, "above 0"),
    (v.seconds, INF, "above 0"),
    (v.seconds, NAN, "above 0"),
    (v.seconds, "30", "above 0, got '30'"),
    (v.seconds, True, "above 0"),
    (connection_seconds, "soon", "(or a number as text, e.g. '30' or '0.5'), got 'soon'"),
    (connection_seconds, "0", "above 0"),
    (connection_seconds, "inf", "above 0"),
    (connection_seconds, "nan", "above 0"),
    (v.epoch_seconds, NAN, "seconds since the epoch"),
    (v.epoch_seconds, "1700000000", "seconds since the epoch"),
    (v.strict_bool, "true", "must be True or False, got str 'true'"),
    (v.strict_bool, 1, "must be True or False, got int 1"),
    (v.parse_bool, "yes", "boolean or the text 'true'/'false' (any case), got 'yes'"),
    (v.parse_bool, "1", "'true'/'false'"),
    (v.parse_bool, 0, "'true'/'false'"),
    (v.parse_bool, "on", "'true'/'false'"),
    (v.parse_bool, "fal\u017fe", "'true'/'false'"),
    (connection_bool, "on", "'true'/'false'/'yes'/'no'/'1'/'0'"),
    (connection_bool, 1, "'true'/'false'/'yes'/'no'/'1'/'0'"),
    (text, 5, "must be a string, got int 5"),
    (text, " \t", "must not be empty or blank"),
    (text, "abcdef", "is 6 characters long; Kore.ai accepts at most 5. Shorten it."),
    (text, "a\nb", "control characters"),
    (text, "a\u200bb", "control characters"),
    (optional_text, 5, "must be a string or None"),
    (optional_text, "a\x00", "control characters"),
    (v.contact_list_name, "x" * 49, "at most 48"),
    (v.contact_list_description, "d" * 257, "at most 256"),
    (v.contact_list_id, "", "must not be empty"),
    (v.contact_list_id, 5, "must be a string"),
    (v.contact_list_id, "x" * 257, "at most 256"),
    (v.contact_list_id, "cl-1/../all", "not a path"),
    (v.contact_list_id, "cl\\1", "not a path"),
    (v.contact_list_id, "..", "'..'"),
    (v.contact_list_id, ".", "'..'"),
    (v.contact_list_id, "cl 1", "whitespace"),
    (v.contact_list_id, "cl-1\x00", "control characters"),
    (mode, "update", "must be one of 'skip', 'fail', got 'update'"),
    (mode, None, "must be one of"),
]


@pytest.mark.parametrize(("rule", "value", "expected"), ACCEPTED)
def test_accepted(rule: Rule, value: Any, expected: Any) -> None:
    result = rule(value, "arg")
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("rule", "value", "problem"), REFUSED)
def test_refused_naming_the_field(rule: Rule, value: Any, problem: str) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        rule(value, "arg")
    assert caught.value.field == "arg"
    assert str(caught.value) == f"Invalid 'arg': {caught.value.problem}"
    assert problem in caught.value.problem


def test_describe_cuts_long_values() -> None:
    assert v.describe("x" * 100, limit=10) == "'xxxxxx..."
    assert v.describe(1.5) == "1.5"


# -- the connection's extras and the hook's arguments: one rule per kind, two spellings ------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("timeout", "45", 45.0),
        ("timeout", 0.5, 0.5),
        ("max_attempts", "20.0", 20),
        ("rate_limit_per_minute", 0, 0),
        ("enforce_jti", "YES", True),
        ("enforce_jti", False, False),
        ("verify", "0", False),
        ("verify", " /etc/ssl/ca.pem ", "/etc/ssl/ca.pem"),
        ("verify", True, True),
        ("iid", " st-1 ", "st-1"),
        ("iid", None, None),
    ],
)
def test_extra_as_a_connection_spells_it(name: str, value: Any, expected: Any) -> None:
    assert v.extra(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("timeout", 0, "above 0"),
        ("max_attempts", 21, "from 1 to 20, got 21"),
        ("rate_limit_share", 0, "from 1 to 100"),
        ("jwt_ttl", 3601, "from 1 to 3600"),
        ("enforce_jti", 1, "'yes'/'no'"),
        ("verify", 3, "must be true, false or the path of a CA bundle, got 3"),
        ("account_id", 12, "must be a string, got int"),
    ],
)
def test_extra_refused_naming_the_extra(name: str, value: Any, problem: str) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        v.extra(name, value)
    assert caught.value.field == name
    assert problem in caught.value.problem


@pytest.mark.parametrize(
    ("name", "value"),
    [("timeout", "45"), ("max_attempts", 5.0), ("max_attempts", "5"), ("enforce_jti", "yes")],
)
def test_a_python_argument_takes_the_python_type_only(name: str, value: Any) -> None:
    """``hook_params`` and the hook's arguments are written in Python: the connection's text spellings
    are refused there, with the same limits."""
    with pytest.raises(KoreAIValidationError):
        v.extra(name, value, from_connection=False)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"timeout": 5, "max_attempts": None}, {"timeout": 5.0, "max_attempts": None}),
        ({"max_attempts": 20, "retry_timeout": 0.5}, {"max_attempts": 20, "retry_timeout": 0.5}),
        ({"backoff_initial": 1, "backoff_max": 30.0}, {"backoff_initial": 1.0, "backoff_max": 30.0}),
    ],
)
def test_hook_params_accepted_and_checked_values_returned(
    params: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    assert v.hook_params(params) == expected


@pytest.mark.parametrize(
    ("params", "field", "problem"),
    [
        ([("timeout", 5)], "hook_params", "must be a dict of KoreAIHook arguments"),
        ({"timeout": 5, "verify": False}, "hook_params", "unknown keys ['verify']; KoreAIHook takes"),
        ({"timeout": "5"}, "hook_params['timeout']", "number of seconds above 0, got '5'"),
        ({"max_attempts": 21}, "hook_params['max_attempts']", "from 1 to 20"),
        ({"max_attempts": "3"}, "hook_params['max_attempts']", "whole number"),
        ({"backoff_max": None}, "hook_params['backoff_max']", "above 0"),
    ],
)
def test_hook_params_refused_naming_the_key(params: Any, field: str, problem: str) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        v.hook_params(params)
    assert caught.value.field == field
    assert problem in caught.value.problem
