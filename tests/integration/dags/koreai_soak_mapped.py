"""Test-only DAG: one mapped ``UpdateContactListOperator`` instance per list named in the run conf."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator

with DAG(
    dag_id="koreai_soak_mapped",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    params={"contact_list_ids": Param([], type="array")},
):

    @task
    def plan(params: dict[str, list[str]] | None = None) -> list[dict[str, str]]:
        ids = (params or {})["contact_list_ids"]
        return [
            {"contact_list_id": list_id, "name": f"Mapped soak {n:02d}", "description": f"refresh {n}"}
            for n, list_id in enumerate(ids)
        ]

    UpdateContactListOperator.partial(task_id="update_contact_list", allow_duplicates=False).expand_kwargs(
        plan()
    )
