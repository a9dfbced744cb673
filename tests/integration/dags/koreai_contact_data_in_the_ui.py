"""Contacts fed to ``AddContactsOperator`` from XCom three ways: an XComArg, a Jinja template rendered as
a native object, and a mapped task (one set of records per map index)."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_koreai.operators.contact_list import AddContactsOperator

LIST_NAME = "UI privacy - November"
PEOPLE = [
    {"phoneNumber": "+14155550199", "firstName": "Grace", "lastName": "Hopper"},
    {"phoneNumber": "+14155550198", "firstName": "Katherine", "lastName": "Johnson"},
]

with DAG(
    dag_id="koreai_contact_data_in_the_ui",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    render_template_as_native_obj=True,
):
    # A task returning contact data must not log it: Airflow logs return values unless told not to.
    @task(show_return_value_in_logs=False)
    def export() -> list[dict[str, Any]]:
        return PEOPLE

    @task(show_return_value_in_logs=False)
    def export_in_batches() -> list[list[dict[str, Any]]]:
        return [PEOPLE[:1], PEOPLE[1:]]

    exported = export()
    AddContactsOperator(
        task_id="add_from_xcomarg", contact_list_name=LIST_NAME, records=exported, requests_per_minute=None
    )
    add_from_template = AddContactsOperator(
        task_id="add_from_template",
        contact_list_name=LIST_NAME,
        records="{{ ti.xcom_pull(task_ids='export') }}",
        requests_per_minute=None,
    )
    exported >> add_from_template
    AddContactsOperator.partial(
        task_id="add_mapped", contact_list_name=LIST_NAME, requests_per_minute=None
    ).expand(records=export_in_batches())
