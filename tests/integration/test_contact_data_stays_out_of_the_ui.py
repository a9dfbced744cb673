"""Phone numbers and names never reach the UI's rendered template fields nor the task logs, however the
records reach ``AddContactsOperator``: the rendered ``records`` field is a summary (count and columns)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.compat import AIRFLOW_V_3_2_PLUS, dag_bag
from tests.helpers.dag_runs import xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAGS = Path(__file__).parent / "dags"
DAG_ID = "koreai_contact_data_in_the_ui"
LIST_NAME = "UI privacy - November"
CONTACT_DATA = ["+14155550199", "14155550199", "Grace", "Hopper", "Katherine", "Johnson"]


def stored_rendered_fields(dag_run: Any) -> dict[tuple[str, int], dict[str, Any]]:
    """Every task's rendered template fields, as stored for the UI's "Rendered Template" view."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(RenderedTaskInstanceFields).where(
                RenderedTaskInstanceFields.dag_id == dag_run.dag_id,
                RenderedTaskInstanceFields.run_id == dag_run.run_id,
            )
        ).all()
        return {(row.task_id, row.map_index): dict(row.rendered_fields) for row in rows}


def test_records_from_xcom_are_sent_but_never_shown(
    emulator: EmulatorServer, capfd: pytest.CaptureFixture[str]
) -> None:
    KoreAIHook().create_contact_list(name=LIST_NAME, allow_duplicates=True)
    bag = dag_bag(str(DAGS))
    dag = bag.get_dag(DAG_ID)
    assert dag is not None, bag.import_errors

    dag_run = dag.test()

    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert set(states.values()) == {"success"}, states
    assert xcom(dag_run, "add_from_xcomarg", "rows_sent") == 2
    assert xcom(dag_run, "add_from_template", "rows_sent") == 2
    sent = [r for r in emulator.recorded_requests() if r["route"] == "add_contacts"]
    assert sorted(len(r["body"]["data"]) for r in sent) == [1, 1, 2, 2], "the contacts did reach Kore.ai"

    rendered = stored_rendered_fields(dag_run)
    adds = {key: fields for key, fields in rendered.items() if key[0].startswith("add_")}
    assert sorted(adds) == [
        ("add_from_template", -1),
        ("add_from_xcomarg", -1),
        ("add_mapped", 0),
        ("add_mapped", 1),
    ]
    for key, fields in adds.items():
        shown = json.dumps(fields)
        assert not [value for value in CONTACT_DATA if value in shown], f"{key}: {shown}"
        assert "contact records; columns: firstName, lastName, phoneNumber" in fields["records"], fields
    assert adds[("add_from_xcomarg", -1)]["records"].startswith("<2 contact records")

    output = capfd.readouterr()
    logs = output.out + output.err
    assert "Sending 2 contact(s)" in logs, "the task logs were captured"
    # One success line per upload: the counts and the list, never a contact.
    added = [line for line in logs.splitlines() if "Added " in line and "to Kore.ai contact list" in line]
    # Airflow 3.0 and 3.1 echo each task log line once more into the captured output.
    copies = len(added) // 4
    assert copies >= 1, added
    assert len(added) == 4 * copies, added
    assert sum("Added 2 contact(s) to Kore.ai contact list" in line for line in added) == 2 * copies
    assert sum("Added 1 contact(s) to Kore.ai contact list" in line for line in added) == 2 * copies
    assert all(f"({LIST_NAME!r}) from " in line for line in added)
    leaks = [
        line
        for line in logs.splitlines()
        if any(value in line for value in CONTACT_DATA) and not airflow_debug_xcom_trace(line)
    ]
    assert leaks == []


def airflow_debug_xcom_trace(line: str) -> bool:
    """Airflow 3.0 and 3.1's task supervisor logs every XCom value it forwards, at DEBUG (the upstream task's
    returned contacts here): Airflow's trace of the user's XCom, not a log line of ours. 3.2+ do not."""
    return not AIRFLOW_V_3_2_PLUS and "[debug" in line and "msg=SetXCom(" in line
