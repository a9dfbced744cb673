"""The transport rules on their own: what is retried, the one budget, and what a failed send means for
each HTTP client. The hook's and trigger's tests (requests-mock, emulator) show them at work."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from airflow_provider_koreai import transport
from airflow_provider_koreai.exceptions import (
    KoreAIAuthenticationError,
    KoreAIRateLimitedError,
    KoreAIServerError,
    KoreAITransportError,
)
from airflow_provider_koreai.transport import CallBudget, RetryPolicy, SendFailure

ENDPOINT = "POST /x"


def api(cls: type[Any], status: int, **kwargs: Any) -> Any:
    return cls(http_status=status, endpoint=ENDPOINT, message="m", **kwargs)


def failed(failure: SendFailure) -> KoreAITransportError:
    return transport.transport_error(
        failure, endpoint=ENDPOINT, cause=OSError(), base_url="https://h", read_timeout=3, idempotent=False
    )


@pytest.mark.parametrize(
    ("error", "idempotent", "ambiguous"),
    [
        (api(KoreAIRateLimitedError, 429), (True, True), False),
        (api(KoreAIServerError, 503), (True, False), True),
        (api(KoreAIAuthenticationError, 401), (False, False), False),
        (failed(SendFailure.NOT_SENT), (True, True), False),
        (failed(SendFailure.OUTCOME_UNKNOWN), (True, False), True),
        (failed(SendFailure.TLS), (False, False), False),
        (failed(SendFailure.REFUSED_LOCALLY), (False, False), False),
        (ValueError("a bug"), (False, False), False),
    ],
)
def test_the_retry_rule(error: BaseException, idempotent: tuple[bool, bool], ambiguous: bool) -> None:
    """(retried when idempotent, retried when not), and whether a non-idempotent call needs a lookup."""
    assert (transport.is_transient(error, True), transport.is_transient(error, False)) == idempotent
    assert transport.is_ambiguous(error) is ambiguous


def test_a_wait_that_would_outlast_the_budget_ends_the_call() -> None:
    calls: list[int] = []

    def fail() -> None:
        calls.append(1)
        raise api(KoreAIServerError, 503)

    policy = RetryPolicy(max_attempts=10, retry_timeout=5, backoff_initial=60, backoff_max=60)
    retrying = policy.retrying(retry_if=lambda e: True, budget=policy.budget(), before_sleep=lambda s: None)
    with pytest.raises(KoreAIServerError):
        retrying(fail)
    assert len(calls) == 1, "a 60 s backoff does not fit in a 5 s budget: no second attempt"


def test_retry_after_replaces_the_backoff_and_429s_are_bounded_by_time_only() -> None:
    waits: list[float] = []

    def throttled() -> None:
        raise api(KoreAIRateLimitedError, 429, retry_after=0.001)

    policy = RetryPolicy(max_attempts=3, retry_timeout=0.2, backoff_initial=30)
    retrying = policy.retrying(
        retry_if=lambda e: True,
        budget=policy.budget(),
        before_sleep=lambda state: waits.append(state.next_action.sleep if state.next_action else -1),
    )
    with pytest.raises(KoreAIRateLimitedError):
        retrying(throttled)
    assert set(waits) == {0.001}, "Retry-After, not the 30 s backoff"
    assert len(waits) > 3, "429s do not count against max_attempts=3: only the 0.2 s budget ends the call"


def test_other_failures_count_against_max_attempts() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise api(KoreAIServerError, 503)

    policy = RetryPolicy(max_attempts=3, retry_timeout=60, backoff_initial=0.001, backoff_max=0.001)
    retrying = policy.retrying(retry_if=lambda e: True, budget=policy.budget(), before_sleep=lambda s: None)
    with pytest.raises(KoreAIServerError):
        retrying(failing)
    assert len(calls) == 3


def test_a_budget_is_shared_not_renewed() -> None:
    budget = CallBudget(0.0)
    assert budget.spent
    assert "remaining" in repr(budget)


def ssl_wrapped() -> httpx.ConnectError:
    try:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed")
        except ssl.SSLError as cause:
            raise httpx.ConnectError("handshake") from cause
    except httpx.ConnectError as error:
        return error


def refused_by_urllib3() -> requests.ConnectionError:
    reason = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (requests.exceptions.SSLError("bad cert"), SendFailure.TLS),
        (requests.exceptions.ConnectTimeout(), SendFailure.NOT_SENT),
        (refused_by_urllib3(), SendFailure.NOT_SENT),
        (requests.ConnectionError(OSError("x")), SendFailure.OUTCOME_UNKNOWN),
        (requests.exceptions.ReadTimeout(), SendFailure.OUTCOME_UNKNOWN),
        (requests.exceptions.ChunkedEncodingError(), SendFailure.OUTCOME_UNKNOWN),
        (requests.exceptions.InvalidURL(), SendFailure.REFUSED_LOCALLY),
        (ssl_wrapped(), SendFailure.TLS),
        (httpx.ConnectError("refused"), SendFailure.NOT_SENT),
        (httpx.ConnectTimeout("slow"), SendFailure.NOT_SENT),
        (httpx.ReadTimeout("slow"), SendFailure.OUTCOME_UNKNOWN),
        (httpx.RemoteProtocolError("hung up"), SendFailure.OUTCOME_UNKNOWN),
        (httpx.UnsupportedProtocol("ftp"), SendFailure.REFUSED_LOCALLY),
    ],
)
def test_one_classification_of_both_clients_failures(exc: Exception, failure: SendFailure) -> None:
    assert transport.send_failure(exc) is failure


def test_each_failure_says_whether_the_change_was_applied() -> None:
    assert "nothing was sent" in str(failed(SendFailure.NOT_SENT))
    assert "set the connection extra 'verify'" in str(failed(SendFailure.TLS))
    unknown = str(failed(SendFailure.OUTCOME_UNKNOWN))
    assert "may or may not have been applied" in unknown
    assert "not idempotent: check Kore.ai before running it again" in unknown


def test_a_compound_call_shares_one_budget_and_leaves_none_behind() -> None:
    policy = RetryPolicy(max_attempts=1, retry_timeout=30)

    with policy.call_budget() as outer, policy.call_budget() as inner:
        assert inner is outer, "a request inside a compound call draws on the call's budget"
    with policy.call_budget() as later:
        assert later is not outer, "the next call gets a budget of its own"


def test_each_asyncio_task_has_its_own_budget() -> None:
    policy = RetryPolicy(max_attempts=1, retry_timeout=30)

    async def budget_of_a_task() -> CallBudget:
        with policy.call_budget() as budget:
            await asyncio.sleep(0)
            return budget

    async def two_tasks() -> list[CallBudget]:
        return list(await asyncio.gather(budget_of_a_task(), budget_of_a_task()))

    first, second = asyncio.run(two_tasks())
    assert first is not second
