"""A campaign's results exported to ``s3://``: the Amazon provider's object-storage filesystem (s3fs)
against a local S3-compatible server (moto's, on 127.0.0.1), through an Airflow ``aws`` connection. S3 has
no rename: the temporary object is copied into place and deleted, and removed after a failure.

Needs the ``integrations-test`` extra (``make test-integrations``, run by CI after ``make test``); skipped
where it is not installed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_koreai.campaign_results import export_campaign_results
from airflow_provider_koreai.exceptions import KoreAIServerError
from airflow_provider_koreai.responses import CampaignContactsPage

pytest.importorskip("moto.server", reason="needs moto[server]: make test-integrations")
pytest.importorskip("airflow.providers.amazon", reason="needs the Amazon provider: make test-integrations")
pytest.importorskip("s3fs", reason="needs s3fs: make test-integrations")

pytestmark = pytest.mark.integration

KEY = "kore/renewals/results.jsonl.gz"
PAGES, PAGE_SIZE = 7, 100


def pages(*, fail_after: int | None = None) -> Iterator[CampaignContactsPage]:
    for number in range(1, PAGES + 1):
        if fail_after is not None and number > fail_after:
            raise KoreAIServerError(http_status=503, endpoint="POST /campaign/status", message="unavailable")
        rows = [
            {"phoneNumber": f"+1415555{n:04d}", "uniqueId": f"u-{n}", "dialerOutcome": "Answered"}
            for n in range((number - 1) * PAGE_SIZE, number * PAGE_SIZE)
        ]
        yield CampaignContactsPage(rows, number, PAGES, PAGES * PAGE_SIZE)


def keys(s3_client: Any, bucket: str) -> list[str]:
    return [item["Key"] for item in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_results_are_written_to_a_bucket(s3_client: Any, s3_conn_id: str) -> None:
    bucket = "campaign-exports"
    s3_client.create_bucket(Bucket=bucket)

    summary = export_campaign_results(pages(), f"s3://{bucket}/{KEY}", destination_conn_id=s3_conn_id)

    assert (summary.rows_written, summary.outcomes) == (PAGES * PAGE_SIZE, {"Answered": PAGES * PAGE_SIZE})
    assert keys(s3_client, bucket) == [KEY], "the temporary object was moved, not left behind"
    body = gzip.decompress(s3_client.get_object(Bucket=bucket, Key=KEY)["Body"].read())
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [line["uniqueId"] for line in lines] == [f"u-{n}" for n in range(PAGES * PAGE_SIZE)]


def test_a_failure_leaves_the_bucket_as_it_was(s3_client: Any, s3_conn_id: str) -> None:
    bucket = "campaign-exports-failing"  # moto's objects outlive its server: a bucket of its own
    s3_client.create_bucket(Bucket=bucket)
    s3_client.put_object(Bucket=bucket, Key=KEY, Body=b"the previous export")

    with pytest.raises(KoreAIServerError):
        export_campaign_results(pages(fail_after=3), f"s3://{bucket}/{KEY}", destination_conn_id=s3_conn_id)

    assert keys(s3_client, bucket) == [KEY], "no temporary object left"
    assert s3_client.get_object(Bucket=bucket, Key=KEY)["Body"].read() == b"the previous export"
