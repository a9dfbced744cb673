"""Read contact records from a CSV / JSON-lines file or an iterable, and map them to Kore.ai's columns.

Pure Python (standard library only, no Airflow, no HTTP) so that it is cheap to import at DAG parse time,
easy to unit-test and reusable outside the operators. What a running upload adds around it (object storage,
the check before sending, the progress of the stream, the provider's errors) is
:mod:`airflow_provider_koreai.contacts_upload`.

Everything here is **lazy**: files are read row by row (``csv.reader`` / line by line), iterables are
pulled one item at a time, and nothing is read ahead of what the consumer asks for. A file of a million
rows therefore flows through in bounded memory.

Mapping rules (Kore.ai's "Add contacts to a list" API takes one object per contact, see the README):

* ``column_map`` renames source columns (``{"phone": "phoneNumber", "First Name": "firstName"}``);
  a renamed column wins over an unrenamed column of the same target name;
* ``phoneNumber`` is required: a string, non-empty after stripping whitespace (a JSON integer is
  accepted and turned into its digits; floats and booleans are refused, a spreadsheet that turned phone
  numbers into ``4.1555e+09`` has lost digits);
* ``firstName``, ``lastName``, ``timeZone``, ``uniqueId`` and any other column pass through under their
  own names; string values are stripped of surrounding whitespace and empty values (``None``, ``""``,
  whitespace only) are dropped, so Kore.ai never receives blank optional fields;
* a row that cannot be mapped (no phone number, a JSON line that is not JSON or not an object, an item
  of an iterable that is not a mapping, a CSV row with values beyond the header) is never dropped
  silently: it becomes a :class:`RejectedRow` with its position and reason, handed to ``on_reject``.

Problems that concern the whole file rather than one row (unknown extension, unreadable file, no
header, duplicate header names, no phone-number column at all) raise :class:`ContactFileError`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Literal, cast

PHONE_NUMBER = "phoneNumber"
CSV_EXTENSIONS = (".csv",)
JSON_LINES_EXTENSIONS = (".jsonl", ".ndjson")
SUPPORTED_EXTENSIONS = CSV_EXTENSIONS + JSON_LINES_EXTENSIONS
#: How many rejected rows a :class:`RejectTally` keeps (with their reasons) for reports.
DEFAULT_KEEP_REJECTED = 20

Record = dict[str, Any]
Source = str | os.PathLike[str] | Iterable[Any]  # or a ContactFile


class RenderedRecords:
    """Contact records, as Airflow's UI shows a rendered ``records`` argument: a count and the columns,
    never a phone number or a name.

    Airflow stores every rendered template field for the task's "Rendered Template" view, as ``str()`` of
    any value that is not plain JSON; wrapping the rendered records in this class makes that text a
    summary, while the task itself reads the records from :attr:`value`.
    (``AddContactsOperator.records`` wraps what Airflow assigns to it when it renders the field.)

    ``template_fields`` makes :attr:`value` a nested template field: should a DAG wrap a template or an
    ``XComArg`` before the task runs, Airflow still renders it in place. The class defines neither
    ``resolve`` nor ``serialize``, which Airflow would call instead of rendering or of ``str()``.
    """

    template_fields = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        value = self.value
        if isinstance(value, str):
            return f"<contact records as text, {len(value):,} characters, read when the task runs>"
        if isinstance(value, Mapping) or not isinstance(value, Iterable) or isinstance(value, bytes):
            return f"<contact records: a {type(value).__name__}, not a list>"
        items = value if isinstance(value, Sequence) else None
        if items is None:
            return f"<contact records: a {type(value).__name__} of records>"
        columns = sorted({str(key) for item in items if isinstance(item, Mapping) for key in item})
        shown = ", ".join(columns[:20]) + (f" and {len(columns) - 20} more" if len(columns) > 20 else "")
        return f"<{len(items):,} contact records; columns: {shown or 'none'}>"

    __repr__ = __str__


class ContactFileError(ValueError):
    """The file as a whole cannot be read as contacts (not one bad row: the whole input)."""


@dataclass(frozen=True)
class Position:
    """Where a row came from: a physical ``line`` of a file (1-based, header included) or the 1-based
    number of a ``record`` in an iterable."""

    kind: Literal["line", "record"]
    number: int

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"


@dataclass(frozen=True)
class Row:
    """A mapped record, ready to send, and where it came from."""

    position: Position
    record: Record


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not sent, where it came from and why."""

    position: Position
    reason: str

    def __str__(self) -> str:
        return f"{self.position}: {self.reason}"


