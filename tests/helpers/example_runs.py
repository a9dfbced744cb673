"""Every example DAG in a real deployment, as a new user would run them, and what each run must have done:
shared by ``make e2e`` (LocalExecutor) and ``make e2e-celery`` (two Celery workers that share no disk).

:func:`run_every_example` sets the Variables ``koreai_export_location`` and ``koreai_export_conn_id``
through the REST API (as a user would in the UI), unpauses every example DAG (which creates the scheduled
runs; the load DAG's run triggers the asset-scheduled DAG), triggers each ``rounds`` times through the REST
API v2 (one order, then the reverse, and so on) and waits for every run to end. :func:`check_every_example`
then asserts:

* every run succeeded: manual, scheduled and asset-triggered;
* no request drew a 429 from the emulator's 60 per minute: every task process and the triggerer took
  their slots from the shared budget in Redis;
* at least one task was deferred and the triggerer ran its trigger (its reads reached the emulator);
* the update tasks' XCom matches the emulator's state;
* every refresh run, scheduled ones too, wrote its export under the Variable's location, in a file named
  after its run id, and its upload read the URI its own export task pushed by XCom: a stale file of another
  run is never what a run reads, and on workers that share no disk the upload finds the file at all;
* the connection check (``koreai_check_connection``, manual only) logged the hook's test message;
* each campaign run (``koreai_run_campaign``, manual only) left the campaign ``Completed`` and exported one
  row per contact of its list into its own file, and each run played the campaign again (a new instance).

The exports are read where the deployment keeps them (:class:`Exports`: a local folder, or a bucket).
"""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_koreai.transport import TRIGGERER_USER_AGENT

if TYPE_CHECKING:
    from tests.helpers.deployment import Deployment

