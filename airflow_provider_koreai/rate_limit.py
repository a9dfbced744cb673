"""One request budget per Kore.ai account, taken by every request the provider sends.

Kore.ai allows 60 requests a minute per *account*, across every Contact Center API and whoever sends
them. Airflow runs each task in a process of its own, on many machines, and the triggerer polls in yet
another: pacing each process alone lets two uploads ask for twice the account's budget, and they draw
429s by construction. So the budget belongs to the account, not to the process:

* by default it lives in the process: every hook of the process (operators, ``@task`` code, the sensor,
  every trigger of a triggerer, the Test button) shares one budget per account;
* when the connection's ``rate_limit_store`` extra names a Redis or PostgreSQL server, the budget lives
  there (pyrate-limiter's ``RedisBucket`` / ``PostgresBucket``), and every worker and triggerer of the
  deployment takes its slots from it. A request then waits for a slot instead of drawing a 429;
* a deployment takes ``rate_limit_share`` percent (default 90) of the account's
  ``rate_limit_per_minute`` (default 60), leaving room for the account's other Kore.ai clients.

The budget is a sliding-window log: at most N requests in any 60 seconds. A fixed per-minute window at
Kore.ai can then never see more than N either.

A store that cannot be reached must never fail a task: the first failure logs one warning, and the
requests are paced in the process (as without a store) until the store answers again, tried every
:data:`STORE_RETRY_SECONDS`. ``pyrate_limiter``, ``redis`` and ``psycopg`` load on first use, in the
process that sends a request: never while the DAG processor parses a DAG file.

:func:`pacer` is the other, narrower pace: a cap on one upload's chunks below the account's budget
(``AddContactsOperator(requests_per_minute=...)``), to leave room to other tasks.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from airflow_provider_koreai import validation
from airflow_provider_koreai.exceptions import KoreAIRateBudgetTimeoutError, short_endpoint

if TYPE_CHECKING:
    import psycopg
    from pyrate_limiter import AbstractBucket, Rate

    from airflow_provider_koreai.transport import CallBudget

log = logging.getLogger(__name__)

#: How long one store operation (connect, command) may take before the store counts as unreachable.
STORE_TIMEOUT_SECONDS = 2.0
#: After a store failure, requests are paced in the process this long before the store is tried again.
STORE_RETRY_SECONDS = 30.0
#: Added to every computed wait: the slot frees on the store's clock, and waking early costs a round trip.
WAIT_MARGIN_SECONDS = 0.05
#: Entries older than the window are removed from the budget at most this often (a store round trip).
LEAK_EVERY_SECONDS = 10.0
#: Waits at least this long are logged at INFO, so a slow task says why it is slow.
LOGGED_WAIT_SECONDS = 1.0


def store_kind(url: str) -> str:
    """``"redis"`` or ``"postgresql"``, by the URL's scheme; ``ValueError`` names the accepted schemes."""
    scheme = urlsplit(url).scheme.lower()
    for kind, store in STORES.items():
        if scheme in store.schemes:
            return kind
    accepted = ", ".join(f"{name}://" for store in STORES.values() for name in store.schemes)
    raise ValueError(f"must be a Redis or PostgreSQL URL ({accepted}), got scheme {scheme or 'none'!r}")


