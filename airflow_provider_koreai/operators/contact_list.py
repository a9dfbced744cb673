"""Operators for Kore.ai campaign contact lists.

Each is a thin layer over one :class:`~airflow_provider_koreai.hooks.koreai.KoreAIHook` call: it turns
templated arguments into that call and its result into XCom, and logs one line saying what changed (the
list, and the settings or counts sent: never a contact). The hook, reached through
:class:`~airflow_provider_koreai.operators.base.KoreAIBaseOperator`, owns the API's logic; the base owns
the failure rule and when arguments are checked (:class:`~airflow_provider_koreai.operators.base.
KoreAIArgumentsMixin`: literals when the DAG is parsed, every mistake of a task at once); each operator
names its arguments' rules. The DAG processor imports this module on every parse, so at import it loads only
Airflow's base classes and our dependency-free modules (``defaults``, ``validation``, ``exceptions``);
the hook, the HTTP stack and the contact-file reader load when a task runs.

* :class:`UpdateContactListOperator`: update a list's name, description, source, duplicate policy.
* :class:`CreateContactListOperator`: create a list by name, idempotently (``if_exists``).
* :class:`DeleteContactListOperator`: delete a list by id (``missing_ok``).
* :class:`AddContactsOperator`: stream contacts from records or a CSV / JSON-lines file into a list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_koreai import validation
from airflow_provider_koreai.defaults import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_REQUESTS_PER_MINUTE,
    DEFAULT_SOURCE,
    FILE_FORMATS,
    IF_EXISTS_MODES,
)
from airflow_provider_koreai.exceptions import (
    KoreAINotFoundError,
    KoreAIPartialUploadError,
    KoreAIValidationError,
)
from airflow_provider_koreai.operators.base import KoreAIBaseOperator

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context, ObjectStoragePath, XComArg

    from airflow_provider_koreai import contacts
    from airflow_provider_koreai.contacts_upload import CheckReport, ContactUpload
    from airflow_provider_koreai.hooks.koreai import KoreAIHook
    from airflow_provider_koreai.responses import ContactCount
    from airflow_provider_koreai.upload_progress import ResumePlan

__all__ = [
    "DEFAULT_REQUESTS_PER_MINUTE",
    "IF_EXISTS_MODES",
    "AddContactsOperator",
    "CreateContactListOperator",
    "DeleteContactListOperator",
    "UpdateContactListOperator",
]

#: What ``AddContactsOperator`` pushes to XCom, each under its own key (the summary it returns has them all).
ADD_CONTACTS_XCOM_KEYS = (
    "rows_sent",
    "rows_rejected",
    "chunks_sent",
    "contact_list_id",
    "count_before",
    "expected_count",
    "rows_sent_earlier",
    "chunks_sent_earlier",
    "rows_in_doubt",
)


class UpdateContactListOperator(KoreAIBaseOperator):
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
    :param verify: after the update, read the list back (one more request of the account's budget) and
        compare it with what this task wrote: the name, description (when sent), ``allowDuplicates`` and
        source, as Kore.ai reports them. Kore.ai's update has no version check, so of two tasks updating
        one list at once the last one wins, and the other one's update is lost without an error: when
        the list no longer holds what this task wrote, a warning names the settings that differ. The
        task still succeeds. Not templated: checked when the DAG is parsed. Default ``False``.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom: key ``contact_list_id`` (the id Kore.ai returned), key ``body`` (the list as Kore.ai returned
    it), key ``verified`` (whether the list was read back: ``verify``) and, only when it was, key
    ``conflict`` (``True`` when the list no longer holds what this task wrote) and key ``differences``
    (``{field: {"written": ..., "found": ...}}`` by Kore.ai's field names, ``{}`` without a conflict);
    ``return_value`` is the whole ``data`` object of the update's answer.
    """

    template_fields: Sequence[str] = (
        "contact_list_id",
        "name",
        "description",
        "allow_duplicates",
        "source",
        *KoreAIBaseOperator.template_fields,
    )

    def __init__(
        self,
        *,
        contact_list_id: str,
        name: str,
        allow_duplicates: bool | str,
        description: str | None = None,
        source: str = DEFAULT_SOURCE,
        verify: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.name = name
        self.allow_duplicates = allow_duplicates
        self.description = description
        self.source = source
        self.verify = verify
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "contact_list_id": validation.contact_list_id,
            "name": validation.contact_list_name,
            "allow_duplicates": validation.parse_bool,
            "description": validation.contact_list_description,
            "source": validation.source,
            "verify": validation.strict_bool,
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any]:
        checked = self.checked_arguments()
        settings = {key: checked[key] for key in ("name", "allow_duplicates", "source", "description")}
        data = hook.update_contact_list(checked["contact_list_id"], **settings)
        list_id = data["contactListId"]
        ti = context["ti"]
        ti.xcom_push(key="contact_list_id", value=list_id)
        ti.xcom_push(key="body", value=data.get("body"))
        self.log.info(
            "Updated Kore.ai contact list %s (%r): %s", list_id, checked["name"], _settings_sent(checked)
        )
        ti.xcom_push(key="verified", value=self.verify)
        if self.verify:
            differences = hook.contact_list_differences(list_id, **settings)
            ti.xcom_push(key="conflict", value=bool(differences))
            ti.xcom_push(
                key="differences",
                value={
                    key: {"written": wrote, "found": found} for key, (wrote, found) in differences.items()
                },
            )
            self._log_verification(list_id, differences)
        self.record_contact_list_change(context, hook, list_id, operation="update")
        return data

    def _log_verification(self, contact_list_id: str, differences: Mapping[str, tuple[Any, Any]]) -> None:
        """Say whether the list read back holds what this task wrote (settings only: no contact data)."""
        if not differences:
            self.log.info("Verified Kore.ai contact list %s: it holds what this task wrote", contact_list_id)
            return
        self.log.warning(
            "Kore.ai contact list %s no longer holds what this task wrote: another writer changed it after "
            "this update, and the last writer wins (Kore.ai's update has no version check). Serialise the "
            "tasks that update this list (a pool of size 1 per list, or max_active_runs=1). Differences: %s",
            contact_list_id,
            "; ".join(
                f"{key}: wrote {validation.describe(wrote)}, found {validation.describe(found)}"
                for key, (wrote, found) in differences.items()
            ),
        )


