"""Create / delete / add-contacts operators across a real wire: the emulator on 127.0.0.1, scripted faults."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.exceptions import KoreAIPartialUploadError, KoreAIServerError
from airflow_provider_koreai.operators.contact_list import (
    AddContactsOperator,
    CreateContactListOperator,
    DeleteContactListOperator,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_backoff")]

NAME = "Lifecycle - September 2025"


def run(operator: Any) -> tuple[Any, dict[str, Any]]:
    """Render and execute as a worker would; returns (return value, XComs pushed by key)."""
    ti = mock.MagicMock()
    context: dict[str, Any] = {"ti": ti, "params": {}}
    operator.render_template_fields(context)
    result = operator.execute(context)
    return result, {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


def lists_named(server: EmulatorServer, name: str) -> list[dict[str, Any]]:
    return [item for item in server.contact_lists() if item["name"] == name]


def create(**kwargs: Any) -> tuple[Any, dict[str, Any]]:
    return run(CreateContactListOperator(task_id="create", **{"name": NAME, **kwargs}))


def wait_for_count(server: EmulatorServer, list_id: str, expected: int, timeout: float = 10.0) -> int:
    """Kore.ai (and the emulator) ingest asynchronously: poll the list's totalRecordCount, bounded."""
    deadline = time.monotonic() + timeout
    while True:
        count = server.contact_list(list_id)["totalRecordCount"]  # type: ignore[index]
        if count == expected or time.monotonic() > deadline:
            return int(count)
        time.sleep(0.05)


def test_create_twice_keeps_one_list(emulator: EmulatorServer) -> None:
    first, first_xcom = create(description="Renewals", allow_duplicates=True)
    second, second_xcom = create(description="Renewals", allow_duplicates=True)

    assert first_xcom == {"contact_list_id": first["_id"], "created": True}
    assert second_xcom == {"contact_list_id": first["_id"], "created": False}
    assert second["_id"] == first["_id"]
    (stored,) = lists_named(emulator, NAME)
    assert stored["_id"] == first["_id"]
    creates = [r for r in emulator.recorded_requests() if r["route"] == "create_contact_list"]
    assert len(creates) == 1


def test_update_mode_applies_the_settings_to_the_existing_list(emulator: EmulatorServer) -> None:
    created, _ = create(description="old", allow_duplicates=False)
    updated, xcom = create(description="new", allow_duplicates=True, if_exists="update")

    assert updated["_id"] == created["_id"] == xcom["contact_list_id"]
    assert (updated["description"], updated["allowDuplicates"]) == ("new", True)
    (stored,) = lists_named(emulator, NAME)
    assert (stored["description"], stored["allowDuplicates"]) == ("new", True)


def test_fail_mode_creates_a_missing_list_then_fails_naming_it(emulator: EmulatorServer) -> None:
    created, xcom = create(if_exists="fail")
    assert xcom == {"contact_list_id": created["_id"], "created": True}
    with pytest.raises(AirflowFailException, match=f"already exists as {created['_id']}"):
        create(if_exists="fail")
    assert len(lists_named(emulator, NAME)) == 1


def test_ambiguous_create_ends_with_exactly_one_list(emulator: EmulatorServer) -> None:
    # Kore.ai applies the create, then the connection drops before any answer.
    emulator.inject_fault(route="create_contact_list", drop="after")

    result, xcom = create()

    (stored,) = lists_named(emulator, NAME)
    assert result["_id"] == stored["_id"] == xcom["contact_list_id"]
    creates = [r for r in emulator.recorded_requests() if r["route"] == "create_contact_list"]
    assert len(creates) == 1  # resolved by a lookup, not by sending the create again
    assert emulator.pending_faults() == []


def test_delete_then_delete_again_with_missing_ok(emulator: EmulatorServer) -> None:
    created, _ = create()
    list_id = created["_id"]

    deleted, _ = run(DeleteContactListOperator(task_id="delete", contact_list_id=list_id))
    assert deleted["_id"] == list_id
    assert emulator.contact_list(list_id) is None

    again, _ = run(DeleteContactListOperator(task_id="delete", contact_list_id=list_id, missing_ok=True))
    assert again is None
    with pytest.raises(AirflowFailException, match="HTTP 404"):
        run(DeleteContactListOperator(task_id="delete", contact_list_id=list_id))


