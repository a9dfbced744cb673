"""How a call to Kore.ai survives the network: which failures are retried, for how long, and what a
request that never got an answer means (the pace of requests is :mod:`~airflow_provider_koreai.rate_limit`'s).

The hook's ``requests`` session (worker) and its ``httpx`` client (triggerer) both use this module, so
they retry by the same rule within the same budget, and describe a dropped connection the same way:

* :func:`is_transient`, the one retry rule: 429, 5xx and connection failures; a call that is not
  idempotent only when it surely did not reach Kore.ai (rate limited, or never sent);
* :class:`CallBudget`, the one time limit: every request, retry and lookup of one logical call (a
  create resolving an ambiguous failure included) draws on the same ``retry_timeout``. No retry waits
  past it, and no request of the call starts after it, so a call ends within ``retry_timeout`` plus one
  request timeout;
* :class:`RetryPolicy`, which builds tenacity's ``Retrying`` and ``AsyncRetrying`` from them;
* :func:`transport_error`, one message per kind of failure (TLS, never sent, outcome unknown).

``tenacity``, ``requests`` and ``httpx`` load on first use: the hook module is
imported by DAG files that never send a request.
"""

from __future__ import annotations

import enum
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_koreai import __version__
from airflow_provider_koreai.exceptions import (
    KoreAIError,
    KoreAIRateBudgetTimeoutError,
    KoreAIRateLimitedError,
    KoreAIServerError,
    KoreAITransportError,
)

if TYPE_CHECKING:
    import httpx
    import requests
    import tenacity

#: Sent with every request; the triggerer's reads add ``(triggerer)`` so access logs tell them apart.
USER_AGENT = f"airflow-provider-koreai/{__version__}"
TRIGGERER_USER_AGENT = f"{USER_AGENT} (triggerer)"
TLS_HINT = "If your host uses a private CA, set the connection extra 'verify' to the path of its CA bundle."


class CallBudget:
    """The time one logical call may spend, shared by all its requests, retries and lookups.

    Measured on the monotonic clock from the call's start. A retry whose wait would end past the budget
    is not made (the last error is raised), and a request that would start after it is not sent.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    @property
    def spent(self) -> bool:
        return self.remaining() <= 0

    def exhausted_by_wait(self, retry_state: tenacity.RetryCallState) -> bool:
        """A tenacity stop condition: stop when the next wait would end at or after the budget's end."""
        return (retry_state.upcoming_sleep or 0.0) >= self.remaining()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seconds={self.seconds:g}, remaining={self.remaining():.1f})"


def is_transient(error: BaseException, idempotent: bool) -> bool:
    """The one retry rule, over our exceptions (library errors are translated before it is asked)."""
    if isinstance(error, KoreAIRateLimitedError):
        return True
    if isinstance(error, KoreAIRateBudgetTimeoutError):
        # No slot within the call's budget: another try of this call would only wait past it.
        return False
    if isinstance(error, KoreAITransportError):
        return error.retryable and (idempotent or not error.outcome_unknown)
    return isinstance(error, KoreAIError) and error.retryable and idempotent


def is_ambiguous(error: BaseException) -> bool:
    """A failure after which a non-idempotent call may or may not have been applied."""
    if isinstance(error, KoreAITransportError):
        return error.retryable and error.outcome_unknown
    return isinstance(error, KoreAIServerError)


@dataclass(frozen=True)
class RetryPolicy:
    """How many failed attempts, how long in total, and how long between them (exponential, with jitter;
    a 429's ``Retry-After`` replaces the backoff). 429s do not count against ``max_attempts``: a
    throttled call waits for Kore.ai as long as ``retry_timeout`` allows."""

    max_attempts: int
    retry_timeout: float
    backoff_initial: float = 1.0
    backoff_max: float = 30.0

    def budget(self) -> CallBudget:
        return CallBudget(self.retry_timeout)

    def retrying(
        self,
        *,
        retry_if: Callable[[BaseException], bool],
        budget: CallBudget,
        before_sleep: Callable[[tenacity.RetryCallState], None],
    ) -> tenacity.Retrying:
        import tenacity

        return tenacity.Retrying(**self._arguments(retry_if, budget, before_sleep))

    def async_retrying(
        self,
        *,
        retry_if: Callable[[BaseException], bool],
        budget: CallBudget,
        before_sleep: Callable[[tenacity.RetryCallState], None],
    ) -> tenacity.AsyncRetrying:
        import tenacity

        return tenacity.AsyncRetrying(**self._arguments(retry_if, budget, before_sleep))

    def _arguments(
        self,
        retry_if: Callable[[BaseException], bool],
        budget: CallBudget,
        before_sleep: Callable[[tenacity.RetryCallState], None],
    ) -> dict[str, Any]:
        import tenacity

        backoff = tenacity.wait_exponential_jitter(
            initial=self.backoff_initial, max=self.backoff_max, jitter=self.backoff_initial
        )

        failures = 0

        def stop(state: tenacity.RetryCallState) -> bool:
            # A 429 applied nothing and retrying it is always safe: only the time budget ends a call that
            # Kore.ai keeps throttling. Every other failure counts against max_attempts as well.
            nonlocal failures
            if not isinstance(state.outcome.exception() if state.outcome else None, KoreAIRateLimitedError):
                failures += 1
            return failures >= self.max_attempts or budget.exhausted_by_wait(state)

        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, KoreAIRateLimitedError) and error.retry_after is not None:
                return error.retry_after
            return float(backoff(state))

        return {
            "retry": tenacity.retry_if_exception(retry_if),
            "stop": stop,
            "wait": wait,
            "before_sleep": before_sleep,
            "reraise": True,
        }


