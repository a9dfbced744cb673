"""The campaign example (load -> fill the list -> wait for ingestion -> create the campaign -> start it ->
wait, deferred, until it is Completed -> export each contact's outcome -> report) through real Airflow
(``dag.test()``), against the emulator: once, twice in a row (the second run plays the Completed campaign
again), with a wait that gives up (the teardown stops the campaign) and with a campaign that could not be
created (the teardown has nothing to stop)."""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.transport import TRIGGERER_USER_AGENT
from tests.helpers.dag_runs import run_example_dag, run_xcoms, xcom
from tests.helpers.emulator import EMULATOR_DEFAULTS, Emulators

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAG_ID = "koreai_run_campaign"
CUSTOMERS = 30
CAMPAIGN_NAME = "Renewal Reminders"
LIST_NAME = "Renewal Reminder Calls"
STOP_TASK = "stop_campaign_if_running"
#: A phone number as the load writes them (+1555...) or the caller id (+1415...), standing alone: not digits
#: inside an id (a uuid's hex may hold a run of digits) or a longer number.
PHONE_NUMBER = re.compile(r"(?<![\w-])\+?1(?:555|415)\d{7}(?![\w-])")


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    """A voice campaign Preparing for half a second (the start waits for it), then dialling 10 contacts a
    second, on the clock :func:`dialling_waits_for_the_trigger` drives."""
    return {**EMULATOR_DEFAULTS, "dial_rate": 10.0, "campaign_preparation_seconds": 0.5}


@contextlib.contextmanager
def dialling_waits_for_the_trigger(emulator: EmulatorServer) -> Iterator[None]:
    """The campaigns' clock, frozen, moves on what the run reads, not on how busy the machine is: 1 s at
    the first status read (the start finds the campaign Preparing, and Ready on a later read), 60 s at the
    trigger's first read (every contact dialled: Completed). The sensor's first check, on the worker, always
    finds the campaign Active and defers, however long the tasks between the start and it take."""
    clock = emulator.clock
    clock.freeze()
    stop = threading.Event()

    def drive() -> None:
        prepared = False
        while not stop.wait(0.02):
            reads = routes(emulator, "campaign_status")
            if reads and not prepared:
                clock.advance(1.0)
                prepared = True
            if any(r["headers"]["user-agent"] == TRIGGERER_USER_AGENT for r in reads):
                clock.advance(60.0)
                return

    driver = threading.Thread(target=drive, name="campaign-clock", daemon=True)
    driver.start()
    try:
        yield
    finally:
        stop.set()
        driver.join(timeout=5)
        clock.reset()


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The deployment's export location: the Airflow Variable ``koreai_export_location``."""
    folder = tmp_path / "exports"
    monkeypatch.setenv("AIRFLOW_VAR_KOREAI_EXPORT_LOCATION", folder.as_uri())
    return folder


def quick_polling(dag: Any) -> None:
    """The example reads every 10 to 60 s, as it should against Kore.ai; the emulator is faster."""
    for task_id in ("wait_for_ingestion", "wait_for_campaign"):
        sensor = dag.get_task(task_id)
        sensor.poke_interval = 0.2
        sensor.timeout = 60
    dag.get_task("start_campaign").preparing_poll_interval = 0.2


def run(tweak: Callable[[Any], None] = quick_polling) -> Any:
    return run_example_dag(DAG_ID, run_conf={"customers": CUSTOMERS}, tweak=tweak)


def task_states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def results_file(exports: Path, dag_run: Any) -> Path:
    return exports / "campaign_results" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', dag_run.run_id)}.csv.gz"


def exported_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as lines:
        return list(csv.DictReader(lines))


def routes(emulator: EmulatorServer, route: str) -> list[dict[str, Any]]:
    return [r for r in emulator.recorded_requests() if r["route"] == route]


def test_campaign_example_dials_the_list_and_exports_every_outcome(
    emulator: EmulatorServer, exports: Path
) -> None:
    with dialling_waits_for_the_trigger(emulator):
        dag_run = run()

    states = task_states(dag_run)
    assert set(states.values()) == {"success"}, states
    assert dag_run.state == "success"
    # The teardown found the campaign Completed: it read the status and sent no stop.
    assert xcom(dag_run, STOP_TASK) == {
        "campaign_id": xcom(dag_run, "create_campaign", "campaign_id"),
        "status": "Completed",
        "stopped": False,
    }
    assert [r["query"]["trigger"] for r in routes(emulator, "trigger_campaign")] == ["play"]

    # The sensor deferred: the trigger, not the worker, read the status until Completed.
    reads = routes(emulator, "campaign_status")
    by_trigger = [r for r in reads if r["headers"]["user-agent"] == TRIGGERER_USER_AGENT]
    assert by_trigger, "the trigger read no status: wait_for_campaign never deferred"
    assert len(by_trigger) < len(reads), "the worker read the status too (the start, the first check)"

    campaign_id = xcom(dag_run, "create_campaign", "campaign_id")
    campaign = emulator.campaign(campaign_id)
    assert campaign is not None
    assert (campaign["name"], campaign["status"], campaign["contactLists"]) == (
        CAMPAIGN_NAME,
        "Completed",
        [LIST_NAME],
    )
    assert xcom(dag_run, "wait_for_campaign")["status"] == "Completed"
    started = xcom(dag_run, "start_campaign")
    assert (started["campaign_id"], started["started"]) == (campaign_id, True)
    assert started["campaign_instance_id"] == campaign["campaignInstanceId"]

    # One row per contact in the file, no partial file left beside it, and the counts agree.
    path = results_file(exports, dag_run)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "no partial file left"
    rows = exported_rows(path)
    assert sorted(row["phoneNumber"] for row in rows) == [f"+1555{n:07d}" for n in range(CUSTOMERS)]
    assert all(row["dialerOutcome"] for row in rows), "every contact was dialled"
    exported = xcom(dag_run, "export_results")
    assert exported["destination"] == path.as_uri()
    assert exported["rows_written"] == CUSTOMERS
    report = xcom(dag_run, "report")
    assert report["contacts_in_list"] == report["rows_exported"] == CUSTOMERS
    assert sum(report["outcomes"].values()) == CUSTOMERS
    assert report["status"] == "Completed"
    assert report["results"] == path.as_uri()

    # XCom holds ids, statuses and counts: no phone number, caller id included.
    xcoms = run_xcoms(dag_run)
    assert ("report", "return_value") in xcoms
    leaks = {key: value for key, value in xcoms.items() if PHONE_NUMBER.search(value)}
    assert not leaks, leaks


