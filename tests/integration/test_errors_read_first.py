"""What a user reads first: every error and retry warning starts with what is wrong and what to do (the
first 80 characters, as Airflow's log view shows them without wrapping), then the status and the call.
And failures no retry can fix (a host that does not resolve, TLS) end the call at once."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import KoreAIError, KoreAITransportError
from airflow_provider_koreai.hooks.koreai import KoreAIHook

pytestmark = pytest.mark.integration

LIST_ID = "cl-demo-renewals-due"
#: Airflow's task log view shows about this much of a line without scrolling.
FIRST_WORDS = 80
UNKNOWN_HOST = "koreai-nowhere.invalid"


def fast_hook(**kwargs: Any) -> KoreAIHook:
    return KoreAIHook(backoff_initial=0.01, backoff_max=0.02, **kwargs)


def update(hook: KoreAIHook, list_id: str = LIST_ID) -> Any:
    return hook.update_contact_list(list_id, name="Renewal Due - September 2025", allow_duplicates=True)


def point_at(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    conn = emulator.airflow_connection() | {"host": host}
    monkeypatch.setenv("AIRFLOW_CONN_KOREAI_DEFAULT", json.dumps(conn))


def a_closed_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unknown_host(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``UNKNOWN_HOST`` does not resolve, as a typo in the Host would not; no DNS query leaves the
    machine. Returns the names asked for, once per connection attempt."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host  # httpx's backends ask in bytes
        if name == UNKNOWN_HOST:
            asked.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    ("fault", "list_id", "first_words"),
    [
        (None, "cl-nobody-knows", "Contact list cl-nobody-knows not found: check the contact list id"),
        ({"status": 401}, LIST_ID, "Kore.ai refused the credentials: check the connection's Client ID"),
        ({"status": 503, "count": 9}, LIST_ID, "Kore.ai failed with a server error: it may pass by itself"),
        (
            {"status": 429, "retry_after": 600},
            LIST_ID,
            "Kore.ai's rate limit was reached: Kore.ai asked to wait",
        ),
        ({"status": 200, "body": "<html>login</html>"}, LIST_ID, "Kore.ai's answer is not what its API "),
    ],
)
def test_an_answered_error_says_what_and_what_to_do_first(
    emulator: EmulatorServer, fault: dict[str, Any] | None, list_id: str, first_words: str
) -> None:
    if fault is not None:
        emulator.inject_fault(route="update_contact_list", **fault)

    with pytest.raises(KoreAIError) as raised:
        update(fast_hook(max_attempts=2, retry_timeout=5), list_id)

    message = str(raised.value)
    assert message[:FIRST_WORDS].startswith(first_words[:FIRST_WORDS]), message
    assert f"PUT .../contactList/{list_id})" in message, "the status and the call follow"
    assert "HTTP " in message


def test_a_refused_connection_is_retried_and_every_warning_names_the_cause(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A refused connection may be a restart under way: retried within the call's budget, each warning
    starting with the cause."""
    port = a_closed_port()
    point_at(emulator, monkeypatch, f"http://127.0.0.1:{port}")

    with pytest.raises(KoreAITransportError) as raised:
        update(fast_hook(max_attempts=3))

    warnings = [line for line in capfd.readouterr().out.splitlines() if "retrying in" in line]
    assert len(warnings) == 2, warnings
    assert all("Connection refused: retrying in" in line for line in warnings), warnings
    message = str(raised.value)
    assert message.startswith(f"Could not connect to http://127.0.0.1:{port} (connection refused): check")
    assert raised.value.retryable, "a task retry may find it up again"


def test_a_host_that_does_not_resolve_fails_at_once(
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    unknown_host: list[str],
    capfd: pytest.CaptureFixture[str],
) -> None:
    point_at(emulator, monkeypatch, f"https://{UNKNOWN_HOST}")

    with pytest.raises(KoreAITransportError) as raised:
        update(fast_hook(max_attempts=5))

    assert unknown_host == [UNKNOWN_HOST], "one attempt: no retry can make a name resolve"
    assert "retrying in" not in capfd.readouterr().out
    error = raised.value
    assert str(error).startswith(f"Host {UNKNOWN_HOST} not found (name not resolved): check the connection's")
    assert (error.retry_within_call, error.retryable, error.outcome_unknown) == (False, False, False)


def test_the_triggerers_path_fails_at_once_on_a_host_that_does_not_resolve(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, unknown_host: list[str]
) -> None:
    point_at(emulator, monkeypatch, f"https://{UNKNOWN_HOST}")

    async def read() -> Any:
        hook = fast_hook(max_attempts=5)
        try:
            return await hook.acount_contacts(LIST_ID)
        finally:
            await hook.aclose()

    with pytest.raises(KoreAITransportError, match="name not resolved") as raised:
        asyncio.run(read())

    assert len(unknown_host) == 1
    assert not raised.value.retryable


def test_a_task_fails_for_good_on_a_host_that_does_not_resolve(
    emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch, unknown_host: list[str]
) -> None:
    """``AirflowFailException``: the task's own retries would fail the same way (1.5 minutes before)."""
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator

    point_at(emulator, monkeypatch, f"https://{UNKNOWN_HOST}")
    operator = UpdateContactListOperator(
        task_id="update", contact_list_id=LIST_ID, name="Renewal Due - September 2025", allow_duplicates=True
    )

    with pytest.raises(AirflowFailException, match="name not resolved"):
        operator.execute({"ti": None})  # type: ignore[typeddict-item]
    assert len(unknown_host) == 1
