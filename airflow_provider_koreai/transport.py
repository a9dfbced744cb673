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
* :class:`RetryPolicy`, which builds tenacity's ``Retrying`` and ``AsyncRetrying`` from them, and holds
  the budget of the logical call under way (:meth:`RetryPolicy.call_budget`);
* :func:`send_failure`, the one classification of what either client raised, and
  :func:`transport_error`, one message per kind of failure (TLS, never sent, outcome unknown).

``tenacity``, ``requests`` and ``httpx`` load on first use: the hook module is
imported by DAG files that never send a request.
"""

from __future__ import annotations

import enum
import errno
import functools
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_koreai import __version__
from airflow_provider_koreai.exceptions import (
    KoreAIError,
    KoreAIRateLimitedError,
    KoreAITransportError,
    short_endpoint,
)

if TYPE_CHECKING:
    import tenacity

#: Sent with every request; the triggerer's reads add ``(triggerer)`` so access logs tell them apart.
USER_AGENT = f"airflow-provider-koreai/{__version__}"
TRIGGERER_USER_AGENT = f"{USER_AGENT} (triggerer)"
TLS_HINT = "if your host uses a private CA, set the connection extra 'verify' to the path of its CA bundle"


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
    """The one retry rule: the error says it may pass within the call (:attr:`~airflow_provider_koreai.
    exceptions.KoreAIError.retry_within_call`), and sending again cannot apply a change twice (the
    request is safe to repeat, or it surely was not applied)."""
    return (
        isinstance(error, KoreAIError)
        and error.retry_within_call
        and (idempotent or not error.outcome_unknown)
    )


def is_ambiguous(error: BaseException) -> bool:
    """A failure after which a write that is not safe to repeat may or may not have been applied."""
    return isinstance(error, KoreAIError) and error.outcome_unknown


#: The budget of the logical call under way (:meth:`RetryPolicy.call_budget`).
_CURRENT_BUDGET: ContextVar[CallBudget | None] = ContextVar("koreai_call_budget", default=None)


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
        """A new budget, for one logical call."""
        return CallBudget(self.retry_timeout)

    @contextmanager
    def call_budget(self) -> Iterator[CallBudget]:
        """The budget of the logical call under way in this context, or a new one for the ``with`` block.

        A compound call (create-or-reuse: a lookup, a create, another lookup) opens the block once; every
        request made inside it, through any public method of the hook, draws on the same budget. Held in
        a context variable: threads and asyncio tasks each have their own.
        """
        current = _CURRENT_BUDGET.get()
        if current is not None:
            yield current
            return
        budget = self.budget()
        token = _CURRENT_BUDGET.set(budget)
        try:
            yield budget
        finally:
            _CURRENT_BUDGET.reset(token)

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
    #: The host name does not resolve: nothing was sent, and it will not fix itself.
    NAME_NOT_RESOLVED = "name_not_resolved"
    #: The request could not be built or addressed (bad URL, invalid header): nothing was sent.
    REFUSED_LOCALLY = "refused_locally"
    #: No connection could be opened (refused, timed out, unreachable): nothing was sent, trying again may
    #: work (a restart may be under way).
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
    """The one wording of each kind of transport failure, whichever client met it: what is wrong and
    what to do first, then the call."""
    method = endpoint.split(" ", 1)[0]
    reason = failure_reason(failure, cause, read_timeout)
    where = short_endpoint(endpoint)
    if failure is SendFailure.TLS:
        return KoreAITransportError(
            f"TLS with {base_url} failed ({reason}): {TLS_HINT}; nothing was sent ({where})",
            endpoint=endpoint,
            outcome_unknown=False,
            retry_within_call=False,
            retryable=False,
            reason=reason,
        )
    if failure is SendFailure.NAME_NOT_RESOLVED:
        host = urlsplit(base_url).hostname or base_url
        return KoreAITransportError(
            f"Host {host} not found ({reason}): check the connection's Host; nothing was sent ({where})",
            endpoint=endpoint,
            outcome_unknown=False,
            retry_within_call=False,
            retryable=False,
            reason=reason,
        )
    if failure is SendFailure.REFUSED_LOCALLY:
        return KoreAITransportError(
            f"The request could not be built ({type(cause).__name__}): check the connection's Host; nothing "
            f"was sent ({where})",
            endpoint=endpoint,
            outcome_unknown=False,
            retry_within_call=False,
            retryable=False,
            reason=reason,
        )
    if failure is SendFailure.NOT_SENT:
        return KoreAITransportError(
            f"Could not connect to {base_url} ({reason}): check that it is up and reachable; nothing was "
            f"sent, so nothing was changed ({where})",
            endpoint=endpoint,
            outcome_unknown=False,
            reason=reason,
        )
    safety = (
        f"{method} is idempotent here, so running the task again is safe"
        if idempotent
        else f"this {method} is not idempotent: check Kore.ai before running it again"
    )
    return KoreAITransportError(
        f"No complete answer from Kore.ai ({reason}): the change may or may not have been applied; "
        f"{safety} ({where})",
        endpoint=endpoint,
        outcome_unknown=True,
        reason=reason,
    )


def send_failure(error: BaseException) -> SendFailure:
    """What an exception raised while sending means, for ``requests`` (worker) and ``httpx`` (triggerer)
    alike: the one classification of both clients' failures."""
    from urllib3.exceptions import NewConnectionError

    chain = list(_causes(error))
    if any(isinstance(cause, ssl.SSLError) for cause in chain):
        return SendFailure.TLS
    if any(_is_unknown_name(cause) for cause in chain):
        return SendFailure.NAME_NOT_RESOLVED
    if any(isinstance(cause, NewConnectionError) for cause in chain):  # urllib3 opened no connection
        return SendFailure.NOT_SENT
    for kind, classes in _failure_classes():
        if isinstance(error, classes):
            return kind
    return SendFailure.OUTCOME_UNKNOWN


