"""Each rule of :mod:`airflow_provider_koreai.validation`, directly: what it accepts (and returns), what it
refuses, and that the refusal names the field. The layers that call these rules (operators, sensor,
hook, trigger, connection reader) test only that they call them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
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
    (v.connection_id, "koreai_eu", "koreai_eu"),
    (v.optional_connection_id, "", None),
    (v.optional_connection_id, "aws_exports", "aws_exports"),
    (v.optional(v.settle_polls), None, None),
    (v.optional(v.settle_polls), 2, 2),
    (v.column_map, None, {}),
    (v.column_map, {" phone ": "phoneNumber"}, {"phone": "phoneNumber"}),
    (v.contact_records, "[]", []),
    (v.contact_records, [{"phoneNumber": "+1"}], [{"phoneNumber": "+1"}]),
    (v.contact_file_path, "exports/renewals.CSV.gz", "exports/renewals.CSV.gz"),
    (v.contact_file_path, "s3://exports/renewals.ndjson", "s3://exports/renewals.ndjson"),
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
    (v.connection_id, "", "the id of an Airflow connection"),
    (v.connection_id, " ", "non-empty string"),
    (v.connection_id, None, "got None"),
    (v.optional_connection_id, 5, "the id of an Airflow connection"),
    (v.optional(v.settle_polls), 0, "at least 1"),
    (v.column_map, "phone", "must be a mapping of source column to Kore.ai column"),
    (v.column_map, {"phone": ""}, "the target of 'phone' must be a non-empty string"),
    (v.contact_records, {"phoneNumber": "+1"}, "got a single mapping"),
    (v.contact_records, "not a list", "neither a JSON array nor a Python list"),
    (v.contact_records, 7, "must be a list of records, got int"),
    (v.contact_file_path, "exports/renewals.xlsx", "none of the supported extensions"),
    (v.contact_file_path, " ", "must be a file path, an object-storage URI or an ObjectStoragePath"),
    (v.contact_file_path, 7, "must be a file path"),
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


def test_a_named_format_overrides_the_files_suffix() -> None:
    assert v.contact_file_path("exports/renewals.data", file_format="csv") == "exports/renewals.data"


# -- several arguments at once: what is a literal, how a DAG renders it, every refusal in one error -------


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("Renewals", True),
        ("{ not a template }", True),
        ("Renewals {{ ds }}", False),
        ("{% if params.x %}x{% endif %}", False),
        ("Renewals{# a comment #}", False),
        (None, True),
        (12, True),
        (1.5, True),
        (True, True),
        (b"cl-1", True),
        (PurePosixPath("/exports/renewals.csv"), True),
        (PurePosixPath("/exports/{{ ds }}.csv"), False),
        (["a", {"k": ("v", 1)}], True),
        (["a", "{{ params.b }}"], False),
        ({"{{ not rendered }}": "phoneNumber"}, True),  # Airflow renders a dict's values, not its keys
        ({"phone": "{{ params.column }}"}, False),
        ({"a"}, True),
        (object(), False),  # anything else may be resolved by Airflow: checked when the task runs
    ],
)
def test_what_is_a_literal(value: Any, literal: bool) -> None:
    assert v.is_literal(value) is literal


def test_an_xcomarg_is_not_a_literal() -> None:
    from airflow.sdk import DAG, task

    @task
    def export() -> str:
        return "cl-1"

    with DAG("koreai_literal", schedule=None):
        exported = export()
    assert not v.is_literal(exported)
    assert not v.is_literal([exported])


def test_a_dag_with_its_own_delimiters_marks_its_templates_with_them() -> None:
    rendering = v.TemplateRendering(
        {"variable_start_string": "[[", "variable_end_string": "]]", "line_statement_prefix": "%%"}
    )
    assert rendering.markers == ("[[", "{%", "{#", "%%")
    assert not rendering.is_literal("Renewals [[ ds ]]")
    assert not rendering.is_literal("%% if x")
    assert rendering.is_literal("Renewals {{ ds }}")


@pytest.mark.parametrize(
    ("value", "jinja_environment_kwargs", "native"),
    [
        ("Renewals", None, False),
        ("Renewals\n", None, False),
        ("Renewals\n\n", None, False),
        ("a\r\nb\rc", None, False),
        ("\n", None, False),
        ("Renewals\n", {"keep_trailing_newline": True}, False),
        ("a\nb", {"newline_sequence": "\r\n"}, False),
        ("12", None, True),
        ("True\n", None, True),
        ("Renewals", None, True),
        ("'quoted'", None, True),
        (12, None, False),
    ],
)
def test_a_literal_is_checked_as_airflow_renders_it(
    value: Any, jinja_environment_kwargs: dict[str, Any] | None, native: bool
) -> None:
    """The oracle is Airflow's own rendering, in a DAG with these settings."""
    from airflow.sdk import DAG, BaseOperator

    with DAG(
        "koreai_rendering",
        schedule=None,
        jinja_environment_kwargs=jinja_environment_kwargs,
        render_template_as_native_obj=native,
    ) as dag:
        task = BaseOperator(task_id="t")
    rendered = task.render_template(value, {"params": {}}, dag.get_template_env())
    checked = v.TemplateRendering.of(dag).rendered(value)
    assert checked == rendered
    assert type(checked) is type(rendered)


