"""Peak memory of ``AddContactsOperator`` streaming a large CSV, against loading the file whole.

Writes a CSV of ROWS contacts, starts the emulator as a separate process (so the contacts it stores do
not count against the client), then measures, each in a fresh Python process:

* ``import``: the operator, the hook and their dependencies imported, nothing read (the floor);
* ``stream``: ``AddContactsOperator(path=...)`` executed against the emulator (the real upload,
  chunks of 1,000, two streaming passes: validation, then sending);
* ``load whole``: the baseline, ``list(csv.DictReader(file))``: what reading the file at once costs.

Peak resident memory (``ru_maxrss``) is printed per case, with ``stream`` and ``load whole`` above the
``import`` floor and their ratio. Each of the 1,000 requests is signed with its own token, as in
production (none of them goes to Airflow's masker, see ``airflow_provider_koreai/auth.py``).

    .venv/bin/python benchmarks/add_contacts_memory.py [rows]      # default 1,000,000
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from airflow_provider_koreai.emulator.process import EmulatorProcess

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000

CHILD = r"""
import csv, json, resource, sys, time
from unittest import mock
case, path = sys.argv[1], sys.argv[2]
from airflow_provider_koreai.operators.contact_list import AddContactsOperator
import airflow_provider_koreai.hooks.koreai, requests, jwt, tenacity, pyrate_limiter  # the import floor
started = time.perf_counter()
result = None
if case == "stream":
    op = AddContactsOperator(
        task_id="bench", contact_list_name="Benchmark list", path=path,
        column_map={"phone": "phoneNumber"}, requests_per_minute=None,
    )
    result = op.execute({"ti": mock.MagicMock()})
    result = {k: result[k] for k in ("rows_sent", "chunks_sent", "rows_rejected")}
elif case == "load whole":
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    result = {"rows": len(rows)}
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_mib": peak_mib, "seconds": time.perf_counter() - started, "result": result}))
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as export:
        writer = csv.writer(export)
        writer.writerow(["phone", "firstName", "lastName", "timeZone", "uniqueId", "segment"])
        for n in range(rows):
            writer.writerow(
                [f"+1{n:010d}", f"First{n}", "Lastname", "Europe/Berlin", f"U{n:08d}", "renewals"]
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        write_csv(path, ROWS)
        size_mib = path.stat().st_size / 2**20
        with EmulatorProcess("--rate-limit", "0") as emulator:
            connection = emulator.connection
            create = subprocess.run(  # the list the upload targets, created through the public API
                [
                    sys.executable,
                    "-c",
                    "from airflow_provider_koreai.hooks.koreai import KoreAIHook;"
                    "KoreAIHook().create_contact_list(name='Benchmark list', allow_duplicates=True)",
                ],
                env={**os.environ, "AIRFLOW_CONN_KOREAI_DEFAULT": json.dumps(connection)},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert create.returncode == 0, create.stderr[-2000:]
            env = {**os.environ, "AIRFLOW_CONN_KOREAI_DEFAULT": json.dumps(connection)}
            results = {}
            for case in ("import", "stream", "load whole"):
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, case, str(path)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=3600,
                )
                assert out.returncode == 0, out.stderr[-3000:]
                results[case] = json.loads(out.stdout.strip().splitlines()[-1])

    floor = results["import"]["peak_mib"]
    print(f"rows: {ROWS:,}  file: {size_mib:.0f} MiB")
    for case, data in results.items():
        print(
            f"{case:>10}: peak {data['peak_mib']:7.0f} MiB  (+{data['peak_mib'] - floor:6.0f} over import)"
            f"  {data['seconds']:7.1f} s  {data['result'] or ''}"
        )
    stream = results["stream"]["peak_mib"] - floor
    whole = results["load whole"]["peak_mib"] - floor
    print(f"load whole / stream, above the import floor: {whole / max(stream, 1):.0f}x")


if __name__ == "__main__":
    main()
