"""Two tasks updating one list, across a real wire: ``verify=True`` makes the lost update visible.

Kore.ai's update has no version check: of two writers, the last one wins and the first one's PUT is lost
without an error. The second writer is run between the first one's PUT and its read-back, so the order is
fixed (no timing): the first sees a conflict, the second none.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator
from tests.helpers.logs import lines_at

pytestmark = pytest.mark.integration

LIST_ID = "cl-demo-renewals-due"
FIRST, SECOND = "Renewals - first writer", "Renewals - second writer"


def writer(task_id: str, name: str, **kwargs: Any) -> UpdateContactListOperator:
    return UpdateContactListOperator(
        task_id=task_id, contact_list_id=LIST_ID, name=name, allow_duplicates=False, **kwargs
    )


def run(operator: UpdateContactListOperator) -> dict[str, Any]:
    """Render and execute as a worker would; returns the XComs pushed, by key."""
    ti = mock.MagicMock()
    context: dict[str, Any] = {"ti": ti, "params": {}}
    operator.render_template_fields(context)  # type: ignore[arg-type]
    operator.execute(context)  # type: ignore[arg-type]
    return {call.kwargs["key"]: call.kwargs["value"] for call in ti.xcom_push.call_args_list}


def test_the_writer_overtaken_between_its_update_and_its_read_back_sees_the_conflict(
    emulator: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    first = writer("first", FIRST, verify=True)
    read_back = first.hook.get_contact_list
    second_xcom: dict[str, Any] = {}

    def second_writer_then_read_back(contact_list_id: str) -> dict[str, Any]:
        second_xcom.update(run(writer("second", SECOND, verify=True)))
        return read_back(contact_list_id)

    with mock.patch.object(first.hook, "get_contact_list", side_effect=second_writer_then_read_back):
        first_xcom = run(first)

    assert emulator.contact_list(LIST_ID)["name"] == SECOND  # type: ignore[index]
    assert first_xcom["conflict"] is True
    assert first_xcom["differences"] == {"name": {"written": FIRST, "found": SECOND}}
    assert (second_xcom["verified"], second_xcom["conflict"], second_xcom["differences"]) == (True, False, {})
    (warning,) = lines_at(capsys.readouterr().out, "warning", "no longer holds what this task wrote")
    assert f"name: wrote {FIRST!r}, found {SECOND!r}" in warning
    routes = [request["route"] for request in emulator.recorded_requests()]
    assert routes == ["update_contact_list", "update_contact_list", "get_contact_list", "get_contact_list"]


def test_without_verify_the_update_sends_one_request_and_reads_nothing_back(emulator: EmulatorServer) -> None:
    xcom = run(writer("update", FIRST))

    assert xcom["verified"] is False
    assert "conflict" not in xcom
    assert [request["route"] for request in emulator.recorded_requests()] == ["update_contact_list"]
    assert emulator.contact_list(LIST_ID)["name"] == FIRST  # type: ignore[index]
