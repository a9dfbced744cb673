"""One upload from ``s3://`` end to end: the Amazon provider's object-storage filesystem (s3fs) against a
local S3-compatible server (moto's, on 127.0.0.1), through an Airflow ``aws`` connection, then the
emulator. What a Celery or Kubernetes deployment does when the export task wrote to a bucket.

Needs the ``integrations-test`` extra (``make test-integrations``, run by CI after ``make test``); skipped
where it is not installed.
"""

from __future__ import annotations

import gzip
from typing import Any
from unittest import mock

import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.operators.contact_list import AddContactsOperator

pytest.importorskip("moto.server", reason="needs moto[server]: make test-integrations")
pytest.importorskip("airflow.providers.amazon", reason="needs the Amazon provider: make test-integrations")
pytest.importorskip("boto3")

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_backoff")]

BUCKET = "crm-exports"
KEY = "kore/renewals.csv.gz"
NAME = "From S3 - November"


def test_contacts_are_streamed_from_a_bucket(
    emulator: EmulatorServer, s3_client: Any, s3_conn_id: str
) -> None:
    s3_client.create_bucket(Bucket=BUCKET)
    rows = "".join(f"+1415555{n:04d},Customer{n}\n" for n in range(2500))
    s3_client.put_object(Bucket=BUCKET, Key=KEY, Body=gzip.compress(("phone,firstName\n" + rows).encode()))
    KoreAIHook().create_contact_list(name=NAME, allow_duplicates=True)

    operator = AddContactsOperator(
        task_id="add",
        contact_list_name=NAME,
        path=f"s3://{BUCKET}/{KEY}",
        path_conn_id=s3_conn_id,
        column_map={"phone": "phoneNumber"},
        requests_per_minute=None,
    )
    context: dict[str, Any] = {"ti": mock.MagicMock(), "params": {}}
    operator.render_template_fields(context)  # type: ignore[arg-type]
    summary = operator.execute(context)  # type: ignore[arg-type]

    assert (summary["rows_sent"], summary["chunks_sent"]) == (2500, 3)
    sent = [r for r in emulator.recorded_requests() if r["route"] == "add_contacts"]
    assert [len(r["body"]["data"]) for r in sent] == [1000, 1000, 500]
    assert sent[0]["body"]["data"][0] == {"phoneNumber": "+14155550000", "firstName": "Customer0"}
