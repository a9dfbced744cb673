"""What our modules add to the parse of a DAG file, after Airflow's own ``airflow.sdk``.

The DAG processor parses every DAG file again and again; a DAG that uses our operators imports them
(and what they import) in each fresh parsing process. Each module is measured in a fresh interpreter
that has already imported what every DAG file imports (``airflow.sdk``, the ``common.compat`` names
our modules use), so the figure is ours alone. For comparison, the same is measured for the HTTP
provider's ``HttpOperator``, when it is installed.

Prints, per module, the median of RUNS fresh processes (wall time of the import, in milliseconds) and
the modules it added that a DAG parse should not need. Bytecode is compiled first, as ``pip install``
does for a wheel.

    .venv/bin/python benchmarks/import_cost.py [runs]       # default 7
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
#: Everything the DAG processor loads for a DAG that uses our operators and sensor.
PARSE_TIME_MODULES = (
    "airflow_provider_koreai.operators.contact_list",
    "airflow_provider_koreai.sensors.contact_list",
)
COMPARISON = ("airflow.providers.http.operators.http",)
#: Issue 8's goal for each module above.
GOAL_MS = 5.0
HEAVY = (
    "requests",
    "jwt",
    "tenacity",
    "urllib3",
    "httpx",
    "pyrate_limiter",
    "fastapi",
    "csv",
    "redis",
    "psycopg",
)

CHILD = """
import json, sys, time
import airflow.sdk
from airflow.providers.common.compat.sdk import (
    AirflowException, AirflowFailException, BaseHook, BaseOperator, BaseSensorOperator, conf,
)
before = set(sys.modules)
start = time.perf_counter()
import {module}
elapsed = time.perf_counter() - start
added = sorted(set(sys.modules) - before)
print(json.dumps({{"ms": elapsed * 1000, "added": added}}))
"""


def measure(module: str) -> tuple[float, list[str]]:
    # As installed from a wheel: pip compiles bytecode at install, so a parse loads .pyc files. The
    # first, unmeasured run writes them for an editable install (even if the environment says not to).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    times, added = [], []
    for run in range(RUNS + 1):
        result = subprocess.run(
            [sys.executable, "-c", CHILD.format(module=module)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
            env=env,
        )
        if run == 0:
            continue
        data = json.loads(result.stdout.strip().splitlines()[-1])
        times.append(data["ms"])
        added = data["added"]
    return statistics.median(times), added


def main() -> int:
    print(f"import cost after airflow.sdk, median of {RUNS} fresh processes")
    worst = 0.0
    for module in (*PARSE_TIME_MODULES, *COMPARISON):
        try:
            ms, added = measure(module)
        except subprocess.CalledProcessError:
            print(f"{module:50s}   not installed")
            continue
        heavy = sorted({name.split(".")[0] for name in added} & set(HEAVY))
        ours = [name for name in added if name.startswith("airflow_provider_koreai")]
        print(f"{module:50s} {ms:6.1f} ms  {len(added):4d} modules  heavy: {', '.join(heavy) or 'none'}")
        if module in PARSE_TIME_MODULES:
            worst = max(worst, ms)
            print(
                f"{'':50s} ours: {', '.join(name.removeprefix('airflow_provider_koreai.') for name in ours)}"
            )
    print(f"slowest of ours: {worst:.1f} ms (goal <= {GOAL_MS:g} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
