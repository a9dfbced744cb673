"""Call the customers whose policy renews soon with a Kore.ai voice campaign, then keep every call's outcome.

1. ``load_customers`` lands this run's customers (a CSV, one customer per row) and reports what it wrote
   and where this run's results will go. It stands for your real load; here it writes a small generated
   file.
2. ``create_contact_list`` creates the list "Renewal Reminder Calls" (a name no other example uses), or
   reuses it: re-running the DAG never creates a second list of the same name.
3. ``add_contacts`` streams the CSV to that list in chunks, paced under the account's 60 requests/minute.
4. ``wait_for_ingestion`` waits, in the triggerer (deferrable), until Kore.ai has ingested this run's
   rows. The list refuses duplicates: a re-run that sends the same customers again ends once the count
   has settled, after four unchanged reads.
5. ``create_campaign`` creates the voice campaign "Renewal Reminders" (Agentless: a bot flow makes the
   calls) on that list, or reuses it (``if_exists="skip"``). Its definition is a literal, so every
   mistake in it is an import error of this file, named field by field, before any run.
6. ``start_campaign`` starts it, the campaign id by XCom. A new voice campaign is ``Preparing`` for a
   while: the task waits for it to be ``Ready``. A campaign already ``Active`` is left running. One that
   ran before (``Completed`` or ``Stopped``, as on every run after the first) starts a **new run that
   dials every contact of its list again, from the top**: this DAG calls the whole list on each run.
7. ``wait_for_campaign`` waits, deferrable, until the campaign is ``Completed``: a campaign runs for
   hours, and the wait costs no worker slot. ``Stopped`` (by an agent, or ``StopCampaignOperator``) fails
   the task for good.
8. ``export_results`` streams every contact's outcome (phone number, dialler outcome, attempts, bot
   session, disposition codes) to ``<koreai_export_location>/campaign_results/<run id>.csv.gz``, one
   page of 100 rows in memory at a time, through a temporary file moved into place at the end: a failed
   export never leaves a partial file behind.
9. ``report`` counts the contacts by outcome, for the next task or a notification. It never holds a
   phone number: those stay in the exported file.

``stop_campaign_if_running`` is the teardown of ``create_campaign``: it runs once the start and the wait
are over, whatever their outcome, and only when ``create_campaign`` succeeded (with no campaign there is
nothing to stop). A campaign keeps dialling after the task that waited for it has given up (the sensor's
timeout, say) or after a start that failed once Kore.ai had taken the play, so this stops it. On a
successful run it reads the status once, finds the campaign ``Completed`` and sends nothing.

``max_active_runs=1``: Kore.ai runs a campaign once at a time (a start while it is ``Active`` starts
nothing), and the next run's ``add_contacts`` must not change the list a running campaign is dialling.

The customers and the results are written to, and read from, Airflow's object storage under the Airflow
Variable ``koreai_export_location`` (``file:///tmp/koreai_exports`` when it is not set; ``s3://...`` or
``gs://...`` where tasks run on workers that share no disk), the store's connection in
``koreai_export_conn_id``, both read when the task runs, as in ``koreai_refresh_contact_list``. Each run
writes its own files, named after its run id. Connection: ``koreai_default``.
"""

from __future__ import annotations

import collections
import csv
import re

import pendulum
from airflow.sdk import DAG, ObjectStoragePath, Param, get_current_context, task

