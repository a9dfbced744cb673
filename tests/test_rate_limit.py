"""The account's request budget: one per account and process, taken by every request, bounded by the
call's time budget, and never a reason for a task to fail when its store is down.

Tests against a real Redis are in ``tests/integration/test_rate_budget_redis.py``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
import requests_mock as rm

from airflow_provider_koreai import rate_limit
from airflow_provider_koreai.exceptions import (
    KoreAIConfigurationError,
    KoreAIRateBudgetTimeoutError,
    KoreAIValidationError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.rate_limit import AccountRateLimiter, RateBudgetSettings
from airflow_provider_koreai.transport import CallBudget
from tests.helpers.connections import ACCOUNT_ID, BASE_URL, IID
from tests.helpers.stores import free_port

LISTS_URL = f"{BASE_URL}/agentassist/api/v1/public/{IID}/campaign/contactList"
LIST_ID = "cl-0123456789abcdef"
OK_LIST = {"status": "success", "data": {"_id": LIST_ID, "name": "Renewals", "totalRecordCount": 3}}
OK_LISTS = {"status": "success", "data": [OK_LIST["data"]]}


def budget_of(per_minute: int, **extra: Any) -> dict[str, Any]:
    """Connection extras for a budget of exactly ``per_minute`` requests a minute."""
    return {"extra": {"rate_limit_per_minute": per_minute, "rate_limit_share": 100, **extra}}


# -- the settings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extras", "expected"),
    [
        ({}, 54),  # Kore.ai's 60, of which 90% by default
        ({"rate_limit_share": 50}, 30),
        ({"rate_limit_per_minute": 600, "rate_limit_share": "75"}, 450),
        ({"rate_limit_per_minute": 1, "rate_limit_share": 10}, 1),  # never rounds down to nothing
        ({"rate_limit_per_minute": 0}, 0),  # pacing off
    ],
)
def test_the_share_of_the_account_limit(
    set_connection: Callable[..., None], extras: dict[str, Any], expected: int
) -> None:
    set_connection(extra={"rate_limit_per_minute": 60, **extras})
    settings = KoreAIHook().config.rate_budget
    assert settings.requests_per_minute == expected
    assert settings.account == f"platform.kore.ai/{ACCOUNT_ID}"


@pytest.mark.parametrize(
    ("extras", "named"),
    [
        ({"rate_limit_per_minute": -1}, "rate_limit_per_minute"),
        ({"rate_limit_per_minute": "many"}, "rate_limit_per_minute"),
        ({"rate_limit_share": 0}, "rate_limit_share"),
        ({"rate_limit_share": 101}, "rate_limit_share"),
        ({"rate_limit_store": "http://cache:6379"}, "rate_limit_store"),
        ({"rate_limit_store": "cache:6379"}, "rate_limit_store"),
        ({"rate_limit_store": 6379}, "rate_limit_store"),
    ],
)
def test_a_bad_budget_setting_names_the_extra_before_anything_is_sent(
    set_connection: Callable[..., None], requests_mock: rm.Mocker, extras: dict[str, Any], named: str
) -> None:
    set_connection(extra=extras)
    with pytest.raises(KoreAIConfigurationError, match=f"extra '{named}'"):
        KoreAIHook().get_contact_list(LIST_ID)
    assert requests_mock.call_count == 0


def test_the_store_password_is_masked_and_never_shown(
    set_connection: Callable[..., None], masked_values: list[str]
) -> None:
    url = "redis://:s3cret-store-pass@cache.internal:6380/2"
    set_connection(extra={"rate_limit_store": url, "rate_limit_per_minute": 60})
    config = KoreAIHook().config
    assert config.rate_limit_store == url
    assert "s3cret-store-pass" in masked_values
    assert "s3cret-store-pass" not in repr(config)
    assert "s3cret-store-pass" not in repr(config.rate_budget)
    assert "s3cret-store-pass" not in repr(rate_limit.limiter_for(config.rate_budget))
    assert config.rate_budget.describe().endswith("shared via redis://cache.internal:6380/2")
    assert rate_limit.redacted("postgresql://airflow:pw@db:5432/budget?password=pw") == (
        "postgresql://db:5432/budget"
    )
    assert rate_limit.store_password("postgresql://db/budget?password=q%20w") == "q w"


def test_a_missing_store_client_is_a_configuration_error_naming_the_extra_to_install(
    set_connection: Callable[..., None], requests_mock: rm.Mocker
) -> None:
    set_connection(extra={"rate_limit_store": "postgresql://db.internal/airflow"})
    with (
        mock.patch("importlib.util.find_spec", return_value=None),
        pytest.raises(KoreAIConfigurationError, match=r"airflow-provider-koreai\[postgres\]"),
    ):
        KoreAIHook().get_contact_list(LIST_ID)
    assert requests_mock.call_count == 0


def test_an_uploads_own_cap_is_checked_and_none_means_no_cap() -> None:
    rate_limit.pacer(None)()  # no cap: returns at once
    with pytest.raises(KoreAIValidationError, match="requests_per_minute"):
        rate_limit.pacer(0)


# -- one budget per account and process -------------------------------------------------------------------


def test_hooks_of_one_account_share_one_budget_and_other_accounts_have_their_own(
    set_connection: Callable[..., None],
) -> None:
    set_connection(**budget_of(5))
    set_connection("koreai_same_account", **budget_of(5, iid="st-another-app"))
    set_connection("koreai_other_account", **budget_of(5, account_id="f" * 24))
    first, second = KoreAIHook().rate_limiter, KoreAIHook("koreai_same_account").rate_limiter
    other = KoreAIHook("koreai_other_account").rate_limiter
    assert first is not None
    assert first is second
    assert other is not None
    assert other is not first
    set_connection("koreai_unpaced", **budget_of(0))
    assert KoreAIHook("koreai_unpaced").rate_limiter is None


def test_every_request_takes_a_slot_and_a_full_budget_ends_the_call_unsent(
    set_connection: Callable[..., None], requests_mock: rm.Mocker
) -> None:
    """Three slots a minute: three reads go out, the fourth would wait about a minute, past its
    retry_timeout of 5 s: it is not sent, and says why."""
    set_connection(**budget_of(3, retry_timeout=5))
    requests_mock.get(f"{LISTS_URL}/{LIST_ID}", json=OK_LIST)
    hook = KoreAIHook()
    for _ in range(3):
        hook.get_contact_list(LIST_ID)
    with pytest.raises(KoreAIRateBudgetTimeoutError) as raised:
        hook.get_contact_list(LIST_ID)
    assert requests_mock.call_count == 3
    error = raised.value
    assert error.retryable
    assert not error.outcome_unknown
    assert "3 requests/minute for account platform.kore.ai/" in str(error)
    assert "nothing was sent" in str(error)


def test_the_test_button_takes_a_slot_and_reports_the_budget(
    set_connection: Callable[..., None], requests_mock: rm.Mocker
) -> None:
    set_connection(**budget_of(2))
    requests_mock.post(f"{LISTS_URL}/getAllListDetails", json=OK_LISTS)
    hook = KoreAIHook()
    ok, message = hook.test_connection()
    assert ok, message
    assert "Request budget: 2 requests/minute for account platform.kore.ai/" in message
    assert "in this process" in message
    limiter = hook.rate_limiter
    assert limiter is not None
    assert limiter.reserve() == 0.0
    assert limiter.reserve() > 59.0, "the Test button took the other slot of 2"


def test_a_request_waits_for_its_slot_within_the_call_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wait is the bucket's, plus a small margin; sleeping is the only way to wait (no busy loop)."""
    limiter = AccountRateLimiter(RateBudgetSettings("host/acct", 1))
    sleeps: list[float] = []
    waits = iter([2.5, 0.0])
    monkeypatch.setattr(limiter, "reserve", lambda: next(waits))
    monkeypatch.setattr(rate_limit.time, "sleep", sleeps.append)
    limiter.acquire(CallBudget(10), "GET /x")
    assert sleeps == [2.5]


