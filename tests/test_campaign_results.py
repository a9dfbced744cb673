"""``airflow_provider_koreai.campaign_results``: a campaign's per-contact results written to a file (CSV or
JSON lines, gzip or not) through object storage, page by page, moved into place at the end; the summary
the operator pushes to XCom; the progress lines. The operator around it: ``tests/operators``; the hook's
pages: ``tests/hooks``; an ``s3://`` destination: ``tests/integration/test_campaign_results_to_s3.py``."""

from __future__ import annotations

import csv
import gc
import gzip
import json
import logging
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.campaign_results import (
    COLUMNS,
    ExportProgress,
    export_campaign_results,
    export_destination,
    outcome_of,
)
from airflow_provider_koreai.exceptions import KoreAIServerError, KoreAIValidationError
from airflow_provider_koreai.responses import CampaignContactsPage
from tests.helpers.compat import storage_conn_id, storage_uri


def contact(n: int, **fields: Any) -> dict[str, Any]:
    """A row as Kore.ai returns it; phone numbers ``+1415555xxxx``."""
    row: dict[str, Any] = {
        "phoneNumber": f"+1415555{n:04d}",
        "uniqueId": f"u-{n}",
        "dialerOutcome": "",
        "numberOfAttemptsSoFar": 0,
        "botSessionId": "",
        "agentDispositionCodes": [],
        "botOutboundStatus": "",
        "botOutboundStatusDetail": "",
    }
    row.update(fields)
    return row