DAG_IDS = (
    "koreai_update_contact_list",
    "koreai_update_many_contact_lists",
    "koreai_refresh_contact_list",
    "koreai_load_customer_data",
    "koreai_refresh_on_customer_data",
    # schedule=None: only the manual runs; unpausing them creates none.
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
TERMINAL = {"success", "failed"}
#: The refresh example's stand-in load writes this many customers (its ``customers`` param's default).
REFRESH_ROWS = 120
#: The campaign example's list, likewise.
CAMPAIGN_ROWS = 40
#: The emulator's flags that make the campaign example quick: its voice campaign is Ready 1 s after its
#: creation and dials its 40 contacts in under a second, so it has ended by the time its sensor first
#: checks (the example reads once a minute, which would add a minute to each run otherwise).
CAMPAIGN_EMULATOR_ARGS = ("--dial-rate", "50", "--campaign-preparation", "1")


def say(text: str) -> None:
    print(f"[e2e] {text}", flush=True)


def run_file_part(run_id: str) -> str:
    """The run id as the examples put it in their files' names."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


@dataclass
class Exports:
    """Where the examples write their exports: the Variables' values, and how the test reads them back."""

    #: ``koreai_export_location``: a ``file://`` or ``s3://`` URI, without a trailing ``/``.
    location: str
    #: ``koreai_export_conn_id``: the store's connection (``""``: the store's default).
    conn_id: str
    #: The bytes of the object at a URI under ``location``.
    read: Callable[[str], bytes]
    #: The names (last path part) of the objects under a URI.
    names: Callable[[str], list[str]]
    #: A URI as the DAGs report it, as ``location`` spells it: ``ObjectStoragePath`` puts the connection
    #: in the URI it prints (``s3://conn_id@bucket/key``).
    canonical: Callable[[str], str] = field(default=lambda uri: uri)

    @classmethod
    def in_folder(cls, folder: Path) -> Exports:
        """A local folder (``file://``): one machine, or workers that share a disk."""

        def read(uri: str) -> bytes:
            return (folder / uri.removeprefix(folder.as_uri() + "/")).read_bytes()

        def names(uri: str) -> list[str]:
            directory = folder / uri.removeprefix(folder.as_uri()).lstrip("/")
            return sorted(path.name for path in directory.iterdir()) if directory.is_dir() else []

        return cls(folder.as_uri(), "", read, names)

    @classmethod
    def in_bucket(cls, client: Any, bucket: str, prefix: str, conn_id: str) -> Exports:
        """An S3 bucket (``s3://bucket/prefix``), read with a boto3 ``client``, written by the DAGs
        through the ``aws`` connection ``conn_id``."""
        location = f"s3://{bucket}/{prefix}"

        def canonical(uri: str) -> str:
            return re.sub(r"^s3://[^/@]+@", "s3://", uri)

        def key(uri: str) -> str:
            return canonical(uri).removeprefix(f"s3://{bucket}/")

        def read(uri: str) -> bytes:
            return bytes(client.get_object(Bucket=bucket, Key=key(uri))["Body"].read())

        def names(uri: str) -> list[str]:
            listed = client.list_objects_v2(Bucket=bucket, Prefix=key(uri).rstrip("/") + "/")
            return sorted(item["Key"].rsplit("/", 1)[1] for item in listed.get("Contents", []))

        return cls(location, conn_id, read, names, canonical)


# -- running them


def all_runs(deployed: Deployment, dag_ids: Sequence[str] = DAG_IDS) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for dag_id in dag_ids:
        runs += deployed.rest("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})["dag_runs"]
    return runs


def wait_for_dags(deployed: Deployment, dag_ids: Sequence[str], timeout: float = 120) -> None:
    """Until the DAG processor has parsed ``dag_ids``."""
    deployed.wait_for(
        lambda: (
            {d["dag_id"] for d in deployed.rest("GET", "/dags", params={"limit": 100})["dags"]}
            >= set(dag_ids)
        ),
        timeout,
        f"the DAGs {', '.join(dag_ids)}",
    )


def wait_until_every_run_ended(
    deployed: Deployment, manual_expected: int, deadline_seconds: float
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + deadline_seconds
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
    raise AssertionError(f"not every run ended within {deadline_seconds:.0f} s: {last}")


def run_every_example(
    deployed: Deployment, exports: Exports, *, rounds: int, deadline_seconds: float
) -> list[dict[str, Any]]:
    """Configure, unpause and trigger every example ``rounds`` times; every run once all have ended."""
    started = time.monotonic()
    wait_for_dags(deployed, DAG_IDS)
    # Configuration that scheduled runs see, set before unpausing creates them.
    deployed.rest("POST", "/variables", json={"key": "koreai_export_location", "value": exports.location})
    if exports.conn_id:
        deployed.rest("POST", "/variables", json={"key": "koreai_export_conn_id", "value": exports.conn_id})
    for dag_id in DAG_IDS:
        deployed.rest("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    say(f"unpaused {len(DAG_IDS)} example DAGs")

    order = [dag_id for round_ in range(rounds) for dag_id in (DAG_IDS[:: -1 if round_ % 2 else 1])]
    for dag_id in order:
        deployed.rest("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
    say(f"triggered every example {rounds} time(s): " + " -> ".join(order))

    runs = wait_until_every_run_ended(deployed, len(order), deadline_seconds)
    print()
    print_table(runs)
    say(f"every run ended {time.monotonic() - started:.0f} s after the DAGs were parsed")
    return runs


def duration(run: dict[str, Any]) -> str:
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


def task_logs(deployed: Deployment, dag_id: str, task_id: str) -> list[Path]:
    """The log files of a task, on every machine of the deployment (services and workers)."""
    return [
        path
        for root in deployed.log_roots()
        for path in root.glob(f"dag_id={dag_id}/**/task_id={task_id}/*.log")
    ]


# -- checking them


def assert_every_run_succeeded(deployed: Deployment, runs: list[dict[str, Any]]) -> None:
    failed = [(r["dag_id"], r["dag_run_id"], r["state"]) for r in runs if r["state"] != "success"]
    details = {
        f"{dag_id}/{run_id}": {
            ti["task_id"]: ti["state"]
            for ti in task_instances(deployed, {"dag_id": dag_id, "dag_run_id": run_id})
        }
        for dag_id, run_id, _ in failed
    }
    assert not failed, f"runs that did not succeed: {details}"


def count_refused(deployed: Deployment) -> tuple[int, int]:
    """(requests drawing a 429, requests) recorded by the emulator so far."""
    sent = deployed.emulator("requests")
    return sum(1 for r in sent if r["status"] == 429), len(sent)


def check_every_example(
    deployed: Deployment, runs: list[dict[str, Any]], exports: Exports, *, rounds: int
) -> None:
    """Everything the module's docstring lists (the secret scan is :mod:`tests.helpers.secret_scan`)."""
    assert_every_run_succeeded(deployed, runs)

    # One budget for the whole deployment: no request was refused, however many processes sent them.
    refused, sent = count_refused(deployed)
    assert refused == 0, f"{refused} of {sent} requests drew a 429"
    say(f"{sent} requests to the emulator's 60/min, 0 x 429: one shared budget (Redis)")

    # Deferred at least once, and the triggerer ran the trigger: its reads reached Kore.ai.
    trigger_reads = [
        r for r in deployed.emulator("requests") if r["headers"].get("user-agent") == TRIGGERER_USER_AGENT
    ]
    assert trigger_reads, "the triggerer sent no request: no sensor deferred"
    # The refresh example's ingestion wait always defers; the campaign's may find it over at once.
    trigger_routes = {(r["method"], r["route"]) for r in trigger_reads}
    assert ("GET", "get_contact_list") in trigger_routes, trigger_routes
    assert trigger_routes <= {("GET", "get_contact_list"), ("POST", "campaign_status")}, trigger_routes
    sensor_logs = task_logs(deployed, "koreai_refresh_contact_list", "wait_for_ingestion")
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
    refresh_runs = [run for run in runs if run["dag_id"] == "koreai_refresh_contact_list"]
    ingestion = [xcom(deployed, run, "wait_for_ingestion", "ingestion") for run in refresh_runs]
    say(
        f"XCom matches the emulator for {checked} update task(s); "
        f"sensor rules: {[i['rule'] for i in ingestion]}"
    )
    refresh_lists = {xcom(deployed, run, "add_contacts", "contact_list_id") for run in refresh_runs}
    assert len(refresh_lists) == 1, "every refresh run reused its own list"
    (refresh_list,) = refresh_lists
    assert state[refresh_list]["totalRecordCount"] == REFRESH_ROWS, "re-runs added no duplicate"

    # Each refresh run uploaded the export it wrote: named after the run, its URI passed by XCom.
    uploaded = set()
    for run in refresh_runs:
        loaded = xcom(deployed, run, "load_renewals_due", "return_value")
        export_uri = loaded["export_uri"]
        run_id = run["dag_run_id"]
        assert exports.canonical(export_uri).startswith(exports.location + "/"), (run_id, export_uri)
        assert export_uri.endswith(f"_{run_file_part(run_id)}.csv"), (run_id, export_uri)
        upload = f"/dags/{run['dag_id']}/dagRuns/{run_id}/taskInstances/add_contacts"
        read = deployed.rest("GET", upload)["rendered_fields"]["path"]
        assert read == export_uri, f"{run_id}: add_contacts read {read}, its load wrote {export_uri}"
        rows = len(exports.read(export_uri).decode("utf-8").splitlines()) - 1  # less the header
        assert rows == xcom(deployed, run, "add_contacts", "rows_sent") == loaded["rows"], run_id
        uploaded.add(export_uri)
    assert len(uploaded) == len(refresh_runs) >= rounds + 1, "one export per run: scheduled and manual"
    say(
        f"{len(refresh_runs)} refresh runs each uploaded the export it wrote (URI by XCom, named by run) "
        f"under {exports.location}"
    )

    # Each campaign run: the campaign Completed, every contact of the list in its own results file.
    campaign_runs = [run for run in runs if run["dag_id"] == "koreai_run_campaign"]
    instances = set()
    results_folder = f"{exports.location}/campaign_results"
    for run in campaign_runs:
        run_id = run["dag_run_id"]
        assert xcom(deployed, run, "wait_for_campaign", "return_value")["status"] == "Completed", run_id
        exported = xcom(deployed, run, "export_results", "return_value")
        results = f"{results_folder}/{run_file_part(run_id)}.csv.gz"
        assert exports.canonical(exported["destination"]) == results, (run_id, exported["destination"])
        rows = len(gzip.decompress(exports.read(results)).decode("utf-8").splitlines()) - 1
        in_list = xcom(deployed, run, "wait_for_ingestion", "return_value")
        assert rows == exported["rows_written"] == in_list == CAMPAIGN_ROWS, (run_id, rows, exported, in_list)
        assert sum(exported["outcomes"].values()) == rows, (run_id, exported["outcomes"])
        instances.add(xcom(deployed, run, "start_campaign", "return_value")["campaign_instance_id"])
    assert len(campaign_runs) == rounds
    assert len(instances) == rounds, f"each run played the campaign: one instance each, got {instances}"
    partial = [name for name in exports.names(results_folder) if "partial" in name]
    assert not partial, partial
    campaigns = [c for c in deployed.emulator("state/campaigns") if c["name"] == "Renewal Reminders"]
    assert [c["status"] for c in campaigns] == ["Completed"], campaigns
    say(f"{len(campaign_runs)} campaign run(s): Completed, {CAMPAIGN_ROWS} rows exported by each, own files")

    # The connection check logged the hook's test message, as the Test button would have shown it.
    check_logs = task_logs(deployed, "koreai_check_connection", "check_connection")
    works = [path for path in check_logs if "works: Connected to" in path.read_text(errors="replace")]
    assert len(works) == rounds, f"koreai_check_connection logs without the test message: {check_logs}"
    say(f"koreai_check_connection: {rounds} run(s) logged the Test button's message")