class TooManyRejectedRows(Exception):
    """Raised by :meth:`RejectTally.add` once the count goes over the tally's limit."""

    def __init__(self, tally: RejectTally) -> None:
        self.tally = tally
        super().__init__(
            f"more than {tally.limit} invalid row(s) ({tally.count} so far); first: "
            + "; ".join(str(row) for row in tally.first)
        )


@dataclass
class RejectTally:
    """Counts every rejected row, keeps the first ``keep`` of them, and enforces an optional limit.

    Use :meth:`add` as the ``on_reject`` callback of :func:`iter_rows`.
    """

    limit: int | None = None
    keep: int = DEFAULT_KEEP_REJECTED
    count: int = 0
    first: list[RejectedRow] = field(default_factory=list)
    #: Called with each rejected row whose number is at most ``keep`` (e.g. to log it).
    report: Callable[[RejectedRow], None] | None = None

    def add(self, rejected: RejectedRow) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(rejected)
            if self.report is not None:
                self.report(rejected)
        if self.limit is not None and self.count > self.limit:
            raise TooManyRejectedRows(self)

    @property
    def reasons(self) -> list[str]:
        return [str(row) for row in self.first]


# -- mapping --------------------------------------------------------------------------------------------


def check_column_map(column_map: Any) -> dict[str, str]:
    """``None`` or a mapping of non-empty source names to non-empty, distinct Kore.ai column names."""
    if column_map is None:
        return {}
    if not isinstance(column_map, Mapping):
        raise ValueError(
            f"must be a mapping of source column to Kore.ai column, got {type(column_map).__name__}"
        )
    checked: dict[str, str] = {}
    for source, target in column_map.items():
        if not isinstance(source, str) or not source.strip():
            raise ValueError(f"source column names must be non-empty strings, got {source!r}")
        if not isinstance(target, str) or not target.strip():
            raise ValueError(f"the target of {source!r} must be a non-empty string, got {target!r}")
        checked[source.strip()] = target.strip()
    targets = list(checked.values())
    duplicates = sorted({t for t in targets if targets.count(t) > 1})
    if duplicates:
        raise ValueError(f"several source columns map to {', '.join(map(repr, duplicates))}")
    return checked


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _clean(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _phone_problem(value: Any) -> str | None:
    if value is None:
        return f"no {PHONE_NUMBER}"
    if isinstance(value, bool) or not isinstance(value, str | int):
        # The type only: the value is contact data, and this reason is logged.
        return f"{PHONE_NUMBER} must be text, got {type(value).__name__}"
    if isinstance(value, str) and not value.strip():
        return f"{PHONE_NUMBER} is empty"
    return None


def map_record(raw: Mapping[Any, Any], column_map: Mapping[str, str] | None = None) -> Record | str:
    """Map one source record to Kore.ai's columns; returns the record, or the reason it is refused.

    ``column_map`` should have been checked with :func:`check_column_map`.
    """
    renames = column_map or {}
    mapped: Record = {}
    renamed_targets: set[str] = set()
    # Unrenamed columns first, so that a renamed column of the same target name wins over them.
    for renamed_pass in (False, True):
        for key, value in raw.items():
            name = str(key).strip()
            if (name in renames) is not renamed_pass or _is_empty(value):
                continue
            target = renames.get(name, name)
            if not renamed_pass and target in renamed_targets:
                continue
            mapped[target] = _clean(value)
            if renamed_pass:
                renamed_targets.add(target)
    problem = _phone_problem(mapped.get(PHONE_NUMBER))
    if problem is not None:
        return problem
    mapped[PHONE_NUMBER] = str(mapped[PHONE_NUMBER]).strip()
    return mapped


# -- readers ----------------------------------------------------------------------------------------------


FileKind = Literal["csv", "jsonl"]
GZIP_EXTENSION = ".gz"


def file_kind(path: str | os.PathLike[str]) -> FileKind:
    """``"csv"`` or ``"jsonl"`` by the file's extension (case-insensitive, after a ``.gz``), else
    :class:`ContactFileError`."""
    name = os.fspath(path).lower().removesuffix(GZIP_EXTENSION)
    if name.endswith(CSV_EXTENSIONS):
        return "csv"
    if name.endswith(JSON_LINES_EXTENSIONS):
        return "jsonl"
    raise ContactFileError(
        f"{os.fspath(path)!r} has none of the supported extensions {', '.join(SUPPORTED_EXTENSIONS)} "
        f"(optionally followed by {GZIP_EXTENSION}); name the format with file_format='csv' or 'jsonl'. A "
        "JSON array file is not supported: it cannot be streamed; write one object per line instead"
    )


@dataclass(frozen=True)
class ContactFile:
    """A contacts file wherever it lives: ``open_binary`` opens its bytes afresh for each read (a local
    file, or an object-storage path), ``location`` names it in messages, ``gzip`` says whether the bytes
    are compressed. Read twice by the operator (check, then send), streamed both times."""

    location: str
    kind: FileKind
    open_binary: Callable[[], IO[bytes]] = field(repr=False)
    gzip: bool = False

    @classmethod
    def local(cls, path: str | os.PathLike[str], *, kind: FileKind | None = None) -> ContactFile:
        name = os.fspath(path)
        return cls(
            location=name,
            kind=kind or file_kind(name),
            open_binary=lambda: open(name, "rb"),
            gzip=name.lower().endswith(GZIP_EXTENSION),
        )

    @contextmanager
    def open_text(self, *, newline: str | None = None) -> Iterator[IO[str]]:
        with self.open_binary() as raw:
            binary: IO[bytes] = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if self.gzip else raw
            with io.TextIOWrapper(binary, encoding="utf-8-sig", newline=newline) as text:
                yield text


def _iter_csv(
    file: ContactFile, column_map: Mapping[str, str], on_reject: Callable[[RejectedRow], None]
) -> Iterator[Row]:
    path = file.location
    with file.open_text(newline="") as handle:
        reader = csv.reader(handle)
        header: list[str] | None = None
        last_line = 0
        for fields in reader:
            start = last_line + 1
            last_line = reader.line_num
            if not fields:  # a blank line: not a row
                continue
            if header is None:
                header = [name.strip() for name in fields]
                _check_header(path, header, column_map)
                continue
            position = Position("line", start)
            extra = fields[len(header) :]
            if any(value.strip() for value in extra):
                on_reject(RejectedRow(position, f"has {len(fields)} fields but the header has {len(header)}"))
                continue
            unnamed = [
                i + 1 for i, name in enumerate(header) if not name and i < len(fields) and fields[i].strip()
            ]
            if unnamed:
                on_reject(RejectedRow(position, f"has a value in unnamed column {unnamed[0]}"))
                continue
            raw = {name: value for name, value in zip(header, fields, strict=False) if name}
            yield from _mapped(position, raw, column_map, on_reject)
        if header is None:
            raise ContactFileError(f"{path!r} is empty: expected a header row naming the columns")


def _check_header(path: str, header: list[str], column_map: Mapping[str, str]) -> None:
    named = [name for name in header if name]
    duplicates = sorted({name for name in named if named.count(name) > 1})
    if duplicates:
        raise ContactFileError(f"{path!r}: the header repeats column(s) {', '.join(map(repr, duplicates))}")
    targets = {column_map.get(name, name) for name in named}
    if PHONE_NUMBER not in targets:
        raise ContactFileError(
            f"{path!r}: no {PHONE_NUMBER!r} column; the header is {named!r}. Name the column "
            f"{PHONE_NUMBER!r} or map yours with column_map, e.g. {{'phone': {PHONE_NUMBER!r}}}"
        )


def _iter_json_lines(
    file: ContactFile, column_map: Mapping[str, str], on_reject: Callable[[RejectedRow], None]
) -> Iterator[Row]:
    with file.open_text() as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            position = Position("line", number)
            try:
                raw = json.loads(line)
            except ValueError as error:
                on_reject(RejectedRow(position, f"not valid JSON ({error})"))
                continue
            if not isinstance(raw, dict):
                on_reject(RejectedRow(position, f"a JSON {type(raw).__name__}, not an object"))
                continue
            yield from _mapped(position, raw, column_map, on_reject)


def _iter_items(
    items: Iterable[Any], column_map: Mapping[str, str], on_reject: Callable[[RejectedRow], None]
) -> Iterator[Row]:
    for number, raw in enumerate(items, start=1):
        position = Position("record", number)
        if not isinstance(raw, Mapping):
            on_reject(RejectedRow(position, f"a {type(raw).__name__}, not a mapping of column to value"))
            continue
        yield from _mapped(position, raw, column_map, on_reject)


def _mapped(
    position: Position,
    raw: Mapping[Any, Any],
    column_map: Mapping[str, str],
    on_reject: Callable[[RejectedRow], None],
) -> Iterator[Row]:
    result = map_record(raw, column_map)
    if isinstance(result, str):
        on_reject(RejectedRow(position, result))
    else:
        yield Row(position, result)


def _ignore(rejected: RejectedRow) -> None:
    """The default ``on_reject``: callers who care pass a :class:`RejectTally`'s ``add``."""


def iter_rows(
    source: Source | ContactFile,
    column_map: Mapping[str, str] | None = None,
    *,
    on_reject: Callable[[RejectedRow], None] = _ignore,
) -> Iterator[Row]:
    """Mapped contact rows from ``source``, lazily, with their positions.

    :param source: a :class:`ContactFile`, a local path (``str`` or ``os.PathLike``) to a ``.csv``,
        ``.jsonl`` or ``.ndjson`` file, optionally gzipped (``.csv.gz``; UTF-8, a byte-order mark is
        fine), or an iterable of mappings.
    :param column_map: source column -> Kore.ai column renames (see :func:`check_column_map`).
    :param on_reject: called with every row that is not yielded; may raise to stop the iteration
        (e.g. :meth:`RejectTally.add` with a limit).
    :raises ContactFileError: for problems with the file as a whole (also raised lazily, on first use).
    """
    renames = check_column_map(column_map)
    file = ContactFile.local(source) if isinstance(source, str | os.PathLike) else source
    if isinstance(file, ContactFile):
        path = file.location
        reader = _iter_csv if file.kind == "csv" else _iter_json_lines
        try:
            yield from reader(file, renames, on_reject)
        except OSError as error:
            raise ContactFileError(f"cannot read {path!r}: {error.strerror or error}") from error
        except UnicodeDecodeError as error:
            raise ContactFileError(
                f"{path!r} is not UTF-8 text ({error.reason} at byte {error.start} of a block); "
                "save it as UTF-8"
            ) from error
        except csv.Error as error:
            raise ContactFileError(f"{path!r} is not readable as CSV: {error}") from error
        except (gzip.BadGzipFile, EOFError) as error:
            raise ContactFileError(f"{path!r} is not a complete gzip file: {error}") from error
    elif isinstance(file, bytes | Mapping):
        raise TypeError(f"source must be a path or an iterable of records, got {type(file).__name__}")
    else:
        yield from _iter_items(file, renames, on_reject)
