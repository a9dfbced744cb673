"""The core example DAG through real Airflow (``dag.test()``), with Kore.ai mocked at the HTTP layer."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
import requests_mock as rm

from tests.compat import without_airflow_mask_requests
from tests.conftest import CLIENT_SECRET, IID
from tests.integration.dag_runs import run_example_dag, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db", "koreai_connection")]

DAG_ID = "koreai_update_contact_list"
LIST_ID = "cl-demo-renewals-due"
UPDATE_URL = f"https://platform.kore.ai/agentassist/api/v1/public/{IID}/campaign/contactList/{LIST_ID}"
JWT_PATTERN = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


def test_example_dag_updates_the_list_and_fills_xcom(requests_mock: rm.Mocker) -> None:
    def answer(request: Any, context: Any) -> dict[str, Any]:
        body = request.json()
        return {
            "status": "success",
            "message": f"Contact list {body['name']} updated successfully",
            "data": {
                "contactListId": LIST_ID,
                "body": {"name": body["name"], "iId": IID, "listType": "call"},
            },
        }

    requests_mock.put(UPDATE_URL, json=answer)

    dag_run = run_example_dag(DAG_ID)

    assert dag_run.state == "success"
    sent = requests_mock.last_request.json()
    assert sent["name"].startswith("Renewal Due - ")
    assert sent["description"].startswith("1284 customers with a renewal due")
    assert sent["allowDuplicates"] is False
    assert xcom(dag_run, "update_contact_list", "contact_list_id") == LIST_ID
    assert xcom(dag_run, "update_contact_list", "body")["name"] == sent["name"]
    assert xcom(dag_run, "update_contact_list")["contactListId"] == LIST_ID
    jwt.decode(requests_mock.last_request.headers["auth"], CLIENT_SECRET, algorithms=["HS256"])


def test_a_failed_call_fails_the_run_and_leaks_no_token(
    requests_mock: rm.Mocker, capfd: pytest.CaptureFixture[str]
) -> None:
    sent_tokens: list[str] = []

    def echo_token(request: Any, context: Any) -> dict[str, Any]:
        # A hostile proxy that echoes the token back: the error text now holds it, and the task log
        # must still not show it.
        token = request.headers["auth"]
        sent_tokens.append(token)
        context.status_code = 401
        return {"errors": [{"msg": f"Invalid JWT token {token} for secret {CLIENT_SECRET}", "code": 4002}]}

    requests_mock.put(UPDATE_URL, json=echo_token)

    dag_run = run_example_dag(DAG_ID)

    assert dag_run.state == "failed"
    assert dag_run.get_task_instance("update_contact_list").state == "failed"
    assert len(sent_tokens) == 1, "a 401 must not be retried"
    logged = without_airflow_mask_requests("".join(capfd.readouterr()))
    assert "Invalid JWT token" in logged
    assert sent_tokens[0] not in logged
    assert CLIENT_SECRET not in logged
    assert not JWT_PATTERN.search(logged)
