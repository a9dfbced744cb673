"""The whole monthly refresh of a Kore.ai contact list, from the data load to ingested contacts.

1. ``load_renewals_due`` lands this month's export (a CSV with one customer per row) and reports what it
   wrote. It stands for your real load; here it writes a small generated file.
2. ``create_contact_list`` creates "Renewal Calls - <Month YYYY>" (a name no other example uses), or
   reuses it when a previous run (or a retry) already did: re-running the DAG never creates a second list
   of the same name.
3. ``update_contact_list`` refreshes the list's description and duplicate policy.
4. ``add_contacts`` reads the list's count, then streams the CSV to Kore.ai in chunks (never loading it
   whole), paced under the account's 60 requests/minute, and reports rows sent and rows rejected (with
   line numbers), the count before sending and the count to wait for.
5. ``wait_for_ingestion`` waits, in the triggerer (deferrable), for *this run's* rows: until
   ``totalRecordCount`` reaches the count before sending plus the rows sent, or settles short of it
   because the list (``allowDuplicates=false``) dropped contacts it already held, as on a re-run of the
   same month. The writes happen on the worker; the trigger only reads.
6. ``report`` summarises the run for the next task or a notification.
7. ``find_last_months_list`` and ``delete_last_months_list`` retire last month's list once this month's
   is filled and ingested: the list named "Renewal Calls - <previous Month YYYY>" is looked up by its
   exact name and deleted by id; when there is none (the first month, or a re-run after the delete), both
   tasks are skipped. The month before January is December of the year before.

Both names come from one clock, read once by ``load_renewals_due``: the end of the run's data interval
for a scheduled run, the current time for a manual run without a logical date (REST, UI). A manual run
that starts on the last evening of a month and ends the next morning still retires the month before the
list it filled, never the list itself.

The export is written to, and read from, Airflow's object storage under the Airflow Variable
``koreai_export_location``: ``file:///tmp/koreai_exports`` when it is not set (the demo, one machine),
``s3://bucket/prefix`` or ``gs://...`` in a distributed deployment (Celery, Kubernetes), where
``load_renewals_due`` and ``add_contacts`` may run on different workers that share no disk; the Variable
``koreai_export_conn_id`` names the store's connection. Both are read when the task runs, never when the
file is parsed, so scheduled runs see them as manual runs do, and changing them needs no edit of this
file. Each run writes its own file, named after its run id, and hands that file's URI to ``add_contacts``
by XCom: a run never uploads another run's export. Connection: ``koreai_default``.
"""

from __future__ import annotations

import csv
import re

import pendulum
from airflow.providers.common.compat.sdk import AirflowSkipException
from airflow.sdk import DAG, ObjectStoragePath, Param, get_current_context, task

from airflow_provider_koreai.operators.contact_list import (
    AddContactsOperator,
    CreateContactListOperator,
    DeleteContactListOperator,
    UpdateContactListOperator,
)
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

LOADED = "ti.xcom_pull(task_ids='load_renewals_due')"
# [START howto_koreai_export_location_variable]
#: Where this deployment keeps the exports, and the connection of that store: Airflow Variables, rendered
#: when the task runs (a DAG file must not query the metadata DB while it is parsed). Unset, they default
#: to the local disk, which is right for the demo and the emulator, and for no deployment of several
#: workers.
EXPORT_LOCATION = "{{ var.value.get('koreai_export_location', 'file:///tmp/koreai_exports') }}"
EXPORT_CONN_ID = "{{ var.value.get('koreai_export_conn_id', '') }}"
# [END howto_koreai_export_location_variable]


def renewal_list_name(month: pendulum.DateTime) -> str:
    """The name of the list of ``month``'s renewals: "Renewal Calls - <Month YYYY>"."""
    return f"Renewal Calls - {month.format('MMMM YYYY')}"


def month_before(as_of: pendulum.DateTime) -> pendulum.DateTime:
    """The first day of the month before ``as_of``'s: December 1 of the year before, in January."""
    return as_of.start_of("month").subtract(months=1)


def export_file_name(as_of: pendulum.DateTime, run_id: str) -> str:
    """The export of one run: the month, then the run id with every character a path or a URI may not
    hold (``:``, ``+``, ``/``...) replaced by ``_``. Two runs of one month never share a file."""
    return f"renewals_due_{as_of.format('YYYY_MM')}_{re.sub(r'[^A-Za-z0-9._-]', '_', run_id)}.csv"


