"""Each error says three things, one property each: retried within the call, worth a task retry, and
whether the request may have been applied (the docs' "Errors and retries" table)."""

from __future__ import annotations

import pytest

from airflow_provider_koreai import transport
from airflow_provider_koreai.exceptions import (
    KoreAIAuthenticationError,
    KoreAIError,
    KoreAINotFoundError,
    KoreAIPartialUploadError,
    KoreAIRateBudgetTimeoutError,
    KoreAIRateLimitedError,
    KoreAIRequestRejectedError,
    KoreAIServerError,
    KoreAIUnexpectedResponseError,
    KoreAIValidationError,
)
from airflow_provider_koreai.transport import SendFailure

ENDPOINT = "POST /x"


def answered(cls: type[KoreAIError], status: int) -> KoreAIError:
    return cls(http_status=status, endpoint=ENDPOINT, message="m")  # type: ignore[call-arg]


def not_answered(failure: SendFailure) -> KoreAIError:
    return transport.transport_error(
        failure, endpoint=ENDPOINT, cause=OSError(), base_url="https://h", read_timeout=3, idempotent=False
    )


def partial(cause: KoreAIError, rows_accepted: int) -> KoreAIError:
    return KoreAIPartialUploadError(
        contact_list_name="n",
        cause=cause,
        rows_accepted=rows_accepted,
        chunks_accepted=rows_accepted // 10,
        rows_failed=10,
        outcome_unknown=transport.is_ambiguous(cause),
    )


@pytest.mark.parametrize(
    ("error", "retry_within_call", "retryable", "outcome_unknown"),
    [
        (answered(KoreAIRateLimitedError, 429), True, True, False),
        (answered(KoreAIServerError, 503), True, True, True),
        (answered(KoreAIRequestRejectedError, 409), False, False, False),
        (answered(KoreAIAuthenticationError, 401), False, False, False),
        (answered(KoreAINotFoundError, 404), False, False, False),
        (answered(KoreAIUnexpectedResponseError, 200), False, False, False),
        (not_answered(SendFailure.NOT_SENT), True, True, False),
        (not_answered(SendFailure.OUTCOME_UNKNOWN), True, True, True),
        (not_answered(SendFailure.TLS), False, False, False),
        (not_answered(SendFailure.REFUSED_LOCALLY), False, False, False),
        (KoreAIRateBudgetTimeoutError("no slot", endpoint=ENDPOINT), False, True, False),
        (KoreAIValidationError("name", "too long"), False, False, False),
        (partial(answered(KoreAIRateLimitedError, 429), 0), False, True, False),
        (partial(answered(KoreAIRateLimitedError, 429), 10), False, False, False),
        (partial(answered(KoreAIServerError, 503), 0), False, False, True),
    ],
)
def test_one_meaning_per_property(
    error: KoreAIError, retry_within_call: bool, retryable: bool, outcome_unknown: bool
) -> None:
    assert (error.retry_within_call, error.retryable, error.outcome_unknown) == (
        retry_within_call,
        retryable,
        outcome_unknown,
    )
