"""``make e2e``: every example DAG in a real deployment, as a new user would run them.

The four Airflow services and the emulator on loopback (:mod:`tests.helpers.deployment`), only the
``koreai_default`` connection and the Variable ``koreai_export_location`` (set through the REST API, as a
user would in the UI) configured. Every example DAG is unpaused (which creates the scheduled runs, and the
load DAG's run triggers the asset-scheduled DAG), then triggered twice through the REST API v2, in one
order and then in the reverse order. When every run has ended:

* every run succeeded: manual, scheduled and asset-triggered;
* at least one task was deferred and the triggerer ran its trigger (its reads reached the emulator);
* no request drew a 429 from the emulator's 60 per minute: every task process and the triggerer took
  their slots from the shared budget in Redis;
* the update tasks' XCom matches the emulator's state;
* every refresh run, scheduled ones too, wrote its export under the Variable's location, in a file named
  after its run id, and its upload read the URI its own export task pushed by XCom (the LocalExecutor's
  task processes share one disk, so this is what the deployment can show of runs on separate workers:
  a stale file of another run is never what a run reads);
* the connection check (``koreai_check_connection``, manual only) logged the hook's test message;
* each campaign run (``koreai_run_campaign``, manual only) left the campaign ``Completed`` and exported
  one row per contact of its list into its own file, and the second run played the campaign again (a new
  instance);
* no file under the deployment's logs holds the client secret or a JWT.

A table of DAG, run, state and duration is printed. Not part of ``make test`` (marker ``e2e``).
"""

from __future__ import annotations

import gzip
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.transport import TRIGGERER_USER_AGENT as TRIGGER_USER_AGENT
from tests.helpers.deployment import Deployment, deployment

pytestmark = pytest.mark.e2e

DAG_IDS = (
    "koreai_update_contact_list",
    "koreai_update_many_contact_lists",
    "koreai_refresh_contact_list",
    "koreai_load_customer_data",
    "koreai_refresh_on_customer_data",
    # schedule=None: only the two manual runs; unpausing them creates none.
    "koreai_check_connection",
    "koreai_run_campaign",
)
SCHEDULED = (
    "koreai_update_contact_list",
    "koreai_update_many_contact_lists",
    "koreai_refresh_contact_list",
    "koreai_load_customer_data",
)
ASSET_TRIGGERED = "koreai_refresh_on_customer_data"
#: Every run must have ended within this; the whole session stays under 6 minutes on 2 cores.
RUNS_DEADLINE_SECONDS = 270
#: The emulator ingests this long after accepting contacts, so that the sensor's first check on the
#: worker comes first and it defers to the triggerer, and the trigger's first poll (at once) still finds
#: the target unreached. A trigger that fires within a second or two of the deferral can meet an Airflow
#: scheduler race ("finished with state success, but the task instance's state attribute is queued",
#: apache/airflow#67287): seen twice in three runs at 5 s on a loaded 2-core machine.
INGESTION_DELAY_SECONDS = 15.0
#: The campaign example's voice campaign is Ready 1 s after its creation and dials its 40 contacts in under
#: a second: it has ended by the time its sensor first checks (the example reads once a minute, which
#: would add a minute to each run otherwise). Its deferral is shown by dag.test() and the demo.
CAMPAIGN_ARGS = ("--dial-rate", "50", "--campaign-preparation", "1")
TERMINAL = {"success", "failed"}
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


