"""Soak: thousands of updates through one hook while the emulator misbehaves about one call in ten.

Nothing may be lost: afterwards every list holds exactly its last update, every one of the updates was
applied at least once (a retry after an ambiguous failure may apply one twice, which is harmless for an
idempotent PUT), and no call ended in an exception. The figures are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from airflow_provider_koreai.auth import KoreAIJWTAuth
from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UPDATES = 2000
LISTS = 20
FAULT_RATE = 0.10
#: Far above the "slow" fault's delay: on a shared, loaded machine an answer in time must stay in time.
READ_TIMEOUT = 0.6

#: Kinds of fault and how to script them at the emulator (one request each).
FAULTS: dict[str, dict[str, Any]] = {
    "429 Retry-After: 0": {"status": 429, "retry_after": 0},
    "500": {"status": 500},
    "502 HTML page": {"status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"},
    "503": {"status": 503},
    "dropped before applying": {"drop": "before"},
    "dropped after applying": {"drop": "after"},
    "slow (answered in time)": {"delay": 0.1},
    "too slow (read timeout)": {"delay": 1.0},
}


@pytest.fixture
def counted_tokens(masked_values: list[str]) -> Iterator[dict[str, int]]:
    """Count the tokens minted, without stubbing the masker: one process, thousands of requests, the
    masker for real (it used to be stubbed here, as registering one token per request made each call
    slower than the last); ``masked_values`` records what reached it."""
    counts = {"minted": 0}
    real_mint = KoreAIJWTAuth.mint_token

    def mint(auth: KoreAIJWTAuth) -> str:
        counts["minted"] += 1
        return real_mint(auth)

    with mock.patch.object(KoreAIJWTAuth, "mint_token", mint):
        yield counts


def test_soak_thousands_of_updates_with_faults(
    emulator: EmulatorServer, counted_tokens: dict[str, int], masked_values: list[str]
) -> None:
    hook = KoreAIHook(timeout=READ_TIMEOUT, max_attempts=6, backoff_initial=0.01, backoff_max=0.05)
    list_ids = [hook.create_contact_list(name=f"Soak list {k:02d}")["_id"] for k in range(LISTS)]
    emulator.clear_requests()

    rng = random.Random(20251129)
    injected: Counter[str] = Counter()
    expected: dict[str, tuple[str, str]] = {}
    failures: list[str] = []
    started = time.monotonic()

    for i in range(UPDATES):
        list_id = list_ids[i % LISTS]
        name, description = f"Soak list {i % LISTS:02d} v{i // LISTS}", f"update {i}"
        if rng.random() < FAULT_RATE:
            kind = rng.choice(sorted(FAULTS))
            emulator.inject_fault(route="update_contact_list", **FAULTS[kind])
            injected[kind] += 1
        try:
            data = hook.update_contact_list(
                list_id, name=name, description=description, allow_duplicates=True
            )
            assert data["contactListId"] == list_id
        except Exception as exc:  # the figure below must be 0; record rather than stop at the first
            failures.append(f"update {i}: {type(exc).__name__}: {exc}")
        expected[list_id] = (name, description)

    elapsed = time.monotonic() - started
    recorded = [r for r in emulator.recorded_requests() if r["route"] == "update_contact_list"]
    applied = [r for r in recorded if 200 in (r.get("status"), r.get("applied_status"))]
    applied_descriptions = {r["body"]["description"] for r in applied}
    tokens = counted_tokens["minted"]

    print(
        f"\nsoak: {UPDATES} updates over {LISTS} lists in {elapsed:.1f} s; "
        f"{sum(injected.values())} faults injected ({dict(sorted(injected.items()))}); "
        f"{len(recorded)} requests sent, {len(recorded) - UPDATES} retries; "
        f"{len(applied)} applied; {tokens} tokens minted, {len(masked_values)} values masked; "
        f"{len(failures)} failures"
    )
    assert failures == []
    assert sum(injected.values()) >= UPDATES * FAULT_RATE * 0.7
    assert applied_descriptions == {f"update {i}" for i in range(UPDATES)}, "an update was lost"
    for list_id, (name, description) in expected.items():
        stored = emulator.contact_list(list_id)
        assert stored is not None
        assert (stored["name"], stored["description"]) == (name, description)
    assert len(recorded) == UPDATES + sum(injected[k] for k in FAULTS if k != "slow (answered in time)")
    assert tokens == len(recorded) + LISTS, "one fresh token per request (and one per create)"
    masked_tokens = [value for value in masked_values if value.startswith("eyJ")]
    assert masked_tokens == [], "single-use tokens never go to the masker"
