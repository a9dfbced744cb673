"""One upload of contacts to a Kore.ai list, as
:class:`~airflow_provider_koreai.operators.contact_list.AddContactsOperator` runs it: where the contacts come
from, the check that sends nothing, the stream the hook sends, and where a failure leaves the source.

:mod:`airflow_provider_koreai.contacts` reads and maps rows with the standard library alone. This module adds
what a running task needs around it (Airflow's object storage, the provider's errors), so it loads only
when a task runs, never when a DAG is parsed:

* :func:`contact_file`: the file behind ``path``: a local path, an ``ObjectStoragePath``, or an object
  storage URI (``s3://``, ``gs://``, ``file://``, ``memory://``...) opened through Airflow's object storage
  with ``path_conn_id``; its format from ``file_format``, else from the suffix (after ``.gz``);
  :func:`object_storage_path` is the URI's resolution alone, shared with the campaign results' export
  (:mod:`airflow_provider_koreai.campaign_results`);
* :func:`parse_records`: ``records`` as a task receives it: a list, or the text a template renders (a JSON
  array, or the Python ``repr`` of a list, what Jinja renders without ``render_template_as_native_obj``);
* :class:`ContactUpload`: the two passes over the source. :meth:`~ContactUpload.check` (pass 1) maps every
  row and sends nothing: more than ``max_invalid_rows`` invalid rows refuse the upload before any request;
  it also computes the source's identity (a file's size and SHA-256, the mapped records' SHA-256), which a
  resumed upload compares (:mod:`airflow_provider_koreai.upload_progress`).
  :meth:`~ContactUpload.rows` (pass 2) streams the valid rows to the hook, from a given row on for a
  resumed upload, and stops at once should the source have changed since;
* :class:`UploadProgress`: follows the rows the hook pulls, to name a failed chunk by its file lines or
  record numbers.

Every refusal is a :class:`~airflow_provider_koreai.exceptions.KoreAIValidationError` naming the argument
(``path``, ``records``, ``column_map``, ``max_invalid_rows``): no task retry can fix it. Messages name rows
by their place and say why they were refused, never what they hold.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any, cast
from urllib.parse import urlsplit

from airflow_provider_koreai import validation
from airflow_provider_koreai.contacts import (
    GZIP_EXTENSION,
    ContactFile,
    ContactFileError,
    FileKind,
    Position,
    Record,
    RejectedRow,
    RejectTally,
    RenderedRecords,
    Row,
    TooManyRejectedRows,
    iter_rows,
)
from airflow_provider_koreai.exceptions import KoreAIPartialUploadError, KoreAIValidationError

__all__ = [
    "CheckReport",
    "ContactUpload",
    "UploadProgress",
    "contact_file",
    "lineage_name",
    "object_storage_path",
    "parse_records",
]

# -- where the contacts come from ------------------------------------------------------------------------


def parse_records(value: Any) -> Sequence[Any]:
    """The records of ``records``: a list of mappings as given, or parsed from the text a template renders
    (a JSON array, or a Python literal list); a :class:`~airflow_provider_koreai.contacts.RenderedRecords`
    is unwrapped first. The rule is :func:`~airflow_provider_koreai.validation.contact_records`; the items
    are checked one by one later, as rows."""
    if isinstance(value, RenderedRecords):
        value = value.value
    return validation.contact_records(value)


def contact_file(path: Any, *, conn_id: str | None = None, file_format: str | None = None) -> ContactFile:
    """The file behind ``path``, checked before anything is read: a URI or an ``ObjectStoragePath``
    through Airflow's object storage (``conn_id`` for a URI; ``None`` or ``""``, what a template renders for
    "no connection": the store's default), anything else as a path on this worker.

    :param file_format: ``"csv"`` or ``"jsonl"`` (checked by the operator), for a name that does not say;
        ``None``: from the suffix, after ``.gz``.
    """
    store = object_storage_path(path, conn_id=conn_id, field="path")
    if store is not None:
        return _stored_file(store, file_format, path if isinstance(path, str) else str(store))
    # What a DAG parse checks already for a literal path: its type and its format.
    validation.contact_file_path(path, "path", file_format=file_format)
    location = os.fspath(path)
    kind = _file_kind(location, file_format)
    if not os.path.isfile(location):
        raise KoreAIValidationError(
            "path",
            f"{location!r} is not a file on this worker. With several workers, have the upstream task "
            "write to object storage and pass its URI (s3://..., gs://...) instead",
        )
    return ContactFile.local(location, kind=kind)


def object_storage_path(path: Any, *, conn_id: str | None = None, field: str = "path") -> Any:
    """``path`` as an ``ObjectStoragePath`` when it names one: an ``ObjectStoragePath`` as given, or a URI
    (``s3://``, ``gs://``, ``file://``...) opened with ``conn_id`` (``None`` or ``""``, what a template
    renders for "no connection": the store's default); ``None`` for anything else (a local path). Nothing
    is read or written.

    :raises KoreAIValidationError: naming ``field``, when no filesystem serves the URI's scheme or the URI
        is malformed.
    """
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    if isinstance(path, ObjectStoragePath):
        return path
    if not (isinstance(path, str) and "://" in path):
        return None
    try:
        store = ObjectStoragePath(path, conn_id=conn_id or None)
        if not _fsspec_knows(store.protocol):
            # Airflow 3.0 (universal-pathlib 0.2) accepts any scheme here and finds no filesystem only
            # when the path is first used: ask it now, so the error comes before any request.
            store.fs  # noqa: B018
    except (ValueError, ImportError) as error:  # no filesystem for the scheme, a malformed URI
        raise KoreAIValidationError(field, f"{path!r} cannot be opened: {error}") from None
    return store


def _fsspec_knows(protocol: Any) -> bool:
    """Whether fsspec has an implementation for ``protocol`` (a name or a tuple of names), without
    importing it: such a filesystem is resolved, with its connection, when the path is first used."""
    from fsspec.registry import known_implementations, registry

    names = (protocol,) if isinstance(protocol, str) else tuple(protocol or ())
    return any(name in known_implementations or name in registry for name in names)


def _stored_file(store: Any, file_format: str | None, written: str) -> ContactFile:
    """``written``: the path as the DAG gave it, as messages quote it (universal-pathlib 0.2, on Airflow
    3.0, spells an unknown scheme's URI ``scheme:///...``)."""
    location = str(store)
    kind = _file_kind(location, file_format)
    try:
        found = store.is_file()
    except (ValueError, ImportError) as error:  # Airflow 3.0 finds no filesystem only here
        raise KoreAIValidationError("path", f"{written!r} cannot be opened: {error}") from None
    if not found:
        raise KoreAIValidationError("path", f"{location!r} is not a file in its object store")
    return ContactFile(
        location=location,
        kind=kind,
        open_binary=lambda: store.open("rb"),
        gzip=location.lower().endswith(GZIP_EXTENSION),
    )


def _file_kind(location: str, file_format: str | None) -> FileKind:
    return cast(FileKind, validation.contact_file_kind(location, file_format))


def lineage_name(location: str) -> tuple[str, str]:
    """OpenLineage's (namespace, name) of a file: ``file`` and its absolute path on this machine, or the
    store's ``scheme://bucket`` and the key."""
    if "://" not in location:
        return "file", os.path.abspath(location)
    parts = urlsplit(location)
    if parts.scheme == "file":
        return "file", parts.path
    bucket = parts.netloc.rpartition("@")[2]  # without a "conn_id@" an ObjectStoragePath may carry
    return f"{parts.scheme}://{bucket}", parts.path.lstrip("/")


# -- the two passes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    """What :meth:`ContactUpload.check` found: the rows that will be sent, and the invalid ones (every one
    counted, the first few kept with their reasons)."""

    valid: int
    invalid: RejectTally
    #: What the rows sent depend on, to tell a retry's input from an earlier try's: for a file its
    #: ``size`` in bytes and ``sha256`` (of the bytes as stored, compressed or not), for records the
    #: SHA-256 of the mapped rows; with the ``column_map`` in both. JSON-able; no contact data.
    identity: dict[str, Any] = dataclasses.field(default_factory=dict)


class ContactUpload:
    """Contacts bound for one Kore.ai list from one source, read twice, streaming both times.

    Reading the source twice costs seconds; sending it at 50 requests per minute costs minutes, so the
    check is cheap insurance against a half-loaded list.

    :param list_name: the list's name, for messages.
    :param source: a :class:`~airflow_provider_koreai.contacts.ContactFile` or a sequence of records (see
        :func:`contact_file`, :func:`parse_records`).
    :param column_map: source column -> Kore.ai column renames.
    :param max_invalid_rows: how many invalid rows are tolerated (reported, not sent).
    """

    def __init__(
        self,
        list_name: str,
        source: ContactFile | Sequence[Any],
        *,
        column_map: Mapping[str, str] | None = None,
        max_invalid_rows: int = 0,
    ) -> None:
        self.list_name = list_name
        self.source = source
        self.column_map = dict(column_map or {})
        self.max_invalid_rows = max_invalid_rows
        #: The invalid rows met while sending (pass 2); one more than ``max_invalid_rows`` stops it.
        self.rejected_while_sending = RejectTally(limit=max_invalid_rows, keep=0)
        #: Which rows the hook has pulled, once :meth:`rows` has been called.
        self.progress: UploadProgress | None = None

    @classmethod
    def from_arguments(
        cls,
        list_name: str,
        *,
        records: Any = None,
        path: Any = None,
        path_conn_id: str | None = None,
        file_format: str | None = None,
        column_map: Any = None,
        max_invalid_rows: Any = 0,
    ) -> ContactUpload:
        """An upload from ``AddContactsOperator``'s rendered arguments, checked before anything is read
        or sent: ``max_invalid_rows``, ``column_map``, then ``path`` if given, else ``records``, every
        refusal at once (:class:`~airflow_provider_koreai.exceptions.KoreAIInvalidArgumentsError`)."""
        refusals = validation.Refusals()
        limit = refusals.check(validation.whole_number, max_invalid_rows, "max_invalid_rows")
        renames = refusals.check(validation.column_map, column_map)
        source = (
            refusals.check(contact_file, path, conn_id=path_conn_id, file_format=file_format)
            if path is not None
            else refusals.check(parse_records, records)
        )
        refusals.raise_all()  # so none of them is None below
        return cls(list_name, cast(Any, source), column_map=renames, max_invalid_rows=cast(int, limit))

    @property
    def field(self) -> str:
        """The argument that named the source, as errors name it."""
        return "path" if isinstance(self.source, ContactFile) else "records"

    @property
    def described(self) -> str:
        """The source in a message: the file's location, or how many records (never what they hold)."""
        source = self.source
        return repr(source.location) if isinstance(source, ContactFile) else f"{len(source)} record(s)"

    @property
    def read_from(self) -> tuple[str, str] | None:
        """The file read, as OpenLineage's (namespace, name); ``None`` for records."""
        return lineage_name(self.source.location) if isinstance(self.source, ContactFile) else None

    def check(self, report: Callable[[RejectedRow], None] | None = None) -> CheckReport:
        """Pass 1: map every row and send nothing.

        :param report: called with each of the first invalid rows (to log them).
        :raises KoreAIValidationError: naming the source, when the file cannot be read as contacts, or when
            more than ``max_invalid_rows`` rows are invalid (the first ones and their reasons are in the
            message).
        """
        invalid = RejectTally(report=report)
        valid = 0
        digest = hashlib.sha256()
        source: ContactFile | Sequence[Any] = self.source
        counted: _CountingReader | None = None
        if isinstance(source, ContactFile):
            opened = source.open_binary

            def open_counted() -> IO[bytes]:
                nonlocal counted
                counted = _CountingReader(opened(), digest)
                return io.BufferedReader(counted)

            source = dataclasses.replace(source, open_binary=open_counted)
        try:
            for row in iter_rows(source, self.column_map, on_reject=invalid.add):
                valid += 1
                if counted is None:
                    digest.update(json.dumps(row.record, sort_keys=True, default=str).encode())
                    digest.update(b"\n")
        except ContactFileError as error:
            raise KoreAIValidationError(self.field, str(error)) from error
        if invalid.count > self.max_invalid_rows:
            raise KoreAIValidationError(
                self.field,
                f"{invalid.count} invalid row(s) in {self.described}, more than max_invalid_rows="
                f"{self.max_invalid_rows}; nothing was sent to Kore.ai list {self.list_name!r}. First: "
                + "; ".join(invalid.reasons),
            )
        identity: dict[str, Any] = {"source": self.field, "sha256": digest.hexdigest(), "valid_rows": valid}
        if counted is not None:
            identity["size"] = counted.size
        identity["column_map"] = dict(sorted(self.column_map.items()))
        return CheckReport(valid=valid, invalid=invalid, identity=identity)

    def rows(self, chunk_size: int, *, skip: int = 0) -> Iterator[Record]:
        """Pass 2: the valid rows' records, lazily, for a hook that pulls ``chunk_size`` of them per request;
        :attr:`progress` follows them.

        :param skip: valid rows not to send (a resumed upload's accepted chunks): read, checked, not
            yielded.

        Should the source have changed since :meth:`check` (more invalid rows than allowed, or no longer
        readable), the iteration raises :class:`KoreAIValidationError` at once, saying which rows were
        accepted before: the chunk being built is never sent.
        """
        self.progress = UploadProgress(chunk_size)
        return self._stream(self.progress, skip)

    def _stream(self, progress: UploadProgress, skip: int) -> Iterator[Record]:
        rejected = self.rejected_while_sending.add
        rows: Iterator[Row] = iter_rows(self.source, self.column_map, on_reject=rejected)
        try:
            yield from progress.feed(islice(rows, skip, None))
        except (TooManyRejectedRows, ContactFileError) as error:
            raise KoreAIValidationError(
                self.field,
                f"{self.described} changed while it was being sent ({error}); sending stopped. "
                f"{progress.accepted_so_far()}; nothing after them was sent",
            ) from error

    def located(self, error: KoreAIPartialUploadError) -> KoreAIPartialUploadError:
        """The hook's error, naming the failed chunk's rows by their place in the source."""
        return error if self.progress is None else self.progress.located(error)


class _CountingReader(io.RawIOBase):
    """The bytes of a file as pass 1 reads them, counted and hashed on the way; what the reader leaves
    unread (after a gzip stream's end, say) is hashed when it is closed, so the identity covers the whole
    file."""

    def __init__(self, raw: IO[bytes], digest: Any) -> None:
        self.raw = raw
        self.digest = digest
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        count = len(data)
        buffer[:count] = data
        self.size += count
        self.digest.update(data)
        return count

    def close(self) -> None:
        if not self.closed:
            try:
                while data := self.raw.read(1 << 20):
                    self.size += len(data)
                    self.digest.update(data)
            except OSError:
                pass  # the read that failed has been reported already; the check fails anyway
            finally:
                self.raw.close()
        super().close()


class UploadProgress:
    """Follows the rows the hook pulls, to say in source terms (file lines, record numbers) which rows were
    accepted when an upload stops half-way.

    The hook pulls exactly ``chunk_size`` rows, sends them, then pulls the next ones: so when it asks for
    the first row of a chunk, every earlier chunk has been accepted by Kore.ai.
    """

    def __init__(self, chunk_size: int) -> None:
        self.chunk_size = chunk_size
        self.pulled = 0
        self.chunk_first: Position | None = None
        self.last: Position | None = None
        self.before_chunk: Position | None = None

    def feed(self, rows: Iterable[Row]) -> Iterator[Record]:
        for row in rows:
            if self.pulled % self.chunk_size == 0:
                self.before_chunk = self.last
                self.chunk_first = row.position
            self.last = row.position
            self.pulled += 1
            yield row.record

    def located(self, error: KoreAIPartialUploadError) -> KoreAIPartialUploadError:
        """The hook's error about the chunk being sent, naming its rows by their place in the source."""
        if self.chunk_first is None or self.last is None:
            return error
        accepted = str(self.before_chunk) if self.before_chunk is not None else None
        return error.in_source(str(self.chunk_first), str(self.last), accepted)

    def accepted_so_far(self) -> str:
        """Where things stand after reading the source failed while the hook was building a chunk: that
        chunk was never sent, every complete chunk before it was."""
        if self.pulled % self.chunk_size == 0:
            through, count = self.last, self.pulled
        else:
            through, count = self.before_chunk, self.pulled // self.chunk_size * self.chunk_size
        if through is None:
            return "No row was accepted before that"
        return f"The {count} row(s) up to and including {through} were accepted before that"