def failure_reason(failure: SendFailure, error: BaseException, read_timeout: float) -> str:
    """The cause of a failed send in a few words, as messages and retry warnings name it."""
    chain = list(_causes(error))
    if failure is SendFailure.TLS:
        verify = next((c for c in chain if isinstance(c, ssl.SSLCertVerificationError)), None)
        if verify is not None:
            return f"certificate verification failed: {verify.verify_message or verify.reason}"
        return "TLS handshake failed"
    if failure is SendFailure.NAME_NOT_RESOLVED:
        return "name not resolved"
    if failure is SendFailure.REFUSED_LOCALLY:
        return "request could not be built"
    if failure is SendFailure.NOT_SENT:
        if any(isinstance(cause, ConnectionRefusedError) for cause in chain):
            return "connection refused"
        if any(isinstance(cause, socket.gaierror) for cause in chain):
            return "name resolution failed for now"
        if any(isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__ for cause in chain):
            return "connect timeout"
        if any(isinstance(cause, OSError) and cause.errno in _UNREACHABLE for cause in chain):
            return "network unreachable"
        return "could not connect"
    if any("ReadTimeout" in type(cause).__name__ or isinstance(cause, TimeoutError) for cause in chain):
        return f"no answer within the read timeout of {read_timeout:g} s"
    return "connection closed before the answer"


#: ``errno`` values of a network or host that cannot be reached.
_UNREACHABLE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN})


def _is_unknown_name(error: BaseException) -> bool:
    """A host name that does not resolve; ``EAI_AGAIN`` (no answer from DNS for now) may pass."""
    return isinstance(error, socket.gaierror) and error.errno != socket.EAI_AGAIN


def _causes(error: BaseException) -> Any:
    """The error and what caused it: chained exceptions, and urllib3's ``reason`` / requests' first
    argument, which wrap rather than chain."""
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += current.args[:1]


@functools.cache
def _failure_classes() -> tuple[tuple[SendFailure, tuple[type[BaseException], ...]], ...]:
    """Each client's exceptions by what they mean, first match wins; anything else: outcome unknown."""
    import requests

    tls: list[type[BaseException]] = [requests.exceptions.SSLError]
    not_sent: list[type[BaseException]] = [requests.exceptions.ConnectTimeout]
    refused: list[type[BaseException]] = [
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidHeader,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidJSONError,
        requests.exceptions.URLRequired,
    ]
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx ships with Airflow
        pass
    else:
        not_sent += [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError]
        refused += [httpx.UnsupportedProtocol, httpx.LocalProtocolError]
    return (
        (SendFailure.TLS, tuple(tls)),
        (SendFailure.NOT_SENT, tuple(not_sent)),
        (SendFailure.REFUSED_LOCALLY, tuple(refused)),
    )


def httpx_verify(verify: bool | str) -> ssl.SSLContext | bool:
    """httpx 0.28 deprecates ``verify=<path>``: a CA bundle (file or directory) becomes an SSL context.
    Blocking (it reads the bundle): call it from a worker thread in the triggerer."""
    if isinstance(verify, bool):
        return verify
    import os

    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)