def run_file_part(run_id: str) -> str:
    """The run id as the refresh example puts it in its export's name."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


def say(text: str) -> None:
    print(f"[e2e] {text}", flush=True)


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployment]:
    with (
        tempfile.TemporaryDirectory(prefix="koreai-e2e-") as home,
        deployment(
            Path(home),
            emulator_args=("--ingestion-delay", str(INGESTION_DELAY_SECONDS), *CAMPAIGN_ARGS),
            say=say,
        ) as running,
    ):
        yield running


def all_runs(deployed: Deployment) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for dag_id in DAG_IDS:
        runs += deployed.rest("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
    return runs


def wait_until_every_run_ended(deployed: Deployment, manual_expected: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + RUNS_DEADLINE_SECONDS
    last = ""
    quiet_polls = 0
    while time.monotonic() < deadline:
        deployed.check_alive()
        runs = all_runs(deployed)
        by_type = {
            kind: sum(r["run_type"] == kind for r in runs)
            for kind in ("manual", "scheduled", "asset_triggered")
        }
        pending = [r for r in runs if r["state"] not in TERMINAL]
        status = f"{len(runs)} runs {by_type}, {len(pending)} not ended"
        if status != last:
            say(status)
            last = status
        complete = (
            by_type["manual"] >= manual_expected
            and {r["dag_id"] for r in runs if r["run_type"] == "scheduled"} >= set(SCHEDULED)
            and by_type["asset_triggered"] >= 1
        )
        # Twice in a row, so that an asset-triggered run created just after the last load is not missed.
        quiet_polls = quiet_polls + 1 if complete and not pending else 0
        if quiet_polls == 2:
            return runs
        time.sleep(3)
    raise AssertionError(f"not every run ended within {RUNS_DEADLINE_SECONDS} s: {last}")


def duration(run: dict[str, Any]) -> str:
    from datetime import datetime

    if not run.get("start_date") or not run.get("end_date"):
        return "-"
    start = datetime.fromisoformat(run["start_date"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(run["end_date"].replace("Z", "+00:00"))
    return f"{(end - start).total_seconds():.1f} s"


def print_table(runs: list[dict[str, Any]]) -> None:
    rows = [("DAG", "run", "type", "state", "duration")]
    for run in sorted(runs, key=lambda r: (r["dag_id"], r.get("queued_at") or "", r["dag_run_id"])):
        rows.append((run["dag_id"], run["dag_run_id"], run["run_type"], run["state"], duration(run)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def task_instances(deployed: Deployment, run: dict[str, Any]) -> list[dict[str, Any]]:
    path = f"/dags/{run['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances"
    return list(deployed.rest("GET", path, params={"limit": 100})["task_instances"])


def xcom(deployed: Deployment, run: dict[str, Any], task_id: str, key: str, map_index: int = -1) -> Any:
    path = f"/dags/{run['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances/{task_id}/xcomEntries/{key}"
    return deployed.rest("GET", path, params={"map_index": map_index, "deserialize": True})["value"]


def test_every_example_in_a_real_deployment(deployed: Deployment) -> None:
    started = time.monotonic()
    # The DAG processor parses the examples; then unpausing creates the scheduled runs.
    deployed.wait_for(
        lambda: (
            {d["dag_id"] for d in deployed.rest("GET", "/dags", params={"limit": 100})["dags"]}
            >= set(DAG_IDS)
        ),
        120,
        "the example DAGs",
    )
    # Configuration that scheduled runs see, set before unpausing creates them.
    exports = deployed.home / "exports"
    deployed.rest("POST", "/variables", json={"key": "koreai_export_location", "value": exports.as_uri()})
    for dag_id in DAG_IDS:
        deployed.rest("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    say(f"unpaused {len(DAG_IDS)} example DAGs")

    order = list(DAG_IDS) + list(reversed(DAG_IDS))
    for dag_id in order:
        deployed.rest("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
    say("triggered every example twice: " + " -> ".join(order))

    runs = wait_until_every_run_ended(deployed, manual_expected=len(order))
    print()
    print_table(runs)
    say(f"every run ended {time.monotonic() - started:.0f} s after the DAGs were parsed")

    failed = [(r["dag_id"], r["dag_run_id"], r["state"]) for r in runs if r["state"] != "success"]
    details = {
        f"{dag_id}/{run_id}": {
            ti["task_id"]: ti["state"]
            for ti in task_instances(deployed, {"dag_id": dag_id, "dag_run_id": run_id})
        }
        for dag_id, run_id, _ in failed
    }
    assert not failed, f"runs that did not succeed: {details}"

    # One budget for the whole deployment: no request was refused, however many processes sent them.
    sent = deployed.emulator("requests")
    refused = sum(1 for r in sent if r["status"] == 429)
    assert refused == 0, f"{refused} of {len(sent)} requests drew a 429"
    say(f"{len(sent)} requests to the emulator's 60/min, 0 x 429: one shared budget (Redis)")

    # Deferred at least once, and the triggerer ran the trigger: its reads reached Kore.ai.
    trigger_reads = [
        r for r in deployed.emulator("requests") if r["headers"].get("user-agent") == TRIGGER_USER_AGENT
    ]
    assert trigger_reads, "the triggerer sent no request: no sensor deferred"
    # The refresh example's ingestion wait always defers; the campaign's may find it over at once.
    trigger_routes = {(r["method"], r["route"]) for r in trigger_reads}
    assert ("GET", "get_contact_list") in trigger_routes, trigger_routes
    assert trigger_routes <= {("GET", "get_contact_list"), ("POST", "campaign_status")}, trigger_routes
    sensor_logs = list(
        deployed.logs.glob("dag_id=koreai_refresh_contact_list/**/task_id=wait_for_ingestion/*.log")
    )
    deferred_logs = [path for path in sensor_logs if "DEFERRED" in path.read_text(errors="replace")]
    assert deferred_logs, f"no wait_for_ingestion log says it deferred: {sensor_logs}"
    trigger_logs = [path for path in sensor_logs if ".trigger." in path.name]
    assert any("rule: " in path.read_text(errors="replace") for path in trigger_logs), (
        f"no trigger log of the triggerer says how the wait ended: {trigger_logs}"
    )
    say(
        f"deferred: {len(deferred_logs)} sensor log(s) say so; "
        f"the triggerer read Kore.ai {len(trigger_reads)} times"
    )

    # The update tasks' XCom matches what the emulator holds.
    state = {item["_id"]: item for item in deployed.emulator("state")}
    checked = 0
    for run in runs:
        for ti in task_instances(deployed, run):
            if ti["task_id"] != "update_contact_list" or ti["state"] != "success":
                continue
            map_index = ti.get("map_index", -1)
            list_id = xcom(deployed, run, "update_contact_list", "contact_list_id", map_index)
            body = xcom(deployed, run, "update_contact_list", "body", map_index)
            assert list_id in state, list_id
            assert body["name"] == state[list_id]["name"], (run["dag_run_id"], list_id)
            checked += 1
    assert checked >= len(DAG_IDS), checked
    ingestion = [
        xcom(deployed, run, "wait_for_ingestion", "ingestion")
        for run in runs
        if run["dag_id"] == "koreai_refresh_contact_list"
    ]
    say(
        f"XCom matches the emulator for {checked} update task(s); "
        f"sensor rules: {[i['rule'] for i in ingestion]}"
    )
    refresh_lists = {
        xcom(deployed, run, "add_contacts", "contact_list_id")
        for run in runs
        if run["dag_id"] == "koreai_refresh_contact_list"
    }
    assert len(refresh_lists) == 1, "every refresh run reused its own list"
    (refresh_list,) = refresh_lists
    assert state[refresh_list]["totalRecordCount"] == 120, "re-runs added no duplicate"

    # Each refresh run uploaded the export it wrote: named after the run, its URI passed by XCom.
    refresh_runs = [run for run in runs if run["dag_id"] == "koreai_refresh_contact_list"]
    uploaded = set()
    for run in refresh_runs:
        loaded = xcom(deployed, run, "load_renewals_due", "return_value")
        export_uri = loaded["export_uri"]
        run_id = run["dag_run_id"]
        assert export_uri.startswith(exports.as_uri() + "/"), (run_id, export_uri)
        assert export_uri.endswith(f"_{run_file_part(run_id)}.csv"), (run_id, export_uri)
        upload = f"/dags/{run['dag_id']}/dagRuns/{run_id}/taskInstances/add_contacts"
        read = deployed.rest("GET", upload)["rendered_fields"]["path"]
        assert read == export_uri, f"{run_id}: add_contacts read {read}, its load wrote {export_uri}"
        export = exports / export_uri.rsplit("/", 1)[1]
        rows = len(export.read_text(encoding="utf-8").splitlines()) - 1  # less the header
        assert rows == xcom(deployed, run, "add_contacts", "rows_sent") == loaded["rows"], run_id
        uploaded.add(export_uri)
    assert len(uploaded) == len(refresh_runs) >= 3, "one export per run: scheduled and both manual ones"
    say(f"{len(refresh_runs)} refresh runs each uploaded the export it wrote (URI by XCom, named by run)")

    # Each campaign run: the campaign Completed, every contact of the list in its own results file.
    campaign_runs = [run for run in runs if run["dag_id"] == "koreai_run_campaign"]
    instances = set()
    for run in campaign_runs:
        run_id = run["dag_run_id"]
        assert xcom(deployed, run, "wait_for_campaign", "return_value")["status"] == "Completed", run_id
        exported = xcom(deployed, run, "export_results", "return_value")
        results = exports / "campaign_results" / f"{run_file_part(run_id)}.csv.gz"
        assert exported["destination"] == results.as_uri(), (run_id, exported["destination"])
        with gzip.open(results, "rt", encoding="utf-8") as lines:
            rows = len(lines.read().splitlines()) - 1  # less the header
        in_list = xcom(deployed, run, "wait_for_ingestion", "return_value")
        assert rows == exported["rows_written"] == in_list == 40, (run_id, rows, exported, in_list)
        assert sum(exported["outcomes"].values()) == rows, (run_id, exported["outcomes"])
        instances.add(xcom(deployed, run, "start_campaign", "return_value")["campaign_instance_id"])
    assert len(campaign_runs) == 2
    assert len(instances) == 2, f"each run played the campaign: one instance each, got {instances}"
    partial = [path.name for path in (exports / "campaign_results").iterdir() if "partial" in path.name]
    assert not partial, partial
    campaigns = [c for c in deployed.emulator("state/campaigns") if c["name"] == "Renewal Reminders"]
    assert [c["status"] for c in campaigns] == ["Completed"], campaigns
    say(f"{len(campaign_runs)} campaign runs: Completed twice, {rows} rows exported by each, own files")

    # The connection check logged the hook's test message, as the Test button would have shown it.
    check_logs = list(deployed.logs.glob("dag_id=koreai_check_connection/**/task_id=check_connection/*.log"))
    works = [path for path in check_logs if "works: Connected to" in path.read_text(errors="replace")]
    assert len(works) == 2, f"koreai_check_connection logs without the test message: {check_logs}"
    say("koreai_check_connection: both runs logged the Test button's message")

    # No secret and no JWT in any log file of the deployment.
    secret = deployed.connection["password"]
    leaks = []
    files = [path for path in deployed.logs.rglob("*") if path.is_file()]
    for path in files:
        text = path.read_text(errors="replace")
        if secret in text or JWT.search(text):
            leaks.append(str(path.relative_to(deployed.logs)))
    assert files
    assert not leaks, f"secret or JWT in {leaks}"
    say(f"no client secret and no JWT in {len(files)} log files")
