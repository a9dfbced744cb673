"""``make e2e-celery``: the examples, a worker killed mid-upload, and the secret scan, on a distributed
deployment on loopback (:mod:`tests.helpers.celery_deployment`): the CeleryExecutor with two workers that
share no scratch disk (each its own ``AIRFLOW_HOME``, working directory, ``TMPDIR`` and, as root, a private
tmpfs on ``/tmp``), PostgreSQL for metadata, Redis as the broker and the connection's request budget (two
database numbers), S3 on moto's server, and the emulator.

1. **Every example DAG** (:mod:`tests.helpers.example_runs`), their exports in S3 (the Variable
   ``koreai_export_location`` is ``s3://...``), each triggered once besides its scheduled run: every run
   succeeds, with the checks ``make e2e`` makes; both workers ran tasks.
2. **A worker killed mid-upload** (``tests/e2e/dags/koreai_e2e_upload_killed.py``): two uploads of 20,000
   rows in 20 chunks (a list that drops duplicates and one that keeps them) run on worker ``a`` (the only
   one serving their queue), the emulator answering each chunk 0.5 s late; once each has 5 chunks
   accepted, worker ``a``'s process group is SIGKILLed and worker ``b`` is told to serve the queue
   (Celery's remote control). Airflow fails the tries after the (shortened) heartbeat timeout
   and retries them on worker ``b``, which resume. Asserted: each list holds each row once (for the list
   that keeps duplicates: as many rows as Kore.ai received, the chunk in doubt reported in XCom), the
   retry's XCom reports ``rows_sent_earlier``, and each sensor ends with ``target_reached``. Measured and
   printed: whether the killed tries' task processes survived as orphans, for how long, and what they
   sent meanwhile.
3. **No client secret and no JWT** in any file the deployment wrote: every service's and worker's logs,
   homes and scratch directories, and the metadata database's files (:mod:`tests.helpers.secret_scan`).

No request draws a 429 (one budget in Redis for both workers and the triggerer). Not part of ``make test``
or ``make e2e`` (markers ``e2e`` and ``celery``).
"""

from __future__ import annotations

import collections
import csv
import io
import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.celery_deployment import (
    HEARTBEAT_TIMEOUT_SECONDS,
    KILL_QUEUE,
    S3_CONN_ID,
    CeleryDeployment,
    process_alive,
)
from tests.helpers.deployment import Deployment, deployment
from tests.helpers.example_runs import (
    CAMPAIGN_EMULATOR_ARGS,
    Exports,
    check_every_example,
    count_refused,
    run_every_example,
    say,
    task_instances,
    wait_for_dags,
    xcom,
)
from tests.helpers.missing import skip_or_fail
from tests.helpers.secret_scan import scan_for_secrets
from tests.helpers.stores import postgres_available, redis_available

pytest.importorskip("celery", reason="needs the celery-test extra: make e2e-celery")
pytest.importorskip("moto.server", reason="needs moto[server]: make e2e-celery")

pytestmark = [pytest.mark.e2e, pytest.mark.celery]

