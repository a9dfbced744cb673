"""Client CPU per contact-list update: ``KoreAIHook`` against a bare ``requests.Session.put``.

The baseline is the least a hand-rolled client does: one session, a fixed ``auth`` header (one token
without ``jti``, signed once), ``put(json=...)``, ``raise_for_status()``, ``json()``. The hook does the
same request plus what makes it safe: a fresh JWT per request, argument checks, retries, error mapping,
response-shape checks, one log line. Both talk to the emulator in another process on 127.0.0.1 (rate
limit off), so only the client's work is counted: CPU time of this process (``time.process_time``, the
same clock as ``getrusage(RUSAGE_SELF)`` user + system) around each call.

Calls alternate in blocks (hook, raw, hook, raw...) so that a noisy neighbour slows both alike. Prints the
median CPU per call of each, their ratio, and the hook's drift: the median of its last 500 calls against
its first 500 (a cost that grows with the process's age shows here), next to the bare client's drift
over the same calls (what the machine's own noise did meanwhile).

    .venv/bin/python benchmarks/client_overhead.py [calls]        # default 2,000 of each
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
BLOCK = 10
WARMUP = 50
LIST_ID = "cl-demo-renewals-due"
NAME, SOURCE = "Renewals due", "passiveApiIntegration"
BODY = {"name": NAME, "source": SOURCE, "allowDuplicates": False}
#: Goals of issue 8: at most 15% above the bare client, and no growth with the process's age.
RATIO_GOAL = 1.15
DRIFT_GOAL = 0.10


def main() -> int:
    from log_file import output_to_log_file

    from airflow_provider_koreai.emulator.process import EmulatorProcess

    with EmulatorProcess("--rate-limit", "0", "--log-level", "warning") as emulator:
        os.environ["AIRFLOW_CONN_KOREAI_DEFAULT"] = json.dumps(emulator.connection)
        # The hook logs one line per update, as it would to a task's log file: to a file, not the screen.
        with output_to_log_file("client-overhead-") as log_name:
            hook_ns, raw_ns = measure(emulator.connection)

    window = min(500, len(hook_ns) // 4)
    hook, raw = statistics.median(hook_ns), statistics.median(raw_ns)
    first, last = statistics.median(hook_ns[:window]), statistics.median(hook_ns[-window:])
    ratio, drift = hook / raw, last / first - 1
    raw_drift = statistics.median(raw_ns[-window:]) / statistics.median(raw_ns[:window]) - 1
    print(f"calls: {len(hook_ns):,} of each, interleaved in blocks of {BLOCK}; hook log: {log_name}")
    print(f"raw requests.Session.put : {raw / 1000:7.0f} us CPU per call (median)")
    print(f"KoreAIHook.update        : {hook / 1000:7.0f} us CPU per call (median)")
    print(f"ratio hook / raw         : {ratio:7.2f}   (goal <= {RATIO_GOAL})")
    print(
        f"drift, last {window} vs first {window} hook calls: {drift:+.0%} "
        f"({first / 1000:.0f} -> {last / 1000:.0f} us; goal <= {DRIFT_GOAL:.0%}); "
        f"the bare client's, for comparison: {raw_drift:+.0%}"
    )
    return 0


def measure(connection: dict[str, object]) -> tuple[list[int], list[int]]:
    import jwt
    import requests

    from airflow_provider_koreai import __version__
    from airflow_provider_koreai.hooks.koreai import KoreAIHook

    hook = KoreAIHook()
    extra = connection["extra"]
    assert isinstance(extra, dict)
    now = int(time.time())
    token = jwt.encode(
        {"appId": connection["login"], "sub": "benchmark", "iat": now, "exp": now + 3600},
        str(connection["password"]),
        algorithm="HS256",
    )
    session = requests.Session()
    session.headers.update(
        {
            "auth": token,
            "iid": extra["iid"],
            "accountId": extra["account_id"],
            "Accept": "application/json",
            "User-Agent": f"airflow-provider-koreai/{__version__}",
        }
    )
    url = f"{connection['host']}/agentassist/api/v1/public/{extra['iid']}/campaign/contactList/{LIST_ID}"

    def hook_call() -> None:
        hook.update_contact_list(LIST_ID, name=NAME, allow_duplicates=False, source=SOURCE)

    def raw_call() -> None:
        response = session.put(url, json=BODY, timeout=(10, 30), allow_redirects=False)
        response.raise_for_status()
        response.json()

    for _ in range(WARMUP):
        hook_call()
        raw_call()
    hook_ns: list[int] = []
    raw_ns: list[int] = []
    clock = time.process_time_ns
    while len(hook_ns) < CALLS:
        for call, samples in ((hook_call, hook_ns), (raw_call, raw_ns)):
            for _ in range(BLOCK):
                start = clock()
                call()
                samples.append(clock() - start)
    return hook_ns, raw_ns


if __name__ == "__main__":
    sys.exit(main())