def test_refusals_are_raised_together_in_the_order_they_were_found() -> None:
    from airflow.providers.common.compat.sdk import AirflowFailException

    refusals = v.Refusals()
    assert refusals.check(v.contact_list_name, "Renewals", "name") == "Renewals"
    assert refusals.check(v.contact_list_name, "x" * 74, "name") is None
    assert refusals.check(v.parse_bool, "maybe", "allow_duplicates") is None
    with pytest.raises(v.KoreAIInvalidArgumentsError) as caught:
        refusals.raise_all("update_list")

    error = caught.value
    assert isinstance(error, KoreAIValidationError), "callers catching one refusal catch these too"
    assert isinstance(error, AirflowFailException), "no task retry can fix an argument"
    assert (error.field, error.fields) == ("name", ("name", "allow_duplicates"))
    assert [problem.field for problem in error.problems] == ["name", "allow_duplicates"]
    text = str(error)
    assert text.splitlines()[0] == (
        "2 invalid arguments of task 'update_list' ('name', 'allow_duplicates'); fix each:"
    )
    assert "74 characters" in text
    assert "'maybe'" in text


def test_one_refusal_reads_as_itself_naming_the_task() -> None:
    refusals = v.Refusals()
    refusals.check(v.strict_bool, "yes", "missing_ok")
    with pytest.raises(v.KoreAIInvalidArgumentsError) as caught:
        refusals.raise_all("delete_list")
    assert caught.value.fields == ("missing_ok",)
    assert "'missing_ok'" in str(caught.value)
    assert str(caught.value).endswith("(task 'delete_list')")


def test_the_refusals_of_a_check_that_collects_its_own_are_kept_one_by_one() -> None:
    def two_at_once(value: Any) -> None:
        inner = v.Refusals()
        inner.check(v.whole_number, value, "max_invalid_rows")
        inner.check(v.column_map, value, "column_map")
        inner.raise_all()

    refusals = v.Refusals()
    refusals.check(two_at_once, "many")
    refusals.add("records/path", "pass exactly one of them")
    with pytest.raises(v.KoreAIInvalidArgumentsError) as caught:
        refusals.raise_all()
    assert caught.value.fields == ("max_invalid_rows", "column_map", "records/path")


def test_no_refusal_raises_nothing() -> None:
    refusals = v.Refusals()
    refusals.check(v.contact_list_id, "cl-1")
    refusals.raise_all("t")
    assert not refusals


class TestCampaigns:
    def test_a_documented_voice_campaign_passes_with_kore_spellings(self) -> None:
        from tests.helpers.campaigns import voice_spec

        body = v.campaign_spec(voice_spec(priority=4, schedule=None), "voice")
        assert body["priority"] == "4"
        assert body["schedule"] == {"isSchedulingEnabled": False}

    def test_every_bad_field_is_named_by_its_path(self) -> None:
        from airflow_provider_koreai.exceptions import KoreAIInvalidArgumentsError
        from tests.helpers.campaigns import voice_spec

        spec = voice_spec(dialingMode="Preview")
        spec["dialingStrategy"]["maxRingTime"] = 200
        spec["dialingStrategy"]["callingHours"]["days"][1]["start"] = "9am"
        spec["dialingStrategy"]["callingHours"]["timezone"] = "Mars/Olympus"
        with pytest.raises(KoreAIInvalidArgumentsError) as caught:
            v.campaign_spec(spec, "voice")
        assert caught.value.fields == (
            "spec.queue_name",
            "spec.maxSkips",
            "spec.dialingStrategy.callingHours.timezone",
            "spec.dialingStrategy.callingHours.days[1].start",
            "spec.dialingStrategy.maxRingTime",
        )

    def test_an_advanced_sms_campaign_needs_no_description_or_priority(self) -> None:
        spec = {
            "name": "Reminders",
            "contactLists": ["Overdue Invoices"],
            "format": "advanced",
            "experienceFlowName": "Reminder flow",
            "dialingStrategy": {
                "callerId": {"phoneNumber": "+14155550100"},
                "callingHours": {
                    "frequency": "DAILY",
                    "timezone": "Europe/London",
                    "days": [{"day": "MO", "start": "9:00 AM", "end": "5:00 PM"}],
                },
            },
        }
        assert "priority" not in v.campaign_spec(spec, "sms")

    def test_eleven_lists_are_too_many(self) -> None:
        from tests.helpers.campaigns import voice_spec

        spec = voice_spec(contactLists=[f"list {n}" for n in range(11)])
        with pytest.raises(KoreAIValidationError, match="at most 10"):
            v.campaign_spec(spec, "voice")

    @pytest.mark.parametrize("bad", [["Running"], "Done", 5])
    def test_statuses_are_kore_spellings(self, bad: Any) -> None:
        with pytest.raises(KoreAIValidationError, match="statuses"):
            v.campaign_statuses(bad, "statuses")

    def test_statuses_keep_their_order_once(self) -> None:
        assert v.campaign_statuses(["Stopped", "Completed", "Stopped"], "x") == ("Stopped", "Completed")
