"""The full lifecycle example (load -> create or reuse -> update -> add contacts -> wait for ingestion ->
report) through real Airflow (``dag.test()``), against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.integration.dag_runs import run_example_dag, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAG_ID = "koreai_refresh_contact_list"


def quick_polling(dag: Any) -> None:
    """The example polls every 30 s, as it should against Kore.ai; the emulator ingests in 0.2 s."""
    sensor = dag.get_task("wait_for_ingestion")
    sensor.poke_interval = 0.2
    sensor.timeout = 30


def run(tmp_path: Path, day: int, customers: int) -> Any:
    return run_example_dag(
        DAG_ID,
        logical_date=pendulum.datetime(2025, 9, day, tz="UTC"),
        run_conf={"export_location": tmp_path.as_uri(), "customers": customers},
        tweak=quick_polling,
    )


def test_refresh_creates_fills_and_waits(emulator: EmulatorServer, tmp_path: Path) -> None:
    dag_run = run(tmp_path, 1, 2_345)

    assert dag_run.state == "success"
    list_id = xcom(dag_run, "create_contact_list", "contact_list_id")
    stored = emulator.contact_list(list_id)
    assert stored is not None
    assert stored["name"].startswith("Renewal Calls - ")
    assert stored["totalRecordCount"] == 2_345
    assert xcom(dag_run, "add_contacts", "rows_sent") == 2_345
    assert xcom(dag_run, "add_contacts", "chunks_sent") == 3
    assert xcom(dag_run, "add_contacts", "rows_rejected") == 0
    assert xcom(dag_run, "report") == {
        "contact_list_id": list_id,
        "rows_sent": 2_345,
        "rows_rejected": 0,
        "total_record_count": 2_345,
        "ingestion": {
            "rule": "target_reached",
            "total_record_count": 2_345,
            "expected_count": 2_345,
            "baseline_count": 0,
            "missing": 0,
        },
    }
    contacts = emulator.contacts(list_id)
    assert contacts[0]["phoneNumber"] == "+15550000000"
    assert contacts[0]["renewalDate"] == "2025-09-30", "extra columns pass through"
    adds = [r for r in emulator.recorded_requests() if r["route"] == "add_contacts"]
    assert [len(r["body"]["data"]) for r in adds] == [1000, 1000, 345]


def test_rerunning_reuses_the_list(emulator: EmulatorServer, tmp_path: Path) -> None:
    first = run(tmp_path, 2, 50)
    second = run(tmp_path, 3, 50)

    assert (first.state, second.state) == ("success", "success")
    list_id = xcom(first, "create_contact_list", "contact_list_id")
    assert xcom(second, "create_contact_list", "contact_list_id") == list_id
    same_name = [item for item in emulator.contact_lists() if item["_id"] == list_id]
    assert len(same_name) == 1
    assert emulator.contact_list(list_id)["totalRecordCount"] == 50  # type: ignore[index]
    creates = [r for r in emulator.recorded_requests() if r["route"] == "create_contact_list"]
    assert len(creates) == 1