def test_a_full_budget_makes_the_first_reservation_wait_for_the_window() -> None:
    limiter = AccountRateLimiter(RateBudgetSettings("host/acct", 2))
    assert limiter.reserve() == 0.0
    assert limiter.reserve() == 0.0
    wait = limiter.reserve()
    assert 59.0 < wait <= 60.01 + rate_limit.WAIT_MARGIN_SECONDS  # pyrate-limiter adds a millisecond


def test_the_async_path_takes_slots_without_a_thread_when_the_budget_is_in_process(
    monkeypatch: pytest.MonkeyPatch, in_process_slots: list[object]
) -> None:
    limiter = AccountRateLimiter(RateBudgetSettings("host/acct", 1))
    to_thread = mock.AsyncMock()
    monkeypatch.setattr(rate_limit.asyncio, "to_thread", to_thread)
    asyncio.run(limiter.aacquire(CallBudget(5), "GET /x"))
    with pytest.raises(KoreAIRateBudgetTimeoutError):
        asyncio.run(limiter.aacquire(CallBudget(5), "GET /x"))
    to_thread.assert_not_called()
    assert len(in_process_slots) == 1


def test_a_budget_does_not_grow_with_the_age_of_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """A triggerer lives for weeks: entries older than the window are dropped, now and then."""
    clock = [1_000.0]
    monkeypatch.setattr(rate_limit.time, "monotonic", lambda: clock[0])
    limiter = AccountRateLimiter(RateBudgetSettings("host/acct", 100_000))
    bucket = limiter._local_bucket()
    leak = mock.patch.object(bucket, "leak", wraps=bucket.leak)
    with leak as leaked:
        for _ in range(50):
            assert limiter.reserve() == 0.0
            clock[0] += 1.0
    assert leaked.call_count == 5  # once per LEAK_EVERY_SECONDS (10 s), not once per request


