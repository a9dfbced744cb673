"""Test DAG: send contacts on the worker, then wait for Kore.ai to ingest them from the triggerer.

Run by ``tests/integration/test_sensor_emulator.py`` with ``dag.test()``, which runs the trigger in-process.
The expected count reaches the sensor as a rendered template (a string), as it would in a real DAG.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

LIST_ID = "cl-demo-overdue-invoices"
LIST_NAME = "Overdue Invoices"
NEW_CONTACTS = 4

with DAG(
    dag_id="koreai_sensor_deferrable_test",
    schedule=None,
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    tags=["koreai", "test"],
) as dag:

    @task
    def send_contacts() -> int:
        """The write, on the worker: returns the count the list must reach."""
        from airflow_provider_koreai.hooks.koreai import KoreAIHook

        hook = KoreAIHook()
        found = hook.find_contact_list(LIST_NAME)
        if found is None or found["_id"] != LIST_ID:
            raise RuntimeError(f"expected the emulator's seeded list {LIST_ID}, found {found!r}")
        before = found["totalRecordCount"]
        records = [{"phoneNumber": f"+1415555{index:04d}"} for index in range(NEW_CONTACTS)]
        hook.add_contacts(LIST_NAME, records)
        return int(before) + NEW_CONTACTS

    wait = ContactListIngestedSensor(
        task_id="wait_for_ingestion",
        contact_list_id=LIST_ID,
        expected_count="{{ ti.xcom_pull(task_ids='send_contacts') }}",
        deferrable=True,
        poke_interval=0.2,
        timeout=20,
    )

    send_contacts() >> wait
