"""One request budget per account in a real PostgreSQL on 127.0.0.1 (pyrate-limiter's ``PostgresBucket``
through a ``psycopg_pool`` pool): shared by the limiters of many processes, never a reason for a task to
fail when the server is down, refuses a password or has no such database, and exact under contention for
the bucket's table lock.

Each limiter here stands for a process (a worker, the triggerer): its own pool, nothing shared but the
URL. The server runs as in ``tests/helpers/stores.py``; ``.ci/run`` installs the Debian package
``postgresql``.
"""

from __future__ import annotations

import importlib.util
import logging
import secrets
import threading
from collections.abc import Iterator

import pytest

from airflow_provider_koreai import rate_limit
from airflow_provider_koreai.rate_limit import AccountRateLimiter, RateBudgetSettings
from tests.helpers.missing import skip_or_fail
from tests.helpers.stores import PostgresServer, postgres_available

pytestmark = pytest.mark.integration

#: The account of the tests that need no budget table of their own.
ACCOUNT = "platform.example/acct"
#: Longest wait that is not "the budget is full": a try again after contention for the table's lock.
SHORT_WAIT = 1.0


def _require_postgres() -> None:
    """Skip where PostgreSQL or its client is not installed, but never in CI: CI must run these."""
    missing = []
    if not postgres_available():
        missing.append("PostgreSQL (Debian package postgresql)")
    for module in ("psycopg", "psycopg_pool"):
        if importlib.util.find_spec(module) is None:
            missing.append(f"the Python package {module} (extra airflow-provider-koreai[postgres])")
    skip_or_fail(missing, ".ci/run with the test extra")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    """One server for the module; its TCP connections authenticate with a password."""
    _require_postgres()
    with PostgresServer(password=secrets.token_urlsafe(12)) as server:
        yield server


@pytest.fixture
def account(request: pytest.FixtureRequest) -> str:
    """An account of this test's own, so each test starts from an empty budget table."""
    return f"platform.example/{request.node.name}-{secrets.token_hex(4)}"


@pytest.fixture
def limiters() -> Iterator[list[AccountRateLimiter]]:
    """Limiters a test builds, closed (their pools with them) when it ends."""
    built: list[AccountRateLimiter] = []
    yield built
    for limiter in built:
        limiter.close()


def budget_table(account: str) -> str:
    """The account's table, as ``PostgresBucket`` names it."""
    return f"ratelimit___{rate_limit.bucket_key(account)}"