@pytest.mark.slow  # two whole runs (~10 s); make e2e runs the example twice in a real deployment too
def test_a_second_run_plays_the_completed_campaign_again(emulator: EmulatorServer, exports: Path) -> None:
    first = run()
    second = run()

    assert (first.state, second.state) == ("success", "success")
    campaign_id = xcom(first, "create_campaign", "campaign_id")
    # Reused, not created again: one campaign and one list of each name.
    assert xcom(second, "create_campaign", "campaign_id") == campaign_id
    assert (xcom(first, "create_campaign", "created"), xcom(second, "create_campaign", "created")) == (
        True,
        False,
    )
    assert len(routes(emulator, "create_campaign")) == 1
    assert [c["name"] for c in emulator.campaigns()].count(CAMPAIGN_NAME) == 1
    assert [item["name"] for item in emulator.contact_lists()].count(LIST_NAME) == 1
    # The Completed campaign was played again: a new instance, which dialled every contact again.
    plays = routes(emulator, "trigger_campaign")
    assert [r["query"]["trigger"] for r in plays] == ["play", "play"]
    instances = [xcom(run, "start_campaign")["campaign_instance_id"] for run in (first, second)]
    assert instances[0] != instances[1]
    campaign = emulator.campaign(campaign_id)
    assert campaign is not None
    assert (campaign["status"], campaign["campaignInstanceId"]) == ("Completed", instances[1])
    # The list refused the second run's duplicates; each run exported its own file, every contact once.
    assert xcom(second, "wait_for_ingestion") == CUSTOMERS
    for dag_run in (first, second):
        assert len(exported_rows(results_file(exports, dag_run))) == CUSTOMERS
        assert xcom(dag_run, "report")["rows_exported"] == CUSTOMERS


def test_a_failed_wait_stops_the_campaign(
    emulators: Emulators, exports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sensor gives up (its timeout) while the campaign still dials: the teardown stops it, and
    the run fails without exporting anything."""
    emulator = emulators.get(**{**EMULATOR_DEFAULTS, "dial_rate": 0, "campaign_preparation_seconds": 0})
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(emulator.airflow_connection()))

    def give_up_soon(dag: Any) -> None:
        quick_polling(dag)
        dag.get_task("wait_for_campaign").timeout = 1

    dag_run = run(give_up_soon)

    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert (states["wait_for_campaign"], states[STOP_TASK]) == ("failed", "success"), states
    assert (states["export_results"], states["report"]) == ("upstream_failed", "upstream_failed"), states
    campaign = emulator.campaign(xcom(dag_run, "create_campaign", "campaign_id"))
    assert campaign is not None
    assert campaign["status"] == "Stopped"
    assert [r["query"]["trigger"] for r in routes(emulator, "trigger_campaign")] == ["play", "stop"]
    assert xcom(dag_run, STOP_TASK)["stopped"] is True
    assert list((exports / "campaign_results").iterdir()) == [], "nothing exported"


@pytest.mark.slow  # a whole run up to the refused create (~5 s)
def test_a_campaign_that_was_not_created_is_not_stopped(emulator: EmulatorServer, exports: Path) -> None:
    """Kore.ai refuses the campaign: the run fails at create_campaign, and the teardown, with no campaign
    id to act on, does not run, instead of failing on a campaign called "None"."""
    emulator.inject_fault(route="create_campaign", status=400, count=5)

    dag_run = run()

    states = task_states(dag_run)
    assert dag_run.state == "failed"
    assert states["create_campaign"] == "failed", states
    # The teardown never ran: Airflow marks it upstream_failed, as every task after the create.
    tasks_after = ("start_campaign", "wait_for_campaign", STOP_TASK, "export_results", "report")
    assert {states[t] for t in tasks_after} == {"upstream_failed"}, states
    assert routes(emulator, "campaign_status") == [], "no status read of a campaign that does not exist"
    assert routes(emulator, "trigger_campaign") == []
