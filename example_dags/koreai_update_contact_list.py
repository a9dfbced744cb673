"""Refresh a Kore.ai contact list after the nightly renewals load.

``load_renewals_due`` stands for whatever lands the customer data (a warehouse query, a file drop...).
It returns a summary, and ``update_contact_list`` renames and re-describes the Kore.ai list from it
through templates, so dialers and agents see which load the list reflects.

The list to refresh differs per deployment: it is the Airflow Variable ``koreai_renewals_contact_list_id``,
read when the task runs (never when the file is parsed), so scheduled runs refresh the list the
deployment names; unset, it is the emulator's ``cl-demo-renewals-due``. A manual run may name another
list (trigger with ``{"contact_list_id": "cl-..."}``): scheduled runs, which carry no conf, keep the
Variable's.

Connection: ``koreai_default`` (see the docs, "The connection"), e.g. from ``AIRFLOW_CONN_KOREAI_DEFAULT``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator

with DAG(
    dag_id="koreai_update_contact_list",
    description="Load renewals due, then refresh the Kore.ai contact list that dialers work from.",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["koreai", "example"],
    params={
        "contact_list_id": Param(
            None,
            type=["null", "string"],
            minLength=1,
            description="Kore.ai contact list to refresh (cl-...) in this run only; empty: the Variable "
            "koreai_renewals_contact_list_id.",
        ),
        "allow_duplicates": Param(False, type="boolean"),
    },
    doc_md=__doc__,
) as dag:

    @task
    def load_renewals_due(data_interval_end: pendulum.DateTime | None = None) -> dict[str, object]:
        """Stand-in for the real load: returns what the contact list should be called and say."""
        as_of = data_interval_end or pendulum.now("UTC")
        rows = 1284  # what the load wrote; a real task would return its own count
        return {
            "list_name": f"Renewal Due - {as_of.format('MMMM YYYY')}",
            "description": f"{rows} customers with a renewal due, loaded {as_of.to_date_string()}",
            "rows": rows,
        }

    loaded = load_renewals_due()

    # [START howto_operator_koreai_update_contact_list]
    update_contact_list = UpdateContactListOperator(
        task_id="update_contact_list",
        # The list this run's conf names, else the deployment's (a Variable, read when the task runs),
        # else the emulator's.
        contact_list_id="{{ params.contact_list_id or "
        "var.value.get('koreai_renewals_contact_list_id', 'cl-demo-renewals-due') }}",
        name="{{ ti.xcom_pull(task_ids='load_renewals_due')['list_name'] }}",
        description="{{ ti.xcom_pull(task_ids='load_renewals_due')['description'] }}",
        allow_duplicates="{{ params.allow_duplicates }}",
        retries=2,
        retry_delay=pendulum.duration(minutes=1),
    )
    # [END howto_operator_koreai_update_contact_list]

    loaded >> update_contact_list
