"""Data-aware scheduling: refresh a Kore.ai contact list whenever the customer data behind it lands.

Two DAGs, linked by an asset instead of a shared cron expression:

``koreai_load_customer_data``
    Stands for the warehouse load (a dbt run, a ``COPY``, a file drop...). ``load_customer_data`` declares
    ``outlets=[CUSTOMER_DATA]``, so each successful run records an asset event, and it attaches a summary of
    the load (row count, the list name and description it implies) to that event's ``extra``. The summary
    travels through Airflow's metadata database, never the local disk: the downstream task may run on
    another worker.

``koreai_refresh_on_customer_data``
    ``schedule=[CUSTOMER_DATA]``: runs after every upstream load, however late it finishes.
    ``read_load_summary`` reads the summary from the asset's latest event, and ``update_contact_list``
    renames and re-describes the Kore.ai list from it. That task records an event on the list's own asset,
    ``koreai://<host>/<iid>/contact-lists/<id>``, through the asset alias ``koreai_contact_lists`` (the
    host and iid come from the connection, so the URI is only known when the task runs), so further DAGs
    (starting a campaign, reporting) can be scheduled on the refreshed list in turn. The list is the
    deployment's Airflow Variable ``koreai_warehouse_contact_list_id`` (unset: the emulator's
    ``cl-demo-warehouse-renewals``).

Connection: ``koreai_default`` (see the docs, "The connection"), e.g. from ``AIRFLOW_CONN_KOREAI_DEFAULT``.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException
from airflow.sdk import DAG, Asset, AssetAlias, get_current_context, task

from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator

#: The customer data behind the list. A name plus a URI that says where the data lives; Airflow only
#: requires the URI to be stable, it never connects to it.
CUSTOMER_DATA = Asset(name="customer_data_renewals_due", uri="warehouse://crm/renewals_due")

#: The Kore.ai list this pipeline maintains, which differs per deployment: the Airflow Variable
#: ``koreai_warehouse_contact_list_id``, read when the task runs (never when the file is parsed), else the
#: emulator's list. Runs scheduled on an asset carry no conf, so a DAG Param could only ever be its
#: default. The outlet below is an alias, so the event names the list the task actually updated.
CONTACT_LIST_ID = "{{ var.value.get('koreai_warehouse_contact_list_id', 'cl-demo-warehouse-renewals') }}"

# [START howto_koreai_asset_alias]
#: Every Kore.ai list our operators change gets an event on its ``koreai://`` asset through this alias
#: (the provider registers the scheme and checks its URIs). Consumers schedule on the list's asset,
#: ``schedule=[Asset("koreai://platform.kore.ai/<iid>/contact-lists/<list id>")]``, or on the alias
#: itself.
CONTACT_LISTS = AssetAlias("koreai_contact_lists")
# [END howto_koreai_asset_alias]

#: What ``read_load_summary`` needs from the event's extra; an event created by hand (UI or REST API)
#: may carry anything.
SUMMARY_KEYS = ("list_name", "description")

with DAG(
    dag_id="koreai_load_customer_data",
    description="Load the customers with a renewal due; downstream DAGs are scheduled on the asset.",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["koreai", "example", "assets"],
    doc_md=__doc__,
):

    @task(outlets=[CUSTOMER_DATA])
    def load_customer_data(data_interval_end: pendulum.DateTime | None = None) -> dict[str, str | int]:
        """Stand-in for the warehouse load; its summary rides on the asset event."""
        as_of = data_interval_end or pendulum.now("UTC")
        rows = 1284  # what the load wrote; a real task would report its own count
        summary: dict[str, str | int] = {
            "rows": rows,
            "loaded_at": as_of.to_iso8601_string(),
            "list_name": f"Warehouse Renewals - {as_of.format('MMMM YYYY')}",
            "description": f"{rows} customers with a renewal due, loaded {as_of.to_date_string()}",
        }
        # Stored with the asset event in the metadata DB, readable from any worker.
        get_current_context()["outlet_events"][CUSTOMER_DATA].extra.update(summary)
        return summary

    load_customer_data()


with DAG(
    dag_id="koreai_refresh_on_customer_data",
    description="Triggered after upstream data loads: refresh the Kore.ai contact list from their summary.",
    schedule=[CUSTOMER_DATA],
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["koreai", "example", "assets"],
    doc_md=__doc__,
):

    @task(inlets=[CUSTOMER_DATA])
    def read_load_summary() -> dict[str, str]:
        """The list name and description from the latest load's asset event.

        ``inlet_events`` queries the asset's events, so this also works for a manual run (or ``dag.test()``),
        where ``triggering_asset_events`` is empty. When several loads land before this DAG runs, Airflow
        folds them into one run, and the newest summary is the one that matters.
        """
        events = get_current_context()["inlet_events"][CUSTOMER_DATA]
        if hasattr(events, "ascending"):  # Airflow >= 3.2 queries on demand: fetch the newest event only
            events = events.ascending(False).limit(1)
        latest = events[-1] if events else None  # Airflow 3.0/3.1: a list, oldest first
        if latest is None:
            raise AirflowSkipException(f"No event for {CUSTOMER_DATA.name} yet: the list is left as it is")
        extra = latest.extra or {}
        missing = [key for key in SUMMARY_KEYS if not extra.get(key)]
        if missing:
            raise AirflowFailException(
                f"The latest {CUSTOMER_DATA.name} event has no {', '.join(missing)} in its extra: {extra!r}"
            )
        return {key: str(extra[key]) for key in SUMMARY_KEYS}

    summary = read_load_summary()

    # [START howto_operator_koreai_update_contact_list_outlets]
    update_contact_list = UpdateContactListOperator(
        task_id="update_contact_list",
        contact_list_id=CONTACT_LIST_ID,
        name="{{ ti.xcom_pull(task_ids='read_load_summary')['list_name'] }}",
        description="{{ ti.xcom_pull(task_ids='read_load_summary')['description'] }}",
        allow_duplicates=False,
        outlets=[CONTACT_LISTS],
        retries=2,
        retry_delay=pendulum.duration(minutes=1),
    )
    # [END howto_operator_koreai_update_contact_list_outlets]

    summary >> update_contact_list