class CreateContactListOperator(KoreAIBaseOperator):
    """Create a Kore.ai contact list, without ever creating a second list of the same name.

    Kore.ai's create call is not idempotent; :meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.
    ensure_contact_list` looks the name up first, resolves a create whose outcome was unknown (timeout,
    dropped connection, 5xx) by looking the name up again before re-sending, and treats a create refused
    with HTTP 409 (the name appeared meanwhile) like a list found by the first lookup. Re-running the
    DAG is therefore safe.

    :param name: list name, 1 to 48 characters. Templated.
    :param description: at most 256 characters; ``None`` leaves it out. Templated.
    :param allow_duplicates: a bool, or ``"true"``/``"false"`` in any case. Templated.
    :param source: ingestion source; ``passiveApiIntegration`` for API-fed lists. Templated.
    :param if_exists: what to do when a list of that name exists: ``"skip"`` (default) returns it
        unchanged (differences are logged), ``"update"`` applies ``description``, ``allow_duplicates``
        and ``source`` to it, ``"fail"`` fails the task naming the existing list's id. Not templated:
        checked when the DAG is parsed.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom: key ``contact_list_id``, key ``created`` (``True`` only when this run created the list) and,
    as ``return_value``, the list as Kore.ai holds it (``_id``, ``name``, ...).
    """

    template_fields: Sequence[str] = (
        "name",
        "description",
        "allow_duplicates",
        "source",
        *KoreAIBaseOperator.template_fields,
    )

    def __init__(
        self,
        *,
        name: str,
        description: str | None = None,
        allow_duplicates: bool | str = False,
        source: str = DEFAULT_SOURCE,
        if_exists: str = "skip",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.description = description
        self.allow_duplicates = allow_duplicates
        self.source = source
        self.if_exists = if_exists
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "name": validation.contact_list_name,
            "description": validation.contact_list_description,
            "allow_duplicates": validation.parse_bool,
            "source": validation.source,
            "if_exists": partial(validation.one_of, choices=IF_EXISTS_MODES),
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any]:
        checked = self.checked_arguments()
        ensured = hook.ensure_contact_list(
            name=checked["name"],
            allow_duplicates=checked["allow_duplicates"],
            description=checked["description"],
            source=checked["source"],
            if_exists=self.if_exists,
        )
        ti = context["ti"]
        ti.xcom_push(key="contact_list_id", value=ensured.contact_list_id)
        ti.xcom_push(key="created", value=ensured.created)
        listed = f"Kore.ai contact list {ensured.contact_list_id} ({checked['name']!r})"
        if ensured.created:
            self.log.info("Created %s: %s", listed, _settings_sent(checked))
        elif self.if_exists == "update":
            self.log.info("Updated existing %s (if_exists='update'): %s", listed, _settings_sent(checked))
        else:
            self.log.info("Reused existing %s unchanged (if_exists='skip'): nothing sent", listed)
        if ensured.created or self.if_exists == "update":
            operation = "create" if ensured.created else "update"
            self.record_contact_list_change(context, hook, ensured.contact_list_id, operation=operation)
        return ensured.contact_list


