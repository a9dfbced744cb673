"""The one request pipeline on the wire: the worker's blocking path and the triggerer's async path send
the same request and reach the same result or the same error, retries included."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import KoreAIError, KoreAIServerError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.responses import ContactCount
from airflow_provider_koreai.transport import TRIGGERER_USER_AGENT, USER_AGENT

RENEWALS = "cl-demo-renewals-due"  # seeded: 3 contacts, duplicates not allowed
OVERDUE = "cl-demo-overdue-invoices"  # seeded: 1 contact, duplicates allowed


def fast_hook(**params: Any) -> KoreAIHook:
    return KoreAIHook(backoff_initial=0.01, backoff_max=0.05, **params)


def read_blocking(contact_list_id: str, **params: Any) -> ContactCount:
    return fast_hook(**params).count_contacts(contact_list_id=contact_list_id)


def read_async(contact_list_id: str, **params: Any) -> ContactCount:
    async def read() -> ContactCount:
        hook = fast_hook(**params)
        try:
            return await hook.acount_contacts(contact_list_id)
        finally:
            await hook.aclose()

    return asyncio.run(read())


def each_path(
    emulator: EmulatorServer, contact_list_id: str, fault: dict[str, Any] | None, **params: Any
) -> list[tuple[Any, int]]:
    """For the blocking then the async path, on a freshly reset emulator with the same fault queued: the
    result (or the error's type, text and properties) and how many requests reached the emulator."""
    outcomes = []
    for read in (read_blocking, read_async):
        emulator.reset()
        if fault is not None:
            emulator.inject_fault(route="get_contact_list", **fault)
        try:
            outcome: Any = read(contact_list_id, **params)
        except KoreAIError as error:
            outcome = (type(error), str(error), error.retryable, error.outcome_unknown)
        outcomes.append((outcome, len(emulator.recorded_requests())))
    return outcomes


def test_both_paths_read_the_same_typed_count(emulator: EmulatorServer) -> None:
    blocking, non_blocking = each_path(emulator, RENEWALS, None)

    assert blocking == non_blocking == (ContactCount(RENEWALS, 3, allow_duplicates=False), 1)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "count": 2},
        {"status": 429, "retry_after": 0, "count": 3},
        {"drop": "before", "count": 1},
    ],
)
def test_both_paths_retry_the_same_failures(emulator: EmulatorServer, fault: dict[str, Any]) -> None:
    blocking, non_blocking = each_path(emulator, OVERDUE, fault)

    assert blocking == non_blocking == (ContactCount(OVERDUE, 1, allow_duplicates=True), fault["count"] + 1)


@pytest.mark.parametrize(
    ("contact_list_id", "fault"),
    [
        ("cl-nobody-knows", None),
        (RENEWALS, {"status": 401}),
        (RENEWALS, {"status": 503, "count": 5}),
        (RENEWALS, {"status": 200, "body": '{"status": "success", "data": {"name": "no count"}}'}),
    ],
)
def test_both_paths_raise_the_same_error(
    emulator: EmulatorServer, contact_list_id: str, fault: dict[str, Any] | None
) -> None:
    blocking, non_blocking = each_path(emulator, contact_list_id, fault, max_attempts=2)

    assert isinstance(blocking[0], tuple), f"expected an error, got {blocking[0]!r}"
    assert blocking == non_blocking


def test_the_triggerers_single_poll_sends_once_and_says_who_it_is(emulator: EmulatorServer) -> None:
    """``retry=False`` (a trigger's poll: its poll interval is its retry) sends one request; the async
    path's User-Agent tells the triggerer's reads apart in Kore.ai's access logs."""

    async def poll() -> ContactCount:
        hook = fast_hook()
        try:
            return await hook.acount_contacts(RENEWALS, retry=False)
        finally:
            await hook.aclose()

    emulator.inject_fault(route="get_contact_list", status=503)
    with pytest.raises(KoreAIServerError):
        asyncio.run(poll())
    read_blocking(RENEWALS)

    sent = emulator.recorded_requests()
    assert [(r["status"], r["headers"]["user-agent"]) for r in sent] == [
        (503, TRIGGERER_USER_AGENT),
        (200, USER_AGENT),
    ]
