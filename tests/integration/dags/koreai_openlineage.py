"""Create a list and fill it from a file: what the OpenLineage test watches the listener report."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param, get_current_context, task

from airflow_provider_koreai.operators.contact_list import AddContactsOperator, CreateContactListOperator

LIST_NAME = "Lineage - November"

with DAG(
    dag_id="koreai_openlineage",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    params={"export": Param("/tmp/koreai-lineage/renewals.csv", type="string")},
):

    @task
    def export() -> str:
        path = Path(get_current_context()["params"]["export"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("phoneNumber\n" + "".join(f"+1415555{n:04d}\n" for n in range(7)), encoding="utf-8")
        return str(path)

    create = CreateContactListOperator(task_id="create", name=LIST_NAME, allow_duplicates=True)
    add = AddContactsOperator(
        task_id="add",
        contact_list_name=LIST_NAME,
        path="{{ ti.xcom_pull(task_ids='export') }}",
        requests_per_minute=None,
    )
    [export(), create] >> add