from airflow_provider_koreai.operators.campaign import (
    CreateCampaignOperator,
    ExportCampaignResultsOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_provider_koreai.operators.contact_list import AddContactsOperator, CreateContactListOperator
from airflow_provider_koreai.sensors.campaign import CampaignStatusSensor
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

#: The list the campaign dials and the campaign itself: names no other example uses.
CONTACT_LIST_NAME = "Renewal Reminder Calls"
CAMPAIGN_NAME = "Renewal Reminders"
LOADED = "ti.xcom_pull(task_ids='load_customers')"
#: Where this deployment keeps its exports and the store's connection (see koreai_refresh_contact_list).
EXPORT_LOCATION = "{{ var.value.get('koreai_export_location', 'file:///tmp/koreai_exports') }}"
EXPORT_CONN_ID = "{{ var.value.get('koreai_export_conn_id', '') }}"


def run_file_part(run_id: str) -> str:
    """The run id in a file name: every character a path or a URI may not hold (``:``, ``+``, ``/``...)
    replaced by ``_``. Two runs never share a file."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


with DAG(
    dag_id="koreai_run_campaign",
    description="Fill a Kore.ai contact list, run a voice campaign on it, export each call's outcome.",
    # Started on purpose: trigger it from the UI or the REST API, or give it a schedule ("@monthly").
    schedule=None,
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["koreai", "example"],
    params={
        "customers": Param(
            40, type="integer", minimum=1, description="How many customers the stand-in load writes."
        ),
    },
    doc_md=__doc__,
):

    @task
    def load_customers(
        export_location: str, export_conn_id: str, run_id: str | None = None
    ) -> dict[str, object]:
        """Stand-in for the real load: writes this run's customers and says where this run's results go."""
        folder = ObjectStoragePath(export_location, conn_id=export_conn_id or None)
        (folder / "campaign_results").mkdir(parents=True, exist_ok=True)
        path = folder / f"renewal_reminders_{run_file_part(str(run_id))}.csv"
        rows = int(get_current_context()["params"]["customers"])
        with path.open("w", newline="", encoding="utf-8") as export:
            writer = csv.writer(export)
            writer.writerow(["phone", "firstName", "lastName", "timeZone", "uniqueId"])
            for n in range(rows):
                writer.writerow([f"+1555{n:07d}", f"Customer{n}", "Example", "America/New_York", f"R{n:06d}"])
        return {
            "export_uri": str(path),
            "export_conn_id": export_conn_id,  # "" for none: Airflow 3.0 refuses a null XCom value
            "rows": rows,
            "results_uri": str(folder / "campaign_results" / f"{run_file_part(str(run_id))}.csv.gz"),
        }

    loaded = load_customers(export_location=EXPORT_LOCATION, export_conn_id=EXPORT_CONN_ID)

    create_contact_list = CreateContactListOperator(
        task_id="create_contact_list",
        name=CONTACT_LIST_NAME,
        description="Customers to remind of their renewal, called by the campaign " + CAMPAIGN_NAME,
        allow_duplicates=False,
        if_exists="skip",
    )

    add_contacts = AddContactsOperator(
        task_id="add_contacts",
        contact_list_name=CONTACT_LIST_NAME,
        path="{{ " + LOADED + "['export_uri'] }}",
        path_conn_id="{{ " + LOADED + "['export_conn_id'] or '' }}",
        column_map={"phone": "phoneNumber"},
        max_invalid_rows=10,
    )

    wait_for_ingestion = ContactListIngestedSensor(
        task_id="wait_for_ingestion",
        contact_list_id="{{ ti.xcom_pull(task_ids='add_contacts', key='contact_list_id') }}",
        expected_count="{{ ti.xcom_pull(task_ids='add_contacts', key='expected_count') }}",
        baseline_count="{{ ti.xcom_pull(task_ids='add_contacts', key='count_before') }}",
        deferrable=True,
        poke_interval=10,
        settle_polls=4,
        timeout=60 * 60,
    )

    # [START howto_operator_koreai_create_campaign]
    create_campaign = CreateCampaignOperator(
        task_id="create_campaign",
        campaign_type="voice",
        spec={
            "name": CAMPAIGN_NAME,
            "description": "Reminds customers that their policy renews this month",
            "contactLists": [CONTACT_LIST_NAME],
            "priority": "3",
            "dialingMode": "Agentless",
            "experienceFlowName": "Renewal reminder flow",
            "enableMachineDetect": True,
            "dialingStrategy": {
                "callerId": {"phoneNumber": "+14155550100"},  # your verified caller id
                "callingHours": {
                    "frequency": "WEEKLY",
                    "timezone": "America/New_York",
                    "days": [
                        {"day": day, "start": "9:00 AM", "end": "6:00 PM"}
                        for day in ("MO", "TU", "WE", "TH", "FR")
                    ],
                },
                "dialingOrder": "FIFO",
                "maxAttemptsPerRecord": 3,
                "defaultRetryPeriod": 60,
                "maxRingTime": 30,
            },
            "schedule": {"isSchedulingEnabled": False},
        },
        # Created by the first run, reused as it is by every later one.
        if_exists="skip",
    )
    # [END howto_operator_koreai_create_campaign]

    # [START howto_operator_koreai_start_campaign]
    start_campaign = StartCampaignOperator(
        task_id="start_campaign",
        campaign_id="{{ ti.xcom_pull(task_ids='create_campaign', key='campaign_id') }}",
        campaign_type="voice",
        # Already running (started by hand, say): leave it running and wait for it below.
        if_active="skip",
        # A new voice campaign is Preparing for a while: read its status every 15 s, for up to 10 minutes.
        preparing_poll_interval=15,
        preparing_timeout=10 * 60,
    )
    # [END howto_operator_koreai_start_campaign]

    # [START howto_sensor_koreai_campaign_status]
    wait_for_campaign = CampaignStatusSensor(
        task_id="wait_for_campaign",
        campaign_id="{{ ti.xcom_pull(task_ids='start_campaign')['campaign_id'] }}",
        target_statuses=["Completed"],
        failure_statuses=["Stopped"],
        # Waits in the triggerer: a campaign dials for hours, and holds no worker slot meanwhile.
        deferrable=True,
        # One status read a minute of the account's 60 requests per minute.
        poke_interval=60,
        timeout=12 * 60 * 60,
    )
    # [END howto_sensor_koreai_campaign_status]

    # [START howto_operator_koreai_stop_campaign]
    stop_campaign_if_running = StopCampaignOperator(
        task_id="stop_campaign_if_running",
        campaign_id="{{ ti.xcom_pull(task_ids='create_campaign', key='campaign_id') }}",
        campaign_type="voice",
    )
    # The teardown of create_campaign: it runs after the wait, whatever became of the start and the wait,
    # unless create_campaign failed (no campaign, nothing to stop). A campaign still dialling, unwatched, is
    # stopped; one that is not running (Completed, Stopped, never started) is left as it is.
    wait_for_campaign >> stop_campaign_if_running.as_teardown(setups=create_campaign)
    # [END howto_operator_koreai_stop_campaign]

    # [START howto_operator_koreai_export_campaign_results]
    export_results = ExportCampaignResultsOperator(
        task_id="export_results",
        campaign_id="{{ ti.xcom_pull(task_ids='start_campaign')['campaign_id'] }}",
        # <koreai_export_location>/campaign_results/<run id>.csv.gz, named by load_customers.
        destination="{{ " + LOADED + "['results_uri'] }}",
        destination_conn_id="{{ " + LOADED + "['export_conn_id'] or '' }}",
    )
    # [END howto_operator_koreai_export_campaign_results]

    @task
    def report() -> dict[str, object]:
        """Counts by outcome, and where the rows are: never a phone number."""
        ti = get_current_context()["ti"]
        started = ti.xcom_pull(task_ids="start_campaign")
        exported = ti.xcom_pull(task_ids="export_results")
        outcomes = collections.Counter(exported["outcomes"])
        summary = {
            "campaign_id": started["campaign_id"],
            "campaign_instance_id": started["campaign_instance_id"] or "",
            "status": ti.xcom_pull(task_ids="wait_for_campaign")["status"],
            "contacts_in_list": ti.xcom_pull(task_ids="wait_for_ingestion"),
            "rows_exported": exported["rows_written"],
            "outcomes": dict(outcomes.most_common()),
            "results": exported["destination"],
        }
        print(f"Kore.ai campaign run: {summary}")
        return summary

    loaded >> create_contact_list >> add_contacts >> wait_for_ingestion >> create_campaign
    create_campaign >> start_campaign >> wait_for_campaign >> export_results >> report()