class DeleteContactListOperator(KoreAIBaseOperator):
    """Delete a Kore.ai contact list by id.

    :param contact_list_id: id of the list (``cl-...``). Templated.
    :param missing_ok: when ``True``, a list Kore.ai does not know (HTTP 404) is logged and the task
        succeeds, returning ``None``; when ``False`` (default) the task fails for good. Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom: ``return_value`` is what Kore.ai says it deleted (``{}`` if it says nothing), ``None`` when the
    list was already gone and ``missing_ok`` is set.
    """

    template_fields: Sequence[str] = ("contact_list_id", *KoreAIBaseOperator.template_fields)

    def __init__(self, *, contact_list_id: str, missing_ok: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.missing_ok = missing_ok
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "contact_list_id": validation.contact_list_id,
            "missing_ok": validation.strict_bool,
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any] | None:
        contact_list_id = self.checked_arguments()["contact_list_id"]
        try:
            deleted = hook.delete_contact_list(contact_list_id)
        except KoreAINotFoundError as error:
            if not self.missing_ok:
                raise
            self.log.info(
                "Deleted nothing: Kore.ai contact list %s does not exist (missing_ok=True): %s",
                contact_list_id,
                error,
            )
            return None
        self.log.info("Deleted Kore.ai contact list %s%s", contact_list_id, _what_was_deleted(deleted))
        self.record_contact_list_change(context, hook, contact_list_id, operation="delete")
        return deleted


def _what_was_deleted(deleted: Mapping[str, Any]) -> str:
    """The deleted list's name and count, as far as Kore.ai's answer says (``""`` if it says nothing)."""
    name, count = deleted.get("name"), deleted.get("totalRecordCount")
    text = f" ({name!r})" if isinstance(name, str) else ""
    if isinstance(count, int) and not isinstance(count, bool):
        text += f", which held {count} contact(s)"
    return text


def _settings_sent(checked: Mapping[str, Any]) -> str:
    """The settings a create or an update sent, for its success line, as Kore.ai names them.

    The description is shown cut to 60 characters, with its length; neither holds contact data.
    """
    description = checked["description"]
    described = (
        "description not sent"
        if description is None
        else f"description={validation.describe(description)} ({len(description)} characters)"
    )
    return f"allowDuplicates={checked['allow_duplicates']}, source={checked['source']!r}, {described}"


# -- add contacts -------------------------------------------------------------------------------------


