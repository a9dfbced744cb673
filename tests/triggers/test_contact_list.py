"""The trigger against the real emulator on 127.0.0.1, driven by ``asyncio.run`` as a triggerer would."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import KoreAIValidationError
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.transport import TRIGGERER_USER_AGENT as USER_AGENT
from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger
from tests.helpers.emulator import EMULATOR_DEFAULTS

RENEWALS = "cl-demo-renewals-due"  # seeded with 3 contacts
OVERDUE = "cl-demo-overdue-invoices"  # seeded with 1 contact, name "Overdue Invoices", duplicates allowed


@pytest.fixture
def emulator_settings() -> dict[str, Any]:
    """Contacts land 0.6 s after they were accepted: the trigger's first polls see the old count."""
    return {**EMULATOR_DEFAULTS, "ingestion_delay_seconds": 0.6}


def make_trigger(
    list_id: str = RENEWALS, expected: int = 3, within: float = 10.0, **kwargs: Any
) -> ContactListIngestedTrigger:
    kwargs.setdefault("poll_interval", 0.1)
    return ContactListIngestedTrigger(
        contact_list_id=list_id, expected_count=expected, deadline=time.time() + within, **kwargs
    )


def first_event(trigger: ContactListIngestedTrigger) -> dict[str, Any]:
    """The first event, as the triggerer takes it; the run must end by itself well within the test."""

    async def take() -> Any:
        async for event in trigger.run():
            return event
        raise AssertionError("the trigger ended without an event")

    event = asyncio.run(asyncio.wait_for(take(), timeout=30))
    return dict(event.payload)


def trigger_requests(emulator: EmulatorServer) -> list[dict[str, Any]]:
    """What the trigger sent (told apart from the hook's own calls by its User-Agent)."""
    return [r for r in emulator.recorded_requests() if r["headers"].get("user-agent") == USER_AGENT]


def assert_only_reads(emulator: EmulatorServer) -> list[dict[str, Any]]:
    sent = trigger_requests(emulator)
    assert sent, "the trigger sent nothing"
    assert {(r["method"], r["route"]) for r in sent} == {("GET", "get_contact_list")}
    return sent


# -- construction and serialization -------------------------------------------------------------------


def test_serialize_round_trips_and_holds_no_secret(emulator: EmulatorServer) -> None:
    trigger = ContactListIngestedTrigger(
        contact_list_id=RENEWALS, expected_count=5, deadline=1_900_000_000.5, poll_interval=30
    )

    classpath, kwargs = trigger.serialize()

    assert classpath == "airflow_provider_koreai.triggers.contact_list.ContactListIngestedTrigger"
    assert kwargs == {
        "contact_list_id": RENEWALS,
        "expected_count": 5,
        "deadline": 1_900_000_000.5,
        "koreai_conn_id": "koreai_default",
        "poll_interval": 30.0,
        "baseline_count": None,
        "settle_polls": None,
        "recent_counts": [],
        "moved": False,
        "hook_params": {},
    }
    assert ContactListIngestedTrigger(**kwargs).serialize() == (classpath, kwargs)
    text = json.dumps(kwargs) + repr(trigger)
    assert emulator.settings.client_secret not in text
    assert emulator.settings.client_id not in text
    assert "eyJ" not in text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": -1.0}, "poll_interval"),
        ({"expected_count": -1}, "expected_count"),
        ({"expected_count": "many"}, "expected_count"),
        ({"contact_list_id": "../x"}, "contact_list_id"),
        ({"deadline": "tomorrow"}, "deadline"),
    ],
)
def test_bad_arguments_are_refused(overrides: dict[str, Any], field: str) -> None:
    kwargs: dict[str, Any] = {"contact_list_id": RENEWALS, "expected_count": 1, "deadline": time.time()}
    kwargs.update(overrides)

    with pytest.raises(KoreAIValidationError) as caught:
        ContactListIngestedTrigger(**kwargs)
    assert caught.value.field == field


# -- run against the emulator ---------------------------------------------------------------------------


def test_success_once_the_contacts_are_ingested(emulator: EmulatorServer) -> None:
    records = [{"phoneNumber": f"+1415555{n:04d}"} for n in range(5)]
    KoreAIHook().add_contacts("Overdue Invoices", records)  # the write, on the "worker"
    listed = emulator.contact_list(OVERDUE)
    assert listed is not None
    assert listed["totalRecordCount"] == 1, "accepted, not yet ingested"

    event = first_event(make_trigger(OVERDUE, expected=6))

    assert event == {
        "status": "success",
        "contact_list_id": OVERDUE,
        "rule": "target_reached",
        "expected_count": 6,
        "total_record_count": 6,
        "baseline_count": 1,
        "missing": 0,
    }
    sent = assert_only_reads(emulator)
    assert all(r["headers"]["iid"] == emulator.settings.iid for r in sent)
    assert all(r["headers"]["accountid"] == emulator.settings.account_id for r in sent)
    writes = [r for r in emulator.recorded_requests() if r["method"] != "GET"]
    assert [r["route"] for r in writes] == ["add_contacts"], "only the hook wrote"


def test_transient_errors_are_waited_out(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="get_contact_list", status=503, count=2)
    emulator.inject_fault(route="get_contact_list", drop="before")

    event = first_event(make_trigger(RENEWALS, expected=3))

    assert (event["status"], event["total_record_count"]) == ("success", 3)
    assert [r["status"] for r in assert_only_reads(emulator)][-1] == 200
    assert len(trigger_requests(emulator)) == 4


