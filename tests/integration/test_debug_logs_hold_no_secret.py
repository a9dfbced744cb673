"""Every logger at DEBUG, through retries on the wire, holds no token and no client secret.

Per-request tokens are kept out of Airflow's masker (issue 8), so they must stay out of logs by
construction: never in a URL, never logged as a header, scrubbed from server text. This test turns on
DEBUG for every logger that sees our requests (root, ``urllib3``, ``requests``, ``tenacity``,
``httpx``/``httpcore``, ``airflow`` and Airflow's structlog output, ours) in a fresh process, drives the
hook and the trigger through 429 and 503 answers from the emulator (which echoes nothing), and searches
the process's whole output. It also checks that the capture did see DEBUG lines from those loggers,
so that an empty capture cannot pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from airflow_provider_koreai.emulator import EmulatorServer

pytestmark = pytest.mark.integration

JWT_PATTERN = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
LIST_ID = "cl-demo-renewals-due"

CLIENT = textwrap.dedent(
    f"""
    import asyncio, logging, sys, time

    from airflow_provider_koreai.hooks.koreai import KoreAIHook
    from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("stdlib %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    for name in ("", "urllib3", "requests", "tenacity", "httpx", "httpcore", "airflow",
                 "airflow_provider_koreai"):
        logging.getLogger(name).setLevel(logging.DEBUG)

    hook = KoreAIHook(backoff_initial=0.01, backoff_max=0.05)
    hook.update_contact_list({LIST_ID!r}, name="Renewals due", allow_duplicates=False)
    hook.get_contact_list({LIST_ID!r})

    async def poll():
        trigger = ContactListIngestedTrigger(
            contact_list_id={LIST_ID!r}, expected_count=3, deadline=time.time() + 20, poll_interval=0.05
        )
        async for event in trigger.run():
            return event.payload
    print("trigger event:", asyncio.run(poll()))
    """
)


def test_debug_output_of_every_logger_holds_no_token_or_secret(emulator: EmulatorServer) -> None:
    for route in ("update_contact_list", "get_contact_list"):
        emulator.inject_fault(route=route, count=2, status=429, retry_after=0)
        emulator.inject_fault(route=route, count=1, status=503)
    env = {
        **os.environ,
        "AIRFLOW_CONN_KOREAI_DEFAULT": json.dumps(emulator.airflow_connection()),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",
    }

    result = subprocess.run(
        [sys.executable, "-c", CLIENT], env=env, capture_output=True, text=True, timeout=120
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    statuses = [r["status"] for r in emulator.recorded_requests()]
    assert statuses.count(429) == 4, "the retries did happen on the wire"
    assert statuses.count(503) == 2
    assert "'status': 'success'" in output
    # The capture is real: DEBUG lines of the HTTP stacks and of our own code, the retry warnings.
    assert "stdlib DEBUG urllib3" in output
    assert "stdlib DEBUG httpcore" in output or "stdlib DEBUG httpx" in output
    assert "updated: name='Renewals due'" in output, "our DEBUG line is missing: DEBUG was not captured"
    assert "HTTP 429 from Kore.ai: retrying" in output
    assert "HTTP 503 from Kore.ai: retrying" in output
    # ... and none of it holds a secret.
    assert emulator.settings.client_secret not in output
    match = JWT_PATTERN.search(output)
    assert match is None, f"a JWT in the DEBUG output: ...{output[max(0, match.start() - 200) : match.end()]}"
