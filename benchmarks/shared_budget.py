"""N worker processes against one account's 60 requests per minute, with and without the shared budget.

Each worker is its own Python process with its own ``KoreAIHook`` (``tests/helpers/
budget_worker.py``), as tasks on Celery or Kubernetes workers are; they all start at once and read a
contact list ``calls`` times. The emulator runs in another process, enforcing 60 requests per minute per
account like Kore.ai; the shared budget lives in a ``redis-server`` on 127.0.0.1 (Debian package).

Two runs, one after the other, each from an empty emulator budget:

* per process: the default without a store; each process paces itself (54 a minute each) and retries a
  429 for as long as its ``retry_timeout`` (120 s) lasts;
* shared: the connection names the Redis store; every process takes its slots from one budget.

For each: the number of 429s, calls that failed, and the completion time against the physical limit
(requests / 60 per minute). Goal with the shared budget: 0 x 429, completion within 10% of the limit.
Then what the budget costs per request: the time of one slot taken from Redis and from the process's
memory (a budget too large to ever wait), over 2,000 slots each.

    .venv/bin/python benchmarks/shared_budget.py [workers] [calls]     # default 4 workers x 30 calls
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORKERS = int(sys.argv[1]) if len(sys.argv) > 1 else 4
CALLS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
ACCOUNT_LIMIT = 60
COMPLETION_GOAL = 1.10
SLOTS = 2000


def main() -> int:
    from airflow_provider_koreai.emulator.process import EmulatorProcess
    from tests.helpers.stores import RedisServer

    requests = WORKERS * CALLS
    limit_s = requests / ACCOUNT_LIMIT * 60
    print(f"{WORKERS} worker processes x {CALLS} reads = {requests} requests, {ACCOUNT_LIMIT}/min allowed")
    print(f"physical limit: {limit_s:.0f} s (requests / {ACCOUNT_LIMIT} per minute)\n")
    with RedisServer() as redis_server, EmulatorProcess("--rate-limit", str(ACCOUNT_LIMIT)) as emulator:
        runs = {
            "per process": dict(emulator.connection),
            "shared (Redis)": {
                **emulator.connection,
                "extra": {**emulator.connection["extra"], "rate_limit_store": redis_server.url},
            },
        }
        outcome: dict[str, dict[str, Any]] = {}
        for name, connection in runs.items():
            outcome[name] = run(name, emulator.url, connection, limit_s)
        print()
        slot_cost(redis_server.url)

    shared = outcome["shared (Redis)"]
    met = shared["429"] == 0 and shared["failed"] == 0 and shared["seconds"] <= limit_s * COMPLETION_GOAL
    print(
        f"\ngoal (shared budget: 0 x 429, completion <= {COMPLETION_GOAL:.2f} x the limit): "
        f"{'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


def run(name: str, emulator_url: str, connection: dict[str, Any], limit_s: float) -> dict[str, Any]:
    from tests.helpers.shared_budget import run_workers

    admin(emulator_url, "POST", "/_emulator/reset")
    admin(emulator_url, "DELETE", "/_emulator/requests")
    results = run_workers(WORKERS, CALLS, connection, timeout=1800)
    slowest = max(r["seconds"] for r in results)
    recorded = admin(emulator_url, "GET", "/_emulator/requests")
    refused = sum(1 for r in recorded if r["status"] == 429)
    failed = sum(len(r["errors"]) for r in results)
    print(
        f"{name:15}: {refused:4d} x 429, {failed:3d} calls failed, {len(recorded):4d} requests sent; "
        f"done in {slowest:5.0f} s = {slowest / limit_s:.2f} x the limit"
    )
    return {"429": refused, "failed": failed, "seconds": slowest}


def slot_cost(store: str) -> None:
    """Seconds per slot: one Redis round trip (a Lua script) against the in-memory bucket."""
    from airflow_provider_koreai.rate_limit import AccountRateLimiter, RateBudgetSettings

    print(f"cost of one slot, median of {SLOTS:,} (a budget of 100,000/min, never waited for):")
    costs = {}
    for where, url in (("in process", None), ("Redis on 127.0.0.1", store)):
        limiter = AccountRateLimiter(RateBudgetSettings(f"bench/{where}", 100_000, url))
        try:
            limiter.reserve()  # connects, loads the script
            samples = []
            for _ in range(SLOTS):
                start = time.perf_counter_ns()
                limiter.reserve()
                samples.append(time.perf_counter_ns() - start)
        finally:
            limiter.close()
        costs[where] = statistics.median(samples) / 1000
        print(f"  {where:20}: {costs[where]:6.0f} us")
    print(f"  Redis / in process  : {costs['Redis on 127.0.0.1'] / costs['in process']:6.1f} x")


def admin(base_url: str, method: str, path: str) -> Any:
    request = urllib.request.Request(base_url + path, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


if __name__ == "__main__":
    sys.exit(main())
