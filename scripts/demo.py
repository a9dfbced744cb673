"""``make demo``: the core example DAG, run by real Airflow against the local Kore.ai emulator.

Starts the emulator as a separate process on a free loopback port, points ``koreai_default`` at it
through ``AIRFLOW_CONN_KOREAI_DEFAULT`` (environment only: nothing secret is written to disk), runs
``example_dags/koreai_update_contact_list.py`` with ``dag.test()`` against the migrated metadata DB in
``AIRFLOW_HOME``, prints what landed in XCom and the list as the emulator now holds it, and stops the
emulator by PID. Exits non-zero if anything failed.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "koreai_update_contact_list"
LIST_ID = "cl-demo-renewals-due"
STARTUP_TIMEOUT_SECONDS = 30.0
BANNER = "Kore.ai emulator listening on "
CONN_PREFIX = "AIRFLOW_CONN_KOREAI_DEFAULT="


def _lines(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def start_emulator() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start the emulator on port 0 and read the URL and the connection it prints (bounded wait)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_koreai.emulator", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    url = None
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5).strip()
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if line.startswith(BANNER):
            url = line.removeprefix(BANNER)
        elif line.startswith(CONN_PREFIX):
            connection = json.loads(line.removeprefix(CONN_PREFIX).strip("'"))
            print(f"Emulator (pid {process.pid}) listening on {url}")
            return process, connection
    stop_emulator(process)
    raise SystemExit("The Kore.ai emulator did not start; see the output above.")


def stop_emulator(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def run_dag() -> int:
    from airflow.dag_processing.dagbag import DagBag

    from airflow_provider_koreai.hooks.koreai import KoreAIHook

    bag = DagBag(dag_folder=str(REPO_ROOT / "example_dags"))
    if bag.import_errors:
        print(f"DAG import errors: {bag.import_errors}", file=sys.stderr)
        return 1
    dag = bag.get_dag(DAG_ID)
    assert dag is not None, DAG_ID
    dag_run = dag.test(run_conf={"contact_list_id": LIST_ID})

    ti = dag_run.get_task_instance("update_contact_list")
    contact_list_id = ti.xcom_pull(task_ids="update_contact_list", key="contact_list_id")
    body = ti.xcom_pull(task_ids="update_contact_list", key="body")
    print()
    print("=" * 72)
    print(f"DAG run {dag_run.run_id}: {dag_run.state}")
    print(f"XCom contact_list_id: {contact_list_id}")
    print(f"XCom body:            {json.dumps(body, indent=2, sort_keys=True)}")
    if dag_run.state != "success" or contact_list_id != LIST_ID:
        print("The example DAG did not succeed.", file=sys.stderr)
        return 1
    stored = KoreAIHook().get_contact_list(LIST_ID)
    shown = {key: stored.get(key) for key in ("_id", "name", "description", "allowDuplicates", "updatedAt")}
    print(f"The list in the emulator now: {json.dumps(shown, indent=2)}")
    print("=" * 72)
    return 0


def main() -> int:
    process, connection = start_emulator()
    try:
        os.environ["AIRFLOW_CONN_KOREAI_DEFAULT"] = json.dumps(connection)
        return run_dag()
    finally:
        stop_emulator(process)
        print(f"Emulator (pid {process.pid}) stopped.")


if __name__ == "__main__":
    sys.exit(main())
