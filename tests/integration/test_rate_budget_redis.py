"""One request budget for a whole deployment, in a real ``redis-server`` on 127.0.0.1, against the
emulator enforcing Kore.ai's 60 requests per minute.

Worker processes stand for Celery or Kubernetes workers: each its own Python, its own hook, nothing shared
but the connection and the store.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_koreai import rate_limit
from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.rate_limit import AccountRateLimiter, RateBudgetSettings
from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger
from tests.helpers.missing import skip_or_fail
from tests.helpers.shared_budget import run_workers
from tests.helpers.stores import RedisServer, redis_available

pytestmark = pytest.mark.integration

redis = pytest.importorskip("redis")

RENEWALS = "cl-demo-renewals-due"  # seeded with 3 contacts


def _require_redis_server() -> None:
    skip_or_fail([] if redis_available() else ["redis-server (Debian package redis-server)"], ".ci/run")


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    _require_redis_server()
    with RedisServer() as server:
        yield server


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    """The emulator as Kore.ai limits it: 60 requests per minute per account."""
    return {"rate_limit_per_minute": 60, "ingestion_delay_seconds": 0}


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[str]:
    """The Redis URL, emptied before and after the test."""
    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    yield redis_server.url
    client.flushdb()
    client.close()


def connection(emulator: EmulatorServer, **extra: Any) -> dict[str, Any]:
    conn = emulator.airflow_connection()
    conn["extra"].update(extra)
    return conn


def use(monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any]) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(conn))


def statuses(emulator: EmulatorServer) -> list[int]:
    return [request["status"] for request in emulator.recorded_requests()]


def slots_in_store(url: str, account: str) -> int:
    """The slots of the account's budget held in the store (those of the last minute, and any older ones
    not yet dropped)."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.zcard(rate_limit.bucket_key(account)))
    finally:
        client.close()


def account_of(hook: KoreAIHook) -> str:
    return hook.config.rate_budget.account


# -- many processes, one budget -------------------------------------------------------------------------


@pytest.mark.slow
def test_four_workers_share_one_budget_and_draw_no_429(
    emulator: EmulatorServer, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """4 processes x 30 reads, at once, against 60 requests per minute: with the shared budget (90% of
    60, the default) every request waits for its slot, none is refused. About two minutes: 54 requests
    in each of the first two minutes, 12 in the third."""
    conn = connection(emulator, rate_limit_store=store)
    results = run_workers(4, 30, conn)
    assert [r["errors"] for r in results] == [[], [], [], []]
    assert sum(r["succeeded"] for r in results) == 120
    sent = statuses(emulator)
    assert len(sent) == 120
    assert sent.count(429) == 0
    use(monkeypatch, conn)
    assert slots_in_store(store, account_of(KoreAIHook())) > 0, "the slots were taken from the store"


def test_without_the_shared_budget_the_same_workers_draw_429s(emulator: EmulatorServer) -> None:
    """The control: each process paces only itself (54 a minute each), so 4 x 30 reads at once ask for
    twice what the account allows. A 1 s retry_timeout ends each refused call at once."""
    results = run_workers(4, 30, connection(emulator, retry_timeout=1))
    refused = statuses(emulator).count(429)
    assert refused >= 60 - 6  # 120 asked, 60 allowed; the emulator's window may free a few meanwhile
    assert sum(len(r["errors"]) for r in results) == refused
    assert {error for r in results for error in r["errors"]} == {"KoreAIRateLimitedError"}


def test_two_processes_limiters_share_the_slots_in_the_store(store: str) -> None:
    """Two limiters of the same account and store, as two processes hold them: one budget."""
    settings = RateBudgetSettings("platform.example/acct", 3, store)
    worker, triggerer = AccountRateLimiter(settings), AccountRateLimiter(settings)
    other_account = AccountRateLimiter(RateBudgetSettings("platform.example/other", 3, store))
    try:
        assert [worker.reserve(), triggerer.reserve(), worker.reserve()] == [0.0, 0.0, 0.0]
        assert triggerer.reserve() > 59.0
        assert worker.reserve() > 59.0
        assert other_account.reserve() == 0.0
        assert slots_in_store(store, "platform.example/acct") == 3
        assert slots_in_store(store, "platform.example/other") == 1
    finally:
        for limiter in (worker, triggerer, other_account):
            limiter.close()


# -- the trigger's polls ------------------------------------------------------------------------------


def first_event(trigger: ContactListIngestedTrigger) -> dict[str, Any]:
    async def take() -> Any:
        async for event in trigger.run():
            return event
        raise AssertionError("the trigger ended without an event")

    return dict(asyncio.run(asyncio.wait_for(take(), timeout=60)).payload)


def test_the_triggers_polls_take_slots_from_the_shared_budget(
    emulator: EmulatorServer, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, connection(emulator, rate_limit_store=store))
    trigger = ContactListIngestedTrigger(
        contact_list_id=RENEWALS, expected_count=3, deadline=time.time() + 30, poll_interval=0.1
    )
    assert first_event(trigger)["status"] == "success"
    polls = len(emulator.recorded_requests())
    assert polls >= 1
    assert slots_in_store(store, account_of(KoreAIHook())) == polls


def test_a_worker_that_used_the_budget_holds_the_triggers_polls_back(
    emulator: EmulatorServer, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A budget of 2 a minute, both slots taken by a worker (another process): the trigger sends
    nothing, says why, and times out at its deadline rather than drawing a 429."""
    use(
        monkeypatch,
        connection(
            emulator, rate_limit_store=store, rate_limit_per_minute=2, rate_limit_share=100, retry_timeout=1
        ),
    )
    worker = AccountRateLimiter(KoreAIHook().config.rate_budget)
    try:
        assert [worker.reserve(), worker.reserve()] == [0.0, 0.0]
    finally:
        worker.close()
    trigger = ContactListIngestedTrigger(
        contact_list_id=RENEWALS, expected_count=3, deadline=time.time() + 2, poll_interval=0.2
    )
    event = first_event(trigger)
    assert event["status"] == "timeout"
    assert "budget 2 requests/minute for account" in event["message"]
    assert "nothing was sent" in event["message"]
    assert emulator.recorded_requests() == []


# -- a store that goes away --------------------------------------------------------------------------


def test_a_store_that_dies_mid_run_costs_one_warning_and_no_failed_call(
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    in_process_slots: list[object],
) -> None:
    """Redis is killed between two calls of a task: the calls go on, paced in the process, one warning."""
    _require_redis_server()
    with RedisServer() as doomed:
        use(monkeypatch, connection(emulator, rate_limit_store=doomed.url))
        hook = KoreAIHook()
        hook.get_contact_list(RENEWALS)
        hook.get_contact_list(RENEWALS)
        assert slots_in_store(doomed.url, account_of(hook)) == 2
    assert doomed.pid is None  # stopped by its PID
    with caplog.at_level(logging.INFO, logger=rate_limit.__name__):
        for _ in range(5):
            hook.get_contact_list(RENEWALS)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "is unreachable" in warnings[0]
    assert "paced in this process only (54/minute)" in warnings[0]
    assert len(in_process_slots) == 5, "paced in the process while the store is down"
    assert statuses(emulator) == [200] * 7
