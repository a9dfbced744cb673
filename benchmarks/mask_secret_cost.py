"""What registering one token per request with Airflow's secrets masker costs as a task runs on.

Airflow's ``SecretsMasker.add_mask`` recompiles one regular expression over *every* secret it holds each
time a new one arrives, so the n-th token costs time proportional to n and a task that sends n requests
spends O(n^2) in masking. This script mints tokens the way the hook does (``KoreAIJWTAuth``) and prints
the cumulative time at checkpoints, next to the same number of tokens minted with masking stubbed out
(the baseline, measured in the same run), and with ``enforce_jti=False`` (one token reused).

    .venv/bin/python benchmarks/mask_secret_cost.py [max_tokens]

Each checkpoint is measured in a fresh process, so earlier checkpoints do not inflate later ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

CHECKPOINTS = (50, 100, 200, 400)

CHILD = """
import json, sys, time
from unittest import mock
from airflow_provider_koreai.auth import KoreAIJWTAuth

n, mode = int(sys.argv[1]), sys.argv[2]
auth = KoreAIJWTAuth("cs-bench", "b" * 44, iid="st-bench", account_id="a" * 24, enforce_jti=(mode != "reuse"))
def run():
    start = time.perf_counter()
    for _ in range(n):
        auth.token_for_request()
    return time.perf_counter() - start
if mode == "baseline":
    with mock.patch("airflow_provider_koreai.auth.mask_secret"):
        print(json.dumps(run()))
else:
    print(json.dumps(run()))
"""


def measure(n: int, mode: str) -> float:
    env = dict(os.environ, AIRFLOW_HOME=os.environ.get("AIRFLOW_HOME") or tempfile.mkdtemp())
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), mode],
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else max(CHECKPOINTS)
    print(f"{'tokens':>7} {'masked (s)':>11} {'baseline (s)':>13} {'ratio':>7} {'reused token (s)':>17}")
    for n in (c for c in CHECKPOINTS if c <= limit):
        started = time.perf_counter()
        masked, baseline, reused = measure(n, "masked"), measure(n, "baseline"), measure(n, "reuse")
        print(
            f"{n:>7} {masked:>11.2f} {baseline:>13.3f} {masked / baseline:>7.0f} {reused:>17.3f}", flush=True
        )
        if time.perf_counter() - started > 600:
            break


if __name__ == "__main__":
    main()
