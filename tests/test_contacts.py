"""``airflow_provider_koreai.contacts``: reading CSV, JSON lines and iterables, mapping to Kore.ai columns."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.contacts import (
    ContactFile,
    ContactFileError,
    Position,
    RejectedRow,
    RejectTally,
    RenderedRecords,
    TooManyRejectedRows,
    check_column_map,
    file_kind,
    iter_rows,
    map_record,
)


def collect(source: Any, column_map: dict[str, str] | None = None) -> tuple[list[Any], list[RejectedRow]]:
    tally = RejectTally(keep=1000)
    rows = list(iter_rows(source, column_map, on_reject=tally.add))
    assert tally.count == len(tally.first)
    return rows, tally.first


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# -- mapping --------------------------------------------------------------------------------------------


def test_map_record_keeps_known_and_extra_columns_and_drops_empty_values() -> None:
    raw = {
        "phoneNumber": " +14155550101 ",
        "firstName": " Ada ",
        "lastName": "",
        "timeZone": None,
        "uniqueId": 42,
        "policy": "P-1",
        "notes": "   ",
    }
    assert map_record(raw) == {
        "phoneNumber": "+14155550101",
        "firstName": "Ada",
        "uniqueId": 42,
        "policy": "P-1",
    }


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({}, "no phoneNumber"),
        ({"firstName": "Ada"}, "no phoneNumber"),
        ({"phoneNumber": "   "}, "no phoneNumber"),
        ({"phoneNumber": None}, "no phoneNumber"),
        ({"phoneNumber": 4.155550101e9}, "phoneNumber must be text, got float"),
        ({"phoneNumber": True}, "phoneNumber must be text, got bool"),
        ({"phoneNumber": ["+1"]}, "phoneNumber must be text, got list"),
    ],
)
def test_map_record_refuses_rows_without_a_usable_phone_number(raw: dict[str, Any], reason: str) -> None:
    result = map_record(raw)
    assert isinstance(result, str)
    assert result.startswith(reason)


def test_integer_phone_numbers_become_text() -> None:
    assert map_record({"phoneNumber": 14155550101}) == {"phoneNumber": "14155550101"}


def test_column_map_renames_and_a_renamed_column_wins() -> None:
    column_map = check_column_map({"phone": "phoneNumber", "First Name": "firstName"})
    raw = {"phone": "+1 415 555 0101", "First Name": "Ada", "phoneNumber": "+0000", "city": "Paris"}
    assert map_record(raw, column_map) == {
        "phoneNumber": "+1 415 555 0101",
        "firstName": "Ada",
        "city": "Paris",
    }
    # An empty renamed value does not hide the unrenamed column.
    assert map_record({"phone": "", "phoneNumber": "+1"}, column_map) == {"phoneNumber": "+1"}


@pytest.mark.parametrize(
    ("column_map", "problem"),
    [
        (["phone"], "must be a mapping"),
        ({"": "phoneNumber"}, "non-empty"),
        ({"phone": ""}, "non-empty"),
        ({"phone": 3}, "non-empty"),
        ({"phone": "phoneNumber", "mobile": "phoneNumber"}, "several source columns map to 'phoneNumber'"),
    ],
)
def test_bad_column_maps_are_refused(column_map: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_column_map(column_map)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.csv", "csv"),
        ("A.CSV", "csv"),
        ("x/b.jsonl", "jsonl"),
        ("c.NDJSON", "jsonl"),
        ("d.csv.gz", "csv"),
        ("e.jsonl.GZ", "jsonl"),
    ],
)
def test_file_kind_by_extension(name: str, kind: str) -> None:
    assert file_kind(name) == kind


@pytest.mark.parametrize("name", ["contacts.json", "contacts.txt", "contacts.gz", "contacts"])
def test_unsupported_extensions_are_refused(name: str) -> None:
    with pytest.raises(ContactFileError, match="supported extensions"):
        file_kind(name)


# -- CSV ------------------------------------------------------------------------------------------------


def test_csv_with_bom_blank_lines_unicode_and_extra_columns(tmp_path: Path) -> None:
    text = (
        "phoneNumber, firstName ,lastName,timeZone,uniqueId,policy\r\n"
        "\r\n"
        "+14155550101,Zoë,Ørsted,Europe/Paris,u-1,P-1\r\n"
        "+14155550102,李,,,,\r\n"
        "\r\n"
        '+14155550103,"Smith, Jr.","multi\nline",,,🚀\r\n'
        ",NoPhone,,,,\r\n"
        "+14155550104\r\n"
    )
    path = write(tmp_path, "contacts.csv", "\ufeff" + text)

    rows, rejected = collect(path)

    assert [row.record for row in rows] == [
        {
            "phoneNumber": "+14155550101",
            "firstName": "Zoë",
            "lastName": "Ørsted",
            "timeZone": "Europe/Paris",
            "uniqueId": "u-1",
            "policy": "P-1",
        },
        {"phoneNumber": "+14155550102", "firstName": "李"},
        {"phoneNumber": "+14155550103", "firstName": "Smith, Jr.", "lastName": "multi\nline", "policy": "🚀"},
        {"phoneNumber": "+14155550104"},
    ]
    assert [row.position for row in rows] == [
        Position("line", 3),
        Position("line", 4),
        Position("line", 6),
        Position("line", 9),
    ]
    assert [str(row) for row in rejected] == ["line 8: no phoneNumber"]


def test_csv_rows_longer_than_the_header_are_rejected_unless_the_extra_fields_are_blank(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "c.csv", "phoneNumber,firstName\n+1,Ada,\n+2,Bob,surprise\n")
    rows, rejected = collect(path)
    assert [row.record for row in rows] == [{"phoneNumber": "+1", "firstName": "Ada"}]
    assert [str(row) for row in rejected] == ["line 3: has 3 fields but the header has 2"]


def test_csv_value_under_an_unnamed_column_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "phoneNumber,\n+1,\n+2,lost\n")
    rows, rejected = collect(path)
    assert [row.record for row in rows] == [{"phoneNumber": "+1"}]
    assert [str(row) for row in rejected] == ["line 3: has a value in unnamed column 2"]


def test_csv_column_map_applies_to_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "Phone,First Name,Plan\n+1,Ada,gold\n")
    rows, _ = collect(path, {"Phone": "phoneNumber", "First Name": "firstName"})
    assert [row.record for row in rows] == [{"phoneNumber": "+1", "firstName": "Ada", "Plan": "gold"}]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("phone,firstName\n+1,Ada\n", "no 'phoneNumber' column; the header is \\['phone', 'firstName'\\]"),
        ("phoneNumber,a,a\n+1,x,y\n", "repeats column\\(s\\) 'a'"),
    ],
)
def test_csv_file_level_problems(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "c.csv", text)
    with pytest.raises(ContactFileError, match=problem):
        collect(path)


def test_non_utf8_and_missing_files_are_file_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "phoneNumber,firstName\n+1,Zoë\n", encoding="latin-1")
    with pytest.raises(ContactFileError, match="not UTF-8"):
        collect(path)
    with pytest.raises(ContactFileError, match="cannot read"):
        collect(tmp_path / "missing.csv")


# -- JSON lines -----------------------------------------------------------------------------------------


def test_json_lines_with_bom_blank_lines_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"phoneNumber": "+1", "firstName": "Zoë", "tags": ["a", "b"]}, ensure_ascii=False),
        "",
        "   ",
        "{not json",
        json.dumps(["+2"]),
        json.dumps("+3"),
        json.dumps({"phone": "+4"}),
        json.dumps({"firstName": "no phone"}),
        json.dumps({"phoneNumber": 14155550105, "uniqueId": 7}),
    ]
    path = write(tmp_path, "c.ndjson", "\ufeff" + "\n".join(lines) + "\n")

    rows, rejected = collect(path, {"phone": "phoneNumber"})

    assert [(str(row.position), row.record) for row in rows] == [
        ("line 1", {"phoneNumber": "+1", "firstName": "Zoë", "tags": ["a", "b"]}),
        ("line 7", {"phoneNumber": "+4"}),
        ("line 9", {"phoneNumber": "14155550105", "uniqueId": 7}),
    ]
    reasons = [str(row) for row in rejected]
    assert reasons[0].startswith("line 4: not valid JSON (")
    assert reasons[1:] == [
        "line 5: a JSON list, not an object",
        "line 6: a JSON str, not an object",
        "line 8: no phoneNumber",
    ]


# -- iterables ------------------------------------------------------------------------------------------


def test_iterable_items_are_numbered_and_non_mappings_rejected() -> None:
    rows, rejected = collect([{"phoneNumber": "+1"}, "+2", None, {"phoneNumber": ""}, {"phoneNumber": "+5"}])
    assert [(str(row.position), row.record) for row in rows] == [
        ("record 1", {"phoneNumber": "+1"}),
        ("record 5", {"phoneNumber": "+5"}),
    ]
    assert [str(row) for row in rejected] == [
        "record 2: a str, not a mapping of column to value",
        "record 3: a NoneType, not a mapping of column to value",
        "record 4: no phoneNumber",
    ]


def records_of(source: Any, column_map: Any = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """The mapped records alone, as the operator feeds them to the hook."""
    return (row.record for row in iter_rows(source, column_map, **kwargs))


@pytest.mark.parametrize("source", [b"phoneNumber\n+1\n", {"phoneNumber": "+1"}])
def test_bytes_and_single_mappings_are_not_sources(source: Any) -> None:
    with pytest.raises(TypeError, match="path or an iterable"):
        list(records_of(source))


def test_reading_is_lazy() -> None:
    """Nothing is pulled from the source ahead of what the consumer asks for."""
    pulled: list[int] = []

    def source() -> Iterator[dict[str, str]]:
        for number in range(1, 4):
            pulled.append(number)
            yield {"phoneNumber": f"+{number}"}
        raise AssertionError("read past the third record")

    records = records_of(source())
    assert pulled == []
    assert list(islice(records, 3)) == [{"phoneNumber": "+1"}, {"phoneNumber": "+2"}, {"phoneNumber": "+3"}]
    assert pulled == [1, 2, 3]


@pytest.mark.slow  # a 100,000-row file
def test_files_are_streamed_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("phoneNumber,firstName,lastName\n")
        for number in range(100_000):
            handle.write(f"+1415{number:07d},First{number},Last{number}\n")
    assert path.stat().st_size > 3_000_000

    tracemalloc.start()
    try:
        count = sum(1 for _ in records_of(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 100_000
    assert peak < 1_000_000, f"peak {peak} bytes: the file was not streamed"


# -- tally ----------------------------------------------------------------------------------------------


def test_tally_counts_everything_keeps_the_first_and_reports_them() -> None:
    reported: list[RejectedRow] = []
    tally = RejectTally(keep=2, report=reported.append)
    for number in range(1, 6):
        tally.add(RejectedRow(Position("record", number), "no phoneNumber"))
    assert tally.count == 5
    assert tally.reasons == ["record 1: no phoneNumber", "record 2: no phoneNumber"]
    assert reported == tally.first


def test_tally_limit_stops_the_iteration_at_the_first_row_over_it() -> None:
    tally = RejectTally(limit=1)
    records = records_of(
        [{"phoneNumber": "+1"}, {}, {"phoneNumber": "+3"}, {}, {"phoneNumber": "+5"}], on_reject=tally.add
    )
    assert next(records) == {"phoneNumber": "+1"}
    assert next(records) == {"phoneNumber": "+3"}
    with pytest.raises(TooManyRejectedRows, match="more than 1 invalid row") as excinfo:
        next(records)
    assert excinfo.value.tally.count == 2


def test_module_imports_neither_airflow_nor_http() -> None:
    code = textwrap.dedent(
        """
        import sys
        import airflow_provider_koreai.contacts
        http = {"requests", "jwt", "tenacity", "urllib3"}
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in http)
        print(",".join(heavy))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == ""


