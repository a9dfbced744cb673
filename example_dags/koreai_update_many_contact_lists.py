"""Refresh several Kore.ai contact lists in one run, one mapped task instance per list.

``plan_segments`` stands for the query that sizes each customer segment after the nightly load. It returns
one entry per contact list, shaped like the operator's arguments (``contact_list_id``, ``name``,
``description``), and ``update_contact_list`` is
``UpdateContactListOperator.partial(...).expand_kwargs(...)`` over that list. Airflow creates one task
instance per list at run time: each one is retried, logged and shown in the grid on its own, and adding a
segment needs no change to the DAG's structure.

Which Kore.ai list serves which segment (segment -> list id) differs per deployment: it is the Airflow
Variable ``koreai_segment_contact_lists``, a JSON object such as
``{"overdue_invoices": "cl-...", "churn_risk": "cl-..."}``, read when the task runs (never when the file
is parsed), so scheduled runs see it. Unset, it names the lists the local emulator is seeded with for this
example alone, so it runs next to the other examples in any order. A manual run may pass its own
``contact_lists`` (other ids, or a segment left out to skip it); scheduled runs keep the Variable's.

Rate limit: Kore.ai allows 60 requests per minute per account, across all Contact Center APIs.
``max_active_tis_per_dag=1`` lets one mapped instance call Kore.ai at a time, in this DAG, with nothing to
set up. When several DAGs call the same account, a pool shared by all of them is the better cap: create it
once per deployment and pass ``pool="koreai_api"`` to every Kore.ai task (the docs, "Rate
limits")::

    airflow pools set koreai_api 1 "Kore.ai API: 60 requests/minute per account"

Do not reference a pool the deployment lacks: the scheduler never queues such tasks, they stay
``scheduled``. Either cap limits concurrency, not the request rate; on a 429 the hook waits as long as
Kore.ai's ``Retry-After`` asks (or backs off exponentially), and the task's own retries come on top.

Connection: ``koreai_default`` (see the docs, "The connection"), e.g. from ``AIRFLOW_CONN_KOREAI_DEFAULT``.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Param, Variable, task

from airflow_provider_koreai.operators.contact_list import UpdateContactListOperator

#: Segment -> (list name, description). ``{month}``, ``{date}`` and ``{rows}`` come from the load.
SEGMENTS: dict[str, tuple[str, str]] = {
    "overdue_invoices": (
        "Overdue Invoices - {month}",
        "{rows} customers with an invoice more than 30 days overdue, loaded {date}",
    ),
    "churn_risk": (
        "Churn Risk - {month}",
        "{rows} customers whose usage dropped last month, loaded {date}",
    ),
}

#: The lists of the emulator, used when the deployment sets no ``koreai_segment_contact_lists``.
EMULATOR_CONTACT_LISTS = {"overdue_invoices": "cl-demo-overdue-invoices", "churn_risk": "cl-demo-churn-risk"}

with DAG(
    dag_id="koreai_update_many_contact_lists",
    description="Size each customer segment, then refresh its Kore.ai contact list (one mapped task each).",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["koreai", "example", "dynamic-task-mapping"],
    params={
        "contact_lists": Param(
            None,
            type=["null", "object"],
            minProperties=1,
            propertyNames={"enum": sorted(SEGMENTS)},
            additionalProperties={"type": "string", "pattern": "^cl-"},
            description="Kore.ai contact list (cl-...) to refresh for each segment, in this run only; "
            "empty: the Variable koreai_segment_contact_lists.",
        ),
    },
    doc_md=__doc__,
):

    @task
    def plan_segments(
        params: dict[str, Any] | None = None,
        data_interval_end: pendulum.DateTime | None = None,
    ) -> list[dict[str, str]]:
        """One entry per contact list, with the operator's argument names as keys."""
        # This run's conf if it names lists, else the deployment's Variable (read now, as the task runs).
        contact_lists: dict[str, str] = (params or {}).get("contact_lists") or Variable.get(
            "koreai_segment_contact_lists", default=EMULATOR_CONTACT_LISTS, deserialize_json=True
        )
        unknown = sorted(set(contact_lists) - set(SEGMENTS))
        if unknown:
            raise AirflowFailException(
                f"Unknown segment(s) {unknown} in koreai_segment_contact_lists: use {sorted(SEGMENTS)}"
            )
        as_of = data_interval_end or pendulum.now("UTC")
        # What the load reported per segment; a real task would query the warehouse here.
        rows = {"overdue_invoices": 97, "churn_risk": 412}
        plan = []
        for segment, contact_list_id in contact_lists.items():
            name, description = SEGMENTS[segment]
            values = {
                "month": as_of.format("MMMM YYYY"),
                "date": as_of.to_date_string(),
                "rows": rows[segment],
            }
            plan.append(
                {
                    "contact_list_id": contact_list_id,
                    "name": name.format(**values),
                    "description": description.format(**values),
                }
            )
        return plan

    # [START howto_operator_koreai_update_contact_list_mapped]
    UpdateContactListOperator.partial(
        task_id="update_contact_list",
        # One instance at a time calls Kore.ai; needs no pool (see the module docstring).
        max_active_tis_per_dag=1,
        allow_duplicates=False,
        # The hook already retries 429, 5xx and transport errors within a call; these retries are for
        # longer outages.
        retries=2,
        retry_delay=pendulum.duration(minutes=2),
        retry_exponential_backoff=True,
    ).expand_kwargs(plan_segments())
    # [END howto_operator_koreai_update_contact_list_mapped]
