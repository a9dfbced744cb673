"""Test DAG of ``make e2e-celery``: two uploads of the same 20,000 rows (20 chunks of 1,000) from S3, one
to a list that drops duplicates and one to a list that keeps them, each followed by its ingestion sensor.

The test kills the Celery worker that runs both uploads mid-upload (SIGKILL of its process group), and
Airflow retries them on the other worker (``tests/e2e/test_celery_deployment.py``). The uploads run on a
queue of their own (:data:`QUEUE`), which only the first worker serves until the kill; the test has the
emulator answer each chunk half a second late, so the kill lands mid-upload. Each upload is capped at 30
requests a minute (two together within the account's 60), and its hook's ``retry_timeout`` is short, so
that the killed try's lease (the longest a chunk may take, plus the pace, plus a minute) expires 72 s
after its last renewal rather than 3 minutes.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_koreai.operators.contact_list import AddContactsOperator, CreateContactListOperator
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

QUEUE = "koreai_kill_test"
ROWS = 20_000
CHUNK_SIZE = 1_000
#: The two lists, by the task-id suffix: allowDuplicates of each.
LISTS = {"no_duplicates": False, "duplicates": True}


def list_name(suffix: str) -> str:
    return f"Upload killed - {suffix}"


with DAG(
    dag_id="koreai_e2e_upload_killed",
    schedule=None,
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    tags=["koreai", "test"],
    params={
        "path": Param("s3://koreai-e2e/kill-test/contacts.csv", type="string"),
        "conn_id": Param("koreai_e2e_s3", type="string"),
    },
):
    for suffix, allow_duplicates in LISTS.items():
        sent = "ti.xcom_pull(task_ids='add_" + suffix + "', key='{}')"
        create = CreateContactListOperator(
            task_id=f"create_{suffix}",
            name=list_name(suffix),
            allow_duplicates=allow_duplicates,
            if_exists="skip",
        )
        add = AddContactsOperator(
            task_id=f"add_{suffix}",
            contact_list_name=list_name(suffix),
            path="{{ params.path }}",
            path_conn_id="{{ params.conn_id }}",
            column_map={"phone": "phoneNumber"},
            chunk_size=CHUNK_SIZE,
            requests_per_minute=30,
            hook_params={"retry_timeout": 10},
            queue=QUEUE,
            retries=1,
            retry_delay=timedelta(seconds=1),
        )
        wait = ContactListIngestedSensor(
            task_id=f"wait_{suffix}",
            contact_list_id="{{ " + sent.format("contact_list_id") + " }}",
            expected_count="{{ " + sent.format("expected_count") + " }}",
            baseline_count="{{ " + sent.format("count_before") + " }}",
            deferrable=True,
            poke_interval=5,
            settle_polls=3,
            timeout=10 * 60,
        )
        create >> add >> wait