class SendFailure(enum.Enum):
    """What a request that got no usable answer means for the change it carried."""

    #: TLS verification or handshake failed: nothing was sent, and it will not fix itself.
    TLS = "tls"
    #: The request could not be built or addressed (bad URL, invalid header): nothing was sent.
    REFUSED_LOCALLY = "refused_locally"
    #: No connection could be opened: nothing was sent, trying again may work.
    NOT_SENT = "not_sent"
    #: The request may have reached Kore.ai (read timeout, connection dropped after sending).
    OUTCOME_UNKNOWN = "outcome_unknown"


def transport_error(
    failure: SendFailure,
    *,
    endpoint: str,
    cause: BaseException,
    base_url: str,
    read_timeout: float,
    idempotent: bool,
) -> KoreAITransportError:
    """The one wording of each kind of transport failure, whichever client met it."""
    method = endpoint.split(" ", 1)[0]
    kind = type(cause).__name__
    if failure is SendFailure.TLS:
        error = KoreAITransportError(
            f"Kore.ai {endpoint}: TLS with {base_url} failed ({kind}). {TLS_HINT}",
            endpoint=endpoint,
            outcome_unknown=False,
        )
        error.retryable = False
        return error
    if failure is SendFailure.REFUSED_LOCALLY:
        error = KoreAITransportError(
            f"Kore.ai {endpoint}: the request could not be sent ({kind}); nothing was sent, so nothing "
            "was changed. Check the connection's Host.",
            endpoint=endpoint,
            outcome_unknown=False,
        )
        error.retryable = False
        return error
    if failure is SendFailure.NOT_SENT:
        return KoreAITransportError(
            f"Kore.ai {endpoint}: could not connect to {base_url} ({kind}); nothing was sent, so nothing "
            "was changed.",
            endpoint=endpoint,
            outcome_unknown=False,
        )
    safety = (
        f"{method} is idempotent here, so running the task again is safe"
        if idempotent
        else f"this {method} is not idempotent: check Kore.ai before running it again"
    )
    return KoreAITransportError(
        f"Kore.ai {endpoint}: no complete answer after the request was sent ({kind}, read timeout "
        f"{read_timeout:g} s). The outcome is unknown: the change may or may not have been applied; "
        f"{safety}.",
        endpoint=endpoint,
        outcome_unknown=True,
    )


def requests_failure(exc: requests.RequestException) -> SendFailure:
    """Classify a ``requests`` exception."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.exceptions.SSLError):
        return SendFailure.TLS
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return SendFailure.NOT_SENT
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError):
            return SendFailure.NOT_SENT
        return SendFailure.OUTCOME_UNKNOWN
    received = (
        requests.Timeout,
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    )
    if isinstance(exc, received):
        return SendFailure.OUTCOME_UNKNOWN
    return SendFailure.REFUSED_LOCALLY


def httpx_failure(exc: httpx.TransportError) -> SendFailure:
    """Classify an ``httpx`` exception."""
    import httpx

    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        return SendFailure.TLS
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.ProxyError):
        return SendFailure.NOT_SENT
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return SendFailure.REFUSED_LOCALLY
    return SendFailure.OUTCOME_UNKNOWN


def httpx_verify(verify: bool | str) -> ssl.SSLContext | bool:
    """httpx 0.28 deprecates ``verify=<path>``: a CA bundle (file or directory) becomes an SSL context.
    Blocking (it reads the bundle): call it from a worker thread in the triggerer."""
    if isinstance(verify, bool):
        return verify
    import os

    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)
