"""What the masking policy saves: registering every token with Airflow's masker, against our rule.

Airflow's ``SecretsMasker.add_mask`` recompiles one regular expression over *every* secret it holds each
time a new one arrives, so the n-th registration costs time proportional to n, and a process that
registered one token per request spent O(n^2) in masking (the provider's first policy). Our rule
(``airflow_provider_koreai/auth.py``) registers no single-use token and one reused token per lifetime.
This script signs n requests the way the hook does, at checkpoints, in three ways, each in a fresh
process so that earlier checkpoints do not inflate later ones:

* ``mask each``: every token also handed to Airflow's ``mask_secret`` (the old policy, the baseline);
* ``policy``: ``KoreAIJWTAuth.token_for_request`` as shipped (a fresh token per request, none masked);
* ``reused``: ``enforce_jti=False``, one token masked once and reused.

    .venv/bin/python benchmarks/mask_secret_cost.py [max_tokens]
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
from airflow.sdk.log import mask_secret
from airflow_provider_koreai.auth import KoreAIJWTAuth

n, mode = int(sys.argv[1]), sys.argv[2]
auth = KoreAIJWTAuth("cs-bench", "b" * 44, iid="st-bench", account_id="a" * 24)
auth.enforce_jti = mode != "reused"
start = time.perf_counter()
for _ in range(n):
    token = auth.token_for_request()
    if mode == "mask each":
        mask_secret(token)
print(json.dumps(time.perf_counter() - start))
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
    print(f"{'tokens':>7} {'mask each (s)':>14} {'policy (s)':>11} {'ratio':>7} {'reused (s)':>11}")
    for n in (c for c in CHECKPOINTS if c <= limit):
        started = time.perf_counter()
        masked, policy, reused = measure(n, "mask each"), measure(n, "policy"), measure(n, "reused")
        print(f"{n:>7} {masked:>14.2f} {policy:>11.3f} {masked / policy:>7.0f} {reused:>11.3f}", flush=True)
        if time.perf_counter() - started > 600:
            break


if __name__ == "__main__":
    main()