def redacted(url: str) -> str:
    """The store URL as logs and messages show it: scheme, host, port and path; never a user, password
    or query (which may hold a password too)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def store_password(url: str) -> str | None:
    """The password in a store URL (userinfo or a ``password=`` query parameter), for the masker."""
    parts = urlsplit(url)
    if parts.password:
        return unquote(parts.password)
    values = parse_qs(parts.query).get("password")
    return values[0] if values else None


@dataclass(frozen=True)
class RateBudgetSettings:
    """What a connection says about its account's budget (checked by :mod:`~airflow_provider_koreai.
    connection`).

    :param account: the account the budget belongs to: ``<host>/<account id>``.
    :param requests_per_minute: this deployment's share of the account's limit; 0 turns pacing off.
    :param store: the Redis or PostgreSQL URL that holds the shared budget; ``None``: in the process.
    """

    account: str
    requests_per_minute: int
    #: May carry the store's password: out of ``repr()``.
    store: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        if not self.requests_per_minute:
            return "no client-side rate limit"
        where = f"shared via {redacted(self.store)}" if self.store else "in this process"
        return f"{self.requests_per_minute} requests/minute for account {self.account}, {where}"


class AccountRateLimiter:
    """The request budget of one account in this process: in its store, or in memory when there is no
    store or the store is unreachable.

    Thread-safe: each slot is taken under a lock (the triggerer takes slots from worker threads, a
    task's hook from its own). Buckets are built on first use, so building a limiter costs nothing.
    """

    def __init__(self, settings: RateBudgetSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._local: AbstractBucket | None = None
        self._shared: AbstractBucket | None = None
        self._store_retry_at = 0.0
        self._store_failed = False
        self._leaked_at: dict[int, float] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings.describe()})"

    @property
    def uses_store(self) -> bool:
        """Whether the next slot is asked of the shared store (not in a fallback period)."""
        return self.settings.store is not None and time.monotonic() >= self._store_retry_at

    # -- taking a slot --------------------------------------------------------------------------------

    def reserve(self) -> float:
        """Take a slot if one is free (``0.0``), else return the seconds until one may free up.

        A store failure never escapes: it switches to the in-process budget (see the module docstring).
        Blocks for at most one store round trip (:data:`STORE_TIMEOUT_SECONDS` when it is down).
        """
        with self._lock:
            if self.uses_store:
                try:
                    wait = self._reserve_in(self._shared_bucket())
                except Exception as error:  # a store must never fail a task, whatever its client raised
                    self._fall_back(error)
                else:
                    self._recovered()
                    return wait
            return self._reserve_in(self._local_bucket())

    def acquire(self, budget: CallBudget, endpoint: str) -> None:
        """Wait, blocking, for a slot within the call's time budget."""
        waited = 0.0
        while (wait := self.reserve()) > 0.0:
            self._check_wait(wait, waited, budget, endpoint)
            time.sleep(wait)
            waited += wait
        self._log_wait(waited, endpoint)

    async def aacquire(self, budget: CallBudget, endpoint: str) -> None:
        """:meth:`acquire` for an event loop: waits with ``asyncio.sleep``; a store's round trip runs
        in a worker thread, so an unreachable store never blocks the triggerer's loop."""
        waited = 0.0
        # With a store, always in a thread: even while falling back, another thread may hold the lock
        # for a store round trip. Without one, a reservation is microseconds of memory work.
        in_thread = self.settings.store is not None
        while True:
            wait = await asyncio.to_thread(self.reserve) if in_thread else self.reserve()
            if wait == 0.0:
                break
            self._check_wait(wait, waited, budget, endpoint)
            await asyncio.sleep(wait)
            waited += wait
        self._log_wait(waited, endpoint)

    def _check_wait(self, wait: float, waited: float, budget: CallBudget, endpoint: str) -> None:
        if wait >= budget.remaining():
            raise KoreAIRateBudgetTimeoutError(
                f"No free slot in the account's request budget within retry_timeout ({budget.seconds:g} s): "
                "run fewer Kore.ai tasks at once (an Airflow pool), or raise retry_timeout; nothing was "
                f"sent, so nothing was changed (budget {self.settings.describe()}; waited {waited:.1f} s, "
                f"the next slot frees in {wait:.1f} s; {short_endpoint(endpoint)})",
                endpoint=endpoint,
            )

    def _log_wait(self, waited: float, endpoint: str) -> None:
        if waited >= LOGGED_WAIT_SECONDS:
            log.info(
                "Kore.ai %s: waited %.1f s for a slot in the request budget (%s)",
                endpoint,
                waited,
                self.settings.describe(),
            )

    # -- buckets ----------------------------------------------------------------------------------------

    def _reserve_in(self, bucket: AbstractBucket) -> float:
        from pyrate_limiter import RateItem

        item = RateItem("koreai", bucket.now())
        if bucket.put(item):
            self._leak(bucket, item.timestamp)
            return 0.0
        wait_ms = bucket.waiting(item)
        if not isinstance(wait_ms, int):  # pragma: no cover - sync buckets
            raise RuntimeError(f"unexpected wait from {type(bucket).__name__}: {wait_ms!r}")
        # PostgresBucket refuses a slot, recording no wait, while another process holds its table's lock
        # (LOCK TABLE ... NOWAIT). Its wait then comes from the N-th newest entry, which is older than
        # the window (a wait of 0 or below) unless the budget is full: try again after the margin.
        return max(wait_ms, 0) / 1000 + WAIT_MARGIN_SECONDS

    def _leak(self, bucket: AbstractBucket, now_ms: int) -> None:
        """Drop entries older than the window now and then: a budget must not grow with the process's
        age (a triggerer lives for weeks)."""
        now = time.monotonic()
        if now - self._leaked_at.get(id(bucket), 0.0) >= LEAK_EVERY_SECONDS:
            self._leaked_at[id(bucket)] = now
            bucket.leak(now_ms)

    def _rates(self) -> list[Rate]:
        from pyrate_limiter import Duration, Rate

        return [Rate(self.settings.requests_per_minute, Duration.MINUTE)]

    def _local_bucket(self) -> AbstractBucket:
        if self._local is None:
            from pyrate_limiter import InMemoryBucket

            self._local = InMemoryBucket(self._rates())
        return self._local

    def _shared_bucket(self) -> AbstractBucket:
        if self._shared is None:
            assert self.settings.store is not None
            self._shared = STORES[store_kind(self.settings.store)].bucket(
                self.settings.store, self.settings.account, self._rates()
            )
        return self._shared

    def _fall_back(self, error: BaseException) -> None:
        self._store_retry_at = time.monotonic() + STORE_RETRY_SECONDS
        shared, self._shared = self._shared, None
        if shared is not None:
            _close_quietly(shared)
        if self._store_failed:
            log.debug("Kore.ai rate budget store %s still unreachable", redacted(self.settings.store or ""))
            return
        self._store_failed = True
        log.warning(
            "Kore.ai rate budget: the store %s is unreachable (%s: %s); requests are paced in this process "
            "only (%d/minute) until it answers again, tried every %g s. Tasks go on; other workers may "
            "draw HTTP 429s meanwhile.",
            redacted(self.settings.store or ""),
            type(error).__name__,
            _first_line(error, self.settings.store),
            self.settings.requests_per_minute,
            STORE_RETRY_SECONDS,
        )

    def _recovered(self) -> None:
        if self._store_failed:
            self._store_failed = False
            log.info("Kore.ai rate budget: the store %s answers again", redacted(self.settings.store or ""))

    def close(self) -> None:
        with self._lock:
            for bucket in (self._shared, self._local):
                if bucket is not None:
                    _close_quietly(bucket)
            self._shared = self._local = None


def _first_line(error: BaseException, store: str | None) -> str:
    """An error's first line without the store's password (client errors may quote the URL)."""
    text = (str(error).splitlines() or [""])[0][:200]
    secret = store_password(store) if store else None
    return text.replace(secret, "***") if secret else text


def _close_quietly(bucket: AbstractBucket) -> None:
    try:
        bucket.close()
    except Exception:  # closing a bucket whose store is gone
        log.debug("closing a rate budget bucket failed", exc_info=True)


# -- stores -----------------------------------------------------------------------------------------------


def bucket_key(account: str) -> str:
    """The store's name for an account's budget: readable in Redis, a valid table name in PostgreSQL."""
    digest = hashlib.sha256(account.encode()).hexdigest()[:24]
    return f"koreai_rate_{digest}"


def _redis_bucket(url: str, account: str, rates: list[Rate]) -> AbstractBucket:
    import redis
    from pyrate_limiter import RedisBucket

    client = redis.Redis.from_url(
        url, socket_connect_timeout=STORE_TIMEOUT_SECONDS, socket_timeout=STORE_TIMEOUT_SECONDS
    )
    bucket: AbstractBucket = RedisBucket.init(rates, client, bucket_key(account))
    return bucket


def _postgres_bucket(url: str, account: str, rates: list[Rate]) -> AbstractBucket:
    from psycopg_pool import ConnectionPool
    from pyrate_limiter import PostgresBucket

    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=2,
        timeout=STORE_TIMEOUT_SECONDS,
        kwargs={
            "connect_timeout": max(1, int(STORE_TIMEOUT_SECONDS)),
            # psycopg has no client-side timeout on a query: these bound a host or a network that
            # vanishes mid-query (keepalive probes after 2 s of silence, 1 s apart, 3 unanswered, and
            # sent data unacknowledged for as long) to seconds instead of forever.
            "keepalives": 1,
            "keepalives_idle": 2,
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": int(STORE_TIMEOUT_SECONDS * 1000),
        },
        configure=_configure_session,
        open=False,
    )
    try:
        pool.open(wait=True, timeout=STORE_TIMEOUT_SECONDS)
        return PostgresBucket(pool, bucket_key(account), rates)
    except BaseException:
        pool.close()
        raise


def _configure_session(connection: psycopg.Connection[Any]) -> None:
    """Every session of the pool in UTC, its statements bounded by the store timeout.

    ``PostgresBucket`` stores its entries as ``TIMESTAMP`` without a zone, converted in the session's time
    zone: sessions in different zones (``PGTZ``, a role's or a database's ``TimeZone``) or one zone across
    a daylight-saving change would count each other's slots hours off, outside the window or an hour
    ahead. A statement held up on the server (an overloaded database) ends after
    :data:`STORE_TIMEOUT_SECONDS`, which counts as the store being unreachable.
    """
    connection.execute("SET TIME ZONE 'UTC'")
    connection.execute(f"SET statement_timeout = {int(STORE_TIMEOUT_SECONDS * 1000)}")
    connection.commit()


class Store(NamedTuple):
    """What one kind of store needs: its URL schemes, the extra that installs its client (and the
    modules that client is made of), and how a bucket is built in it."""

    schemes: tuple[str, ...]
    extra: str
    modules: tuple[str, ...]
    bucket: Callable[[str, str, list[Rate]], AbstractBucket]


STORES: dict[str, Store] = {
    "redis": Store(("redis", "rediss", "unix"), "redis", ("redis",), _redis_bucket),
    "postgresql": Store(
        ("postgresql", "postgres"), "postgres", ("psycopg", "psycopg_pool"), _postgres_bucket
    ),
}

# -- one limiter per account and settings, per process ---------------------------------------------------

_limiters: dict[RateBudgetSettings, AccountRateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(settings: RateBudgetSettings) -> AccountRateLimiter | None:
    """The process's limiter for these settings (``None`` when pacing is off): every hook of the process
    that names the same account, share and store gets the same one."""
    if not settings.requests_per_minute:
        return None
    with _limiters_lock:
        limiter = _limiters.get(settings)
        if limiter is None:
            limiter = _limiters[settings] = AccountRateLimiter(settings)
        return limiter


def reset() -> None:
    """Forget every limiter of the process (tests; and a forked child, whose parent's clients and
    locks it must not share)."""
    with _limiters_lock:
        limiters = list(_limiters.values())
        _limiters.clear()
    for limiter in limiters:
        limiter.close()


def _after_fork_in_child() -> None:
    # The parent's locks may have been held at fork time, and its store connections are its own.
    global _limiters_lock
    _limiters_lock = threading.Lock()
    _limiters.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def check_store_client(url: str) -> None:
    """Raise ``ImportError`` naming the extra to install when the store's client is missing (asked
    before the first request, so a worker image without it fails loudly rather than pacing alone)."""
    import importlib.util

    store = STORES[store_kind(url)]
    for module in store.modules:
        if importlib.util.find_spec(module) is None:
            raise ImportError(
                f"the rate_limit_store {redacted(url)} needs the {module!r} package: install "
                f"'airflow-provider-koreai[{store.extra}]' on every worker and triggerer"
            )


def pacer(requests_per_minute: int | None) -> Callable[[], None]:
    """A blocking cap on one sequence of requests (an upload's chunks), below the account's budget: a
    sliding window of ``pyrate-limiter`` in memory, or a no-op when no rate is given."""
    if requests_per_minute is None:
        return lambda: None
    rate = validation.whole_number(requests_per_minute, "requests_per_minute", minimum=1)
    from pyrate_limiter import Duration, Limiter, Rate

    limiter = Limiter(Rate(rate, Duration.MINUTE))

    def wait_for_slot() -> None:
        limiter.try_acquire("koreai", blocking=True)

    return wait_for_slot


__all__ = [
    "STORES",
    "AccountRateLimiter",
    "RateBudgetSettings",
    "Store",
    "bucket_key",
    "check_store_client",
    "limiter_for",
    "pacer",
    "redacted",
    "reset",
    "store_kind",
    "store_password",
]