class AddContactsOperator(KoreAIBaseOperator):
    """Add contacts to a Kore.ai contact list (addressed by name), in paced chunks.

    The contacts come from exactly one of ``records`` or ``path``. Each row is mapped to Kore.ai's
    columns by :mod:`airflow_provider_koreai.contacts`: ``phoneNumber`` is required, ``firstName``,
    ``lastName``, ``timeZone``, ``uniqueId`` and any other column pass through, empty values are
    dropped, ``column_map`` renames source columns.

    **Invalid rows.** The source is read twice, streaming both times
    (:class:`~airflow_provider_koreai.contacts_upload.ContactUpload`): a first pass maps every row
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
        literal list (what Jinja renders for a list) is accepted too. Templated; the UI's rendered view
        shows a summary (count and columns), never the contacts.
    :param path: a ``.csv`` (UTF-8, header row, comma-separated) or ``.jsonl``/``.ndjson`` (one JSON
        object per line) file, optionally gzipped (``.csv.gz``), streamed, never loaded whole: a local
        path, an ``ObjectStoragePath``, or an object-storage URI (``s3://bucket/key.csv``,
        ``gs://...``, ``file:///...``), read through Airflow's object storage (fsspec), so that any
        worker can read what another task wrote. Templated.
    :param path_conn_id: the Airflow connection of the object store a ``path`` URI names (e.g. an
        ``aws`` connection for ``s3://``); default: the store's own default. Templated.
    :param file_format: ``"csv"`` or ``"jsonl"``, for a ``path`` whose name does not say (default: from
        the suffix, after ``.gz``).
    :param column_map: renames, source column -> Kore.ai column, e.g. ``{"phone": "phoneNumber"}``.
        Templated.
    :param max_invalid_rows: how many invalid rows are tolerated (reported, not sent). Templated.
    :param chunk_size: contacts per request. Not templated.
    :param requests_per_minute: a cap on this upload's pace, below the account's request budget (which
        every request takes a slot of anyway: see the connection's ``rate_limit_*`` extras), to leave
        room to other tasks; ``None`` (default): as fast as the budget allows. Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    **Retries resume.** The task records its progress (the chunks Kore.ai accepted, keyed by the input's
    identity and ``chunk_size``) in Airflow's task state store (3.3+) or an Airflow Variable (3.0 to 3.2),
    where a retry of the same task instance finds it on any worker
    (:mod:`~airflow_provider_koreai.upload_progress`). A retry with the same input skips the accepted
    chunks and never sends one again; a changed input (size, checksum, ``column_map``) or ``chunk_size``
    starts over, and says so. A chunk whose outcome is unknown (the try died or timed out while sending
    it) is sent again when the list drops duplicates (``allowDuplicates=false``), otherwise skipped and
    reported in ``rows_in_doubt``. So a failure that may pass by itself (429, 5xx, a dropped connection)
    is left to Airflow's retries even after rows were accepted; one that will not (a refused credential,
    an unknown list) fails the task for good, and clearing it once fixed resumes too. A lease, renewed
    before each chunk, keeps two tries of the task from uploading at once: a try that finds another one
    still sending waits for it (see the docs, "Resuming an upload").

    **What to wait for.** Kore.ai ingests asynchronously: the list's ``totalRecordCount`` grows after the
    task ends, from whatever the list already held. So, before sending, the operator looks the list up by
    name (one read, which also fails the task before anything is sent if there is no such list) and
    pushes its count before the **first** try as ``count_before``, and ``count_before`` plus the rows
    accepted over every try as ``expected_count``: the two values
    :class:`~airflow_provider_koreai.sensors.contact_list.ContactListIngestedSensor` takes as
    ``baseline_count`` and ``expected_count``. Rows in doubt are not in ``expected_count``: if Kore.ai
    added them after all, the count only passes the target sooner.

    XCom: keys ``rows_sent`` and ``chunks_sent`` (this try), ``rows_sent_earlier`` and
    ``chunks_sent_earlier`` (earlier tries of a resumed upload), ``rows_in_doubt``, ``rows_rejected``,
    ``contact_list_id``, ``count_before``, ``expected_count``; ``return_value`` is a summary with the same
    values plus ``rejected``, the first rejected rows as ``"line 12: no phoneNumber"``.
    """

    template_fields: Sequence[str] = (
        "contact_list_name",
        "records",
        "path",
        "path_conn_id",
        "column_map",
        "max_invalid_rows",
        *KoreAIBaseOperator.template_fields,
    )

    def __init__(
        self,
        *,
        contact_list_name: str,
        records: Sequence[Mapping[str, Any]] | str | XComArg | None = None,
        path: str | os.PathLike[str] | ObjectStoragePath | XComArg | None = None,
        path_conn_id: str | None = None,
        file_format: str | None = None,
        column_map: Mapping[str, str] | None = None,
        max_invalid_rows: int | str = 0,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        requests_per_minute: int | None = DEFAULT_REQUESTS_PER_MINUTE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_name = contact_list_name
        # The DAG author's value, as given (a template, an XComArg, a list): what the DAG serializes.
        self._records: Any = records
        self.path = path
        self.path_conn_id = path_conn_id
        #: The file read, as an OpenLineage (namespace, name); ``None`` for records.
        self.read_from: tuple[str, str] | None = None
        self.file_format = file_format
        self.column_map = column_map
        self.max_invalid_rows = max_invalid_rows
        self.chunk_size = chunk_size
        self.requests_per_minute = requests_per_minute
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        file_format = arguments.get("file_format")
        return {
            "contact_list_name": validation.contact_list_name,
            "records": validation.optional(validation.contact_records),
            "path": validation.optional(
                partial(
                    validation.contact_file_path,
                    # A wrong file_format is refused on its own; the path is then judged by its suffix.
                    file_format=file_format if file_format in FILE_FORMATS else None,
                )
            ),
            "path_conn_id": validation.optional_connection_id,
            "file_format": validation.optional(partial(validation.one_of, choices=FILE_FORMATS)),
            "column_map": validation.column_map,
            "max_invalid_rows": validation.whole_number,
            "chunk_size": partial(validation.whole_number, minimum=1, allow_text=False),
            "requests_per_minute": partial(validation.optional_whole_number, minimum=1, allow_text=False),
            **super().argument_rules(arguments),
        }

    @classmethod
    def check_between_arguments(
        cls, arguments: Mapping[str, Any], refusals: validation.Refusals, *, complete: bool
    ) -> None:
        records, path = arguments.get("records"), arguments.get("path")
        # partial(): either may still come from expand(), unless both are given already.
        if (records is None) == (path is None) and (complete or records is not None):
            refusals.add("records/path", "pass exactly one of them")

    @property
    def records(self) -> Any:
        """The ``records`` argument: as given until Airflow renders it, then behind a
        :class:`~airflow_provider_koreai.contacts.RenderedRecords`.

        Airflow renders a template field in place, by assigning the rendered value to the attribute
        (``setattr``; for a mapped task, on the task it builds for each map index), then stores ``str()``
        of what the attribute holds as the "Rendered Template" the UI shows. Every assignment after
        ``__init__`` goes through the setter below, which puts the value behind a summary (count and
        columns): contact data never reaches the stored rendered fields, while the task reads the records
        themselves. ``__init__`` keeps the DAG author's value as given, which is what the DAG serializes
        and what sets an ``XComArg``'s upstream task. A template or an ``XComArg`` assigned after
        ``__init__`` still renders: the summary is itself a nested template field.

        A Python property, no override of Airflow's methods (Airflow's render path read in 3.0 to 3.3;
        pinned by ``tests/operators/test_contact_list_lifecycle.py`` and
        ``tests/integration/test_contact_data_stays_out_of_the_ui.py``: plain, mapped and XComArg tasks).
        """
        return self._records

    @records.setter
    def records(self, value: Any) -> None:
        from airflow_provider_koreai.contacts import RenderedRecords

        self._records = (
            value if value is None or isinstance(value, RenderedRecords) else RenderedRecords(value)
        )

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any]:
        from airflow_provider_koreai.contacts_upload import ContactUpload
        from airflow_provider_koreai.upload_progress import (
            LeaseOwner,
            UploadTracker,
            lease_seconds,
            store_for,
        )

        refusals = validation.Refusals()
        # The source's arguments are checked by the upload, which also opens the file.
        source_arguments = ("records", "path", "column_map", "max_invalid_rows")
        arguments = self.checked_arguments(refusals, skip=source_arguments)
        name = arguments["contact_list_name"]
        created = refusals.check(
            ContactUpload.from_arguments,
            name or "",
            records=self.records,
            path=self.path,
            path_conn_id=arguments["path_conn_id"],
            file_format=self.file_format,
            column_map=self.column_map,
            max_invalid_rows=self.max_invalid_rows,
        )
        refusals.raise_all(self.task_id)
        upload = cast(ContactUpload, created)
        self.read_from = upload.read_from
        checked = upload.check(report=self._log_rejected)
        self._log_plan(upload, checked)
        found = self._count_before(hook, name)
        tracker = UploadTracker(store_for(context), LeaseOwner.current(context["ti"]), log=self.log)
        plan = tracker.begin(
            identity={**checked.identity, "chunk_size": self.chunk_size, "contact_list_name": name},
            contact_list_id=found.contact_list_id,
            count_now=found.total_record_count,
            allow_duplicates=found.allow_duplicates,
            lease_for=lease_seconds(
                retry_timeout=hook.retry_policy.retry_timeout, requests_per_minute=self.requests_per_minute
            ),
        )
        try:
            sent = hook.add_contacts(
                name,
                upload.rows(self.chunk_size, skip=plan.first_chunk * self.chunk_size),
                chunk_size=self.chunk_size,
                requests_per_minute=self.requests_per_minute,
                before_chunk=tracker.before_chunk,
            )
            tracker.finished()
        except KoreAIPartialUploadError as error:
            tracker.failed(outcome_unknown=error.outcome_unknown)
            located = upload.located(error)
            if tracker.recording:
                located = located.with_progress_kept(tracker.store.described)
            raise located from error.cause
        except Exception:
            tracker.abandoned()
            raise
        rows_accepted = tracker.rows_accepted if tracker.recording else sent["rows_sent"]
        summary: dict[str, Any] = {
            "contact_list_name": name,
            "contact_list_id": found.contact_list_id,
            "rows_sent": sent["rows_sent"],
            "chunks_sent": sent["chunks_sent"],
            "rows_sent_earlier": plan.rows_sent_earlier,
            "chunks_sent_earlier": plan.chunks_sent_earlier,
            "rows_in_doubt": plan.rows_in_doubt,
            "rows_rejected": upload.rejected_while_sending.count,
            "rejected": checked.invalid.reasons,
            "count_before": plan.count_before,
            "expected_count": plan.count_before + rows_accepted,
        }
        for key in ADD_CONTACTS_XCOM_KEYS:
            context["ti"].xcom_push(key=key, value=summary[key])
        self._log_sent(summary, upload, plan)
        self.record_contact_list_change(
            context, hook, found.contact_list_id, operation="add_contacts", rows_sent=summary["rows_sent"]
        )
        tracker.delete()
        return summary

    def _log_sent(self, summary: Mapping[str, Any], upload: ContactUpload, plan: ResumePlan) -> None:
        earlier = (
            f" after {summary['rows_sent_earlier']} sent by earlier tries in "
            f"{summary['chunks_sent_earlier']} chunk(s)"
            if plan.resumed
            else ""
        )
        doubt = (
            f"; {summary['rows_in_doubt']} row(s) in doubt (a chunk an earlier try may have sent, not sent "
            "again since the list allows duplicates)"
            if summary["rows_in_doubt"]
            else ""
        )
        self.log.info(
            "Added %d contact(s)%s to Kore.ai contact list %s (%r) from %s, in %d chunk(s) of up to %d%s; "
            "%d invalid row(s) not sent; the list held %d contact(s) before, %d expected once ingested",
            summary["rows_sent"],
            earlier,
            summary["contact_list_id"],
            summary["contact_list_name"],
            upload.described,
            summary["chunks_sent"],
            self.chunk_size,
            doubt,
            summary["rows_rejected"],
            summary["count_before"],
            summary["expected_count"],
        )

    def _log_rejected(self, rejected: contacts.RejectedRow) -> None:
        self.log.warning("Invalid row, not sent: %s", rejected)

    def _log_plan(self, upload: ContactUpload, checked: CheckReport) -> None:
        invalid = checked.invalid
        if invalid.count:
            self.log.warning(
                "%d invalid row(s) in %s will not be sent (max_invalid_rows=%d)%s",
                invalid.count,
                upload.described,
                upload.max_invalid_rows,
                f"; the first {len(invalid.first)} are logged above"
                if invalid.count > len(invalid.first)
                else "",
            )
        self.log.info(
            "Sending %d contact(s) from %s to Kore.ai list %r in chunks of %d (%s)",
            checked.valid,
            upload.described,
            upload.list_name,
            self.chunk_size,
            f"at most {self.requests_per_minute} requests per minute"
            if self.requests_per_minute
            else "paced by the account's request budget",
        )

    def _count_before(self, hook: KoreAIHook, name: str) -> ContactCount:
        """The list's id, count and duplicate policy before sending (on a first try, the sensor's
        baseline)."""
        found = hook.count_contacts(name)
        if found is None:
            raise KoreAIValidationError(
                "contact_list_name",
                f"Kore.ai has no contact list named {name!r}; nothing was sent. Create it first, e.g. with "
                "CreateContactListOperator.",
            )
        self.log.info(
            "Kore.ai list %r (%s) holds %d contact(s) before sending",
            name,
            found.contact_list_id,
            found.total_record_count,
        )
        return found

    def openlineage_inputs(self) -> list[Any]:
        if self.read_from is None:
            return []
        from airflow.providers.common.compat.openlineage.facet import InputDataset

        namespace, name = self.read_from
        return [InputDataset(namespace=namespace, name=name)]