#: See tests/e2e/test_examples_deployment.py: the sensor's first check comes before the ingestion.
INGESTION_DELAY_SECONDS = 15.0
#: Each example is triggered once besides its scheduled run (``make e2e`` triggers them twice).
ROUNDS = 1
RUNS_DEADLINE_SECONDS = 240
BUCKET = "koreai-e2e"
#: The kill test's DAG (tests/e2e/dags), its input and its two lists (task-id suffix: allowDuplicates).
KILL_DAG = "koreai_e2e_upload_killed"
KILL_INPUT_KEY = "kill-test/contacts.csv"
KILL_ROWS = 20_000
CHUNK_ROWS = 1_000
KILL_LISTS = {"no_duplicates": False, "duplicates": True}
#: The worker is killed once each upload has had this many chunks accepted.
KILL_AFTER_CHUNKS = 5
#: The emulator answers the kill test's chunks this late (both tries, a chunk sent again, to spare).
CHUNK_DELAY_SECONDS = 0.5
KILL_DELAYED_CHUNKS = 2 * (KILL_ROWS // CHUNK_ROWS + 2)
#: How long the killed tries' task processes are watched (then killed by PID, if still alive).
ORPHAN_WATCH_SECONDS = 90
KILL_RUN_DEADLINE_SECONDS = 300


def outside_tmp() -> str | None:
    """A parent for the deployment that a worker's private ``/tmp`` does not hide."""
    return "/var/tmp" if os.path.isdir("/var/tmp") else None


def require_servers() -> None:
    """Skip where redis-server or PostgreSQL is not installed, but never in CI: CI must run this."""
    missing = [
        package
        for package, available in (("redis-server", redis_available()), ("postgresql", postgres_available()))
        if not available
    ]
    skip_or_fail([f"the Debian package {package}" for package in missing], ".ci/run")


@pytest.fixture(scope="module")
def deployed() -> Iterator[CeleryDeployment]:
    require_servers()
    with (
        tempfile.TemporaryDirectory(prefix="koreai-e2e-celery-", dir=outside_tmp()) as root,
        deployment(
            Path(root) / "airflow",
            emulator_args=("--ingestion-delay", str(INGESTION_DELAY_SECONDS), *CAMPAIGN_EMULATOR_ARGS),
            say=say,
            kind=CeleryDeployment,
        ) as running,
    ):
        assert isinstance(running, CeleryDeployment)
        running.wait_for_workers()
        running.s3.client().create_bucket(Bucket=BUCKET)
        workers = ", ".join(f"{w.name} (pid {w.pid}, queues {'+'.join(w.queues)})" for w in running.workers)
        say(f"workers {workers} ready; S3 {running.s3.endpoint}, bucket {BUCKET}")
        yield running


def test_every_example_on_two_celery_workers(deployed: CeleryDeployment) -> None:
    exports = Exports.in_bucket(deployed.s3.client(), BUCKET, "exports", S3_CONN_ID)
    runs = run_every_example(deployed, exports, rounds=ROUNDS, deadline_seconds=RUNS_DEADLINE_SECONDS)
    check_every_example(deployed, runs, exports, rounds=ROUNDS)
    say(f"{len(runs)} example runs, all succeeded")

    # Both workers ran tasks: the examples' tasks were spread over machines that share no disk.
    per_worker = {
        worker.name: len(list(worker.logs.glob("dag_id=koreai_*/**/*.log"))) for worker in deployed.workers
    }
    assert all(per_worker.values()), f"task logs per worker: {per_worker}"
    say(f"task logs per worker: {per_worker}")


def chunk_requests(deployed: Deployment) -> dict[str, list[tuple[int, int | None]]]:
    """Per kill-test list: each addContacts request Kore.ai (the emulator) received, in the order they
    arrived, as (rows, status answered: ``None`` while in flight)."""
    chunks: dict[str, list[tuple[int, int | None]]] = {suffix: [] for suffix in KILL_LISTS}
    names = {f"Upload killed - {suffix}": suffix for suffix in KILL_LISTS}
    for request in deployed.emulator("requests"):
        suffix = names.get(str((request.get("body") or {}).get("contact_list_name")))
        if request["route"] == "add_contacts" and suffix is not None:
            chunks[suffix].append((len(request["body"]["data"]), request["status"]))
    return chunks


def accepted(requests: list[tuple[int, int | None]]) -> list[int]:
    """The rows of each request that Kore.ai accepted (answered 200)."""
    return [rows for rows, status in requests if status == 200]


def kill_input() -> tuple[bytes, list[str]]:
    phones = [f"+1666{n:07d}" for n in range(KILL_ROWS)]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["phone", "firstName", "uniqueId"])
    for n, phone in enumerate(phones):
        writer.writerow([phone, f"Killed{n}", f"K{n:06d}"])
    return text.getvalue().encode(), phones


def list_phones(deployed: Deployment, name: str) -> list[str]:
    (found,) = [item for item in deployed.emulator("state") if item["name"] == name]
    return [str(contact["phoneNumber"]) for contact in found["contacts"]]


def print_tries(deployed: Deployment, run: dict[str, Any], task_ids: list[str]) -> None:
    """Each try of ``task_ids``: when it started and ended, and how."""
    for task_id in task_ids:
        path = f"/dags/{run['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances/{task_id}/tries"
        for attempt in deployed.rest("GET", path)["task_instances"]:
            say(
                f"{task_id} try {attempt['try_number']}: {attempt['state']}, "
                f"{attempt.get('start_date')} -> {attempt.get('end_date')}"
            )


