"""One worker process of a shared-budget run: ``python -m tests.helpers.budget_worker N``.

Reads a contact list ``N`` times through :class:`KoreAIHook` from the ``koreai_default`` connection in
the environment, as a task on one Celery or Kubernetes worker would. It prints ``ready`` once Airflow is
imported and the connection read, and starts when a line arrives on stdin, so that every worker of a run
starts together. Then it prints one JSON line: the calls that succeeded, the errors of those that failed
(by class), and how long the calls took.
"""

from __future__ import annotations

import json
import sys
import time

LIST_ID = "cl-demo-renewals-due"  # seeded by the emulator
#: Starts the lines meant for the parent: Airflow itself may print to stdout (3.0 logs its plugins there).
MARKER = "koreai-worker:"


def main(calls: int) -> dict[str, object]:
    from airflow_provider_koreai.exceptions import KoreAIError
    from airflow_provider_koreai.hooks.koreai import KoreAIHook

    hook = KoreAIHook()
    _ = hook.rate_limiter  # reads the connection before the start, as a task would at its start
    print(MARKER, "ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    succeeded, errors = 0, []
    for _ in range(calls):
        try:
            hook.get_contact_list(LIST_ID)
        except KoreAIError as error:
            errors.append(type(error).__name__)
        else:
            succeeded += 1
    return {
        "succeeded": succeeded,
        "errors": errors,
        "seconds": time.monotonic() - started,
    }


if __name__ == "__main__":
    print(MARKER, json.dumps(main(int(sys.argv[1]))), flush=True)
