"""Run N worker processes against one emulator at once, for the shared-budget tests and benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from tests.helpers.budget_worker import MARKER

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_workers(
    workers: int, calls: int, connection: dict[str, Any], timeout: float = 600
) -> list[dict[str, Any]]:
    """Start ``workers`` processes with ``connection`` as ``koreai_default``, let them all go at once
    when every one is ready, and return what each printed."""
    env = {**os.environ, "AIRFLOW_CONN_KOREAI_DEFAULT": json.dumps(connection)}
    command = [sys.executable, "-m", "tests.helpers.budget_worker", str(calls)]
    with ExitStack() as stack:
        # stderr to files: a worker that logs a lot must never block on a full pipe.
        logs = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in range(workers)]
        return _run(command, env, logs, timeout)


def _run(
    command: list[str], env: dict[str, str], logs: Sequence[IO[str]], timeout: float
) -> list[dict[str, Any]]:
    processes = [
        subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        for log in logs
    ]

    def log_of(index: int) -> str:
        logs[index].seek(0)
        return logs[index].read()[-3000:]

    try:
        for index, process in enumerate(processes):
            assert process.stdout is not None
            # Other lines may come first (Airflow 3.0 prints its plugins' setup); EOF means it died.
            while (line := process.stdout.readline()) and line.split() != [MARKER, "ready"]:
                pass
            if not line:
                raise RuntimeError(f"a worker did not start:\n{log_of(index)}")
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for index, process in enumerate(processes):
            out, _ = process.communicate(timeout=timeout)
            if process.returncode != 0:
                raise RuntimeError(f"a worker failed ({process.returncode}):\n{log_of(index)}")
            reports = [line for line in out.splitlines() if line.startswith(MARKER)]
            if not reports:
                raise RuntimeError(f"a worker reported nothing:\n{out[-2000:]}\n{log_of(index)}")
            results.append(json.loads(reports[-1].removeprefix(MARKER)))
        return results
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
