"""The per-contact results of a campaign, written to a file: what
``ExportCampaignResultsOperator`` does with the pages the hook reads
(:meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.iter_campaign_contact_pages`).

**Where.** ``destination`` is an object-storage URI (``s3://``, ``gs://``, ``file://``...) opened through
Airflow's object storage with ``destination_conn_id``, an ``ObjectStoragePath``, or a path on this worker.
Its format is ``file_format`` (``"csv"`` or ``"jsonl"``), else its suffix's (``.csv``, ``.jsonl``,
``.ndjson``); a name ending in ``.gz`` is written gzip-compressed. An existing file at the destination is
replaced.

**Columns.** One row per contact of the campaign's current (or last) run, in dialling order, with these
columns, in this order (:data:`COLUMNS`): ``phoneNumber``, ``uniqueId``, ``dialerOutcome``,
``numberOfAttemptsSoFar``, ``botSessionId``, ``botOutboundStatus``, ``botOutboundStatusDetail``,
``agentDispositionCodes``. A CSV file has them as its header, a missing value is an empty cell and
``agentDispositionCodes`` is its codes joined with ``;``. A JSON-lines file has one object per contact, those
keys first (a missing one as ``null``, ``agentDispositionCodes`` as the list Kore.ai sent), then any other
key Kore.ai sent, as it sent it. **A CSV file drops keys not in the list**: a header is written before the
first row, and a column Kore.ai added later could not be added to it; choose JSON lines to keep them.

**Outcomes.** The summary counts the contacts by outcome (:func:`outcome_of`): a contact's outcome is its
``botOutboundStatus`` when that is not empty, else its ``dialerOutcome`` when that is not empty, else
``"not_dialled"`` (a contact the campaign has not reached yet).

**Atomicity.** The rows are written to a temporary object next to the destination
(``<name>.koreai-partial-<random>``), which is moved into place once the last page is written (a rename on a
local disk; a copy and a delete on a store without renames, such as S3). On any failure (a request, the
store) the temporary object is removed and the error raised: the destination is never a partial file; a
file that was there before stays as it was.

**Memory.** Pages are pulled from the hook one at a time and each is released before the next is asked for:
one page of rows (at most 100) is held, whatever the campaign's size.

**A running campaign.** The rows can be read while the campaign is still dialling: the file holds what was
read, page after page, and ``rows_written`` counts it. Should Kore.ai's ``totalResults`` change between two
pages, or differ from the rows read at the end, a warning says so; it is not an error.

Progress is logged after a page when another tenth of ``totalResults`` was written or 30 seconds passed since
the last line, and after the last page, with an estimate of the time left at the account's pace (the pages
left x ``seconds_per_request``). No log line, summary or error
written here holds a phone number, a name or any other value of a row: only counts, outcomes and the
destination.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import math
import os
import posixpath
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import IO, Any, cast

from airflow_provider_koreai import validation
from airflow_provider_koreai.contacts import GZIP_EXTENSION
from airflow_provider_koreai.contacts_upload import lineage_name, object_storage_path
from airflow_provider_koreai.exceptions import KoreAIValidationError
from airflow_provider_koreai.responses import CampaignContactsPage

__all__ = [
    "COLUMNS",
    "NOT_DIALLED",
    "ExportDestination",
    "ExportProgress",
    "ExportSummary",
    "export_campaign_results",
    "export_destination",
    "outcome_of",
]

#: The columns of an export, in order: a CSV file's header, the first keys of a JSON line.
COLUMNS: tuple[str, ...] = (
    "phoneNumber",
    "uniqueId",
    "dialerOutcome",
    "numberOfAttemptsSoFar",
    "botSessionId",
    "botOutboundStatus",
    "botOutboundStatusDetail",
    "agentDispositionCodes",
)
DISPOSITION_CODES = "agentDispositionCodes"
#: How ``agentDispositionCodes`` is joined in a CSV cell.
CODES_SEPARATOR = ";"
#: The outcome of a contact with neither a ``botOutboundStatus`` nor a ``dialerOutcome``.
NOT_DIALLED = "not_dialled"
#: What the temporary object's name adds to the destination's.
PARTIAL_MARKER = ".koreai-partial-"
#: Progress is logged when this share of ``totalResults`` more was written since the last line...
PROGRESS_SHARE = 0.1
#: ... or when this many seconds passed since it.
PROGRESS_SECONDS = 30.0


def outcome_of(row: Mapping[str, Any]) -> str:
    """A contact's outcome: its ``botOutboundStatus`` if not empty, else its ``dialerOutcome`` if not empty,
    else :data:`NOT_DIALLED`."""
    for key in ("botOutboundStatus", "dialerOutcome"):
        value = row.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return NOT_DIALLED


# -- where the file goes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportDestination:
    """The file an export writes, resolved and checked before any page is read.

    :param path: the destination as an ``ObjectStoragePath``.
    :param file_format: ``"csv"`` or ``"jsonl"``.
    :param compressed: whether the bytes are gzip-compressed (the name ends in ``.gz``).
    """

    path: Any
    file_format: str
    compressed: bool

    @property
    def location(self) -> str:
        """The destination as the summary and messages name it."""
        return str(self.path)

    @property
    def lineage(self) -> tuple[str, str]:
        """OpenLineage's (namespace, name) of the file."""
        return lineage_name(self.location)