def paged(rows: list[dict[str, Any]], size: int) -> Iterator[CampaignContactsPage]:
    pages = max(1, -(-len(rows) // size))
    for number in range(1, pages + 1):
        yield CampaignContactsPage(rows[(number - 1) * size : number * size], number, pages, len(rows))


ROWS = [
    contact(
        1,
        dialerOutcome="Answered",
        numberOfAttemptsSoFar=1,
        botSessionId="s-1",
        agentDispositionCodes=["SALE", "CALLBACK"],
        botOutboundStatus="Completed",
        botOutboundStatusDetail="Goal reached",
        campaignTag="extra",
    ),
    contact(2, dialerOutcome="NoAnswer", numberOfAttemptsSoFar=3),
    contact(3),
]


def read_csv(path: Path) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as text:
        return list(csv.reader(text))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as text:
        return [json.loads(line) for line in text]


# -- the file --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["results.csv", "results.csv.gz"])
def test_csv_has_the_columns_in_order_codes_joined_and_no_extra_key(tmp_path: Path, name: str) -> None:
    summary = export_campaign_results(paged(ROWS, 2), (tmp_path / name).as_uri())

    assert read_csv(tmp_path / name) == [
        list(COLUMNS),
        ["+14155550001", "u-1", "Answered", "1", "s-1", "Completed", "Goal reached", "SALE;CALLBACK"],
        ["+14155550002", "u-2", "NoAnswer", "3", "", "", "", ""],
        ["+14155550003", "u-3", "", "0", "", "", "", ""],
    ]
    assert summary.as_dict() == {
        "destination": (tmp_path / name).as_uri(),
        "rows_written": 3,
        "file_format": "csv",
        "compressed": name.endswith(".gz"),
        "outcomes": {"Completed": 1, "NoAnswer": 1, "not_dialled": 1},
    }
    assert os.listdir(tmp_path) == [name], "no temporary object left"


@pytest.mark.parametrize("name", ["results.jsonl", "results.ndjson.gz"])
def test_json_lines_keep_kore_keys_after_the_columns(tmp_path: Path, name: str) -> None:
    summary = export_campaign_results(paged(ROWS, 2), str(tmp_path / name))

    lines = read_jsonl(tmp_path / name)
    assert [list(line) for line in lines] == [[*COLUMNS, "campaignTag"], list(COLUMNS), list(COLUMNS)]
    assert lines[0]["agentDispositionCodes"] == ["SALE", "CALLBACK"]
    assert lines[0]["campaignTag"] == "extra"
    assert lines[1]["numberOfAttemptsSoFar"] == 3
    assert (summary.file_format, summary.compressed) == ("jsonl", name.endswith(".gz"))


def test_a_compressed_file_is_named_after_the_destination_not_the_temporary_object(tmp_path: Path) -> None:
    export_campaign_results(paged(ROWS, 2), (tmp_path / "results.csv.gz").as_uri())
    header = (tmp_path / "results.csv.gz").read_bytes()
    assert header[:2] == b"\x1f\x8b"
    assert b"results.csv\x00" in header[:40]
    assert b"partial" not in header[:64]


def test_file_format_names_the_format_of_a_name_that_does_not(tmp_path: Path) -> None:
    summary = export_campaign_results(paged(ROWS, 2), (tmp_path / "out.data").as_uri(), file_format="jsonl")
    assert len(read_jsonl(tmp_path / "out.data")) == summary.rows_written == 3


def test_a_local_path_gets_its_folders_and_replaces_an_older_file(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "2026" / "results.csv"
    export_campaign_results(paged(ROWS, 2), str(target))
    export_campaign_results(paged(ROWS[:1], 2), str(target))
    assert len(read_csv(target)) == 2, "the header and the one row of the second export"


def test_a_store_without_local_files_gets_the_file(memory_store: Any) -> None:
    summary = export_campaign_results(paged(ROWS, 1), "memory://exports/results.jsonl")

    assert summary.destination == storage_uri("memory://exports/results.jsonl")
    assert list(memory_store.store) == ["/exports/results.jsonl"], "no temporary object left"
    lines = memory_store.cat_file("/exports/results.jsonl").decode().splitlines()
    assert [json.loads(line)["uniqueId"] for line in lines] == ["u-1", "u-2", "u-3"]


def test_a_campaign_never_started_gives_a_header_only(tmp_path: Path) -> None:
    summary = export_campaign_results(
        iter([CampaignContactsPage([], 1, 0, 0)]), (tmp_path / "r.csv").as_uri()
    )
    assert read_csv(tmp_path / "r.csv") == [list(COLUMNS)]
    assert (summary.rows_written, summary.outcomes) == (0, {})


# -- failures --------------------------------------------------------------------------------------------


def failing_after(first_pages: int) -> Iterator[CampaignContactsPage]:
    pages = paged([contact(n) for n in range(10)], 2)
    for _ in range(first_pages):
        yield next(pages)
    raise KoreAIServerError(http_status=503, endpoint="POST /campaign/status", message="unavailable")


@pytest.mark.parametrize("name", ["results.csv", "results.jsonl.gz"])
def test_a_failure_mid_stream_leaves_neither_a_partial_file_nor_a_temporary_object(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(KoreAIServerError):
        export_campaign_results(failing_after(2), (tmp_path / name).as_uri())
    assert os.listdir(tmp_path) == []


def test_a_failure_removes_the_temporary_object_from_a_store(memory_store: Any) -> None:
    with pytest.raises(KoreAIServerError):
        export_campaign_results(failing_after(2), "memory://exports/results.csv")
    assert list(memory_store.store) == []


def test_a_failure_leaves_the_previous_export_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    target.write_text("the previous export\n", encoding="utf-8")
    with pytest.raises(KoreAIServerError):
        export_campaign_results(failing_after(3), str(target))
    assert target.read_text(encoding="utf-8") == "the previous export\n"
    assert os.listdir(tmp_path) == ["results.csv"]


@pytest.mark.parametrize(
    ("destination", "problem"),
    [
        (7, "must be a file path"),
        ("file:///exports/", "'file:///exports/' names a folder"),
        ("file:///exports/results.data", "'file:///exports/results.data' has none of the supported"),
        ("nosuchscheme://bucket/results.csv", "'nosuchscheme://bucket/results.csv' cannot be opened"),
    ],
)
def test_a_destination_that_cannot_be_written_is_refused_before_any_page(
    destination: Any, problem: str
) -> None:
    def pages() -> Iterator[CampaignContactsPage]:
        raise AssertionError("no page may be read")
        yield  # a generator

    with pytest.raises(KoreAIValidationError, match=f"^Invalid 'destination': {problem}"):
        export_campaign_results(pages(), destination)


def test_the_destination_resolves_with_its_connection() -> None:
    target = export_destination("s3://bucket/kore/results.JSONL.GZ", conn_id="aws_exports")
    assert (storage_conn_id(target.path), target.file_format, target.compressed) == (
        "aws_exports",
        "jsonl",
        True,
    )
    assert target.lineage == ("s3://bucket", "kore/results.JSONL.GZ")


# -- memory ----------------------------------------------------------------------------------------------


def test_one_page_is_held_at_a_time(tmp_path: Path) -> None:
    live = [0]
    held_when_asked: list[int] = []

    def released() -> None:
        live[0] -= 1

    def pages() -> Iterator[CampaignContactsPage]:
        for number in range(1, 6):  # gc.collect() costs ~0.2 s in a process that has loaded Airflow
            gc.collect()
            held_when_asked.append(live[0])
            page = CampaignContactsPage([contact(number * 100 + n) for n in range(100)], number, 5, 500)
            live[0] += 1
            weakref.finalize(page, released)
            yield page
            del page

    summary = export_campaign_results(pages(), (tmp_path / "r.jsonl").as_uri())
    assert summary.rows_written == 500
    assert held_when_asked == [0] * 5, "the previous page was released before the next one was asked for"


# -- outcomes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "outcome"),
    [
        ({"botOutboundStatus": "Completed", "dialerOutcome": "Answered"}, "Completed"),
        ({"botOutboundStatus": "  ", "dialerOutcome": "Busy"}, "Busy"),
        ({"botOutboundStatus": None, "dialerOutcome": "NoAnswer"}, "NoAnswer"),
        ({"botOutboundStatus": "", "dialerOutcome": ""}, "not_dialled"),
        ({}, "not_dialled"),
    ],
)
def test_a_contacts_outcome(row: dict[str, Any], outcome: str) -> None:
    assert outcome_of(row) == outcome


def test_outcomes_are_counted_over_every_page(tmp_path: Path) -> None:
    rows = (
        [contact(n, dialerOutcome="Answered", botOutboundStatus="Completed") for n in range(7)]
        + [contact(n, dialerOutcome="Busy") for n in range(7, 12)]
        + [contact(n) for n in range(12, 15)]
    )
    summary = export_campaign_results(paged(rows, 4), (tmp_path / "r.csv").as_uri())
    assert summary.outcomes == {"Busy": 5, "Completed": 7, "not_dialled": 3}
    assert sum(summary.outcomes.values()) == summary.rows_written == 15


# -- progress and logs -----------------------------------------------------------------------------------


class Clock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "row(s) written (page" in r.getMessage()]


def export_logged(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    clock: Clock,
    pages: Iterator[CampaignContactsPage],
    **kwargs: Any,
) -> Any:
    log = logging.getLogger("test.campaign_results")
    with caplog.at_level(logging.INFO, logger=log.name):
        return export_campaign_results(
            pages, (tmp_path / "r.csv").as_uri(), progress=ExportProgress(log, clock=clock, **kwargs), log=log
        )


def test_progress_is_logged_every_tenth_with_the_time_left(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [contact(n, dialerOutcome="Answered") for n in range(100)]
    export_logged(tmp_path, caplog, Clock(step=1), paged(rows, 5), seconds_per_request=1.2)

    lines = progress_lines(caplog)
    # Pages 1, 3, 5 ... 19 (10 rows more each time) and the last one.
    assert len(lines) == 11
    assert lines[0] == (
        "Campaign results: 5 of 100 row(s) written (page 1 of 20); about 23 s left at the account's pace "
        "(19 request(s), 1.2 s each)"
    )
    assert lines[-1] == "Campaign results: 100 of 100 row(s) written (page 20 of 20)"


def test_progress_is_logged_every_30_seconds_between_tenths(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [contact(n) for n in range(1000)]
    export_logged(tmp_path, caplog, Clock(step=31), paged(rows, 10), seconds_per_request=60)

    lines = progress_lines(caplog)
    assert len(lines) == 100, "every page: each came more than 30 s after the previous line"
    assert "about 99 min left" in lines[0]


def test_no_progress_estimate_without_a_pace(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    export_logged(tmp_path, caplog, Clock(step=1), paged(ROWS, 1))
    assert progress_lines(caplog)[0] == "Campaign results: 1 of 3 row(s) written (page 1 of 3)"


def test_a_changing_total_is_a_warning_and_the_rows_read_are_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pages = iter(
        [
            CampaignContactsPage(ROWS[:2], 1, 2, 4),
            CampaignContactsPage(ROWS[2:], 2, 3, 5),
            CampaignContactsPage([], 3, 3, 5),
        ]
    )
    summary = export_logged(tmp_path, caplog, Clock(step=1), pages)

    assert summary.rows_written == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert warnings[0].startswith("Campaign results: totalResults changed from 4 to 5 before page 2")
    assert warnings[1].startswith("Campaign results: 3 row(s) written, while Kore.ai reported totalResults=5")


def test_logs_and_summary_hold_no_contact_data(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rows = [
        contact(n, dialerOutcome="Answered", botSessionId=f"s-{n}", botOutboundStatusDetail=f"said {n}")
        for n in range(30)
    ]
    pages = iter([*paged(rows[:20], 10), CampaignContactsPage(rows[20:], 3, 3, 31)])
    summary = export_logged(tmp_path, caplog, Clock(step=31), pages, seconds_per_request=1)

    assert len(caplog.records) >= 5, "the progress lines, a warning and the summary line"
    written = caplog.text + json.dumps(summary.as_dict())
    for row in rows:
        for value in (row["phoneNumber"], row["phoneNumber"][1:], row["uniqueId"], row["botSessionId"]):
            assert value not in written
    assert "said" not in written
