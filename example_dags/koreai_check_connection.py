"""Check a Kore.ai connection from a task: the UI's Test button, for every deployment.

Trigger it by hand (it has no schedule). Its one task runs the same check as the Test button of the
connection list, ``KoreAIHook.test_connection()``: one authenticated read of the application's contact
lists, without retries. The task log then says what the check found: the host, the Client ID, how many
contact lists the application holds and the request budget in use, or what is wrong and what to fix.
The task fails when the check fails, and is not retried: a wrong secret does not fix itself.

Use it where the Test button is not there or not usable: testing disabled (``[core] test_connection``),
Airflow 3.3.1 and 3.3.2 with a connection saved without a port (the docs, "The connection"), or a
connection that only the workers see (an environment variable, a secrets backend). To check another
connection, trigger with ``{"koreai_conn_id": "my_koreai"}``.
"""

from __future__ import annotations

import logging

import pendulum
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG, Param, task

from airflow_provider_koreai.defaults import DEFAULT_CONN_ID

log = logging.getLogger("airflow.task")

with DAG(
    dag_id="koreai_check_connection",
    description="Check a Kore.ai connection: one authenticated read, as the UI's Test button does.",
    schedule=None,
    start_date=pendulum.datetime(2025, 8, 1, tz="UTC"),
    catchup=False,
    tags=["koreai", "example"],
    params={
        "koreai_conn_id": Param(
            DEFAULT_CONN_ID, type="string", minLength=1, description="The Kore.ai connection to check."
        ),
    },
    doc_md=__doc__,
) as dag:
    # [START howto_koreai_check_connection]
    @task(retries=0)
    def check_connection(params: dict[str, str] | None = None) -> None:
        """Log what the check found; fail with what is wrong, naming the connection last."""
        # Imported here, when the task runs: a DAG file that imports the hook makes every parse load
        # the HTTP stack.
        from airflow_provider_koreai.hooks.koreai import KoreAIHook

        conn_id = (params or {}).get("koreai_conn_id") or DEFAULT_CONN_ID
        ok, message = KoreAIHook(koreai_conn_id=conn_id).test_connection()
        if not ok:
            raise AirflowFailException(f"{message} (connection {conn_id!r})")
        log.info("Kore.ai connection %r works: %s", conn_id, message)

    # [END howto_koreai_check_connection]

    check_connection()