def log_events(path: Path, words: tuple[str, ...]) -> list[str]:
    """The messages of a task log (JSON lines) that hold one of ``words``, with their time, shortened."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        event = str(entry.get("event", ""))
        if any(word in event for word in words):
            found.append(f"{entry.get('timestamp', '')[11:19]} {event[:240]}")
    return found


def wait_for_rows(deployed: Deployment, name: str, rows: int) -> None:
    deployed.wait_for(lambda: len(list_phones(deployed, name)) >= rows, 60, f"{rows} rows in {name!r}")


def test_a_worker_killed_mid_upload_is_resumed_on_the_other(deployed: CeleryDeployment) -> None:
    worker_a, worker_b = deployed.workers
    assert KILL_QUEUE in worker_a.queues
    assert KILL_QUEUE not in worker_b.queues
    body, phones = kill_input()
    deployed.s3.client().put_object(Bucket=BUCKET, Key=KILL_INPUT_KEY, Body=body)
    wait_for_dags(deployed, [KILL_DAG])
    queues = {t["task_id"]: t["queue"] for t in deployed.rest("GET", f"/dags/{KILL_DAG}/tasks")["tasks"]}
    assert all(queues[f"add_{suffix}"] == KILL_QUEUE for suffix in KILL_LISTS), queues
    # Kore.ai answers each chunk of these uploads CHUNK_DELAY_SECONDS late: the kill lands mid-upload.
    fault = {"route": "add_contacts", "count": KILL_DELAYED_CHUNKS, "delay": CHUNK_DELAY_SECONDS}
    deployed.emulator("faults", method="POST", json=fault)
    deployed.rest("PATCH", f"/dags/{KILL_DAG}", json={"is_paused": False})
    conf = {"path": f"s3://{BUCKET}/{KILL_INPUT_KEY}", "conn_id": S3_CONN_ID}
    run = deployed.rest("POST", f"/dags/{KILL_DAG}/dagRuns", json={"logical_date": None, "conf": conf})
    say(f"triggered {KILL_DAG}: {KILL_ROWS} rows in {KILL_ROWS // CHUNK_ROWS} chunks to each of two lists")

    # Both uploads on worker a; kill it once each has KILL_AFTER_CHUNKS chunks accepted.
    deadline = time.monotonic() + 180
    progress = ""
    while True:
        deployed.check_alive()
        counts = {suffix: len(accepted(sent)) for suffix, sent in chunk_requests(deployed).items()}
        if str(counts) != progress:
            say(f"chunks accepted: {counts}")
            progress = str(counts)
        if min(counts.values()) >= KILL_AFTER_CHUNKS:
            break
        assert time.monotonic() < deadline, f"the uploads did not reach {KILL_AFTER_CHUNKS} chunks: {counts}"
        time.sleep(0.5)
    task_pids = deployed.kill_worker(worker_a)
    killed_at = time.monotonic()
    at_kill = chunk_requests(deployed)
    in_flight = {
        suffix: [i for i, (_, status) in enumerate(sent) if status is None]
        for suffix, sent in at_kill.items()
    }
    say(
        f"SIGKILLed {worker_a.name}'s process group (pid {worker_a.pid}) after "
        f"{ {suffix: len(accepted(sent)) for suffix, sent in at_kill.items()} } chunks accepted, "
        f"{ {suffix: len(chunks) for suffix, chunks in in_flight.items()} } in flight; its task processes "
        f"(each in a process group of its own): {task_pids}"
    )
    assert task_pids, f"no task process of {worker_a.name} found"
    deployed.add_consumer(worker_b, KILL_QUEUE)
    say(f"{worker_b.name} now serves {KILL_QUEUE}")

    # Did the killed tries' task processes survive as orphans, for how long, and what did they send?
    lived: dict[int, float | None] = {pid: None for pid in task_pids}
    while any(seconds is None for seconds in lived.values()):
        elapsed = time.monotonic() - killed_at
        for pid, seconds in lived.items():
            if seconds is None and not process_alive(pid):
                lived[pid] = elapsed
        if elapsed > ORPHAN_WATCH_SECONDS:
            break
        time.sleep(0.1)
    after = chunk_requests(deployed)
    still_alive = [pid for pid, seconds in lived.items() if seconds is None]
    for pid in still_alive:
        os.kill(pid, signal.SIGKILL)  # what the test started, it stops
    orphan_report = ", ".join(
        f"pid {pid} " + (f"exited {seconds:.1f} s after the kill" if seconds is not None else "still alive")
        for pid, seconds in lived.items()
    )
    if still_alive:
        orphan_report += f"; still alive after {ORPHAN_WATCH_SECONDS} s, killed by PID: {still_alive}"
    # The retries cannot start before the heartbeat timeout: what arrived meanwhile, the orphans sent.
    orphans_sent = {suffix: len(after[suffix]) - len(at_kill[suffix]) for suffix in KILL_LISTS}
    in_flight_answered = {suffix: [after[suffix][i][1] for i in index] for suffix, index in in_flight.items()}
    say(
        f"orphans: {orphan_report}; chunks they sent after the kill: {orphans_sent}; the chunks in flight "
        f"at the kill were answered {in_flight_answered} (the retries cannot start before the "
        f"{HEARTBEAT_TIMEOUT_SECONDS} s heartbeat timeout)"
    )
    for suffix in KILL_LISTS:
        # An orphan stops before its next chunk (its lease renewal needs the dead supervisor): at most the
        # chunk it was sending, in flight at the kill or sent just after, is in doubt.
        assert len(in_flight[suffix]) + orphans_sent[suffix] <= 1, (suffix, in_flight, orphans_sent)

    # Airflow retries both uploads on worker b; the run ends when both sensors have.
    run_id = run["dag_run_id"]
    deadline = time.monotonic() + KILL_RUN_DEADLINE_SECONDS
    state = ""
    while time.monotonic() < deadline:
        deployed.check_alive()
        state = deployed.rest("GET", f"/dags/{KILL_DAG}/dagRuns/{run_id}")["state"]
        if state in {"success", "failed"}:
            break
        time.sleep(3)
    tis = {ti["task_id"]: ti for ti in task_instances(deployed, run)}
    print_tries(deployed, run, [f"add_{suffix}" for suffix in KILL_LISTS])
    assert state == "success", {task_id: (ti["state"], ti["try_number"]) for task_id, ti in tis.items()}
    say(f"{KILL_DAG} succeeded {time.monotonic() - killed_at:.0f} s after the kill")

    sent = {suffix: accepted(chunks) for suffix, chunks in chunk_requests(deployed).items()}
    for suffix, allow_duplicates in KILL_LISTS.items():
        task_id = f"add_{suffix}"
        assert tis[task_id]["try_number"] == 2, tis[task_id]
        run_logs = f"dag_id={KILL_DAG}/run_id={run_id}/task_id={task_id}"
        assert list(worker_a.logs.glob(f"{run_logs}/attempt=1.log")), f"no first try of {task_id} on a"
        (retry_log,) = worker_b.logs.glob(f"{run_logs}/attempt=2.log")
        resumed = log_events(retry_log, ("lease", "Resuming", "may or may not", "Added "))
        for line in resumed:
            say(f"  {task_id} try 2: {line}")
        assert any("Resuming the upload at chunk" in line for line in resumed), resumed
        result = {
            key: xcom(deployed, run, task_id, key)
            for key in ("rows_sent", "rows_sent_earlier", "rows_in_doubt", "count_before", "expected_count")
        }
        received = sum(sent[suffix])
        name = f"Upload killed - {suffix}"
        # Kore.ai ingests each chunk 15 s after accepting it: wait for the last one (a count, not a time).
        wait_for_rows(deployed, name, KILL_ROWS if not allow_duplicates else received)
        in_list = list_phones(deployed, name)
        copies = collections.Counter(in_list)
        ingestion = xcom(deployed, run, f"wait_{suffix}", "ingestion")
        say(
            f"allowDuplicates={str(allow_duplicates).lower()}: {received} rows received by Kore.ai in "
            f"{len(sent[suffix])} chunks, {len(in_list)} in the list ({len(copies)} distinct); XCom of the "
            f"retry {result}; sensor rule {ingestion['rule']}"
        )
        assert result["rows_sent_earlier"] > 0, "the retry resumed after the killed try's chunks"
        assert result["rows_sent"] > 0, "the retry sent the rest"
        assert ingestion["rule"] == "target_reached", ingestion
        assert max(copies.values()) == 1, "no row is in the list twice"
        assert set(in_list) <= set(phones)
        if allow_duplicates:
            # The chunk in flight at the kill was not sent again: its rows are reported in doubt.
            assert result["rows_in_doubt"] == CHUNK_ROWS, result
            assert result["rows_sent_earlier"] + result["rows_sent"] + result["rows_in_doubt"] == KILL_ROWS
            assert len(in_list) == received, "every row Kore.ai received is in the list, once"
        else:
            # The chunk in flight at the kill was sent again: the list dropped the copies.
            assert result["rows_in_doubt"] == 0, result
            assert result["rows_sent_earlier"] + result["rows_sent"] == KILL_ROWS, result
            assert set(in_list) == set(phones), "every row is in the list, once"
        assert (
            result["expected_count"]
            == result["count_before"] + result["rows_sent_earlier"] + result["rows_sent"]
        ), result

    refused, requests_sent = count_refused(deployed)
    assert refused == 0, f"{refused} of {requests_sent} requests drew a 429"
    say(f"{requests_sent} requests to the emulator over the whole session, {refused} x 429")


def test_no_secret_in_any_file_the_deployment_wrote(deployed: CeleryDeployment) -> None:
    secret = deployed.connection["password"]
    # The deployment's folder (services' and workers' homes, logs, working and scratch directories) and
    # the metadata database's files; the emulator stands for Kore.ai, outside the deployment.
    assert deployed.postgres.directory is not None
    roots = [deployed.root, Path(deployed.postgres.directory)]
    scanned = scan_for_secrets(roots, secret, skip=[deployed.emulator_logs])
    homes = [deployed.home, *(worker.home for worker in deployed.workers)]
    assert all(any(path.is_relative_to(home) for path in scanned.files) for home in homes)
    assert not scanned.leaks, f"secret or JWT in {scanned.leaks}"
    say(
        f"no client secret and no JWT in {len(scanned.files)} files the deployment wrote (services' and "
        f"both workers' logs, homes and scratch directories, the PostgreSQL database's files)"
    )
