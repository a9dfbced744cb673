"""Operators for Kore.ai campaign contact lists.

The DAG processor imports this module on every parse of every DAG file that uses it, so at import it
loads only Airflow's base classes and our dependency-free modules (``defaults``, ``validation``,
``exceptions``); the hook, the HTTP stack and the contact-file reader load when a task runs.

* :class:`UpdateContactListOperator`: update a list's name, description, source, duplicate policy.
* :class:`CreateContactListOperator`: create a list by name, idempotently (``if_exists``).
* :class:`DeleteContactListOperator`: delete a list by id (``missing_ok``).
* :class:`AddContactsOperator`: stream contacts from records or a CSV / JSON-lines file into a list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException, BaseOperator

from airflow_provider_koreai import validation
from airflow_provider_koreai.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_CONN_ID,
    DEFAULT_SOURCE,
    KOREAI_UI_COLOR,
)
from airflow_provider_koreai.exceptions import (
    KoreAIError,
    KoreAINotFoundError,
    KoreAIRequestRejectedError,
    KoreAIValidationError,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_koreai import contacts
    from airflow_provider_koreai.hooks.koreai import KoreAIHook


def _hook(koreai_conn_id: str) -> KoreAIHook:
    """A hook per execution: nothing (connection, session, token) outlives the task try. Imported here,
    not at module level, so that parsing a DAG file never loads the HTTP stack."""
    from airflow_provider_koreai.hooks.koreai import KoreAIHook

    return KoreAIHook(koreai_conn_id=koreai_conn_id)


def _fail_permanently(error: KoreAIError) -> Exception:
    """Errors a task retry cannot fix (bad input, credentials, unknown list) fail the task for good."""
    if error.retryable:
        return error
    return AirflowFailException(str(error))


class UpdateContactListOperator(BaseOperator):
    """Update a Kore.ai contact list's name, description, source and duplicate policy.

    Typically placed right after the task that loads the customer data behind the list, with the name
    and description templated from that task's XCom.

    :param contact_list_id: id of the list (``cl-...``). Templated.
    :param name: new list name, 1 to 48 characters. Templated.
    :param allow_duplicates: whether the list accepts duplicate contacts: a bool, or ``"true"``/``"false"``
        in any case (what a Jinja template renders). Templated.
    :param description: new description, at most 256 characters; ``None`` leaves it out of the request.
        Templated.
    :param source: ingestion source; ``passiveApiIntegration`` for API-fed lists. Templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.

    XCom: key ``contact_list_id`` (the id Kore.ai returned), key ``body`` (the list as Kore.ai returned
    it) and, as ``return_value``, the whole ``data`` object.
    """

    template_fields: Sequence[str] = (
        "contact_list_id",
        "name",
        "description",
        "allow_duplicates",
        "source",
        "koreai_conn_id",
    )
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        contact_list_id: str,
        name: str,
        allow_duplicates: bool | str,
        description: str | None = None,
        source: str = DEFAULT_SOURCE,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.name = name
        self.allow_duplicates = allow_duplicates
        self.description = description
        self.source = source
        self.koreai_conn_id = koreai_conn_id

    def get_hook(self) -> KoreAIHook:
        """A hook per execution: nothing (connection, session, token) outlives the task try."""
        return _hook(self.koreai_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            allow_duplicates = validation.parse_bool(self.allow_duplicates, "allow_duplicates")
            data = self.get_hook().update_contact_list(
                self.contact_list_id,
                name=self.name,
                allow_duplicates=allow_duplicates,
                source=self.source,
                description=self.description,
            )
        except KoreAIError as error:
            raise _fail_permanently(error) from error

        ti = context["ti"]
        ti.xcom_push(key="contact_list_id", value=data["contactListId"])
        ti.xcom_push(key="body", value=data.get("body"))
        self.log.info("Kore.ai contact list %s updated: name=%r", data["contactListId"], self.name)
        return data


# -- create / delete ----------------------------------------------------------------------------------

IF_EXISTS_MODES = ("skip", "update", "fail")


def _contact_list_id(contact_list: Mapping[str, Any]) -> str:
    """Kore.ai names the id ``_id`` in lists and ``contactListId`` in update answers."""
    value = contact_list.get("_id") or contact_list.get("contactListId")
    if not isinstance(value, str) or not value:
        raise AirflowFailException(
            f"Kore.ai returned a contact list without an id: keys {sorted(contact_list)}"
        )
    return value


def _check_bool_argument(value: Any, field: str) -> bool:
    """A mode flag checked at DAG parse time (it is not templated)."""
    if not isinstance(value, bool):
        raise ValueError(f"Invalid {field!r}: must be True or False, got {value!r}")
    return value


class CreateContactListOperator(BaseOperator):
    """Create a Kore.ai contact list, without ever creating a second list of the same name.

    Kore.ai's create call is not idempotent, so the operator first looks the name up and, if a list of
    that name exists, applies ``if_exists``. A create whose outcome was unknown (timeout, dropped
    connection, 5xx) is resolved by the hook by looking the name up again before re-sending, and a
    create refused with HTTP 409 because the name appeared meanwhile is treated like a list found by the
    first lookup. Re-running the DAG is therefore safe.

    :param name: list name, 1 to 48 characters. Templated.
    :param description: at most 256 characters; ``None`` leaves it out. Templated.
    :param allow_duplicates: a bool, or ``"true"``/``"false"`` in any case. Templated.
    :param source: ingestion source; ``passiveApiIntegration`` for API-fed lists. Templated.
    :param if_exists: what to do when a list of that name exists: ``"skip"`` (default) returns it
        unchanged (differences are logged), ``"update"`` applies ``description``, ``allow_duplicates``
        and ``source`` to it, ``"fail"`` fails the task naming the existing list's id. Not templated:
        checked when the DAG is parsed.
    :param koreai_conn_id: the ``koreai`` connection. Templated.

    XCom: key ``contact_list_id``, key ``created`` (``True`` only when this run created the list) and,
    as ``return_value``, the list as Kore.ai holds it (``_id``, ``name``, ...).
    """

    template_fields: Sequence[str] = ("name", "description", "allow_duplicates", "source", "koreai_conn_id")
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        name: str,
        description: str | None = None,
        allow_duplicates: bool | str = False,
        source: str = DEFAULT_SOURCE,
        if_exists: str = "skip",
        koreai_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if if_exists not in IF_EXISTS_MODES:
            raise ValueError(
                f"Invalid 'if_exists': must be one of {', '.join(map(repr, IF_EXISTS_MODES))}, "
                f"got {if_exists!r}"
            )
        self.name = name
        self.description = description
        self.allow_duplicates = allow_duplicates
        self.source = source
        self.if_exists = if_exists
        self.koreai_conn_id = koreai_conn_id

    def get_hook(self) -> KoreAIHook:
        """A hook per execution: nothing (connection, session, token) outlives the task try."""
        return _hook(self.koreai_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            name = validation.contact_list_name(self.name)
            description = validation.contact_list_description(self.description)
            source = validation.source(self.source)
            allow_duplicates = validation.parse_bool(self.allow_duplicates, "allow_duplicates")
            hook = self.get_hook()
            settings: dict[str, Any] = {
                "allow_duplicates": allow_duplicates,
                "source": source,
                "description": description,
            }
            existing = hook.find_contact_list(name)
            created = existing is None
            if existing is None:
                try:
                    contact_list = hook.create_contact_list(name=name, **settings)
                except KoreAIRequestRejectedError as error:
                    existing = hook.find_contact_list(name) if error.http_status == 409 else None
                    if existing is None:
                        raise
                    self.log.warning(
                        "Kore.ai contact list %r was created by someone else meanwhile (HTTP 409)", name
                    )
                    created = False
            if existing is not None:
                contact_list = self._apply_if_exists(hook, existing, name, **settings)
        except KoreAIError as error:
            raise _fail_permanently(error) from error

        contact_list_id = _contact_list_id(contact_list)
        ti = context["ti"]
        ti.xcom_push(key="contact_list_id", value=contact_list_id)
        ti.xcom_push(key="created", value=created)
        return contact_list

    def _apply_if_exists(
        self,
        hook: KoreAIHook,
        existing: dict[str, Any],
        name: str,
        *,
        allow_duplicates: bool,
        source: str,
        description: str | None,
    ) -> dict[str, Any]:
        list_id = _contact_list_id(existing)
        if self.if_exists == "fail":
            raise AirflowFailException(
                f"Kore.ai contact list {name!r} already exists as {list_id} and if_exists='fail'"
            )
        if self.if_exists == "update":
            self.log.info(
                "Kore.ai contact list %r exists as %s: updating it (if_exists='update')", name, list_id
            )
            hook.update_contact_list(
                list_id, name=name, allow_duplicates=allow_duplicates, source=source, description=description
            )
            return hook.get_contact_list(list_id)
        wanted = {"allowDuplicates": allow_duplicates, "source": source}
        if description is not None:
            wanted["description"] = description
        differences = {
            key: (existing.get(key), value)
            for key, value in wanted.items()
            if key in existing and existing.get(key) != value
        }
        if differences:
            self.log.warning(
                "Kore.ai contact list %r exists as %s and is left unchanged (if_exists='skip') although it "
                "differs from the requested settings (existing, requested): %s",
                name,
                list_id,
                differences,
            )
        else:
            self.log.info("Kore.ai contact list %r already exists as %s (if_exists='skip')", name, list_id)
        return existing


class DeleteContactListOperator(BaseOperator):
    """Delete a Kore.ai contact list by id.

    :param contact_list_id: id of the list (``cl-...``). Templated.
    :param missing_ok: when ``True``, a list Kore.ai does not know (HTTP 404) is logged and the task
        succeeds, returning ``None``; when ``False`` (default) the task fails for good. Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.

    XCom: ``return_value`` is what Kore.ai says it deleted (``{}`` if it says nothing), ``None`` when the
    list was already gone and ``missing_ok`` is set.
    """

    template_fields: Sequence[str] = ("contact_list_id", "koreai_conn_id")
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        contact_list_id: str,
        missing_ok: bool = False,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.missing_ok = _check_bool_argument(missing_ok, "missing_ok")
        self.koreai_conn_id = koreai_conn_id

    def get_hook(self) -> KoreAIHook:
        """A hook per execution: nothing (connection, session, token) outlives the task try."""
        return _hook(self.koreai_conn_id)

    def execute(self, context: Context) -> dict[str, Any] | None:
        try:
            list_id = validation.contact_list_id(self.contact_list_id)
            return self.get_hook().delete_contact_list(list_id)
        except KoreAINotFoundError as error:
            if not self.missing_ok:
                raise _fail_permanently(error) from error
            self.log.info(
                "Kore.ai contact list %s does not exist; nothing to delete (missing_ok): %s", list_id, error
            )
            return None
        except KoreAIError as error:
            raise _fail_permanently(error) from error


# -- add contacts -------------------------------------------------------------------------------------

#: Kore.ai allows 60 requests per minute per account; 50 leaves room for the account's other calls.
DEFAULT_REQUESTS_PER_MINUTE = 50


def _positive_int_argument(value: Any, field: str, *, optional: bool = False) -> Any:
    """A whole number of at least 1 (or ``None`` when ``optional``), checked at DAG parse time."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        allowed = "a whole number of at least 1" + (" or None" if optional else "")
        raise ValueError(f"Invalid {field!r}: must be {allowed}, got {value!r}")
    return value


