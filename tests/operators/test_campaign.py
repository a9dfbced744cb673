"""The campaign operators with the hook's methods patched: every branch of start and stop by status, the
create/delete mirrors of the contact-list operators, the export's thin layer (its file writing is
``tests/test_campaign_results.py``'s), argument checks when the DAG is parsed and when the task runs.
Across a real wire: ``tests/integration/test_campaign_operators_emulator.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pendulum
import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG

from airflow_provider_koreai import campaign_control, campaign_results
from airflow_provider_koreai.exceptions import (
    KoreAICampaignStateError,
    KoreAIInvalidArgumentsError,
    KoreAINotFoundError,
    KoreAIRequestRejectedError,
)
from airflow_provider_koreai.hooks.koreai import EnsuredCampaign, KoreAIHook
from airflow_provider_koreai.operators.campaign import (
    CreateCampaignOperator,
    DeleteCampaignOperator,
    ExportCampaignResultsOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_provider_koreai.responses import CampaignContactsPage, CampaignStatus
from tests.helpers.campaigns import voice_spec
from tests.helpers.compat import serialize_round_trip
from tests.helpers.connections import BASE_URL, IID
from tests.helpers.logs import the_line

CAMPAIGN_ID = "cd-renewals-0001"
NAME = "Renewals outreach"
INSTANCE = "cid-0001"
CAMPAIGN_URI = f"koreai://{BASE_URL.split('://', 1)[1]}/{IID}/campaigns/{CAMPAIGN_ID}"
PHONE = "+15550001234"


def status(value: str) -> CampaignStatus:
    return CampaignStatus(CAMPAIGN_ID, value, NAME)


def rejected(http_status: int = 409) -> KoreAIRequestRejectedError:
    return KoreAIRequestRejectedError(
        http_status=http_status, endpoint="POST /campaign/x", message="Campaign is already Active"
    )


def run(operator: Any, **context: Any) -> tuple[Any, mock.MagicMock]:
    """Render the templates, then execute, as a worker would; returns (return value, ti mock)."""
    ti = mock.MagicMock()
    full_context: dict[str, Any] = {"ti": ti, "params": {}, **context}
    operator.render_template_fields(full_context)
    return operator.execute(full_context), ti


def pushed(ti: mock.MagicMock) -> dict[str, Any]:
    return {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


class FakeHook:
    """The hook's campaign methods, patched onto ``KoreAIHook``: statuses are read in turn (the last one
    repeats), every call is counted."""

    def __init__(self, *statuses: str) -> None:
        self.statuses = list(statuses)
        self.get_campaign_status = mock.Mock(side_effect=self._next_status)
        self.get_campaign = mock.Mock(return_value={"_id": CAMPAIGN_ID, "campaignInstanceId": INSTANCE})
        self.start_campaign = mock.Mock(
            return_value={"status": "Active", "message": "Campaign Started", "campaignInstanceId": INSTANCE}
        )
        self.stop_campaign = mock.Mock(
            return_value={"status": "Stopped", "message": "Campaign Stopped", "campaignInstanceId": INSTANCE}
        )
        self.ensure_campaign = mock.Mock()
        self.delete_campaign = mock.Mock(return_value={"_id": CAMPAIGN_ID, "name": NAME})
        self.iter_campaign_contact_pages = mock.Mock()

    def _next_status(self, campaign_id: str) -> CampaignStatus:
        assert campaign_id == CAMPAIGN_ID
        return status(self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0])

    @property
    def sends(self) -> int:
        """Requests that change something."""
        calls = (self.start_campaign, self.stop_campaign, self.ensure_campaign, self.delete_campaign)
        return sum(method.call_count for method in calls)


@pytest.fixture(autouse=True)
def _connection(koreai_connection: None) -> None:
    pass


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> FakeHook:
    fake = FakeHook("Ready")
    for name in (
        "get_campaign_status",
        "get_campaign",
        "start_campaign",
        "stop_campaign",
        "ensure_campaign",
        "delete_campaign",
        "iter_campaign_contact_pages",
    ):
        monkeypatch.setattr(KoreAIHook, name, getattr(fake, name))
    return fake


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits of the Preparing loop, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(campaign_control, "sleep", slept.append)
    return slept


def start(**overrides: Any) -> StartCampaignOperator:
    return StartCampaignOperator(**{"task_id": "start", "campaign_id": CAMPAIGN_ID, **overrides})


def stop(**overrides: Any) -> StopCampaignOperator:
    return StopCampaignOperator(**{"task_id": "stop", "campaign_id": CAMPAIGN_ID, **overrides})


# -- start ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("before", ["Ready", "Paused", "Completed", "Stopped"])
def test_start_plays_a_campaign_that_is_not_running(hook: FakeHook, before: str) -> None:
    hook.statuses = [before]
    result, _ = run(start())

    hook.start_campaign.assert_called_once_with(CAMPAIGN_ID, "voice")
    assert result == {
        "campaign_id": CAMPAIGN_ID,
        "campaign_instance_id": INSTANCE,
        "status": "Active",
        "started": True,
    }
    assert hook.get_campaign_status.call_count == 1


def test_start_says_a_finished_campaign_dials_everyone_again(
    hook: FakeHook, capsys: pytest.CaptureFixture[str]
) -> None:
    hook.statuses = ["Completed"]
    run(start())
    line = the_line(capsys.readouterr().out, "Starting Kore.ai campaign")
    assert f"{CAMPAIGN_ID} ({NAME!r}), which is Completed" in line
    assert "dials every contact of its lists again" in line


def test_start_leaves_an_active_campaign_alone_by_default(
    hook: FakeHook, capsys: pytest.CaptureFixture[str]
) -> None:
    hook.statuses = ["Active"]
    result, _ = run(start())

    assert hook.sends == 0
    assert result == {
        "campaign_id": CAMPAIGN_ID,
        "campaign_instance_id": INSTANCE,
        "status": "Active",
        "started": False,
    }
    assert f"instance {INSTANCE}); no start sent (if_active='skip')" in the_line(
        capsys.readouterr().out, "Left Kore.ai campaign"
    )


def test_start_of_an_active_campaign_without_an_instance_id_pushes_none_inside_the_dict(
    hook: FakeHook,
) -> None:
    hook.statuses = ["Active"]
    hook.get_campaign.return_value = {"_id": CAMPAIGN_ID}
    result, _ = run(start())
    assert result["campaign_instance_id"] is None
    assert result["started"] is False


def test_start_fails_for_good_on_an_active_campaign_with_if_active_fail(hook: FakeHook) -> None:
    hook.statuses = ["Active"]
    with pytest.raises(AirflowFailException) as caught:
        run(start(if_active="fail"))

    error = caught.value.__cause__
    assert isinstance(error, KoreAICampaignStateError)
    assert (error.campaign_id, error.status) == (CAMPAIGN_ID, "Active")
    assert str(caught.value).startswith(f"Kore.ai campaign {CAMPAIGN_ID} ({NAME!r}) is already Active")
    assert "Stop it first" in str(caught.value)
    assert hook.sends == 0


def test_start_waits_while_the_campaign_is_preparing_then_plays(
    hook: FakeHook, sleeps: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    hook.statuses = ["Preparing", "Preparing", "Ready"]
    result, _ = run(start(preparing_poll_interval=10))

    assert sleeps == [10, 10]
    assert hook.get_campaign_status.call_count == 3
    hook.start_campaign.assert_called_once()
    assert result["started"] is True
    assert "waiting up to 600 s for it to be Ready (60 status read(s), every 10 s)" in the_line(
        capsys.readouterr().out, "is still Preparing"
    )


def test_start_gives_up_on_a_campaign_still_preparing_after_the_bound(
    hook: FakeHook, sleeps: list[float]
) -> None:
    hook.statuses = ["Preparing"]
    with pytest.raises(AirflowFailException) as caught:
        run(start(preparing_timeout=50, preparing_poll_interval=15))

    assert sleeps == [15, 15, 15, 5], "the sleeps add up to the timeout"
    assert hook.get_campaign_status.call_count == 1 + 4
    assert hook.sends == 0
    error = caught.value.__cause__
    assert isinstance(error, KoreAICampaignStateError)
    assert error.status == "Preparing"
    assert "is still Preparing after 50 s; nothing was sent. Raise preparing_timeout" in str(error)


def test_a_campaign_started_by_someone_else_while_preparing_is_not_played_again(
    hook: FakeHook, sleeps: list[float]
) -> None:
    hook.statuses = ["Preparing", "Active"]
    result, _ = run(start())
    assert len(sleeps) == 1
    assert hook.sends == 0
    assert result["started"] is False


def test_a_start_refused_because_another_run_started_it_meanwhile_counts_as_active(
    hook: FakeHook,
) -> None:
    hook.statuses = ["Ready", "Active"]
    hook.start_campaign.side_effect = rejected(409)
    result, _ = run(start())
    assert result == {
        "campaign_id": CAMPAIGN_ID,
        "campaign_instance_id": INSTANCE,
        "status": "Active",
        "started": False,
    }


@pytest.mark.parametrize(
    ("after", "if_active", "http_status"),
    [("Ready", "skip", 409), ("Active", "fail", 409), ("Active", "skip", 400)],
)
def test_any_other_refused_start_fails_the_task_for_good(
    hook: FakeHook, after: str, if_active: str, http_status: int
) -> None:
    """A busy contact list (409 while the campaign is still Ready), if_active='fail', a 400."""
    hook.statuses = ["Ready", after]
    hook.start_campaign.side_effect = rejected(http_status)
    with pytest.raises(AirflowFailException, match=r"Kore\.ai refused the request"):
        run(start(if_active=if_active))


def test_start_records_the_campaign_as_an_asset_event_through_an_alias(hook: FakeHook) -> None:
    from airflow.providers.common.compat.sdk import Asset, AssetAlias

    alias, events = AssetAlias("koreai_campaigns"), mock.MagicMock()
    run(start(outlets=[alias]), outlet_events=events)

    events[alias].add.assert_called_once_with(
        Asset(CAMPAIGN_URI), extra={"operation": "start", "campaign_instance_id": INSTANCE}
    )


def test_start_renders_its_templates_and_checks_them_when_the_task_runs(hook: FakeHook) -> None:
    operator = start(campaign_id="{{ params.campaign }}", campaign_type="{{ params.kind }}")
    run(operator, params={"campaign": CAMPAIGN_ID, "kind": "sms"})
    hook.start_campaign.assert_called_once_with(CAMPAIGN_ID, "sms")


def test_start_refuses_every_literal_mistake_at_once_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        start(
            campaign_id="cd-1/../getAllCampaignDetails",
            campaign_type="email",
            if_active="ignore",
            preparing_timeout=0,
            preparing_poll_interval="15",
        )
    error = caught.value
    assert error.fields == (
        "campaign_id",
        "campaign_type",
        "if_active",
        "preparing_timeout",
        "preparing_poll_interval",
    )
    assert "task 'start'" in str(error)
    assert "'voice', 'sms'" in str(error)
    assert "'skip', 'fail'" in str(error)


def test_rendered_mistakes_fail_the_task_for_good_before_any_request(hook: FakeHook) -> None:
    operator = start(campaign_id="{{ params.missing }}", campaign_type="{{ params.kind }}")
    with pytest.raises(AirflowFailException) as caught:
        run(operator, params={"kind": "fax"})
    refusal = caught.value.__cause__
    assert isinstance(refusal, KoreAIInvalidArgumentsError)
    assert refusal.fields == ("campaign_id", "campaign_type")
    assert hook.get_campaign_status.call_count == 0


def test_start_serializes_in_a_dag() -> None:
    with DAG("koreai_campaigns", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        start(campaign_id="{{ params.campaign }}", preparing_timeout=120)
    task = serialize_round_trip(dag).get_task("start")
    assert task.campaign_id == "{{ params.campaign }}"
    assert list(task.template_fields) == list(StartCampaignOperator.template_fields)


# -- stop ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("before", ["Active", "Paused"])
def test_stop_stops_a_running_campaign(hook: FakeHook, before: str) -> None:
    hook.statuses = [before]
    result, _ = run(stop(campaign_type="sms"))
    hook.stop_campaign.assert_called_once_with(CAMPAIGN_ID, "sms")
    assert result == {"campaign_id": CAMPAIGN_ID, "status": "Stopped", "stopped": True}


@pytest.mark.parametrize(
    ("before", "words"),
    [
        ("Stopped", "is already Stopped: nothing to stop"),
        ("Completed", "is already Completed: nothing to stop"),
        ("Preparing", "is Preparing (never started): nothing was running"),
        ("Ready", "is Ready (never started): nothing was running"),
        ("Scheduled", "is Scheduled: not dialling now, no stop sent; its schedule will still start"),
    ],
)
def test_stop_of_a_campaign_that_is_not_running_succeeds_without_a_request(
    hook: FakeHook, capsys: pytest.CaptureFixture[str], before: str, words: str
) -> None:
    hook.statuses = [before]
    result, _ = run(stop())
    assert hook.sends == 0
    assert result == {"campaign_id": CAMPAIGN_ID, "status": before, "stopped": False}
    assert f"Kore.ai campaign {CAMPAIGN_ID} ({NAME!r}) {words}" in capsys.readouterr().out


def test_a_campaign_that_ended_between_the_read_and_the_stop_is_success(hook: FakeHook) -> None:
    hook.statuses = ["Active", "Completed"]
    hook.stop_campaign.side_effect = rejected(409)
    result, _ = run(stop())
    assert result == {"campaign_id": CAMPAIGN_ID, "status": "Completed", "stopped": False}


def test_a_stop_refused_while_the_campaign_still_runs_fails_the_task(hook: FakeHook) -> None:
    hook.statuses = ["Active"]
    hook.stop_campaign.side_effect = rejected(409)
    with pytest.raises(AirflowFailException, match=r"Kore\.ai refused the request"):
        run(stop())


def test_stop_refuses_literal_mistakes_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        stop(campaign_id="", campaign_type="Voice")
    assert caught.value.fields == ("campaign_id", "campaign_type")
    assert "pass the id of the campaign, e.g. 'cd-...'" in str(caught.value)


# -- create --------------------------------------------------------------------------------------------


def test_create_ensures_the_campaign_and_pushes_what_it_made(hook: FakeHook) -> None:
    hook.ensure_campaign.return_value = EnsuredCampaign(
        CAMPAIGN_ID, {"_id": CAMPAIGN_ID, "name": NAME, "status": "Preparing"}, created=True
    )
    operator = CreateCampaignOperator(task_id="create", spec=voice_spec(priority=5))
    result, ti = run(operator)

    sent_type, sent_spec = hook.ensure_campaign.call_args.args
    assert sent_type == "voice"
    assert sent_spec["priority"] == "5", "the checked body: priority as Kore.ai spells it"
    assert hook.ensure_campaign.call_args.kwargs == {"if_exists": "skip"}
    assert result == {"campaign_id": CAMPAIGN_ID, "name": NAME, "created": True, "status": "Preparing"}
    assert pushed(ti) == {"campaign_id": CAMPAIGN_ID, "created": True}


@pytest.mark.parametrize(
    ("if_exists", "created", "words"),
    [
        ("skip", True, "Created Kore.ai voice campaign"),
        ("skip", False, "Reused existing Kore.ai voice campaign"),
        ("update", False, "Updated existing Kore.ai voice campaign"),
    ],
)
def test_create_says_what_it_did_and_records_only_a_change(
    hook: FakeHook, capsys: pytest.CaptureFixture[str], if_exists: str, created: bool, words: str
) -> None:
    from airflow.providers.common.compat.sdk import AssetAlias

    hook.ensure_campaign.return_value = EnsuredCampaign(
        CAMPAIGN_ID, {"_id": CAMPAIGN_ID, "status": "Ready"}, created=created
    )
    alias, events = AssetAlias("koreai_campaigns"), mock.MagicMock()
    operator = CreateCampaignOperator(
        task_id="create", spec=voice_spec(), if_exists=if_exists, outlets=[alias]
    )
    run(operator, outlet_events=events)

    assert f"{CAMPAIGN_ID} ({NAME!r})" in the_line(capsys.readouterr().out, words)
    changed = created or if_exists == "update"
    assert events[alias].add.call_count == int(changed)


def test_create_names_every_bad_field_of_a_literal_spec_when_the_dag_is_parsed() -> None:
    spec = voice_spec(name="n" * 49, priority="9", contactLists=[])
    spec["dialingStrategy"]["maxRingTime"] = 500
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        CreateCampaignOperator(task_id="create", spec=spec, if_exists="replace")
    assert caught.value.fields == (
        "spec.name",
        "spec.contactLists",
        "spec.priority",
        "spec.dialingStrategy.maxRingTime",
        "if_exists",
    )


def test_a_templated_spec_is_checked_when_the_task_runs_before_any_request(hook: FakeHook) -> None:
    operator = CreateCampaignOperator(
        task_id="create", spec=voice_spec(name="{{ params.name }}", priority="{{ params.priority }}")
    )
    with pytest.raises(AirflowFailException) as caught:
        run(operator, params={"name": "Renewals", "priority": "7"})
    refusal = caught.value.__cause__
    assert isinstance(refusal, KoreAIInvalidArgumentsError)
    assert refusal.fields == ("spec.priority",)
    assert hook.sends == 0


def test_a_templated_campaign_type_defers_the_spec_check_to_the_task(hook: FakeHook) -> None:
    """The definition's rules depend on the type: with the type unknown at parse time, a spec that is
    wrong for voice is not refused then, and is when the rendered type says voice."""
    voice_only_wrong = voice_spec(dialingMode=None)
    operator = CreateCampaignOperator(
        task_id="create", spec=voice_only_wrong, campaign_type="{{ params.kind }}"
    )
    with pytest.raises(AirflowFailException, match=r"spec\.dialingMode"):
        run(operator, params={"kind": "voice"})
    assert hook.sends == 0


# -- delete --------------------------------------------------------------------------------------------


def test_delete_deletes_and_records_the_change(hook: FakeHook, capsys: pytest.CaptureFixture[str]) -> None:
    from airflow.providers.common.compat.sdk import Asset, AssetAlias

    alias, events = AssetAlias("koreai_campaigns"), mock.MagicMock()
    operator = DeleteCampaignOperator(task_id="delete", campaign_id=CAMPAIGN_ID, outlets=[alias])
    result, _ = run(operator, outlet_events=events)

    hook.delete_campaign.assert_called_once_with(CAMPAIGN_ID, "voice")
    assert result == {"_id": CAMPAIGN_ID, "name": NAME}
    assert f"Deleted Kore.ai campaign {CAMPAIGN_ID} ({NAME!r})" in capsys.readouterr().out
    events[alias].add.assert_called_once_with(Asset(CAMPAIGN_URI), extra={"operation": "delete"})


def not_found() -> KoreAINotFoundError:
    return KoreAINotFoundError(http_status=404, endpoint="DELETE /campaign/x", message="No campaign")


def test_delete_of_a_missing_campaign_fails_for_good_by_default(hook: FakeHook) -> None:
    hook.delete_campaign.side_effect = not_found()
    with pytest.raises(AirflowFailException, match="Not found"):
        run(DeleteCampaignOperator(task_id="delete", campaign_id=CAMPAIGN_ID))


def test_delete_of_a_missing_campaign_with_missing_ok_succeeds_with_none(
    hook: FakeHook, capsys: pytest.CaptureFixture[str]
) -> None:
    hook.delete_campaign.side_effect = not_found()
    result, _ = run(DeleteCampaignOperator(task_id="delete", campaign_id=CAMPAIGN_ID, missing_ok=True))
    assert result is None
    assert "Deleted nothing: Kore.ai campaign" in capsys.readouterr().out


def test_delete_refuses_literal_mistakes_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        DeleteCampaignOperator(task_id="delete", campaign_id="a b", campaign_type="fax", missing_ok="yes")  # type: ignore[arg-type]
    assert caught.value.fields == ("campaign_id", "campaign_type", "missing_ok")


# -- export --------------------------------------------------------------------------------------------

ROWS = [
    {
        "phoneNumber": PHONE,
        "uniqueId": "C000001",
        "dialerOutcome": "completed",
        "botOutboundStatus": "userHangUp",
    },
    {"phoneNumber": "+15550009876", "uniqueId": "C000002", "dialerOutcome": "", "botOutboundStatus": ""},
]


class FakeSummary:
    def __init__(self, destination: str, rows: int) -> None:
        self.destination, self.rows = destination, rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "rows_written": self.rows,
            "file_format": "csv",
            "compressed": False,
            "outcomes": {"userHangUp": 1, "not_dialled": 1},
        }


@pytest.fixture
def export_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """``campaign_results.export_campaign_results`` replaced: it consumes the pages and records its
    arguments (the module writes files; ``tests/test_campaign_results.py`` covers that)."""
    calls: list[dict[str, Any]] = []

    def export(pages: Any, destination: Any, **kwargs: Any) -> FakeSummary:
        rows = sum(len(page.results) for page in pages)
        calls.append({"destination": destination, **kwargs})
        return FakeSummary(str(destination), rows)

    monkeypatch.setattr(campaign_results, "export_campaign_results", export)
    return calls


def export_operator(**overrides: Any) -> ExportCampaignResultsOperator:
    return ExportCampaignResultsOperator(
        **{"task_id": "export", "campaign_id": CAMPAIGN_ID, "destination": "/tmp/results.csv", **overrides}
    )


def test_export_streams_the_pages_and_pushes_the_summary_without_a_phone_number(
    hook: FakeHook, export_calls: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    hook.iter_campaign_contact_pages.return_value = iter([CampaignContactsPage(ROWS, 1, 1, 2)])
    operator = export_operator(
        destination="s3://results/{{ params.month }}/renewals.csv.gz",
        destination_conn_id="{{ params.store }}",
    )
    result, ti = run(operator, params={"month": "2025-08", "store": "aws_results"})

    hook.iter_campaign_contact_pages.assert_called_once_with(CAMPAIGN_ID)
    (call,) = export_calls
    assert call["destination"] == "s3://results/2025-08/renewals.csv.gz"
    assert call["destination_conn_id"] == "aws_results"
    assert call["file_format"] is None
    assert call["seconds_per_request"] is None, "the test connection has no request budget"
    assert result["rows_written"] == 2
    assert PHONE not in json.dumps(result)
    assert PHONE not in json.dumps(pushed(ti))
    assert PHONE not in capsys.readouterr().out
    assert operator.read_from == (CAMPAIGN_URI.rsplit(f"/{IID}/", 1)[0], f"{IID}/campaigns/{CAMPAIGN_ID}")
    assert operator.written_to == ("s3://results", "2025-08/renewals.csv.gz")


def test_export_paces_its_progress_estimate_by_the_accounts_budget(
    hook: FakeHook, export_calls: list[dict[str, Any]], set_connection: Any
) -> None:
    set_connection(extra={"rate_limit_per_minute": 60, "rate_limit_share": 50})
    hook.iter_campaign_contact_pages.return_value = iter([])
    run(export_operator())
    assert export_calls[0]["seconds_per_request"] == 2.0


def test_export_records_the_file_with_the_campaign_named_in_its_event(
    hook: FakeHook, export_calls: list[dict[str, Any]]
) -> None:
    from airflow.providers.common.compat.sdk import Asset, AssetAlias

    hook.iter_campaign_contact_pages.return_value = iter([CampaignContactsPage(ROWS, 1, 1, 2)])
    alias, events = AssetAlias("koreai_results"), mock.MagicMock()
    run(export_operator(destination="file:///tmp/results.csv", outlets=[alias]), outlet_events=events)

    events[alias].add.assert_called_once_with(
        Asset("file:///tmp/results.csv"),
        extra={"campaign": CAMPAIGN_URI, "campaign_id": CAMPAIGN_ID, "rows_written": 2},
    )


def test_export_refuses_literal_mistakes_when_the_dag_is_parsed() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        export_operator(campaign_id="", destination="/tmp/results.parquet", file_format="xlsx")
    assert caught.value.fields == ("campaign_id", "destination", "file_format")
    with pytest.raises(KoreAIInvalidArgumentsError) as named:
        export_operator(destination="/tmp/results.txt")
    assert "file_format='csv' or 'jsonl'" in str(named.value)


def test_export_writes_the_file_and_keeps_every_phone_number_in_it(
    hook: FakeHook, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real export module under the operator: the numbers are in the file, not in XCom or the log."""
    hook.iter_campaign_contact_pages.return_value = iter(
        [CampaignContactsPage(ROWS[:1], 1, 2, 2), CampaignContactsPage(ROWS[1:], 2, 2, 2)]
    )
    destination = tmp_path / "results.jsonl"
    result, ti = run(export_operator(destination=str(destination)))

    assert result == {
        "destination": destination.as_uri(),
        "rows_written": 2,
        "file_format": "jsonl",
        "compressed": False,
        "outcomes": {"userHangUp": 1, "not_dialled": 1},
    }
    assert [json.loads(line)["phoneNumber"] for line in destination.read_text().splitlines()] == [
        PHONE,
        "+15550009876",
    ]
    assert PHONE not in json.dumps(pushed(ti))
    assert PHONE not in capsys.readouterr().out


def test_export_lineage_names_the_campaign_as_input_and_the_file_as_output(
    hook: FakeHook, export_calls: list[dict[str, Any]]
) -> None:
    pytest.importorskip("airflow.providers.openlineage", reason="needs the openlineage extra")
    hook.iter_campaign_contact_pages.return_value = iter([CampaignContactsPage(ROWS, 1, 1, 2)])
    operator = export_operator(destination="file:///tmp/results.csv")
    run(operator)

    lineage = operator.get_openlineage_facets_on_complete(mock.MagicMock())

    host = BASE_URL.split("://", 1)[1]
    assert [(d.namespace, d.name) for d in lineage.inputs] == [
        (f"koreai://{host}", f"{IID}/campaigns/{CAMPAIGN_ID}")
    ]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [("file", "/tmp/results.csv")]
    assert lineage.outputs[0].outputFacets["outputStatistics"].rowCount == 2
