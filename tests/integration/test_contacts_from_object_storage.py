"""``AddContactsOperator`` reads its file through Airflow's object storage: a URI or an ``ObjectStoragePath``
that any worker can open, gzipped or not, the format from the suffix or named. ``file://`` and an in-memory
store (fsspec's ``memory://``, attached the way a deployment attaches S3 or GCS) stand in for a bucket.
Locations refused before anything is read: ``tests/test_contacts_upload.py``."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.operators.contact_list import AddContactsOperator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_backoff")]

NAME = "Object storage - November"
CSV = "Phone,firstName\n+14155550001,Ada\n+14155550002,Alan\n+14155550003,Grace\n"
JSONL = "".join(f'{{"phoneNumber": "+1415555000{n}"}}\n' for n in range(1, 4))


def add(**kwargs: Any) -> dict[str, Any]:
    operator = AddContactsOperator(
        task_id="add",
        contact_list_name=NAME,
        column_map={"Phone": "phoneNumber"},
        requests_per_minute=None,
        **kwargs,
    )
    context: dict[str, Any] = {"ti": mock.MagicMock(), "params": {}}
    operator.render_template_fields(context)  # type: ignore[arg-type]
    result: dict[str, Any] = operator.execute(context)  # type: ignore[arg-type]
    return result


@pytest.fixture
def contact_list(emulator: EmulatorServer) -> str:
    return str(KoreAIHook().create_contact_list(name=NAME, allow_duplicates=True)["_id"])


def sent_phones(emulator: EmulatorServer) -> list[str]:
    return [
        record["phoneNumber"]
        for request in emulator.recorded_requests()
        if request["route"] == "add_contacts"
        for record in request["body"]["data"]
    ]


@pytest.mark.usefixtures("contact_list")
def test_a_file_uri(emulator: EmulatorServer, tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(CSV, encoding="utf-8")
    assert add(path=(tmp_path / "export.csv").as_uri())["rows_sent"] == 3
    assert sent_phones(emulator) == ["+14155550001", "+14155550002", "+14155550003"]


@pytest.mark.usefixtures("contact_list")
def test_a_gzipped_object_named_by_uri(emulator: EmulatorServer, memory_store: Any) -> None:
    with memory_store.open("/exports/renewals.csv.gz", "wb") as handle:
        handle.write(gzip.compress(CSV.encode()))
    assert add(path="memory://exports/renewals.csv.gz")["rows_sent"] == 3
    assert len(sent_phones(emulator)) == 3


@pytest.mark.usefixtures("contact_list")
def test_an_object_storage_path_with_a_named_format(emulator: EmulatorServer, memory_store: Any) -> None:
    with memory_store.open("/exports/renewals.data", "wb") as handle:
        handle.write(JSONL.encode())
    summary = add(path=ObjectStoragePath("memory://exports/renewals.data"), file_format="jsonl")
    assert (summary["rows_sent"], summary["rows_rejected"]) == (3, 0)