def export_destination(
    destination: Any, *, conn_id: str | None = None, file_format: str | None = None
) -> ExportDestination:
    """``destination`` resolved: a URI through Airflow's object storage with ``conn_id`` (``None`` or ``""``:
    the store's default), an ``ObjectStoragePath`` as given, a local path as a ``file://`` URI. Nothing is
    read or written.

    :param file_format: ``"csv"`` or ``"jsonl"`` (checked by the operator), for a name that does not say;
        ``None``: from the suffix, after ``.gz``.
    :raises KoreAIValidationError: naming ``destination``: not a path, a name that ends in ``/``, no
        format, or no filesystem for the URI's scheme.
    """
    if isinstance(destination, str) and destination.rstrip().endswith(("/", os.sep)):
        raise KoreAIValidationError(
            "destination", f"{destination!r} names a folder; name the file to write (results.csv, ...)"
        )
    store = object_storage_path(destination, conn_id=conn_id, field="destination")
    if store is None:
        validation.contact_file_path(destination, "destination", file_format=file_format)
        store = object_storage_path(
            "file://" + os.path.abspath(os.fspath(destination)), conn_id=None, field="destination"
        )
    location = str(store)
    kind = validation.contact_file_kind(location, file_format, "destination")
    return ExportDestination(store, kind, location.lower().endswith(GZIP_EXTENSION))


# -- the summary and the progress ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote; :meth:`as_dict` is what the operator pushes to XCom.

    :param destination: the file written (its URI).
    :param rows_written: the contacts written, one row each.
    :param file_format: ``"csv"`` or ``"jsonl"``.
    :param compressed: whether the file is gzip-compressed.
    :param outcomes: how many contacts had each outcome (:func:`outcome_of`).
    """

    destination: str
    rows_written: int
    file_format: str
    compressed: bool
    outcomes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON (XCom)."""
        return asdict(self)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{math.ceil(seconds)} s"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


