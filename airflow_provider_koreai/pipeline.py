"""The one request pipeline: every call to Kore.ai, from the worker or the triggerer, goes through it.

For each attempt of a :class:`~airflow_provider_koreai.api.Call` it

1. checks that the logical call's time budget is not spent (:class:`~airflow_provider_koreai.transport.
   CallBudget`; nothing is sent after it),
2. takes a slot of the account's request budget (:mod:`~airflow_provider_koreai.rate_limit`),
3. signs the request with a fresh JWT (:class:`~airflow_provider_koreai.auth.KoreAIJWTAuth`),
4. sends it,
5. turns a failure to send into the one error of its kind (:func:`~airflow_provider_koreai.transport.
   send_failure`, :func:`~airflow_provider_koreai.transport.transport_error`),
6. turns the answer into Kore.ai's JSON object or the one error of its status
   (:func:`~airflow_provider_koreai.responses.parse_response`),

and retries by the one rule (:func:`~airflow_provider_koreai.transport.is_transient`) within the budget.
The blocking path (:meth:`RequestPipeline.send`, a :class:`requests.Session`) and the triggerer's path
(:meth:`RequestPipeline.asend`, an ``httpx.AsyncClient``) share every step but the sending itself: taking
the slot and signing without blocking the event loop, and the client's call.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_koreai import transport
from airflow_provider_koreai.exceptions import KoreAIError, KoreAITransportError, short_endpoint

if TYPE_CHECKING:
    import httpx
    import requests
    import tenacity

    from airflow_provider_koreai import rate_limit, responses
    from airflow_provider_koreai.api import Call
    from airflow_provider_koreai.auth import KoreAIJWTAuth
    from airflow_provider_koreai.connection import KoreAIConnectionConfig


class RequestPipeline:
    """Runs any :class:`~airflow_provider_koreai.api.Call` against one connection.

    :param config: the connection, validated.
    :param signer: signs every request (both clients).
    :param policy: retries and the time budget.
    :param limiter: the account's request budget; ``None`` when pacing is off.
    :param scrub: removes tokens and the secret from server text before it reaches an error.
    :param read_timeout: the read timeout of each request, unless a call names its own.
    :param log: where retries are logged.
    """

    def __init__(
        self,
        *,
        config: KoreAIConnectionConfig,
        signer: KoreAIJWTAuth,
        policy: transport.RetryPolicy,
        limiter: rate_limit.AccountRateLimiter | None,
        scrub: responses.Scrubber,
        read_timeout: float,
        log: logging.Logger | Any,
    ) -> None:
        self.config = config
        self.signer = signer
        self.policy = policy
        self.limiter = limiter
        self.scrub = scrub
        self.read_timeout = read_timeout
        self.log = log
        self._async_client: httpx.AsyncClient | None = None

    # -- the blocking path (worker) -----------------------------------------------------------------

    @cached_property
    def session(self) -> requests.Session:
        """One session: connection pooling, and every request signed with a fresh JWT."""
        import requests

        session = requests.Session()
        session.auth = self.signer
        session.verify = self.config.verify
        session.headers.update({"Accept": "application/json", "User-Agent": transport.USER_AGENT})
        return session

    def send(
        self, call: Call, budget: transport.CallBudget, *, retry: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send ``call`` and return Kore.ai's JSON object; retried by the rule unless ``retry`` is false."""
        import requests

        connect, read = self._timeouts(timeout)

        def attempt() -> dict[str, Any]:
            self._check_budget(call, budget)
            if self.limiter is not None:
                self.limiter.acquire(budget, call.endpoint)
            try:
                # verify per request: a session-level value loses to REQUESTS_CA_BUNDLE (psf/requests#3829).
                response = self.session.request(
                    call.method,
                    self.config.base_url + call.path,
                    params=call.params,
                    json=call.json,
                    timeout=(connect, read),
                    allow_redirects=False,
                    verify=self.config.verify,
                )
            except requests.RequestException as error:
                raise self._send_failed(call, error, read) from error
            return self._parse(call, response)

        if not retry:
            return attempt()
        return self.policy.retrying(**self._retry_arguments(call, budget))(attempt)

    # -- the triggerer's path ------------------------------------------------------------------------

    async def asend(
        self, call: Call, budget: transport.CallBudget, *, retry: bool = True, timeout: float | None = None
    ) -> dict[str, Any]:
        """:meth:`send` on the event loop: the slot, the signature and the request never block it."""
        import httpx

        connect, read = self._timeouts(timeout)
        client = await self._client()

        async def attempt() -> dict[str, Any]:
            self._check_budget(call, budget)
            if self.limiter is not None:
                await self.limiter.aacquire(budget, call.endpoint)
            # In a thread: with enforce_jti=False a new reusable token goes to the masker, a blocking call
            # to the supervisor (auth.py holds the rule; single-use tokens are never registered).
            headers = await asyncio.to_thread(self.signer.headers)
            try:
                response = await client.request(
                    call.method,
                    self.config.base_url + call.path,
                    params=call.params,
                    json=call.json,
                    headers=headers,
                    timeout=httpx.Timeout(read, connect=connect),
                )
            except httpx.TransportError as error:
                raise self._send_failed(call, error, read) from error
            return self._parse(call, response)

        if not retry:
            return await attempt()
        return await self.policy.async_retrying(**self._retry_arguments(call, budget))(attempt)

    async def _client(self) -> httpx.AsyncClient:
        if self._async_client is None:
            import httpx

            verify = await asyncio.to_thread(transport.httpx_verify, self.config.verify)
            self._async_client = httpx.AsyncClient(
                verify=verify,
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": transport.TRIGGERER_USER_AGENT},
            )
        return self._async_client

    async def aclose(self) -> None:
        """Close the async client (the blocking session is closed with the process)."""
        if self._async_client is not None:
            client, self._async_client = self._async_client, None
            await client.aclose()

    # -- the steps both paths share ---------------------------------------------------------------------

    def _timeouts(self, timeout: float | None) -> tuple[float, float]:
        """(connect, read) timeouts of one request: connecting never takes longer than reading may."""
        read = self.read_timeout if timeout is None else timeout
        return min(self.config.connect_timeout, read), read

    @staticmethod
    def _check_budget(call: Call, budget: transport.CallBudget) -> None:
        if budget.spent:
            raise KoreAITransportError(
                f"Not sent: this call already spent its retry_timeout ({budget.seconds:g} s), so nothing "
                f"was changed; raise retry_timeout or try again later ({short_endpoint(call.endpoint)})",
                endpoint=call.endpoint,
                outcome_unknown=False,
                retry_within_call=False,
                reason="retry_timeout spent",
            )

    def _send_failed(self, call: Call, error: BaseException, read_timeout: float) -> KoreAITransportError:
        return transport.transport_error(
            transport.send_failure(error),
            endpoint=call.endpoint,
            cause=error,
            base_url=self.config.base_url,
            read_timeout=read_timeout,
            idempotent=call.idempotent,
        )

    def _parse(self, call: Call, response: responses.ResponseLike) -> dict[str, Any]:
        from airflow_provider_koreai import responses

        return responses.parse_response(
            response,
            call.endpoint,
            scrub=self.scrub,
            not_found_hint=call.not_found_hint,
            not_found=call.not_found,
            enveloped=call.enveloped,
        )

    def _retry_arguments(self, call: Call, budget: transport.CallBudget) -> dict[str, Any]:
        return {
            "retry_if": functools.partial(transport.is_transient, idempotent=call.idempotent),
            "budget": budget,
            "before_sleep": self.retry_logger(call.endpoint),
        }

    def retry_logger(
        self, endpoint: str, *, ambiguous: bool = False
    ) -> Callable[[tenacity.RetryCallState], None]:
        """A tenacity ``before_sleep`` that says first what failed (``HTTP 503 from Kore.ai``, ``connection
        refused``), then when the next attempt comes and the limits.

        :param ambiguous: the attempt was a write that may have been applied: the next attempt checks
            before sending again.
        """
        policy = self.policy
        where = short_endpoint(endpoint)
        then = "checking whether it was applied before sending again" if ambiguous else "retrying"

        def log_retry(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            reason = error.reason if isinstance(error, KoreAIError) else type(error).__name__
            sleep = state.next_action.sleep if state.next_action else 0.0
            self.log.warning(
                "%s%s: %s in %.1f s (attempt %d; at most %d failures other than 429, %g s in all; %s)",
                reason[:1].upper(),
                reason[1:],
                then,
                sleep,
                state.attempt_number,
                policy.max_attempts,
                policy.retry_timeout,
                where,
            )

        return log_retry
