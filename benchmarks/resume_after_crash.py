"""Rows sent and rows in the list when a worker dies mid-upload and Airflow retries the task: the code
before resumable uploads, against the current code.

A list of ROWS unique contacts is sent in chunks of 1,000 to an emulated list (``allowDuplicates`` true,
then false). The first try dies (a ``BaseException``, as SIGKILL: no handler runs, no lease is released)
right after Kore.ai accepted chunk KILLED_AFTER, before the try recorded it: the worst case, that chunk is
in doubt. Kore.ai ingests what it got; then the retry runs with the same input and the same task state
store (kept in memory, shared by both tries as Airflow 3.3 shares it). The dead try's lease has expired by
then, as it has in a deployment (3 minutes by default, under Airflow's 300 s heartbeat timeout). Printed
per case: rows sent over both tries, rows in the list and duplicates among them, and what the ingestion
sensor's rule concludes from the retry's XCom.

Each case runs in a fresh process with the code under test first on ``sys.path``: the current checkout,
and for "before" the package as it was before ``upload_progress.py`` was added (``git archive``), or the
commit given as the second argument.

    .venv/bin/python benchmarks/resume_after_crash.py [rows] [before-commit]     # default 20,000
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
KILLED_AFTER = 5
ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, time
from collections import Counter
from unittest import mock

rows, killed_after, allow = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "true"
from airflow_provider_koreai.emulator.server import EmulatorServer
from airflow_provider_koreai.emulator.settings import EmulatorSettings

server = EmulatorServer(EmulatorSettings(rate_limit_per_minute=0, ingestion_delay_seconds=0.05)).start()
os.environ["AIRFLOW_CONN_KOREAI_DEFAULT"] = json.dumps(server.airflow_connection())
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.ingestion import IngestionWatch
from airflow_provider_koreai.operators.contact_list import AddContactsOperator, CreateContactListOperator

class WorkerDied(BaseException):
    pass

class StateStore:  # Airflow 3.3's task state store, shared by the tries of one task instance
    def __init__(self): self.values = {}
    def get(self, key, default=None): return json.loads(json.dumps(self.values.get(key, default)))
    def set(self, key, value, **_): self.values[key] = json.loads(json.dumps(value))
    def delete(self, key): self.values.pop(key, None)

sent, chunks, armed = [0], [0], [True]
real_run = KoreAIHook.run
def run(self, call, **kwargs):
    result = real_run(self, call, **kwargs)
    if call.path.endswith("addContacts"):
        sent[0] += len(call.json["data"])
        chunks[0] += 1
        if armed[0] and chunks[0] == killed_after:
            armed[0] = False
            raise WorkerDied  # Kore.ai has the chunk; the try never learns it
    return result
KoreAIHook.run = run

def settled(list_id):
    last, same = -1, 0
    while same < 10:
        count = server.contact_list(list_id)["totalRecordCount"]
        same, last = (same + 1, last) if count == last else (0, count)
        time.sleep(0.05)
    return last

name = f"Crash test {allow}"
create = CreateContactListOperator(task_id="create", name=name, allow_duplicates=allow)
created = create.execute({"ti": mock.MagicMock()})
list_id = created["_id"]
records = [{"phoneNumber": f"+1415{i:07d}"} for i in range(rows)]
store = StateStore()

def a_try(number):
    ti = mock.MagicMock(try_number=number)
    op = AddContactsOperator(task_id="add", contact_list_name=name, records=records, chunk_size=1000)
    op.render_template_fields({"ti": ti, "params": {}})
    op.execute({"ti": ti, "params": {}, "task_state_store": store})
    return {c.kwargs["key"]: c.kwargs["value"] for c in ti.xcom_push.call_args_list}

try:
    a_try(1)
except WorkerDied:
    pass
settled(list_id)
for record in store.values.values():  # the dead try's lease has expired when Airflow retries
    if record.get("lease"):
        record["lease"]["expires_at"] = 0
xcom = a_try(2)
count = settled(list_id)
phones = Counter(c["phoneNumber"] for c in server.contacts(list_id))
watch = IngestionWatch(
    expected_count=xcom["expected_count"], baseline_count=xcom["count_before"], settle_polls=3
)
verdict = None
while verdict is None:
    verdict = watch.observe(count, allow_duplicates=allow)
server.stop()
print(json.dumps({
    "rows_sent": sent[0], "in_list": count, "duplicates": sum(phones.values()) - len(phones),
    "retry_sent": xcom["rows_sent"], "in_doubt": xcom.get("rows_in_doubt", 0),
    "sensor": verdict.rule, "missing": verdict.missing,
}))
"""


def before_checkout(commit: str | None, into: str) -> str:
    if commit is None:
        added = subprocess.run(
            [
                "git",
                "log",
                "--diff-filter=A",
                "--format=%H",
                "--",
                "airflow_provider_koreai/upload_progress.py",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        commit = f"{added[-1]}^" if added else "HEAD"
    archive = subprocess.run(
        ["git", "archive", commit, "airflow_provider_koreai"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return subprocess.run(
        ["git", "rev-parse", "--short", commit], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def run_case(code: str, allow: bool, home: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": code, "AIRFLOW_HOME": home}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROWS), str(KILLED_AFTER), "true" if allow else "false"],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as before, tempfile.TemporaryDirectory() as home:
        commit = before_checkout(sys.argv[2] if len(sys.argv) > 2 else None, before)
        print(f"{ROWS} rows in chunks of 1000, the first try killed after chunk {KILLED_AFTER} was accepted")
        print(f"before: {commit}; after: this checkout")
        print(
            f"{'code':<7} {'allowDuplicates':<16} {'sent':>7} {'in list':>8} {'dups':>6} {'doubt':>6}  sensor"
        )
        for label, code in (("before", before), ("after", str(ROOT))):
            for allow in (True, False):
                r = run_case(code, allow, home)
                sensor = f"{r['sensor']}" + (f", {r['missing']} short" if r["missing"] else "")
                print(
                    f"{label:<7} {str(allow).lower():<16} {r['rows_sent']:>7} {r['in_list']:>8} "
                    f"{r['duplicates']:>6} {r['in_doubt']:>6}  {sensor}"
                )


if __name__ == "__main__":
    main()