with DAG(
    dag_id="koreai_refresh_contact_list",
    description="Load renewals due, refresh this month's Kore.ai contact list, then retire last month's.",
    schedule="@monthly",
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["koreai", "example"],
    params={
        "customers": Param(
            120, type="integer", minimum=1, description="How many rows the stand-in load writes."
        ),
    },
    doc_md=__doc__,
):
    # [START howto_koreai_export_to_object_storage]
    @task
    def load_renewals_due(
        export_location: str,
        export_conn_id: str,
        run_id: str | None = None,
        data_interval_end: pendulum.DateTime | None = None,
    ) -> dict[str, object]:
        """Stand-in for the real load: writes this run's export and says what it holds, and where."""
        as_of = data_interval_end or pendulum.now("UTC")
        folder = ObjectStoragePath(export_location, conn_id=export_conn_id or None)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / export_file_name(as_of, str(run_id))
        rows = int(get_current_context()["params"]["customers"])
        with path.open("w", newline="", encoding="utf-8") as export:
            writer = csv.writer(export)
            writer.writerow(["phone", "firstName", "lastName", "timeZone", "uniqueId", "renewalDate"])
            for n in range(rows):
                phone, customer = f"+1555{n:07d}", f"C{n:06d}"
                writer.writerow(
                    [phone, f"Customer{n}", "Example", "America/New_York", customer, "2025-09-30"]
                )
        return {
            # What add_contacts reads: this file, with this connection, whatever the Variables say by then.
            "export_uri": str(path),
            "export_conn_id": export_conn_id,  # "" for none: Airflow 3.0 refuses a null XCom value
            "rows": rows,
            "list_name": renewal_list_name(as_of),
            # Named from the same as_of as this month's list: the retire step below deletes no other.
            "previous_list_name": renewal_list_name(month_before(as_of)),
            "description": f"{rows} customers with a renewal due, loaded {as_of.to_date_string()}",
        }

    loaded = load_renewals_due(export_location=EXPORT_LOCATION, export_conn_id=EXPORT_CONN_ID)
    # [END howto_koreai_export_to_object_storage]

    # [START howto_operator_koreai_create_contact_list]
    create_contact_list = CreateContactListOperator(
        task_id="create_contact_list",
        name="{{ " + LOADED + "['list_name'] }}",
        description="{{ " + LOADED + "['description'] }}",
        allow_duplicates=False,
        if_exists="skip",
    )
    # [END howto_operator_koreai_create_contact_list]

    update_contact_list = UpdateContactListOperator(
        task_id="update_contact_list",
        contact_list_id="{{ ti.xcom_pull(task_ids='create_contact_list', key='contact_list_id') }}",
        name="{{ " + LOADED + "['list_name'] }}",
        description="{{ " + LOADED + "['description'] }}",
        allow_duplicates=False,
    )

    # [START howto_operator_koreai_add_contacts]
    add_contacts = AddContactsOperator(
        task_id="add_contacts",
        contact_list_name="{{ " + LOADED + "['list_name'] }}",
        path="{{ " + LOADED + "['export_uri'] }}",
        path_conn_id="{{ " + LOADED + "['export_conn_id'] or '' }}",
        column_map={"phone": "phoneNumber"},
        max_invalid_rows=10,
        chunk_size=1000,
    )
    # [END howto_operator_koreai_add_contacts]

    # [START howto_sensor_koreai_contact_list_ingested]
    wait_for_ingestion = ContactListIngestedSensor(
        task_id="wait_for_ingestion",
        contact_list_id="{{ ti.xcom_pull(task_ids='add_contacts', key='contact_list_id') }}",
        # This run's rows: the count before sending plus the rows sent, not the rows sent alone.
        expected_count="{{ ti.xcom_pull(task_ids='add_contacts', key='expected_count') }}",
        baseline_count="{{ ti.xcom_pull(task_ids='add_contacts', key='count_before') }}",
        deferrable=True,
        # 6 reads a minute, well under Kore.ai's 60; a re-run whose contacts are all duplicates ends
        # after 4 unchanged reads (40 s): keep that above the time Kore.ai takes to start ingesting.
        poke_interval=10,
        settle_polls=4,
        timeout=60 * 60,
    )
    # [END howto_sensor_koreai_contact_list_ingested]

    @task
    def report() -> dict[str, object]:
        ti = get_current_context()["ti"]
        summary = {
            "contact_list_id": ti.xcom_pull(task_ids="create_contact_list", key="contact_list_id"),
            "rows_sent": ti.xcom_pull(task_ids="add_contacts", key="rows_sent"),
            "rows_rejected": ti.xcom_pull(task_ids="add_contacts", key="rows_rejected"),
            "total_record_count": ti.xcom_pull(task_ids="wait_for_ingestion"),
            "ingestion": ti.xcom_pull(task_ids="wait_for_ingestion", key="ingestion"),
        }
        print(f"Kore.ai contact list refreshed: {summary}")
        return summary

    # [START howto_operator_koreai_delete_contact_list]
    @task
    def find_last_months_list() -> str:
        """Last month's list id, found by its exact name; skipped (with the delete) when there is none."""
        # Imported when the task runs: the hook's HTTP stack stays out of every parse of this file.
        from airflow_provider_koreai.hooks.koreai import KoreAIHook

        loaded = get_current_context()["ti"].xcom_pull(task_ids="load_renewals_due")
        name = loaded["previous_list_name"]
        found = KoreAIHook(koreai_conn_id="koreai_default").find_contact_list(name)
        if found is None:
            raise AirflowSkipException(f"No Kore.ai contact list is named {name!r}: nothing to retire")
        return str(found["_id"])

    delete_last_months_list = DeleteContactListOperator(
        task_id="delete_last_months_list",
        contact_list_id="{{ ti.xcom_pull(task_ids='find_last_months_list') }}",
        # Gone already (deleted by hand, or by an earlier try of this task): nothing left to do.
        missing_ok=True,
    )

    # Once this month's list is filled and ingested, last month's is no longer needed.
    wait_for_ingestion >> find_last_months_list() >> delete_last_months_list
    # [END howto_operator_koreai_delete_contact_list]

    loaded >> create_contact_list >> update_contact_list >> add_contacts >> wait_for_ingestion >> report()
