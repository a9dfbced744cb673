"""``airflow_provider_koreai.contacts_upload``: where an upload's contacts come from (records, a local file,
an object-storage URI or path), the check that sends nothing, the stream the hook pulls, and where a failure
leaves the source. Reading and mapping rows: ``tests/test_contacts.py``; the operator around it:
``tests/operators/test_contact_list_lifecycle.py``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.contacts import ContactFile, RejectedRow, RenderedRecords, iter_rows
from airflow_provider_koreai.contacts_upload import (
    ContactUpload,
    UploadProgress,
    contact_file,
    lineage_name,
    parse_records,
)
from airflow_provider_koreai.exceptions import (
    KoreAIInvalidArgumentsError,
    KoreAIPartialUploadError,
    KoreAIRequestRejectedError,
    KoreAIValidationError,
)

LIST = "Renewals"
RECORDS = [
    {"phoneNumber": "+14155550101", "firstName": "Ada"},
    {"phoneNumber": "+14155550102", "firstName": "Zoë"},
    {"phoneNumber": "+14155550103"},
]
CSV = "phoneNumber,firstName\n+14155550101,Ada\n+14155550102,Alan\n"


def chunks_pulled(records: Iterable[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """The records as the hook pulls them: ``size`` at a time, each chunk sent before the next is pulled."""
    iterator = iter(records)
    chunks = []
    while chunk := list(islice(iterator, size)):
        chunks.append(chunk)
    return chunks


def refused(field: str, match: str) -> Any:
    """``pytest.raises`` for a validation error naming ``field``."""
    return pytest.raises(KoreAIValidationError, match=f"^Invalid '{field}': {match}")


def partial_upload_error(rows_accepted: int, rows_failed: int) -> KoreAIPartialUploadError:
    return KoreAIPartialUploadError(
        contact_list_name=LIST,
        cause=KoreAIRequestRejectedError(http_status=400, endpoint="POST /addContacts", message="refused"),
        rows_accepted=rows_accepted,
        chunks_accepted=1 if rows_accepted else 0,
        rows_failed=rows_failed,
        outcome_unknown=False,
    )


# -- records --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        RECORDS,
        json.dumps(RECORDS),
        f"  {RECORDS!r}\n",  # what a Jinja template renders for a list, without native rendering
        RenderedRecords(RECORDS),
        RenderedRecords(json.dumps(RECORDS)),
        (record for record in RECORDS),
    ],
    ids=["list", "json", "python-literal", "rendered-list", "rendered-text", "iterable"],
)
def test_records_as_a_task_receives_them(value: Any) -> None:
    assert list(parse_records(value)) == RECORDS


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("+14155550101 not a list", r"is text \(23 characters\) that is neither a JSON array nor a Python"),
        ('{"phoneNumber": "+14155550101"}', "must be a list of records, got a single mapping"),
        ("None", "must be a list of records, got NoneType"),
        ('"+14155550101"', "must be a list of records, got str"),
        (b"[]", "must be a list of records, got bytes"),
        (7, "must be a list of records, got int"),
    ],
)
def test_records_that_are_not_a_list_are_refused_without_quoting_them(value: Any, problem: str) -> None:
    with refused("records", problem) as excinfo:
        parse_records(value)
    assert "+1415" not in str(excinfo.value)


# -- files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file_format", "kind", "gzip"),
    [
        ("export.csv", None, "csv", False),
        ("export.JSONL.gz", None, "jsonl", True),
        ("export.data", "jsonl", "jsonl", False),
        ("export.csv", "jsonl", "jsonl", False),
    ],
)
def test_a_local_file_and_its_format(
    tmp_path: Path, name: str, file_format: str | None, kind: str, gzip: bool
) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    found = contact_file(path, file_format=file_format)
    assert (found.location, found.kind, found.gzip) == (str(path), kind, gzip)


def test_a_file_uri_is_read_through_object_storage(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(CSV, encoding="utf-8")
    found = contact_file((tmp_path / "export.csv").as_uri(), conn_id="")
    assert found.location.startswith("file://")
    assert [row.record["firstName"] for row in iter_rows(found)] == ["Ada", "Alan"]


def test_an_object_storage_path_is_read_through_its_store(tmp_path: Path) -> None:
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    (tmp_path / "export.data").write_text(CSV, encoding="utf-8")
    found = contact_file(ObjectStoragePath((tmp_path / "export.data").as_uri()), file_format="csv")
    assert [row.record["firstName"] for row in iter_rows(found)] == ["Ada", "Alan"]
    assert [row.record["firstName"] for row in iter_rows(found)] == ["Ada", "Alan"], "opened afresh"


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "must be a file path, an object-storage URI or an ObjectStoragePath, got ''"),
        ("  ", "must be a file path"),
        (7, "must be a file path"),
        (
            "/nonexistent/contacts.csv",
            "'/nonexistent/contacts.csv' is not a file on this worker.*object storage",
        ),
        ("/nonexistent/contacts.json", "'/nonexistent/contacts.json' has none of the supported extensions"),
        ("file:///nonexistent/contacts.csv", "'file:///nonexistent/contacts.csv' is not a file in its"),
        ("file:///nonexistent/contacts.data", "'file:///nonexistent/contacts.data' has none of the"),
        ("nosuchscheme://bucket/export.csv", "'nosuchscheme://bucket/export.csv' cannot be opened"),
    ],
)
def test_a_path_that_cannot_be_read_is_refused(path: Any, problem: str) -> None:
    with refused("path", problem):
        contact_file(path)


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("exports/renewals.csv", ("file", os.path.abspath("exports/renewals.csv"))),
        ("file:///data/renewals.csv", ("file", "/data/renewals.csv")),
        ("s3://aws_prod@exports/2025/renewals.csv.gz", ("s3://exports", "2025/renewals.csv.gz")),
        ("gs://exports/renewals.csv", ("gs://exports", "renewals.csv")),
    ],
)
def test_the_openlineage_name_of_a_file(location: str, name: tuple[str, str]) -> None:
    assert lineage_name(location) == name


# -- the upload's arguments -----------------------------------------------------------------------------


def test_the_arguments_name_the_source_and_what_was_read(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text(CSV, encoding="utf-8")
    from_file = ContactUpload.from_arguments(LIST, path=str(tmp_path / "export.csv"), max_invalid_rows="3")
    from_records = ContactUpload.from_arguments(LIST, records=RECORDS, column_map={"phone": "phoneNumber"})

    assert (from_file.field, from_file.described) == ("path", repr(str(tmp_path / "export.csv")))
    assert from_file.read_from == ("file", str(tmp_path / "export.csv"))
    assert from_file.max_invalid_rows == 3
    assert (from_records.field, from_records.described, from_records.read_from) == (
        "records",
        "3 record(s)",
        None,
    )
    assert from_records.column_map == {"phone": "phoneNumber"}


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"max_invalid_rows": "many"}, "max_invalid_rows"),
        ({"column_map": {"phone": ""}}, "column_map"),
        ({"column_map": {"phone": "phoneNumber", "mobile": "phoneNumber"}}, "column_map"),
        ({"records": "x"}, "records"),
        ({"records": RECORDS, "path": ""}, "path"),
    ],
)
def test_each_argument_is_refused_by_name(arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(KoreAIValidationError) as caught:
        ContactUpload.from_arguments(LIST, **{"records": RECORDS, **arguments})
    assert caught.value.field == field
    assert f"'{field}'" in str(caught.value)


def test_every_bad_argument_is_refused_at_once_in_their_order() -> None:
    with pytest.raises(KoreAIInvalidArgumentsError) as caught:
        ContactUpload.from_arguments(LIST, max_invalid_rows=-1, column_map="phone", records="x")
    assert caught.value.fields == ("max_invalid_rows", "column_map", "records")


# -- pass 1: the check ----------------------------------------------------------------------------------


def test_the_check_counts_every_invalid_row_and_reports_the_first_20() -> None:
    records = [{"phoneNumber": "+1"}] + [{"firstName": f"n{i}"} for i in range(25)] + [{"phoneNumber": "+2"}]
    reported: list[RejectedRow] = []
    checked = ContactUpload(LIST, records, max_invalid_rows=25).check(report=reported.append)

    assert (checked.valid, checked.invalid.count) == (2, 25)
    assert [str(row) for row in reported] == checked.invalid.reasons
    assert checked.invalid.reasons[0] == "record 2: no phoneNumber"
    assert len(reported) == 20


def test_more_invalid_rows_than_allowed_refuse_the_upload_naming_the_first() -> None:
    records = [{"phoneNumber": "+1"}, {"firstName": "Ada"}, "+3", {"phoneNumber": ""}]
    with refused(
        "records",
        r"3 invalid row\(s\) in 4 record\(s\), more than max_invalid_rows=2; nothing was sent to Kore\.ai "
        r"list 'Renewals'\. First: record 2: no phoneNumber; record 3: a str, not a mapping of column to "
        r"value; record 4: no phoneNumber$",
    ):
        ContactUpload(LIST, records, max_invalid_rows=2).check()


def test_a_file_that_is_not_contacts_is_refused_as_the_path(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("phone,name\n+1,Ada\n", encoding="utf-8")
    with refused("path", f"'{path}': no 'phoneNumber' column.*column_map"):
        ContactUpload(LIST, ContactFile.local(path)).check()


# -- pass 2: the stream, and where it stops -------------------------------------------------------------


class ChangingRecords(Sequence[dict[str, Any]]):
    """Twelve valid records on the first read; from record ``bad_from`` on, invalid on later reads: a source
    that changed between the check and the upload."""

    def __init__(self, bad_from: int) -> None:
        self.bad_from = bad_from
        self.reads = 0

    def __len__(self) -> int:
        return 12

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.reads += 1
        for number in range(1, 13):
            bad = self.reads > 1 and number >= self.bad_from
            yield {"firstName": "x"} if bad else {"phoneNumber": f"+{number}"}


def test_the_stream_sends_the_valid_rows_and_counts_the_others() -> None:
    upload = ContactUpload(LIST, [*RECORDS, {"firstName": "no phone"}], max_invalid_rows=1)
    assert upload.check().valid == 3
    assert chunks_pulled(upload.rows(2), 2) == [RECORDS[:2], RECORDS[2:]]
    assert upload.rejected_while_sending.count == 1


@pytest.mark.parametrize("bad_from", [6, 8], ids=["at-a-chunk-boundary", "inside-a-chunk"])
def test_a_source_that_changed_since_the_check_stops_the_stream_at_once(bad_from: int) -> None:
    upload = ContactUpload(LIST, ChangingRecords(bad_from))
    upload.check()
    records = upload.rows(5)
    assert len(list(islice(records, 5))) == 5, "the first chunk"
    with refused(
        "records",
        r"12 record\(s\) changed while it was being sent \(more than 0 invalid row\(s\).*\); sending "
        r"stopped\. The 5 row\(s\) up to and including record 5 were accepted before that; nothing after",
    ):
        list(islice(records, 5))


def test_a_file_gone_before_anything_was_sent_stops_the_stream(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    upload = ContactUpload(LIST, ContactFile.local(path))
    upload.check()
    path.unlink()
    with refused(
        "path", r".* changed while it was being sent \(cannot read .*No row was accepted before that"
    ):
        next(upload.rows(5))


def test_a_failed_chunk_is_named_by_its_place_in_the_source(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("phoneNumber\n" + "".join(f"+{n}\n" for n in range(1, 8)), encoding="utf-8")
    upload = ContactUpload(LIST, ContactFile.local(path))
    assert upload.located(error := partial_upload_error(0, 3)) is error, "nothing pulled yet"

    records = upload.rows(3)
    list(islice(records, 5))  # the first chunk (lines 2-4) was sent; the second is being built
    located = upload.located(partial_upload_error(3, 3))

    assert "in the source, line 5 to line 6 (the failed chunk) were not added" in str(located)
    assert "the 3 row(s) up to and including line 4 were accepted before them" in str(located)
    assert located.__cause__ is located.cause


def test_a_failed_first_chunk_names_no_accepted_row() -> None:
    progress = UploadProgress(chunk_size=2)
    assert progress.located(error := partial_upload_error(0, 2)) is error, "nothing pulled yet"
    list(progress.feed(iter_rows(RECORDS[:2])))
    located = progress.located(partial_upload_error(0, 2))
    assert "record 1 to record 2 (the failed chunk) were not added; no row was accepted" in str(located)
