"""``KoreAIHook`` across a real wire: the emulator on 127.0.0.1, real JWTs, scripted faults."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import (
    KoreAIAuthenticationError,
    KoreAINotFoundError,
    KoreAIPartialUploadError,
    KoreAIRateLimitedError,
    KoreAIRequestRejectedError,
    KoreAIServerError,
    KoreAITransportError,
)
from airflow_provider_koreai.hooks.koreai import KoreAIHook

pytestmark = pytest.mark.integration

LIST_ID = "cl-demo-renewals-due"


def fast_hook(**kwargs: Any) -> KoreAIHook:
    return KoreAIHook(backoff_initial=0.05, backoff_max=0.2, **kwargs)


def update(hook: KoreAIHook, list_id: str = LIST_ID, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"name": "Renewal Due - September 2025", "allow_duplicates": True}
    kwargs.update(overrides)
    return hook.update_contact_list(list_id, **kwargs)


def update_requests(server: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in server.recorded_requests() if r["route"] == "update_contact_list"]


def test_update_is_applied_and_answered_as_documented(emulator: EmulatorServer) -> None:
    data = update(fast_hook(), description="Policies renewing in September")

    assert data["contactListId"] == LIST_ID
    assert data["body"]["name"] == "Renewal Due - September 2025"
    assert data["body"]["iId"] == emulator.settings.iid
    assert data["body"]["accountId"] == emulator.settings.account_id
    stored = emulator.contact_list(LIST_ID)
    assert stored is not None
    assert (stored["name"], stored["description"], stored["allowDuplicates"]) == (
        "Renewal Due - September 2025",
        "Policies renewing in September",
        True,
    )
    (recorded,) = update_requests(emulator)
    assert recorded["method"] == "PUT"
    assert recorded["body"] == {
        "name": "Renewal Due - September 2025",
        "source": "passiveApiIntegration",
        "allowDuplicates": True,
        "description": "Policies renewing in September",
    }
    assert recorded["headers"]["auth"] == "<redacted>"


def test_tenant_enforcing_jti_accepts_every_call(emulator: EmulatorServer) -> None:
    # The emulator rejects a reused jti, so ten calls through one hook prove a fresh token per request.
    hook = fast_hook()
    for month in range(1, 11):
        update(hook, name=f"Renewal Due - 2025-{month:02d}")
    assert emulator.contact_list(LIST_ID)["name"] == "Renewal Due - 2025-10"  # type: ignore[index]
    assert [r["status"] for r in update_requests(emulator)] == [200] * 10


def test_429_with_and_without_retry_after_then_success(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", count=1, status=429, retry_after=1)
    emulator.inject_fault(route="update_contact_list", count=1, status=429)  # no Retry-After: our backoff
    started = time.monotonic()

    update(fast_hook())

    assert time.monotonic() - started >= 1.0, "Retry-After: 1 must be honoured"
    assert [r["status"] for r in update_requests(emulator)] == [429, 429, 200]


def test_5xx_burst_then_success(emulator: EmulatorServer, capfd: pytest.CaptureFixture[str]) -> None:
    for status in (500, 502, 503):
        emulator.inject_fault(route="update_contact_list", status=status)
    update(fast_hook())
    assert [r["status"] for r in update_requests(emulator)] == [500, 502, 503, 200]
    assert "HTTP 500 from Kore.ai: retrying in 0.1 s (attempt 1;" in capfd.readouterr().out
    assert emulator.contact_list(LIST_ID)["name"] == "Renewal Due - September 2025"  # type: ignore[index]


def test_5xx_exhaustion_fails_with_the_status(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = emulator.airflow_connection()
    connection["extra"]["max_attempts"] = 3
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(connection))
    emulator.inject_fault(route="update_contact_list", count=10, status=503)
    with pytest.raises(KoreAIServerError, match="HTTP 503"):
        update(fast_hook())
    assert len(update_requests(emulator)) == 3, "the connection's max_attempts extra"


@pytest.mark.parametrize("when", ["before", "after"])
def test_dropped_connection_is_retried_and_lands_once(emulator: EmulatorServer, when: str) -> None:
    emulator.inject_fault(route="update_contact_list", drop=when)
    update(fast_hook())
    assert len(update_requests(emulator)) == 2
    assert emulator.contact_list(LIST_ID)["name"] == "Renewal Due - September 2025"  # type: ignore[index]


def test_read_timeout_is_retried(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", delay=1.5)
    update(fast_hook(timeout=0.5))
    assert emulator.contact_list(LIST_ID)["name"] == "Renewal Due - September 2025"  # type: ignore[index]


def test_read_timeouts_exhausted_say_outcome_unknown(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", count=2, delay=1.0)
    with pytest.raises(KoreAITransportError) as excinfo:
        update(fast_hook(timeout=0.3, max_attempts=2))
    assert excinfo.value.outcome_unknown
    assert "may or may not have been applied" in str(excinfo.value)
    assert "idempotent" in str(excinfo.value)


def test_wrong_secret_is_a_401_with_a_hint(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong_secret = "not-the-secret-" + "x" * 32
    connection = emulator.airflow_connection() | {"password": wrong_secret}
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(connection))

    with pytest.raises(KoreAIAuthenticationError) as excinfo:
        update(fast_hook())

    error = excinfo.value
    assert (error.http_status, error.code) == (401, 4002)
    assert error.kore_message.startswith("Invalid JWT token")
    assert "Client Secret" in str(error)
    assert "Campaign Management" in str(error)
    assert wrong_secret not in str(error)
    assert len(update_requests(emulator)) == 1, "authentication failures are not retried"


def test_unknown_list_is_a_404(emulator: EmulatorServer) -> None:
    with pytest.raises(KoreAINotFoundError, match="cl-does-not-exist"):
        update(fast_hook(), list_id="cl-does-not-exist")
    assert len(update_requests(emulator)) == 1


@pytest.mark.parametrize("status", [400, 405, 412])
def test_client_errors_are_not_retried(emulator: EmulatorServer, status: int) -> None:
    body = json.dumps({"errors": [{"message": "Validation errors", "code": status}]})
    emulator.inject_fault(route="update_contact_list", status=status, body=body)
    with pytest.raises(KoreAIRequestRejectedError, match=f"HTTP {status}.*Validation errors"):
        update(fast_hook())
    assert len(update_requests(emulator)) == 1


def test_name_taken_by_another_list_is_rejected(emulator: EmulatorServer) -> None:
    other = next(item for item in emulator.contact_lists() if item["_id"] != LIST_ID)
    with pytest.raises(KoreAIRequestRejectedError, match="HTTP 409"):
        update(fast_hook(), name=other["name"])


def test_hostile_id_never_reaches_another_endpoint(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="*", count=1, status=599)  # would surface if anything were sent
    with pytest.raises(ValueError, match="contact_list_id"):
        update(fast_hook(), list_id="../getAllListDetails")
    assert emulator.recorded_requests() == []
    emulator.clear_faults()


def test_test_connection(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    ok, message = KoreAIHook().test_connection()
    assert ok, message
    assert f"{len(emulator.contact_lists())} contact list(s)" in message

    emulator.inject_fault(route="list_contact_lists", count=5, status=503)
    ok, message = KoreAIHook().test_connection()
    assert not ok
    assert "HTTP 503" in message
    assert [r["status"] for r in emulator.recorded_requests()] == [200, 503], "the Test button does not retry"
    emulator.clear_faults()

    monkeypatch.setenv(
        "AIRFLOW_CONN_KOREAI_DEFAULT",
        json.dumps(emulator.airflow_connection() | {"login": "cs-unknown-client"}),
    )
    ok, message = KoreAIHook().test_connection()
    assert not ok
    assert "HTTP 401" in message
    assert emulator.settings.client_secret not in message


def test_get_contact_list_reads_what_update_wrote(emulator: EmulatorServer) -> None:
    hook = fast_hook()
    update(hook, description="as of today")
    stored = hook.get_contact_list(LIST_ID)
    assert stored["_id"] == LIST_ID
    assert stored["name"] == "Renewal Due - September 2025"
    assert stored["description"] == "as of today"
    assert isinstance(stored["totalRecordCount"], int)


def test_reused_token_without_jti_when_the_app_does_not_enforce_it(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = emulator.airflow_connection()
    connection["extra"]["enforce_jti"] = "false"
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(connection))
    hook = fast_hook()
    for month in range(1, 6):
        update(hook, name=f"Renewal Due - 2025-{month:02d}")
    assert [r["status"] for r in update_requests(emulator)] == [200] * 5


def test_create_dropped_after_applying_leaves_exactly_one_list(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="create_contact_list", drop="after")
    created = fast_hook().create_contact_list(name="Overdue Invoices - October")
    named = [item for item in emulator.contact_lists() if item["name"] == "Overdue Invoices - October"]
    assert [item["_id"] for item in named] == [created["_id"]]
    routes = [r["route"] for r in emulator.recorded_requests()]
    assert routes == ["create_contact_list", "list_contact_lists"], "found by name, not created twice"


def test_contacts_round_trip_through_async_ingestion(emulator: EmulatorServer) -> None:
    hook = fast_hook()
    created = hook.create_contact_list(name="Round trip", allow_duplicates=True)
    rows = ({"phoneNumber": f"+1555{n:07d}", "firstName": f"N{n}"} for n in range(250))
    assert hook.add_contacts("Round trip", rows, chunk_size=100) == {"rows_sent": 250, "chunks_sent": 3}
    deadline = time.monotonic() + 10
    while hook.get_contact_list(created["_id"])["totalRecordCount"] < 250 and time.monotonic() < deadline:
        time.sleep(0.1)
    contacts = list(hook.iter_contacts(created["_id"], page_size=40))
    assert len(contacts) == 250
    assert contacts[0]["firstName"] == "N0"
    assert hook.delete_contact_list(created["_id"])["name"] == "Round trip"
    assert emulator.contact_list(created["_id"]) is None


def test_delete_dropped_after_applying_is_a_success(emulator: EmulatorServer) -> None:
    unused = "cl-demo-churn-risk"  # LIST_ID cannot be deleted: the seeded campaign uses it
    emulator.inject_fault(route="delete_contact_list", drop="after")
    assert fast_hook().delete_contact_list(unused) == {}
    assert emulator.contact_list(unused) is None
    statuses = [r["status"] for r in emulator.recorded_requests() if r["route"] == "delete_contact_list"]
    assert statuses == [None, 404]


def test_delete_of_an_unknown_list_is_not_found(emulator: EmulatorServer) -> None:
    with pytest.raises(KoreAINotFoundError):
        fast_hook().delete_contact_list("cl-never-existed")


def test_adding_to_an_unknown_list_name_says_lists_are_addressed_by_name(emulator: EmulatorServer) -> None:
    with pytest.raises(
        KoreAIPartialUploadError, match="No contact list named 'No such list': check the exact name"
    ) as excinfo:
        fast_hook().add_contacts("No such list", [{"phoneNumber": "+15550000001"}])
    assert isinstance(excinfo.value.cause, KoreAINotFoundError)
    error = excinfo.value
    assert (error.rows_accepted, error.outcome_unknown, error.retryable) == (0, False, False)
    assert "rows 1-1 (the failed chunk) were not added; the 0 row(s) in 0 chunk(s)" in str(error)


def test_a_create_under_repeated_ambiguous_failures_keeps_to_one_retry_budget(
    emulator: EmulatorServer,
) -> None:
    """Every request of a create (the POSTs, and the lookups that resolve their unknown outcomes, each with
    retries of its own) draws on one ``retry_timeout``: none starts after it, so the call ends within
    ``retry_timeout`` plus one request timeout. Before, each lookup had a budget of its own."""
    retry_timeout, timeout = 2.0, 0.5
    # Every create hangs up without an answer (an unknown outcome; not applied, so each lookup finds
    # nothing and the create is sent again), and the first lookups fail with a 503 (retried).
    emulator.inject_fault(route="create_contact_list", delay=0.8 * timeout, drop="before", count=100)
    emulator.inject_fault(route="list_contact_lists", status=503, count=3)
    hook = fast_hook(timeout=timeout, retry_timeout=retry_timeout, max_attempts=20)
    sent_at: list[float] = []
    session = hook.get_conn()
    real_request = session.request

    def timed_request(*args: Any, **kwargs: Any) -> Any:
        sent_at.append(time.monotonic())
        return real_request(*args, **kwargs)

    session.request = timed_request  # type: ignore[method-assign]
    start = time.monotonic()
    with pytest.raises((KoreAIServerError, KoreAITransportError)):
        hook.create_contact_list(name="Budget - November")
    elapsed = time.monotonic() - start

    routes = [r["route"] for r in emulator.recorded_requests()]
    assert routes.count("create_contact_list") >= 2, routes
    assert routes.count("list_contact_lists") >= 4, routes
    assert "Budget - November" not in {item["name"] for item in emulator.contact_lists()}
    late = [round(at - start, 2) for at in sent_at if at - start > retry_timeout]
    assert late == [], f"requests sent after retry_timeout={retry_timeout} s: {late}"
    # One request timeout past the budget, plus slack for a shared, noisy machine.
    assert elapsed < retry_timeout + timeout + 1.0, f"the create took {elapsed:.2f} s"


def test_a_retry_after_beyond_the_budget_ends_the_call_at_once(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="update_contact_list", status=429, retry_after=600)
    with pytest.raises(KoreAIRateLimitedError, match="wait 600 s") as excinfo:
        update(fast_hook(retry_timeout=5))
    assert excinfo.value.retry_after == 600
    assert len(update_requests(emulator)) == 1, "no waiting in vain for a slot the budget cannot reach"


def test_a_429_on_create_is_retried_it_was_not_applied(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="create_contact_list", status=429, retry_after=0)
    created = fast_hook().create_contact_list(name="Throttled - November")
    routes = [r["route"] for r in emulator.recorded_requests()]
    assert routes == ["create_contact_list", "create_contact_list"], "a 429 needs no lookup first"
    assert [item["_id"] for item in emulator.contact_lists() if item["name"] == "Throttled - November"] == [
        created["_id"]
    ]


def test_a_5xx_on_create_is_looked_up_before_it_is_sent_again(emulator: EmulatorServer) -> None:
    """A 5xx may hide an applied create; here nothing was applied (a scripted 503), so the lookup finds
    nothing and the create is sent again: exactly one list results."""
    emulator.inject_fault(route="create_contact_list", status=503)
    created = fast_hook().create_contact_list(name="Gateway - November")
    routes = [r["route"] for r in emulator.recorded_requests()]
    assert routes == ["create_contact_list", "list_contact_lists", "create_contact_list"]
    assert [item["_id"] for item in emulator.contact_lists() if item["name"] == "Gateway - November"] == [
        created["_id"]
    ]


def test_429s_are_bounded_by_time_not_attempts(emulator: EmulatorServer) -> None:
    """Seven 429s in a row (nothing applied, retrying is safe) do not exhaust max_attempts=2: the call
    waits for Kore.ai while retry_timeout lasts. Two 503s with max_attempts=2 still end it."""
    emulator.inject_fault(route="update_contact_list", status=429, retry_after=0, count=7)
    assert update(fast_hook(max_attempts=2))["contactListId"] == LIST_ID
    assert [r["status"] for r in update_requests(emulator)] == [429] * 7 + [200]

    emulator.clear_requests()
    emulator.inject_fault(route="update_contact_list", status=503, count=2)
    with pytest.raises(KoreAIServerError):
        update(fast_hook(max_attempts=2))
    assert [r["status"] for r in update_requests(emulator)] == [503, 503]