# -- a store that is down -----------------------------------------------------------------------------


def test_an_unreachable_store_paces_in_process_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, in_process_slots: list[object]
) -> None:
    """Nothing listens on the port: every reservation still answers (in process), one warning is
    logged however many requests follow, and the store is tried again after STORE_RETRY_SECONDS."""
    pytest.importorskip("redis")
    clock = [1_000.0]
    monkeypatch.setattr(rate_limit.time, "monotonic", lambda: clock[0])
    store = f"redis://:hunter2-store@127.0.0.1:{free_port()}/0"
    limiter = AccountRateLimiter(RateBudgetSettings("host/acct", 3, store))
    with caplog.at_level(logging.DEBUG, logger=rate_limit.__name__):
        assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
        assert limiter.reserve() > 59.0  # the in-process budget holds
        clock[0] += rate_limit.STORE_RETRY_SECONDS
        assert limiter.uses_store
        assert limiter.reserve() > 59.0  # tried the store again, still down: no second warning
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert f"store redis://127.0.0.1:{store.rsplit(':', 1)[1]} is unreachable" in message
    assert "hunter2-store" not in caplog.text
    assert len(in_process_slots) == 3


def test_operators_and_the_sensor_take_their_slots_from_the_same_budget(
    set_connection: Callable[..., None], requests_mock: rm.Mocker
) -> None:
    """An update task and a poking sensor of one process: two requests, the two slots of one budget."""
    from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator
    from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

    set_connection(**budget_of(2))
    requests_mock.put(
        f"{LISTS_URL}/{LIST_ID}", json={"status": "success", "data": {"contactListId": LIST_ID}}
    )
    requests_mock.get(f"{LISTS_URL}/{LIST_ID}", json=OK_LIST)
    update = UpdateContactListOperator(
        task_id="update", contact_list_id=LIST_ID, name="Renewals", allow_duplicates=False
    )
    sensor = ContactListIngestedSensor(
        task_id="wait", contact_list_id=LIST_ID, expected_count=3, poke_interval=0, timeout=5
    )
    ti = mock.MagicMock()
    ti.get_first_reschedule_date.return_value = None
    context: dict[str, Any] = {"ti": ti, "params": {}}
    update.execute(context)  # type: ignore[arg-type]
    sensor.poke(context)  # type: ignore[arg-type]
    assert requests_mock.call_count == 2
    limiter = KoreAIHook().rate_limiter
    assert limiter is not None
    assert limiter.reserve() > 59.0, "both slots of the budget of 2 are taken"