class ExportProgress:
    """Logs an export's progress after each page, throttled: a line when another tenth of ``totalResults``
    was written since the last line, or when 30 seconds passed since it, with the time left at the
    account's pace.

    :param log: where the lines go (the task's logger).
    :param seconds_per_request: the account's pace, 60 / the requests per minute the hook may send; ``None``:
        no estimate of the time left.
    :param clock: seconds, monotonic (tests pass their own).
    """

    def __init__(
        self,
        log: logging.Logger | None = None,
        *,
        seconds_per_request: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log or logging.getLogger(__name__)
        self.seconds_per_request = seconds_per_request
        self.clock = clock
        self.logged_rows: int | None = None
        self.logged_at = clock()

    def page_written(self, rows: int, page: CampaignContactsPage) -> None:
        """After each page: ``rows`` written so far, ``page`` the page just written."""
        total = page.total_results
        now = self.clock()
        step = max(1, math.ceil(total * PROGRESS_SHARE))
        due = (
            self.logged_rows is None
            or rows - self.logged_rows >= step
            or now - self.logged_at >= PROGRESS_SECONDS
            or page.page >= page.total_pages
        )
        if not due or total <= 0:
            return
        self.logged_rows, self.logged_at = rows, now
        left = max(0, page.total_pages - page.page)
        estimate = ""
        if left and self.seconds_per_request is not None:
            estimate = (
                f"; about {_duration(left * self.seconds_per_request)} left at the account's pace "
                f"({left} request(s), {self.seconds_per_request:g} s each)"
            )
        self.log.info(
            "Campaign results: %s of %s row(s) written (page %s of %s)%s",
            f"{rows:,}",
            f"{total:,}",
            page.page,
            page.total_pages,
            estimate,
        )


# -- the export ------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return value


def _csv_row(row: Mapping[str, Any]) -> list[Any]:
    cells = []
    for column in COLUMNS:
        value = row.get(column)
        if column == DISPOSITION_CODES and isinstance(value, list | tuple):
            value = CODES_SEPARATOR.join("" if code is None else str(code) for code in value)
        cells.append(_cell(value))
    return cells


def _json_row(row: Mapping[str, Any]) -> dict[str, Any]:
    ordered = {column: row.get(column) for column in COLUMNS}
    ordered.update((key, value) for key, value in row.items() if key not in ordered)
    return ordered


class _RowWriter:
    """Rows into an open binary file: CSV (header first) or JSON lines, gzip-compressed or not."""

    def __init__(self, stack: ExitStack, raw: IO[bytes], target: ExportDestination) -> None:
        binary: IO[bytes] = raw
        if target.compressed:
            # The name in the gzip header is the destination's, not the temporary object's.
            name = posixpath.basename(target.path.path).removesuffix(GZIP_EXTENSION)
            compressor = gzip.GzipFile(filename=name, mode="wb", fileobj=raw)
            binary = cast(IO[bytes], stack.enter_context(compressor))
        self.text = stack.enter_context(io.TextIOWrapper(binary, encoding="utf-8", newline=""))
        self.csv: Any = None
        if target.file_format == "csv":
            self.csv = csv.writer(self.text, lineterminator="\n")
            self.csv.writerow(COLUMNS)

    def write(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if self.csv is not None:
            self.csv.writerows(_csv_row(row) for row in rows)
        else:
            self.text.writelines(json.dumps(_json_row(row), ensure_ascii=False) + "\n" for row in rows)


def _remove(store: Any, path: str, named: str, log: logging.Logger) -> None:
    try:
        if store.exists(path):
            store.rm_file(path)
    except Exception as error:  # the export's own error is the one to raise
        log.warning(
            "Could not remove the temporary object %r of a failed export (%s); delete it by hand",
            named,
            type(error).__name__,
        )


def export_campaign_results(
    pages: Iterable[CampaignContactsPage],
    destination: Any,
    *,
    destination_conn_id: str | None = None,
    file_format: str | None = None,
    seconds_per_request: float | None = None,
    progress: ExportProgress | None = None,
    log: logging.Logger | None = None,
) -> ExportSummary:
    """Write the contacts of ``pages`` to ``destination``, page by page, and move the file into place at the
    end (see the module's documentation for the columns, the outcomes and what a failure leaves).

    :param pages: the campaign's pages of per-contact results, as
        :meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.iter_campaign_contact_pages` yields them
        (lazily: each is requested when the previous one is written).
    :param destination: the file to write: an object-storage URI, an ``ObjectStoragePath`` or a local path.
    :param destination_conn_id: the Airflow connection of the URI's store; ``None``: the store's default.
    :param file_format: ``"csv"`` or ``"jsonl"``; ``None``: from the destination's suffix.
    :param seconds_per_request: the account's pace, for the progress lines' estimate of the time left.
    :param progress: what logs the progress; ``None``: an :class:`ExportProgress` on ``log``.
    :param log: the logger (the task's); ``None``: this module's.
    :raises KoreAIValidationError: naming ``destination``, before any page is read.
    """
    from fsspec.implementations.local import LocalFileSystem

    log = log or logging.getLogger(__name__)
    progress = progress or ExportProgress(log, seconds_per_request=seconds_per_request)
    target = export_destination(destination, conn_id=destination_conn_id, file_format=file_format)
    store = target.path.fs
    final = target.path.path
    suffix = PARTIAL_MARKER + secrets.token_hex(6)
    partial = final + suffix
    if isinstance(store, LocalFileSystem):  # object stores have no folders to make
        store.makedirs(posixpath.dirname(final), exist_ok=True)

    rows_written = 0
    outcomes: dict[str, int] = {}
    total: int | None = None
    try:
        with ExitStack() as stack:
            # The filesystem's own open: Airflow's lineage would record the temporary object otherwise.
            writer = _RowWriter(stack, stack.enter_context(store.open(partial, "wb")), target)
            iterator: Iterator[CampaignContactsPage] = iter(pages)
            while (page := next(iterator, None)) is not None:
                if total is not None and page.total_results != total:
                    log.warning(
                        "Campaign results: totalResults changed from %s to %s before page %s: the campaign "
                        "was played again or its lists changed while it was read; the file holds the rows "
                        "as read",
                        total,
                        page.total_results,
                        page.page,
                    )
                total = page.total_results
                rows = page.results
                writer.write(rows)
                for row in rows:
                    outcome = outcome_of(row)
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                rows_written += len(rows)
                progress.page_written(rows_written, page)
                del page, rows  # one page held at a time: released before the next is requested
        store.mv(partial, final)
    except BaseException:
        _remove(store, partial, target.location + suffix, log)
        raise

    if total is not None and total != rows_written:
        log.warning(
            "Campaign results: %s row(s) written, while Kore.ai reported totalResults=%s: the campaign was "
            "dialling or played again while it was read",
            rows_written,
            total,
        )
    summary = ExportSummary(
        destination=target.location,
        rows_written=rows_written,
        file_format=target.file_format,
        compressed=target.compressed,
        outcomes=dict(sorted(outcomes.items())),
    )
    log.info(
        "Campaign results: %s row(s) written to %s (%s%s); outcomes: %s",
        f"{rows_written:,}",
        summary.destination,
        summary.file_format,
        ", gzip" if summary.compressed else "",
        ", ".join(f"{name} {count}" for name, count in summary.outcomes.items()) or "none",
    )
    return summary
