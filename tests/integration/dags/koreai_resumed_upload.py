"""Test DAG: AddContactsOperator with one retry, then ContactListIngestedSensor fed by its XCom.

Run by ``tests/integration/test_resumed_upload_dag.py`` with ``dag.test()``: a chunk's connection drops
after Kore.ai applied it, Airflow retries the task, and the retry resumes from the progress recorded in
Airflow's task state store (or a Variable).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_koreai.operators.contact_list import AddContactsOperator
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

SENT = "ti.xcom_pull(task_ids='add_contacts', key='{}')"

with DAG(
    dag_id="koreai_resumed_upload_test",
    schedule=None,
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    tags=["koreai", "test"],
    params={"list_name": Param("Overdue Invoices", type="string"), "records": Param([], type="array")},
) as dag:
    add_contacts = AddContactsOperator(
        task_id="add_contacts",
        contact_list_name="{{ params.list_name }}",
        records="{{ params.records | tojson }}",
        chunk_size=20,
        retries=1,
        retry_delay=timedelta(seconds=0),
        hook_params={"max_attempts": 1, "retry_timeout": 1},
    )
    wait = ContactListIngestedSensor(
        task_id="wait_for_ingestion",
        contact_list_id="{{ " + SENT.format("contact_list_id") + " }}",
        expected_count="{{ " + SENT.format("expected_count") + " }}",
        baseline_count="{{ " + SENT.format("count_before") + " }}",
        poke_interval=0.5,
        settle_polls=2,
        timeout=60,
    )
    add_contacts >> wait
