"""Test DAG: AddContactsOperator, then ContactListIngestedSensor in ``reschedule`` mode, wired as the
README says (the target and the baseline from the operator's XCom, rendered as strings).

Run by ``tests/integration/test_sensor_emulator.py`` with ``dag.test()``: every poke is a new task run,
so the reads between pokes survive only through Airflow's task state store.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_koreai.operators.contact_list import AddContactsOperator
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

SENT = "ti.xcom_pull(task_ids='add_contacts', key='{}')"

with DAG(
    dag_id="koreai_sensor_reschedule_test",
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
        requests_per_minute=None,
    )
    wait = ContactListIngestedSensor(
        task_id="wait_for_ingestion",
        contact_list_id="{{ " + SENT.format("contact_list_id") + " }}",
        expected_count="{{ " + SENT.format("expected_count") + " }}",
        baseline_count="{{ " + SENT.format("count_before") + " }}",
        mode="reschedule",
        poke_interval=0.5,
        settle_polls=2,
        timeout=60,
    )
    add_contacts >> wait