def write_csv(path: Path, valid: int, invalid_every: int = 0) -> list[int]:
    """``valid`` unique contacts; after every ``invalid_every`` of them, a row without a phone number.
    Returns the file lines of the invalid rows."""
    invalid_lines = []
    line = 1
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("Phone,firstName,lastName,timeZone,plan\r\n")
        for number in range(1, valid + 1):
            line += 1
            handle.write(f"+1415{number:07d},Zoë {number},Łukasiewicz,Europe/Warsaw,gold\r\n")
            if invalid_every and number % invalid_every == 0:
                line += 1
                invalid_lines.append(line)
                handle.write(f" ,No Phone {number},,,\r\n")
    return invalid_lines


def test_add_contacts_from_a_csv_in_three_chunks(emulator: EmulatorServer, tmp_path: Path) -> None:
    created, _ = create(allow_duplicates=False)
    path = tmp_path / "contacts.csv"
    invalid_lines = write_csv(path, valid=2500, invalid_every=500)
    assert len(invalid_lines) == 5

    result, xcom = run(
        AddContactsOperator(
            task_id="add",
            contact_list_name=NAME,
            path=str(path),
            column_map={"Phone": "phoneNumber"},
            max_invalid_rows=5,
            chunk_size=1000,
        )
    )

    assert xcom == {
        "rows_sent": 2500,
        "rows_rejected": 5,
        "chunks_sent": 3,
        "contact_list_id": created["_id"],
        "count_before": 0,
        "expected_count": 2500,
        "rows_sent_earlier": 0,
        "chunks_sent_earlier": 0,
        "rows_in_doubt": 0,
    }
    assert result["rejected"] == [f"line {line}: no phoneNumber" for line in invalid_lines]
    adds = [r for r in emulator.recorded_requests() if r["route"] == "add_contacts"]
    assert [len(r["body"]["data"]) for r in adds] == [1000, 1000, 500]
    assert wait_for_count(emulator, created["_id"], 2500) == 2500
    first = emulator.contacts(created["_id"])[0]
    assert {k: v for k, v in first.items() if k != "_id"} == {
        "phoneNumber": "+14150000001",
        "firstName": "Zoë 1",
        "lastName": "Łukasiewicz",
        "timeZone": "Europe/Warsaw",
        "plan": "gold",
    }


def test_too_many_invalid_rows_send_nothing(emulator: EmulatorServer, tmp_path: Path) -> None:
    create()
    path = tmp_path / "contacts.csv"
    write_csv(path, valid=30, invalid_every=10)
    with pytest.raises(AirflowFailException, match=r"3 invalid row\(s\).*nothing was sent"):
        run(
            AddContactsOperator(
                task_id="add",
                contact_list_name=NAME,
                path=str(path),
                max_invalid_rows=2,
                column_map={"Phone": "phoneNumber"},
            )
        )
    assert [r for r in emulator.recorded_requests() if r["route"] == "add_contacts"] == []


def test_a_503_mid_upload_says_which_rows_may_not_have_been_added(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    created, _ = create()
    path = tmp_path / "contacts.csv"
    write_csv(path, valid=2500)
    # The first chunk goes through untouched (a zero delay), the second is answered 503.
    emulator.inject_fault(route="add_contacts", delay=0)
    emulator.inject_fault(route="add_contacts", status=503)

    # Fails for good: a task retry would send the 1000 accepted rows again.
    with pytest.raises(AirflowFailException) as excinfo:
        run(
            AddContactsOperator(
                task_id="add",
                contact_list_name=NAME,
                path=str(path),
                column_map={"Phone": "phoneNumber"},
                chunk_size=1000,
            )
        )

    message = str(excinfo.value)
    assert "HTTP 503" in message
    upload_error = excinfo.value.__cause__
    assert isinstance(upload_error, KoreAIPartialUploadError)
    assert isinstance(upload_error.cause, KoreAIServerError)
    assert (upload_error.rows_accepted, upload_error.rows_failed) == (1000, 1000)
    assert upload_error.outcome_unknown
    assert message.count("line 1002 to line 2001") == 1, "the progress is told once"
    assert "line 1002 to line 2001 (the failed chunk) may or may not have been added" in message
    assert "the 1000 row(s) up to and including line 1001 were accepted" in message
    assert "nothing after line 2001 was sent" in message
    adds = [r for r in emulator.recorded_requests() if r["route"] == "add_contacts"]
    assert [r["status"] for r in adds] == [200, 503]
    assert wait_for_count(emulator, created["_id"], 1000) == 1000