def slots_in_store(url: str, account: str) -> int:
    """The slots of the account's budget in the store's window (the last minute), counted in its table;
    0 when the table does not exist (yet)."""
    import psycopg

    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", (f'"{budget_table(account)}"',)).fetchone() == (None,):
            return 0
        row = conn.execute(
            f'SELECT count(*) FROM "{budget_table(account)}" '
            "WHERE item_timestamp > (now() AT TIME ZONE 'UTC') - interval '1 minute'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def logged(caplog: pytest.LogCaptureFixture, level: int = logging.WARNING) -> list[str]:
    """What ``rate_limit`` logged at ``level`` (other loggers, psycopg's pool among them, aside)."""
    return [r.getMessage() for r in caplog.records if r.name == rate_limit.__name__ and r.levelno == level]


# -- one budget for many processes ------------------------------------------------------------------------


def test_two_processes_limiters_share_one_budget(
    postgres: PostgresServer, account: str, limiters: list[AccountRateLimiter]
) -> None:
    settings = RateBudgetSettings(account, 3, store=postgres.url)
    worker, triggerer = AccountRateLimiter(settings), AccountRateLimiter(settings)
    limiters += [worker, triggerer]
    assert [worker.reserve(), triggerer.reserve(), worker.reserve()] == [0.0, 0.0, 0.0]
    wait = triggerer.reserve()
    assert 59.0 < wait <= 60.01 + rate_limit.WAIT_MARGIN_SECONDS
    assert worker.reserve() > 59.0
    assert slots_in_store(postgres.url, account) == 3


def test_accounts_do_not_share(
    postgres: PostgresServer, account: str, limiters: list[AccountRateLimiter]
) -> None:
    full = AccountRateLimiter(RateBudgetSettings(account, 1, store=postgres.url))
    other = AccountRateLimiter(RateBudgetSettings(f"{account}-other", 1, store=postgres.url))
    limiters += [full, other]
    assert full.reserve() == 0.0
    assert full.reserve() > 59.0
    assert other.reserve() == 0.0
    assert (slots_in_store(postgres.url, account), slots_in_store(postgres.url, f"{account}-other")) == (1, 1)


def test_sessions_in_other_time_zones_count_the_same_slots(
    postgres: PostgresServer,
    account: str,
    limiters: list[AccountRateLimiter],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``PostgresBucket`` stores local times (``TIMESTAMP`` without a zone) in the session's time zone:
    a worker whose sessions default to another zone (``PGTZ``, ``ALTER ROLE ... SET TimeZone``; or one
    zone across a daylight-saving change) must still see every slot in the window, not hours away."""
    settings = RateBudgetSettings(account, 3, store=postgres.url)
    monkeypatch.setenv("PGTZ", "America/New_York")
    in_new_york = AccountRateLimiter(settings)
    limiters.append(in_new_york)
    assert [in_new_york.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    monkeypatch.setenv("PGTZ", "Asia/Tokyo")
    in_tokyo = AccountRateLimiter(settings)
    limiters.append(in_tokyo)
    assert in_tokyo.reserve() > 59.0
    assert slots_in_store(postgres.url, account) == 3


def test_the_pools_sessions_cannot_hang_a_task(
    postgres: PostgresServer, account: str, limiters: list[AccountRateLimiter]
) -> None:
    """psycopg has no client-side query timeout: the store's sessions carry a statement timeout, TCP
    keepalives and a TCP user timeout, so that a database or a network that stops answering costs
    seconds (then the in-process budget), not a task stuck for ever."""
    limiter = AccountRateLimiter(RateBudgetSettings(account, 3, store=postgres.url))
    limiters.append(limiter)
    assert limiter.reserve() == 0.0
    with limiter._shared_bucket().pool.connection() as conn:  # type: ignore[attr-defined]
        settings = conn.execute("SELECT current_setting('statement_timeout'), current_setting('TimeZone')")
        assert settings.fetchone() == ("2s", "UTC")
        parameters = conn.info.get_parameters()
    assert parameters["keepalives"] == "1"
    silent = int(parameters["keepalives_idle"])
    silent += int(parameters["keepalives_count"]) * int(parameters["keepalives_interval"])
    assert silent <= 10  # seconds before a silent peer counts as gone
    assert parameters["tcp_user_timeout"] == "2000"


# -- contention for the table lock ----------------------------------------------------------------------


def test_a_budget_locked_by_another_process_means_try_again_soon_not_a_store_failure(
    postgres: PostgresServer,
    account: str,
    limiters: list[AccountRateLimiter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``PostgresBucket.put`` takes the table's lock with NOWAIT and refuses the slot, with no wait of its
    own, while another process holds it. The answer is a short wait, with the store still in use: also
    when the table holds entries older than the window (not yet removed), from which the bucket derives a
    negative wait."""
    import psycopg

    limiter = AccountRateLimiter(RateBudgetSettings(account, 3, store=postgres.url))
    limiters.append(limiter)
    assert limiter.reserve() == 0.0  # creates the table
    table = budget_table(account)
    with psycopg.connect(postgres.url) as other_process, caplog.at_level(logging.DEBUG, rate_limit.__name__):
        other_process.execute(
            f"INSERT INTO \"{table}\" SELECT 'koreai', 1, now() - interval '2 minutes' "
            "FROM generate_series(1, 5)"
        )
        other_process.commit()
        other_process.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        wait = limiter.reserve()
        assert 0.0 < wait < SHORT_WAIT
        assert limiter.uses_store
        other_process.rollback()  # releases the lock
        assert limiter.reserve() == 0.0
    assert logged(caplog) == []
    assert slots_in_store(postgres.url, account) == 2


def test_two_threads_hammering_one_budget_admit_exactly_its_size(
    postgres: PostgresServer,
    account: str,
    limiters: list[AccountRateLimiter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two processes' limiters (no lock in common but the table's), 20 requests each at once, against 20
    a minute: exactly 20 admitted, the other 20 told to wait about a minute; contention for the table
    lock only ever means "try again soon". The table already holds entries older than the window."""
    import psycopg

    settings = RateBudgetSettings(account, 20, store=postgres.url)
    first, second = AccountRateLimiter(settings), AccountRateLimiter(settings)
    limiters += [first, second]
    with psycopg.connect(postgres.url) as conn:  # the table, with 30 stale entries
        assert first.reserve() == 0.0
        conn.execute(
            f"INSERT INTO \"{budget_table(account)}\" SELECT 'koreai', 1, now() - interval '5 minutes' "
            "FROM generate_series(1, 30)"
        )
    admitted = [1]  # the slot taken above
    refused: list[float] = []
    retries: list[int] = []
    start = threading.Barrier(2)

    def hammer(limiter: AccountRateLimiter, requests: int) -> None:
        start.wait()
        for _ in range(requests):
            for attempt in range(1000):
                wait = limiter.reserve()
                if wait == 0.0:
                    admitted.append(1)
                    break
                if wait >= SHORT_WAIT:
                    refused.append(wait)
                    break
                retries.append(attempt)  # no sleep: as much contention as two threads can make
            else:
                raise AssertionError("contention for the table lock never ended")

    with caplog.at_level(logging.DEBUG, rate_limit.__name__):
        threads = [threading.Thread(target=hammer, args=(lim, n)) for lim, n in ((first, 19), (second, 20))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
    assert len(admitted) == 20
    assert len(refused) == 20
    assert all(59.0 < wait <= 60.01 + rate_limit.WAIT_MARGIN_SECONDS for wait in refused)
    assert logged(caplog) == []
    assert slots_in_store(postgres.url, account) == 20


# -- a store that is down, or refuses us ------------------------------------------------------------------


def test_a_store_that_goes_down_mid_use_costs_one_warning_and_comes_back(
    limiters: list[AccountRateLimiter],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    in_process_slots: list[object],
) -> None:
    """The server stops (by its PID) between two slots: the next ones come from the process's own
    budget, with one warning naming the store without its password. A server on the same port again, and
    the retry period over: the store is used again, and the log says so."""
    _require_postgres()
    monkeypatch.setattr(rate_limit, "STORE_RETRY_SECONDS", 0.0)  # try the store at every slot
    password = secrets.token_urlsafe(12)
    with caplog.at_level(logging.DEBUG):
        with PostgresServer(password=password) as doomed:
            port, url = doomed.port, doomed.url
            limiter = AccountRateLimiter(RateBudgetSettings(ACCOUNT, 5, store=url))
            limiters.append(limiter)
            assert [limiter.reserve(), limiter.reserve()] == [0.0, 0.0]
            assert slots_in_store(url, ACCOUNT) == 2
        assert doomed.pid is None  # stopped by its PID

        assert limiter.reserve() == 0.0  # from the process's budget
        assert limiter.reserve() == 0.0  # the store is tried again: still down, no second warning
        assert len(in_process_slots) == 2
        [warning] = logged(caplog)
        assert f"the store postgresql://127.0.0.1:{port}/postgres is unreachable" in warning
        assert "paced in this process only (5/minute)" in warning

        with PostgresServer(password=password, port=port) as back:
            assert back.url == url
            assert limiter.reserve() == 0.0
            assert slots_in_store(url, ACCOUNT) == 1  # a new server: the old slots went with the old one
            assert limiter.reserve() == 0.0
            assert slots_in_store(url, ACCOUNT) == 2
            assert len(in_process_slots) == 2
    assert logged(caplog, logging.INFO) == [
        f"Kore.ai rate budget: the store postgresql://127.0.0.1:{port}/postgres answers again"
    ]
    assert len(logged(caplog)) == 1
    assert password not in caplog.text


@pytest.mark.parametrize("refusal", ["wrong password", "no such database"])
def test_a_store_that_refuses_us_paces_in_process_with_one_warning(
    postgres: PostgresServer,
    limiters: list[AccountRateLimiter],
    caplog: pytest.LogCaptureFixture,
    in_process_slots: list[object],
    refusal: str,
) -> None:
    assert postgres.password is not None
    if refusal == "wrong password":
        url = postgres.url.replace(postgres.password, "not-the-password")
        shown = f"postgresql://127.0.0.1:{postgres.port}/postgres"
    else:
        url = postgres.url.replace("/postgres", "/no_such_database")
        shown = f"postgresql://127.0.0.1:{postgres.port}/no_such_database"
    limiter = AccountRateLimiter(RateBudgetSettings(ACCOUNT, 2, store=url))
    limiters.append(limiter)
    with caplog.at_level(logging.DEBUG):
        assert [limiter.reserve(), limiter.reserve()] == [0.0, 0.0]
        assert limiter.reserve() > 59.0  # the in-process budget holds
    assert not limiter.uses_store  # not asked again before STORE_RETRY_SECONDS
    [warning] = logged(caplog)
    assert f"the store {shown} is unreachable" in warning
    assert len(in_process_slots) == 2
    assert slots_in_store(postgres.url, ACCOUNT) == 0
    assert postgres.password not in caplog.text
    assert "not-the-password" not in caplog.text
