"""The data-aware example (``koreai_refresh_on_customer_data.py``) through real Airflow and the emulator.

The load DAG's summary must reach the refresh DAG only through the asset event's ``extra`` in the metadata
DB, and the refresh must record an event on the contact list's own asset.
"""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from tests.helpers.dag_runs import run_example_dag, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

LOAD_DAG_ID = "koreai_load_customer_data"
REFRESH_DAG_ID = "koreai_refresh_on_customer_data"
CUSTOMER_DATA_URI = "warehouse://crm/renewals_due"
LIST_ID = "cl-demo-warehouse-renewals"


def contact_list_uri(emulator: EmulatorServer) -> str:
    """The list's ``koreai://`` asset: the emulator's host and port, its iid, the list id."""
    host = emulator.base_url.split("://", 1)[1]
    return f"koreai://{host}/{emulator.settings.iid}/contact-lists/{LIST_ID}"


def asset_events(uri: str) -> list[dict[str, Any]]:
    """Every event recorded for the asset with this URI, oldest first, as plain dicts."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = (
        select(AssetEvent)
        .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
        .where(AssetModel.uri == uri)
        .order_by(AssetEvent.id)
    )
    with create_session() as session:
        return [
            {
                "extra": event.extra,
                "source_dag_id": event.source_dag_id,
                "source_task_id": event.source_task_id,
                "source_run_id": event.source_run_id,
            }
            for event in session.scalars(query)
        ]


def update_requests(emulator: EmulatorServer) -> list[dict[str, Any]]:
    return [r for r in emulator.recorded_requests() if r.get("route") == "update_contact_list"]


def test_load_dag_attaches_its_summary_to_the_asset_event(emulator: EmulatorServer) -> None:
    dag_run = run_example_dag(LOAD_DAG_ID, logical_date=pendulum.datetime(2025, 9, 15, tz="UTC"))

    assert dag_run.state == "success"
    summary = xcom(dag_run, "load_customer_data")
    assert summary == {
        "rows": 1284,
        "loaded_at": "2025-09-15T00:00:00Z",
        "list_name": "Warehouse Renewals - September 2025",
        "description": "1284 customers with a renewal due, loaded 2025-09-15",
    }
    events = [e for e in asset_events(CUSTOMER_DATA_URI) if e["source_run_id"] == dag_run.run_id]
    assert events == [
        {
            "extra": summary,
            "source_dag_id": LOAD_DAG_ID,
            "source_task_id": "load_customer_data",
            "source_run_id": dag_run.run_id,
        }
    ]
    assert update_requests(emulator) == [], "loading the data must not call Kore.ai"


def test_refresh_dag_updates_the_list_from_the_latest_load(emulator: EmulatorServer) -> None:
    load_run = run_example_dag(LOAD_DAG_ID, logical_date=pendulum.datetime(2025, 10, 15, tz="UTC"))
    assert load_run.state == "success"
    list_events_before = len(asset_events(contact_list_uri(emulator)))

    dag_run = run_example_dag(REFRESH_DAG_ID)

    assert dag_run.state == "success"
    name = "Warehouse Renewals - October 2025"
    description = "1284 customers with a renewal due, loaded 2025-10-15"
    assert xcom(dag_run, "read_load_summary") == {"list_name": name, "description": description}
    assert xcom(dag_run, "update_contact_list", "contact_list_id") == LIST_ID
    assert xcom(dag_run, "update_contact_list", "body")["name"] == name  # Kore.ai echoes the name only

    (request,) = update_requests(emulator)
    assert request["body"] == {
        "name": name,
        "description": description,
        "source": "passiveApiIntegration",
        "allowDuplicates": False,
    }
    stored = emulator.contact_list(LIST_ID)
    assert stored is not None
    assert (stored["name"], stored["description"]) == (name, description)

    list_events = asset_events(contact_list_uri(emulator))
    assert len(list_events) == list_events_before + 1, "the alias recorded an event on the list's asset"
    assert list_events[-1]["extra"] == {"operation": "update"}
    assert list_events[-1]["source_dag_id"] == REFRESH_DAG_ID
    assert list_events[-1]["source_task_id"] == "update_contact_list"
    assert list_events[-1]["source_run_id"] == dag_run.run_id


def test_refresh_dag_fails_without_calling_kore_when_the_event_has_no_summary(
    emulator: EmulatorServer,
) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    load_run = run_example_dag(LOAD_DAG_ID, logical_date=pendulum.datetime(2025, 11, 15, tz="UTC"))
    assert load_run.state == "success"
    # Newer than the load's event, like one created with "Create Asset Event" in the UI or the REST API.
    with create_session() as session:
        asset_id = session.scalar(select(AssetModel.id).where(AssetModel.uri == CUSTOMER_DATA_URI))
        session.add(AssetEvent(asset_id=asset_id, extra={"note": "re-run by hand"}))

    dag_run = run_example_dag(REFRESH_DAG_ID)

    assert dag_run.state == "failed"
    assert dag_run.get_task_instance("read_load_summary").state == "failed"
    assert dag_run.get_task_instance("update_contact_list").state == "upstream_failed"
    assert update_requests(emulator) == []
    stored = emulator.contact_list(LIST_ID)
    assert stored is not None
    assert stored["name"] == "Warehouse Renewals", "the seeded list must be left as it was"