# -- compressed files, and files that are not local ------------------------------------------------------


def test_a_gzipped_file_streams_like_a_plain_one(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "contacts.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        handle.write("phoneNumber,firstName\n+15550000001,Ada\n,NoPhone\n")
    tally = RejectTally()
    assert [row.record for row in iter_rows(path, on_reject=tally.add)] == [
        {"phoneNumber": "+15550000001", "firstName": "Ada"}
    ]
    assert tally.reasons == ["line 3: no phoneNumber"]


def test_a_truncated_gzip_file_is_a_file_error(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "contacts.csv.gz"
    path.write_bytes(gzip.compress(b"phoneNumber\n" + b"+15550000001\n" * 1000)[:40])
    with pytest.raises(ContactFileError, match="not a complete gzip file"):
        list(iter_rows(path))


def test_any_opener_is_a_source() -> None:
    """What the operator builds for object storage: a name, a format, and a way to open the bytes."""
    import io

    source = ContactFile(
        location="memory://bucket/export",
        kind="jsonl",
        open_binary=lambda: io.BytesIO(b'{"phoneNumber": "+1"}\n'),
    )
    assert [row.record for row in iter_rows(source)] == [{"phoneNumber": "+1"}]
    assert [row.record for row in iter_rows(source)] == [{"phoneNumber": "+1"}], "opened afresh per read"


# -- what the UI shows of rendered records ---------------------------------------------------------------

TEXT = '[{"phoneNumber": "+14155550101", "firstName": "Ada"}]'
MANY_COLUMNS = {f"c{number:02}": "x" for number in range(23)}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (TEXT, f"<contact records as text, {len(TEXT)} characters, read when the task runs>"),
        ({"phoneNumber": "+14155550101"}, "<contact records: a dict, not a list>"),
        (b"+14155550101", "<contact records: a bytes, not a list>"),
        (7, "<contact records: a int, not a list>"),
        (iter([{"phoneNumber": "+14155550101"}]), "<contact records: a list_iterator of records>"),
        ([], "<0 contact records; columns: none>"),
        (
            [{"phoneNumber": "+14155550101", "firstName": "Ada"}, {"phoneNumber": "+2", "uniqueId": 7}, "x"],
            "<3 contact records; columns: firstName, phoneNumber, uniqueId>",
        ),
        ([MANY_COLUMNS], f"<1 contact records; columns: {', '.join(sorted(MANY_COLUMNS)[:20])} and 3 more>"),
    ],
)
def test_rendered_records_show_a_summary_never_the_contacts(value: Any, shown: str) -> None:
    rendered = RenderedRecords(value)
    assert str(rendered) == repr(rendered) == shown
    assert rendered.value is value
