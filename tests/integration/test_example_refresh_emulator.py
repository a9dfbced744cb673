"""The full lifecycle example (load -> create or reuse -> update -> add contacts -> wait for ingestion ->
report, and retire last month's list) through real Airflow (``dag.test()``), against the emulator; and
the example's month arithmetic, which needs neither."""

from __future__ import annotations

import csv
import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pendulum
import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.dag_runs import run_example_dag, xcom
from tests.helpers.paths import EXAMPLE_DAGS

DAG_ID = "koreai_refresh_contact_list"
#: The runs below are manual runs with logical dates in September 2025, where their data interval ends.
THIS_MONTH = "Renewal Calls - September 2025"
LAST_MONTH = "Renewal Calls - August 2025"
RETIRE_TASKS = ("find_last_months_list", "delete_last_months_list")


def example_module() -> ModuleType:
    """The example DAG file imported as a module: its DAG is built, never run."""
    spec = importlib.util.spec_from_file_location(DAG_ID, EXAMPLE_DAGS / f"{DAG_ID}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("as_of", "last_month"),
    [
        (pendulum.datetime(2027, 1, 1, tz="UTC"), "Renewal Calls - December 2026"),
        (pendulum.datetime(2027, 1, 31, 23, 59, 59, tz="UTC"), "Renewal Calls - December 2026"),
        (pendulum.datetime(2026, 3, 31, 12, tz="UTC"), "Renewal Calls - February 2026"),
    ],
)
def test_last_months_name_is_december_of_the_year_before_in_january(
    as_of: pendulum.DateTime, last_month: str
) -> None:
    example = example_module()
    assert example.renewal_list_name(example.month_before(as_of)) == last_month


def quick_polling(dag: Any) -> None:
    """The example polls every 30 s, as it should against Kore.ai; the emulator ingests in 0.2 s."""
    sensor = dag.get_task("wait_for_ingestion")
    sensor.poke_interval = 0.2
    sensor.timeout = 30


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The deployment's export location, set as a scheduled run sees it: the Airflow Variable
    ``koreai_export_location`` (here from its ``AIRFLOW_VAR_`` environment variable)."""
    folder = tmp_path / "exports"
    monkeypatch.setenv("AIRFLOW_VAR_KOREAI_EXPORT_LOCATION", folder.as_uri())
    return folder


def run(day: int, customers: int) -> Any:
    return run_example_dag(
        DAG_ID,
        logical_date=pendulum.datetime(2025, 9, day, tz="UTC"),
        run_conf={"customers": customers},
        tweak=quick_polling,
    )


def states(dag_run: Any, task_ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(dag_run.get_task_instance(task_id).state) for task_id in task_ids)


def deleted_ids(emulator: EmulatorServer) -> list[str]:
    """The list ids of the delete requests the emulator received, in order."""
    sent = emulator.recorded_requests()
    return [r["path"].rsplit("/", 1)[-1] for r in sent if r["route"] == "delete_contact_list"]


@pytest.mark.integration
@pytest.mark.usefixtures("airflow_db")
def test_refresh_creates_fills_and_waits(emulator: EmulatorServer, exports: Path) -> None:
    dag_run = run(1, 2_345)

    assert dag_run.state == "success"
    list_id = xcom(dag_run, "create_contact_list", "contact_list_id")
    stored = emulator.contact_list(list_id)
    assert stored is not None
    assert stored["name"] == THIS_MONTH
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
    # No list of last month: nothing to retire, and the run still succeeds.
    assert states(dag_run, RETIRE_TASKS) == ("skipped", "skipped")
    assert deleted_ids(emulator) == []


@pytest.mark.integration
@pytest.mark.usefixtures("airflow_db")
def test_refresh_retires_last_months_list(emulator: EmulatorServer, exports: Path) -> None:
    last_month_id = KoreAIHook().create_contact_list(name=LAST_MONTH)["_id"]
    others = {item["_id"] for item in emulator.contact_lists()} - {last_month_id}

    dag_run = run(1, 40)

    assert dag_run.state == "success"
    assert states(dag_run, RETIRE_TASKS) == ("success", "success")
    assert xcom(dag_run, "find_last_months_list") == last_month_id
    assert emulator.contact_list(last_month_id) is None, "last month's list is gone"
    assert deleted_ids(emulator) == [last_month_id]
    this_month_id = xcom(dag_run, "create_contact_list", "contact_list_id")
    this_month = emulator.contact_list(this_month_id)
    assert this_month is not None
    assert (this_month["name"], this_month["totalRecordCount"]) == (THIS_MONTH, 40)
    assert {item["_id"] for item in emulator.contact_lists()} == others | {this_month_id}


@pytest.mark.integration
@pytest.mark.usefixtures("airflow_db")
def test_rerunning_reuses_the_list(emulator: EmulatorServer, exports: Path) -> None:
    first = run(2, 50)
    second = run(3, 50)

    assert (first.state, second.state) == ("success", "success")
    list_id = xcom(first, "create_contact_list", "contact_list_id")
    assert xcom(second, "create_contact_list", "contact_list_id") == list_id
    same_name = [item for item in emulator.contact_lists() if item["_id"] == list_id]
    assert len(same_name) == 1
    assert emulator.contact_list(list_id)["totalRecordCount"] == 50  # type: ignore[index]
    creates = [r for r in emulator.recorded_requests() if r["route"] == "create_contact_list"]
    assert len(creates) == 1


def data_rows(export: Path) -> list[list[str]]:
    with export.open(newline="", encoding="utf-8") as lines:
        return list(csv.reader(lines))[1:]


@pytest.mark.integration
@pytest.mark.usefixtures("airflow_db")
def test_each_run_uploads_the_export_it_wrote(emulator: EmulatorServer, exports: Path) -> None:
    """Two runs of one month, one after the other: each writes a file named after its run, hands its URI
    to the upload by XCom, and the upload sends exactly that file's rows. A file named by the month alone
    would be overwritten by the second run (or, on workers that share no disk, read stale by it)."""
    first = run(2, 30)
    second = run(3, 70)

    assert (first.state, second.state) == ("success", "success")
    assert first.run_id != second.run_id
    uris = []
    for dag_run, rows in ((first, 30), (second, 70)):
        loaded = xcom(dag_run, "load_renewals_due")
        export = exports / f"renewals_due_2025_09_{re.sub(r'[^A-Za-z0-9._-]', '_', dag_run.run_id)}.csv"
        assert loaded["export_uri"] == export.as_uri(), "named after the run, under the Variable's location"
        assert loaded["export_conn_id"] == "", "no store connection: empty (3.0 refuses a null XCom)"
        # The file is still the one this run wrote: the other run neither overwrote nor replaced it.
        assert len(data_rows(export)) == rows
        assert xcom(dag_run, "add_contacts", "rows_sent") == rows
        uris.append(loaded["export_uri"])
    assert uris[0] != uris[1]
    assert sorted(path.name for path in exports.iterdir()) == sorted(uri.rsplit("/", 1)[1] for uri in uris)

    # What the list received, in order: the first run's 30 rows, then the second run's 70.
    adds = [r for r in emulator.recorded_requests() if r["route"] == "add_contacts"]
    sent = [[contact["phoneNumber"] for contact in r["body"]["data"]] for r in adds]
    assert sent == [
        [f"+1555{n:07d}" for n in range(30)],
        [f"+1555{n:07d}" for n in range(70)],
    ]
    list_id = xcom(second, "add_contacts", "contact_list_id")
    assert emulator.contact_list(list_id)["totalRecordCount"] == 70  # type: ignore[index]
