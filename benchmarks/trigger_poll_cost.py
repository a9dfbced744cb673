"""CPU per poll of ``ContactListIngestedTrigger``, over thousands of polls in one process.

The triggerer lives for days and runs every deferred sensor's polls in one process: a cost per poll that
grows with the process's age (as it did when each poll's token went to Airflow's masker) makes every
trigger of the deployment slower. This runs the real ``run()`` loop (connection read, signing, the httpx
request, response parsing, the log line) against the emulator in another process (rate limit off),
with a poll interval of zero and a count that is never reached. The loop's ``asyncio.sleep`` between
two polls is where each poll is timed: the CPU time of this process between two sleeps is one poll.

Prints the median CPU per poll and the drift: the median of the last 1,000 polls against the first
1,000 (goal: within 10%).

    .venv/bin/python benchmarks/trigger_poll_cost.py [polls]       # default 10,000
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any
from unittest import mock

POLLS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
WINDOW = 1000
LIST_ID = "cl-demo-renewals-due"
DRIFT_GOAL = 0.10


def main() -> int:
    from log_file import output_to_log_file

    from airflow_provider_koreai.emulator.process import EmulatorProcess

    with EmulatorProcess("--rate-limit", "0", "--log-level", "warning") as emulator:
        os.environ["AIRFLOW_CONN_KOREAI_DEFAULT"] = json.dumps(emulator.connection)
        # The trigger logs each poll, as it would to the triggerer's log: to a file, not the screen.
        with output_to_log_file("trigger-polls-") as log_name:
            samples, event = asyncio.run(poll())

    window = min(WINDOW, len(samples) // 4)
    first, last = statistics.median(samples[:window]), statistics.median(samples[-window:])
    drift = last / first - 1
    print(f"polls: {len(samples):,} in one process; trigger event: {event['status']}; log: {log_name}")
    print(f"CPU per poll (median)    : {statistics.median(samples) / 1000:7.0f} us")
    print(
        f"drift, last {window} vs first {window} polls: {drift:+.0%} "
        f"({first / 1000:.0f} -> {last / 1000:.0f} us; goal <= {DRIFT_GOAL:.0%})"
    )
    return 0


async def poll() -> tuple[list[int], dict[str, Any]]:
    from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger

    trigger = ContactListIngestedTrigger(
        contact_list_id=LIST_ID,
        expected_count=10**9,
        deadline=time.time() + 24 * 3600,
        poll_interval=1e-6,
    )
    real_sleep = asyncio.sleep
    samples: list[int] = []
    last = [0]

    async def between_polls(delay: float, *args: Any) -> None:
        now = time.process_time_ns()
        if last[0]:
            samples.append(now - last[0])
        if len(samples) >= POLLS:
            trigger.deadline = 0.0  # the next poll ends the run with a timeout event
        await real_sleep(0)
        last[0] = time.process_time_ns()

    with mock.patch("asyncio.sleep", between_polls):
        async for event in trigger.run():
            return samples, dict(event.payload)
    raise RuntimeError("the trigger ended without an event")


if __name__ == "__main__":
    sys.exit(main())