def test_rate_limit_honours_retry_after(emulator: EmulatorServer) -> None:
    emulator.inject_fault(route="get_contact_list", status=429, retry_after=1)

    started = time.monotonic()
    event = first_event(make_trigger(RENEWALS, expected=3))
    elapsed = time.monotonic() - started

    assert event["status"] == "success"
    assert [r["status"] for r in assert_only_reads(emulator)] == [429, 200]
    assert elapsed >= 0.95, "the second read waited for Retry-After, not for the 0.1 s poll interval"


def test_unknown_list_is_a_permanent_error(emulator: EmulatorServer) -> None:
    event = first_event(make_trigger("cl-no-such-list"))

    assert event["status"] == "error"
    assert "HTTP 404" in event["message"]
    assert [r["status"] for r in assert_only_reads(emulator)] == [404], "not retried"


def test_refused_credentials_are_a_permanent_error(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = emulator.airflow_connection()
    conn["password"] = "not-the-secret-" + "x" * 40
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(conn))

    event = first_event(make_trigger())

    assert event["status"] == "error"
    assert "HTTP 401" in event["message"]
    assert conn["password"] not in event["message"]
    assert len(assert_only_reads(emulator)) == 1


def test_answer_without_a_count_is_a_permanent_error(emulator: EmulatorServer) -> None:
    body = json.dumps({"status": "success", "data": {"_id": RENEWALS, "name": "Renewals"}})
    emulator.inject_fault(route="get_contact_list", status=200, body=body)

    event = first_event(make_trigger())

    assert event["status"] == "error"
    assert "totalRecordCount is missing" in event["message"]


def test_timeout_at_the_deadline_reports_the_last_count(emulator: EmulatorServer) -> None:
    started = time.monotonic()
    event = first_event(make_trigger(RENEWALS, expected=50, within=0.5, poll_interval=0.2))
    elapsed = time.monotonic() - started

    assert event["status"] == "timeout"
    assert event["total_record_count"] == 3
    assert "did not reach 50 contacts" in event["message"]
    assert "last count read was 3" in event["message"]
    assert elapsed >= 0.4
    assert len(assert_only_reads(emulator)) >= 1


def test_unreachable_host_keeps_polling_until_the_deadline(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conn = emulator.airflow_connection() | {"host": f"http://127.0.0.1:{port}"}
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(conn))

    event = first_event(make_trigger(within=0.4, poll_interval=0.1))

    assert event["status"] == "timeout"
    assert event["total_record_count"] is None
    assert "no count was read" in event["message"]
    assert "connection refused" in event["message"]


def test_tls_failure_is_not_retried(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """https to the emulator's plain-http port: the handshake fails, and will fail the same way again."""
    conn = emulator.airflow_connection() | {"host": f"https://127.0.0.1:{emulator.port}"}
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(conn))

    event = first_event(make_trigger(within=5))

    assert event["status"] == "error"
    assert "TLS" in event["message"]


def test_missing_connection_is_an_error_event(emulator: EmulatorServer) -> None:
    event = first_event(make_trigger(koreai_conn_id="koreai_nowhere"))

    assert event["status"] == "error"
    assert "koreai_nowhere" in event["message"]
    assert emulator.recorded_requests() == []


# -- secrets masker ---------------------------------------------------------------------------------------


def test_polls_register_no_single_use_token_with_the_masker(
    emulator: EmulatorServer, masked_values: list[str]
) -> None:
    """The trigger signs through the hook's auth, so it follows the same rule: nothing per poll."""
    event = first_event(make_trigger(RENEWALS, expected=10**6, within=1.5, poll_interval=0.05))

    assert event["status"] == "timeout"
    polls = assert_only_reads(emulator)
    assert len(polls) >= 5
    assert [value for value in masked_values if value.startswith("eyJ")] == []


def test_the_connection_comes_from_common_compat(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version-safe async helper (``aget_connection`` can raise DeadlockImminentError before
    Airflow 3.3.2), not a private one of ours."""
    from airflow.providers.common.compat import connection as compat_connection

    original = compat_connection.get_async_connection
    asked: list[str] = []

    async def recording(conn_id: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(conn_id)
        return await original(conn_id, *args, **kwargs)

    monkeypatch.setattr(compat_connection, "get_async_connection", recording)

    event = first_event(make_trigger(RENEWALS, expected=3))

    assert event["status"] == "success"
    assert asked == ["koreai_default"]


def test_the_sensors_hook_params_bound_each_poll(emulator: EmulatorServer) -> None:
    """``hook_params`` travel into the trigger: its polls use the user's read timeout, not the
    connection's (30 s), so a slow answer ends that poll after 0.3 s and polling goes on. With the
    connection's timeout the first poll would hold the trigger until its deadline, and read no count."""
    emulator.inject_fault(route="get_contact_list", delay=2.0, count=1)

    event = first_event(
        make_trigger(expected=50, within=1.5, poll_interval=0.2, hook_params={"timeout": 0.3})
    )

    assert event["status"] == "timeout"
    assert event["total_record_count"] == 3, "the polls after the slow one were answered"
    assert len(trigger_requests(emulator)) >= 2


def test_hook_params_are_checked_when_the_trigger_is_built() -> None:
    with pytest.raises(KoreAIValidationError, match="hook_params"):
        make_trigger(hook_params={"timeout": "soon"})