def _non_negative_int(value: Any, field: str) -> int:
    """A whole number >= 0, or its decimal string as a template renders it."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise KoreAIValidationError(field, f"must be a whole number of at least 0, got {value!r}")
    return value


class _UploadProgress:
    """Follows the rows the hook pulls, to say in source terms (file lines, record numbers) which rows
    were accepted when an upload stops half-way.

    The hook pulls exactly ``chunk_size`` rows, sends them, then pulls the next ones: so when it asks for
    the first row of a chunk, every earlier chunk has been accepted by Kore.ai.
    """

    def __init__(self, chunk_size: int) -> None:
        self.chunk_size = chunk_size
        self.pulled = 0
        self.chunk_first: contacts.Position | None = None
        self.last: contacts.Position | None = None
        self.before_chunk: contacts.Position | None = None

    def feed(self, rows: Iterable[contacts.Row]) -> Iterator[contacts.Record]:
        for row in rows:
            if self.pulled % self.chunk_size == 0:
                self.before_chunk = self.last
                self.chunk_first = row.position
            self.last = row.position
            self.pulled += 1
            yield row.record

    def _accepted(self, through: contacts.Position | None, count: int) -> str:
        if through is None:
            return "no row was accepted before that"
        return f"the {count} row(s) up to and including {through} were accepted before that"

    def send_failure(self) -> str:
        """Where things stand after the request for the chunk being built failed."""
        if self.pulled == 0:
            return ""
        accepted = (self.pulled - 1) // self.chunk_size * self.chunk_size
        return (
            f"In the source, {self.chunk_first} to {self.last} (the failed chunk) may or may not have been "
            f"added; {self._accepted(self.before_chunk, accepted)}, and nothing after {self.last} was sent. "
            "Kore.ai adds contacts asynchronously: compare the list's totalRecordCount before running the "
            "task again, which sends every row again (a list with allowDuplicates=false skips phone numbers "
            "it already holds)."
        )

    def reader_failure(self) -> str:
        """Where things stand after reading the source failed while the hook was building a chunk:
        that chunk was never sent, every complete chunk before it was."""
        if self.pulled % self.chunk_size == 0:
            text = self._accepted(self.last, self.pulled)
        else:
            text = self._accepted(self.before_chunk, self.pulled // self.chunk_size * self.chunk_size)
        return text[0].upper() + text[1:]


class AddContactsOperator(BaseOperator):
    """Add contacts to a Kore.ai contact list (addressed by name), in paced chunks.

    The contacts come from exactly one of ``records`` or ``path``. Each row is mapped to Kore.ai's
    columns by :mod:`airflow_provider_koreai.contacts`: ``phoneNumber`` is required, ``firstName``,
    ``lastName``, ``timeZone``, ``uniqueId`` and any other column pass through, empty values are
    dropped, ``column_map`` renames source columns.

    **Invalid rows.** The source is read twice, streaming both times: a first pass maps every row
    without sending anything, counts the invalid ones and logs the first 20 with their line (or record)
    number and reason. If there are more than ``max_invalid_rows``, the task fails **before anything is
    sent**. Otherwise the second pass streams the valid rows to Kore.ai; should a file change between
    the passes so that the limit is exceeded after all, sending stops at once and the error says which
    rows were already accepted. Reading a file twice costs seconds; sending it at 50 requests per minute
    costs minutes, so the first pass is cheap insurance against a half-loaded list.

    :param contact_list_name: the list's **name** (Kore.ai's addContacts call addresses lists by name).
        Templated.
    :param records: a list of mappings (e.g. pulled from XCom). With ``render_template_as_native_obj``
        it arrives as a list; otherwise a template renders it as text, and a JSON array or a Python
        literal list (what Jinja renders for a list) is accepted too. Templated.
    :param path: a local ``.csv`` (UTF-8, header row, comma-separated) or ``.jsonl``/``.ndjson`` (one
        JSON object per line) file, streamed, never loaded whole. Templated.
    :param column_map: renames, source column -> Kore.ai column, e.g. ``{"phone": "phoneNumber"}``.
        Templated.
    :param max_invalid_rows: how many invalid rows are tolerated (reported, not sent). Templated.
    :param chunk_size: contacts per request. Not templated.
    :param requests_per_minute: pace of the requests (Kore.ai allows 60 per minute per account, shared
        by every Contact Center call); ``None`` disables pacing. Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.

    **What to wait for.** Kore.ai ingests asynchronously: the list's ``totalRecordCount`` grows after the
    task ends, from whatever the list already held. So, before sending, the operator looks the list up by
    name (one read, which also fails the task before anything is sent if there is no such list) and
    pushes its count as ``count_before``, and ``count_before + rows_sent`` as ``expected_count``: the
    two values :class:`~airflow_provider_koreai.sensors.contact_list.ContactListIngestedSensor` takes as
    ``baseline_count`` and ``expected_count``. Should an earlier try's contacts still be in flight when
    the count is read, the baseline is low by that much; the sensor's ``settled`` rule covers a list
    that drops them as duplicates.

    XCom: keys ``rows_sent``, ``rows_rejected``, ``chunks_sent``, ``contact_list_id``, ``count_before``,
    ``expected_count``; ``return_value`` is a summary with the same values plus ``rejected``, the first
    rejected rows as ``"line 12: no phoneNumber"``.
    """

    template_fields: Sequence[str] = (
        "contact_list_name",
        "records",
        "path",
        "column_map",
        "max_invalid_rows",
        "koreai_conn_id",
    )
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        contact_list_name: str,
        records: Sequence[Mapping[str, Any]] | str | None = None,
        path: str | None = None,
        column_map: Mapping[str, str] | None = None,
        max_invalid_rows: int | str = 0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        requests_per_minute: int | None = DEFAULT_REQUESTS_PER_MINUTE,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (records is None) == (path is None):
            raise ValueError("Invalid 'records'/'path': pass exactly one of them")
        self.contact_list_name = contact_list_name
        self.records = records
        self.path = path
        self.column_map = column_map
        self.max_invalid_rows = max_invalid_rows
        self.chunk_size: int = _positive_int_argument(chunk_size, "chunk_size")
        self.requests_per_minute: int | None = _positive_int_argument(
            requests_per_minute, "requests_per_minute", optional=True
        )
        self.koreai_conn_id = koreai_conn_id

    def get_hook(self) -> KoreAIHook:
        """A hook per execution: nothing (connection, session, token) outlives the task try."""
        return _hook(self.koreai_conn_id)

    # -- arguments, checked before anything is read or sent

    def _source(self) -> str | Sequence[Any]:
        from airflow_provider_koreai import contacts

        if self.path is not None:
            path = self.path
            if not isinstance(path, str | os.PathLike) or not os.fspath(path).strip():
                raise KoreAIValidationError("path", f"must be the path of a local file, got {path!r}")
            try:
                contacts.file_kind(path)
            except contacts.ContactFileError as error:
                raise KoreAIValidationError("path", str(error)) from None
            if not os.path.isfile(path):
                raise KoreAIValidationError("path", f"{os.fspath(path)!r} is not a file on this worker")
            return os.fspath(path)
        return self._parse_records(self.records)

    @staticmethod
    def _parse_records(value: Any) -> Sequence[Any]:
        if isinstance(value, str):
            text = value.strip()
            try:
                value = json.loads(text)
            except ValueError:
                import ast

                try:
                    value = ast.literal_eval(text)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    raise KoreAIValidationError(
                        "records",
                        f"is text that is neither a JSON array nor a Python list: {text[:60]!r}"
                        + ("..." if len(text) > 60 else ""),
                    ) from None
        if isinstance(value, Mapping):
            raise KoreAIValidationError("records", "must be a list of records, got a single mapping")
        if value is None or isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise KoreAIValidationError(
                "records", f"must be a list of records, got {type(value).__name__} {str(value)[:60]!r}"
            )
        return value if isinstance(value, Sequence) else list(value)

    def _column_map(self) -> dict[str, str]:
        from airflow_provider_koreai import contacts

        try:
            return contacts.check_column_map(self.column_map)
        except ValueError as error:
            raise KoreAIValidationError("column_map", str(error)) from None

    def _log_rejected(self, rejected: contacts.RejectedRow) -> None:
        self.log.warning("Invalid row, not sent: %s", rejected)

    # -- run

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_koreai import contacts

        try:
            name = validation.contact_list_name(self.contact_list_name, field="contact_list_name")
            max_invalid_rows = _non_negative_int(self.max_invalid_rows, "max_invalid_rows")
            column_map = self._column_map()
            source = self._source()
        except KoreAIError as error:
            raise _fail_permanently(error) from error
        described = f"{source!r}" if isinstance(source, str) else f"{len(source)} record(s)"

        # Pass 1: map everything, send nothing.
        checked = contacts.RejectTally(report=self._log_rejected)
        valid = 0
        try:
            for _ in contacts.iter_rows(source, column_map, on_reject=checked.add):
                valid += 1
        except contacts.ContactFileError as error:
            raise AirflowFailException(f"Invalid 'path': {error}") from error
        if checked.count > max_invalid_rows:
            raise AirflowFailException(
                f"{checked.count} invalid row(s) in {described}, more than max_invalid_rows="
                f"{max_invalid_rows}; nothing was sent to Kore.ai list {name!r}. First: "
                + "; ".join(checked.reasons)
            )
        if checked.count:
            self.log.warning(
                "%d invalid row(s) in %s will not be sent (max_invalid_rows=%d)%s",
                checked.count,
                described,
                max_invalid_rows,
                f"; the first {len(checked.first)} are logged above"
                if checked.count > len(checked.first)
                else "",
            )
        self.log.info(
            "Sending %d contact(s) from %s to Kore.ai list %r in chunks of %d (%s)",
            valid,
            described,
            name,
            self.chunk_size,
            f"at most {self.requests_per_minute} requests per minute"
            if self.requests_per_minute
            else "no pacing",
        )

        # The count before sending: the sensor waits for count_before + rows_sent.
        hook = self.get_hook()
        contact_list_id, count_before = self._count_before(hook, name)

        # Pass 2: stream the valid rows to the hook, which pulls one chunk at a time.
        sending = contacts.RejectTally(limit=max_invalid_rows, keep=0)
        progress = _UploadProgress(self.chunk_size)
        rows = contacts.iter_rows(source, column_map, on_reject=sending.add)
        try:
            result = hook.add_contacts(
                name,
                progress.feed(rows),
                chunk_size=self.chunk_size,
                requests_per_minute=self.requests_per_minute,
            )
        except (contacts.TooManyRejectedRows, contacts.ContactFileError) as error:
            raise AirflowFailException(
                f"{described} changed while it was being sent ({error}); sending stopped. "
                + progress.reader_failure()
                + "; nothing after them was sent"
            ) from error
        except KoreAIError as error:
            detail = progress.send_failure()
            if detail:
                error.args = (f"{error} {detail}", *error.args[1:])
            raise _fail_permanently(error) from error

        summary: dict[str, Any] = {
            "contact_list_name": name,
            "contact_list_id": contact_list_id,
            "rows_sent": result["rows_sent"],
            "chunks_sent": result["chunks_sent"],
            "rows_rejected": sending.count,
            "rejected": checked.reasons,
            "count_before": count_before,
            "expected_count": count_before + result["rows_sent"],
        }
        ti = context["ti"]
        for key in (
            "rows_sent",
            "rows_rejected",
            "chunks_sent",
            "contact_list_id",
            "count_before",
            "expected_count",
        ):
            ti.xcom_push(key=key, value=summary[key])
        return summary

    def _count_before(self, hook: KoreAIHook, name: str) -> tuple[str, int]:
        """The list's id and ``totalRecordCount`` before anything is sent; an unknown name fails here."""
        from airflow_provider_koreai.hooks.koreai import total_record_count

        try:
            found = hook.find_contact_list(name)
            if found is None:
                raise AirflowFailException(
                    f"Kore.ai has no contact list named {name!r}; nothing was sent. Create it first, e.g. "
                    "with CreateContactListOperator."
                )
            list_id = _contact_list_id(found)
            if not isinstance(found.get("totalRecordCount"), int):
                # The list of lists may omit the count: read the list itself.
                found = hook.get_contact_list(list_id)
            count = total_record_count(found, f"GET {hook.contact_list_path(list_id)}")
        except KoreAIError as error:
            raise _fail_permanently(error) from error
        self.log.info("Kore.ai list %r (%s) holds %d contact(s) before sending", name, list_id, count)
        return list_id, count
