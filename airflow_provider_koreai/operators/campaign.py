"""Operators for Kore.ai campaigns: create, start, stop, delete, and export the dial results.

Like the contact-list operators (:mod:`~airflow_provider_koreai.operators.contact_list`), each is a thin
layer over :class:`~airflow_provider_koreai.hooks.koreai.KoreAIHook`: templated arguments in, checked
(literals when the DAG is parsed, rendered values when the task runs, every mistake of a task at once),
hook calls, one success line, XCom out, the campaign recorded as a ``koreai://`` asset
(``koreai://<host>/<iid>/campaigns/<id>``, :mod:`~airflow_provider_koreai.assets`) and in OpenLineage. What
start and stop do for each status is one rule, in :mod:`~airflow_provider_koreai.campaign_control`; the
export's file writing is :mod:`~airflow_provider_koreai.campaign_results`. The DAG processor imports this
module on every parse: at import it loads only Airflow's base classes and our dependency-free modules.

* :class:`CreateCampaignOperator`: create a campaign from its definition, idempotently by name
  (``if_exists``).
* :class:`StartCampaignOperator`: start (or resume) a campaign; an Active one is left alone by default, one
  still being prepared is waited on.
* :class:`StopCampaignOperator`: stop a running campaign; one that is not running is success.
* :class:`DeleteCampaignOperator`: delete a campaign by id (``missing_ok``).
* :class:`ExportCampaignResultsOperator`: stream every per-contact result to a CSV or JSON-lines file.

Campaign ids, names, statuses and counts appear in logs and XCom; the contacts' phone numbers and names
never do (they stay in the exported file).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from airflow_provider_koreai import campaign_control, validation
from airflow_provider_koreai.campaign_control import (
    DEFAULT_PREPARING_POLL_INTERVAL,
    DEFAULT_PREPARING_TIMEOUT,
    IF_ACTIVE_MODES,
)
from airflow_provider_koreai.defaults import CAMPAIGN_TYPES, FILE_FORMATS, IF_EXISTS_MODES
from airflow_provider_koreai.exceptions import (
    KoreAICampaignStateError,
    KoreAINotFoundError,
    KoreAIRequestRejectedError,
)
from airflow_provider_koreai.operators.base import KoreAIBaseOperator

if TYPE_CHECKING:
    import logging

    from airflow.providers.common.compat.sdk import Context, ObjectStoragePath, XComArg

    from airflow_provider_koreai.hooks.koreai import KoreAIHook

__all__ = [
    "IF_ACTIVE_MODES",
    "CreateCampaignOperator",
    "DeleteCampaignOperator",
    "ExportCampaignResultsOperator",
    "StartCampaignOperator",
    "StopCampaignOperator",
]


def _named(campaign_id: str, name: Any) -> str:
    """``cd-1 ('Renewals outreach')``, or the id alone when the name is unknown."""
    return f"{campaign_id} ({name!r})" if isinstance(name, str) and name else campaign_id


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- create -------------------------------------------------------------------------------------------


class CreateCampaignOperator(KoreAIBaseOperator):
    """Create a Kore.ai campaign from its definition, without ever creating a second campaign of the same
    name.

    Kore.ai's create call is not idempotent; :meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.
    ensure_campaign` looks the name up first, resolves a create whose outcome was unknown by looking the
    name up again before re-sending, and treats a create refused with HTTP 409 (the name appeared
    meanwhile) like a campaign found by the first lookup. Re-running the DAG is therefore safe. A new voice
    campaign is ``Preparing`` for a while: :class:`StartCampaignOperator` waits for it.

    :param spec: the campaign's definition, in Kore.ai's field names: ``name`` (at most 48 characters),
        ``description`` (at most 256), ``contactLists`` (1 to 10 existing list **names**), ``priority``
        (``"1"`` to ``"5"``), for voice ``dialingMode`` (``Agentless`` with ``experienceFlowName``,
        ``Progressive``/``Preview`` with ``queue_name``, ``Preview`` with ``maxSkips``) and
        ``enableMachineDetect``, and ``dialingStrategy`` (``callerId.phoneNumber``, ``callingHours``,
        ``dialingOrder``, ``maxAttemptsPerRecord``, ``defaultRetryPeriod``, ``maxRingTime``); see
        :func:`~airflow_provider_koreai.validation.campaign_spec`. Templated: each string inside is
        rendered; a whole definition from another task comes as an ``XComArg`` (a template renders it as
        text, which is refused, unless the DAG has ``render_template_as_native_obj``). Given as a literal,
        every bad field is named when the DAG is parsed; otherwise when the task runs, before any request.
    :param campaign_type: ``"voice"`` (default) or ``"sms"``. Templated.
    :param if_exists: what to do when a campaign of that name exists: ``"skip"`` (default) returns it
        unchanged, ``"update"`` applies ``spec`` to it (Kore.ai refuses while it is Active or Paused),
        ``"fail"`` fails the task naming the existing campaign's id. Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom: keys ``campaign_id`` and ``created`` (``True`` only when this run created the campaign) and, as
    ``return_value``, ``{"campaign_id", "name", "created", "status"}`` (``status`` as Kore.ai answered:
    ``Preparing`` for a new voice campaign).
    """

    template_fields: Sequence[str] = ("spec", "campaign_type", *KoreAIBaseOperator.template_fields)

    def __init__(
        self,
        *,
        spec: Mapping[str, Any] | XComArg,
        campaign_type: str = "voice",
        if_exists: str = "skip",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.campaign_type = campaign_type
        self.if_exists = if_exists
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        campaign_type = arguments.get("campaign_type", "voice")
        rules: dict[str, validation.Rule] = {"campaign_type": validation.campaign_type}
        # The definition's fields depend on the type: judged once the type is known and valid (a wrong
        # type is refused on its own; a templated one is rendered, and both are checked when the task runs).
        if campaign_type in CAMPAIGN_TYPES:
            rules["spec"] = lambda value, field: validation.campaign_spec(value, campaign_type, field)
        return {
            **rules,
            "if_exists": partial(validation.one_of, choices=IF_EXISTS_MODES),
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any]:
        checked = self.checked_arguments()
        spec, campaign_type = checked["spec"], checked["campaign_type"]
        ensured = hook.ensure_campaign(campaign_type, spec, if_exists=self.if_exists)
        name = spec["name"]
        result = {
            "campaign_id": ensured.campaign_id,
            "name": name,
            "created": ensured.created,
            "status": _text_or_none(ensured.campaign.get("status")),
        }
        ti = context["ti"]
        ti.xcom_push(key="campaign_id", value=ensured.campaign_id)
        ti.xcom_push(key="created", value=ensured.created)
        named = f"Kore.ai {campaign_type} campaign {_named(ensured.campaign_id, name)}"
        lists = ", ".join(repr(item) for item in spec["contactLists"])
        if ensured.created:
            self.log.info("Created %s on contact list(s) %s: status %s", named, lists, result["status"])
        elif self.if_exists == "update":
            self.log.info("Updated existing %s (if_exists='update'): contact list(s) %s", named, lists)
        else:
            self.log.info("Reused existing %s unchanged (if_exists='skip'): nothing sent", named)
        if ensured.created or self.if_exists == "update":
            operation = "create" if ensured.created else "update"
            self.record_campaign_change(context, hook, ensured.campaign_id, operation=operation)
        return result


# -- start --------------------------------------------------------------------------------------------


class StartCampaignOperator(KoreAIBaseOperator):
    """Start a Kore.ai campaign, reading its status first so that a running campaign is never played twice.

    What happens for each status is :mod:`~airflow_provider_koreai.campaign_control`'s rule: an ``Active``
    campaign is left alone (``if_active="skip"``, default) or fails the task (``"fail"``); a campaign still
    ``Preparing`` (just created) is waited on, a status read every ``preparing_poll_interval`` seconds, up
    to ``preparing_timeout`` seconds; a ``Paused`` one is resumed; a ``Ready`` one starts; a ``Completed``
    or ``Stopped`` one starts a **new run that dials every contact of its lists again**, from the top. Kore.ai
    refuses a start while another running campaign uses one of the same contact lists (HTTP 409): the task
    fails for good with Kore.ai's message. The start itself is never sent twice: after an unclear answer
    the hook reads the status before anything else.

    :param campaign_id: id of the campaign (``cd-...``). Templated.
    :param campaign_type: ``"voice"`` (default) or ``"sms"``: the campaign's type, which Kore.ai checks.
        Templated.
    :param if_active: ``"skip"`` (default): an Active campaign counts as started (nothing is sent, the task
        succeeds with its running instance); ``"fail"``: the task fails for good
        (:class:`~airflow_provider_koreai.exceptions.KoreAICampaignStateError`). Not templated.
    :param preparing_timeout: seconds to wait for a campaign that is still ``Preparing`` (default 600);
        after that the task fails for good, before anything is sent. Not templated.
    :param preparing_poll_interval: seconds between status reads while waiting (default 15). Each read
        takes a slot of the account's request budget. Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom (``return_value``): ``{"campaign_id", "campaign_instance_id", "status", "started"}``:
    ``campaign_instance_id`` is the running instance (``None`` when Kore.ai does not say), ``status`` the
    campaign's status after the task (``Active``), ``started`` whether this task sent the start.
    :class:`~airflow_provider_koreai.sensors.campaign.CampaignStatusSensor` then waits for it to finish.
    """

    template_fields: Sequence[str] = ("campaign_id", "campaign_type", *KoreAIBaseOperator.template_fields)

    def __init__(
        self,
        *,
        campaign_id: str,
        campaign_type: str = "voice",
        if_active: str = "skip",
        preparing_timeout: float = DEFAULT_PREPARING_TIMEOUT,
        preparing_poll_interval: float = DEFAULT_PREPARING_POLL_INTERVAL,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.campaign_type = campaign_type
        self.if_active = if_active
        self.preparing_timeout = preparing_timeout
        self.preparing_poll_interval = preparing_poll_interval
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "campaign_id": validation.campaign_id,
            "campaign_type": validation.campaign_type,
            "if_active": partial(validation.one_of, choices=IF_ACTIVE_MODES),
            "preparing_timeout": validation.seconds,
            "preparing_poll_interval": validation.seconds,
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any]:
        checked = self.checked_arguments()
        campaign_id, campaign_type = checked["campaign_id"], checked["campaign_type"]
        read = hook.get_campaign_status(campaign_id)
        status, named = read.status, _named(campaign_id, read.name)
        action = campaign_control.start_action(status, self.if_active)
        if action == campaign_control.WAIT:
            status = self._wait_while_preparing(hook, campaign_id, named)
            action = campaign_control.start_action(status, self.if_active)
        if action == campaign_control.FAIL:
            raise KoreAICampaignStateError(
                campaign_id,
                status,
                f"Kore.ai campaign {named} is already Active and if_active='fail'; nothing was sent. Stop it "
                "first (StopCampaignOperator), or use if_active='skip' to accept a running campaign",
            )
        if action == campaign_control.SKIP:
            return self._already_active(hook, campaign_id, named, "already")
        self.log.info(
            "Starting Kore.ai campaign %s, which is %s: %s", named, status, _what_a_play_does(status)
        )
        try:
            answer = hook.start_campaign(campaign_id, campaign_type)
        except KoreAIRequestRejectedError as error:
            # Started by someone else between the read and the play: as Active before the play.
            if error.http_status != 409 or self.if_active != "skip":
                raise
            if hook.get_campaign_status(campaign_id).status != campaign_control.ACTIVE:
                raise
            return self._already_active(hook, campaign_id, named, "meanwhile (Kore.ai refused the start)")
        result = {
            "campaign_id": campaign_id,
            "campaign_instance_id": _text_or_none(answer.get("campaignInstanceId")),
            "status": _text_or_none(answer.get("status")) or campaign_control.ACTIVE,
            "started": True,
        }
        self.log.info(
            "Started Kore.ai campaign %s: status %s, instance %s",
            named,
            result["status"],
            result["campaign_instance_id"] or "not reported",
        )
        instance = (
            {"campaign_instance_id": result["campaign_instance_id"]} if result["campaign_instance_id"] else {}
        )
        self.record_campaign_change(context, hook, campaign_id, operation="start", **instance)
        return result

    def _wait_while_preparing(self, hook: KoreAIHook, campaign_id: str, named: str) -> str:
        polls = campaign_control.preparing_polls(self.preparing_timeout, self.preparing_poll_interval)
        self.log.info(
            "Kore.ai campaign %s is still Preparing: waiting up to %g s for it to be Ready (%d status "
            "read(s), every %g s)",
            named,
            self.preparing_timeout,
            polls,
            self.preparing_poll_interval,
        )
        status = campaign_control.wait_while_preparing(
            lambda: hook.get_campaign_status(campaign_id).status,
            timeout=self.preparing_timeout,
            poll_interval=self.preparing_poll_interval,
            on_poll=lambda poll, status: self.log.info(
                "Kore.ai campaign %s: %s (status read %d of at most %d)", named, status, poll, polls
            ),
        )
        if status == campaign_control.PREPARING:
            raise KoreAICampaignStateError(
                campaign_id,
                status,
                f"Kore.ai campaign {named} is still Preparing after {self.preparing_timeout:g} s; nothing "
                "was sent. Raise preparing_timeout, or check the campaign in Kore.ai (its contact lists, its "
                "flow or queue)",
            )
        return status

    def _already_active(self, hook: KoreAIHook, campaign_id: str, named: str, when: str) -> dict[str, Any]:
        instance = _text_or_none(hook.get_campaign(campaign_id).get("campaignInstanceId"))
        self.log.info(
            "Left Kore.ai campaign %s running: it was %s Active (instance %s); no start sent "
            "(if_active='skip')",
            named,
            when,
            instance or "not reported",
        )
        return {
            "campaign_id": campaign_id,
            "campaign_instance_id": instance,
            "status": campaign_control.ACTIVE,
            "started": False,
        }


def _what_a_play_does(status: str) -> str:
    if status == "Paused":
        return "resumes its paused run"
    if status in campaign_control.FINISHED:
        return "a new run dials every contact of its lists again, from the top"
    if status == "Ready":
        return "its first run starts"
    return "Kore.ai decides what a start does in this status"


# -- stop ---------------------------------------------------------------------------------------------


class StopCampaignOperator(KoreAIBaseOperator):
    """Stop a Kore.ai campaign, reading its status first: when the task succeeds, the campaign is not
    dialling.

    :mod:`~airflow_provider_koreai.campaign_control`'s rule: an ``Active`` or ``Paused`` campaign is
    stopped; one already ``Stopped`` or ``Completed`` is success without a request; one never started
    (``Preparing``, ``Ready``) is success too, with a log line saying nothing was running (so a clean-up
    task that stops whatever runs also passes on a pipeline's first run); a ``Scheduled`` one is success
    with a warning, as a stop cancels no schedule. A campaign that ends by itself between the read and the
    stop (Kore.ai's HTTP 409) is success as well.

    :param campaign_id: id of the campaign (``cd-...``). Templated.
    :param campaign_type: ``"voice"`` (default) or ``"sms"``. Templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom (``return_value``): ``{"campaign_id", "status", "stopped"}``: the status after the task, and
    whether this task sent the stop.
    """

    template_fields: Sequence[str] = ("campaign_id", "campaign_type", *KoreAIBaseOperator.template_fields)

    def __init__(self, *, campaign_id: str, campaign_type: str = "voice", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.campaign_type = campaign_type
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "campaign_id": validation.campaign_id,
            "campaign_type": validation.campaign_type,
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any]:
        checked = self.checked_arguments()
        campaign_id, campaign_type = checked["campaign_id"], checked["campaign_type"]
        read = hook.get_campaign_status(campaign_id)
        status, named = read.status, _named(campaign_id, read.name)
        action = campaign_control.stop_action(status)
        if action != campaign_control.STOP:
            self._log_not_stopped(action, named, status)
            return {"campaign_id": campaign_id, "status": status, "stopped": False}
        try:
            answer = hook.stop_campaign(campaign_id, campaign_type)
        except KoreAIRequestRejectedError as error:
            # Ended by itself (or stopped by someone else) between the read and the stop.
            if error.http_status != 409:
                raise
            now = hook.get_campaign_status(campaign_id).status
            if now not in campaign_control.FINISHED:
                raise
            self.log.info("Kore.ai campaign %s ended meanwhile: %s; no stop needed", named, now)
            return {"campaign_id": campaign_id, "status": now, "stopped": False}
        stopped_status = _text_or_none(answer.get("status")) or "Stopped"
        self.log.info("Stopped Kore.ai campaign %s (it was %s): status %s", named, status, stopped_status)
        self.record_campaign_change(context, hook, campaign_id, operation="stop")
        return {"campaign_id": campaign_id, "status": stopped_status, "stopped": True}

    def _log_not_stopped(self, action: str, named: str, status: str) -> None:
        if action == campaign_control.ALREADY_STOPPED:
            self.log.info(
                "Kore.ai campaign %s is already %s: nothing to stop, no request sent", named, status
            )
        elif action == campaign_control.NOTHING_RUNNING:
            self.log.info(
                "Kore.ai campaign %s is %s (never started): nothing was running, no stop sent", named, status
            )
        else:
            self.log.warning(
                "Kore.ai campaign %s is %s: not dialling now, no stop sent; its schedule will still start "
                "it (a stop cancels no schedule: disable scheduling in Kore.ai)",
                named,
                status,
            )


# -- delete -------------------------------------------------------------------------------------------


class DeleteCampaignOperator(KoreAIBaseOperator):
    """Delete a Kore.ai campaign by id. Kore.ai refuses to delete a running (Active or Paused) campaign:
    stop it first (:class:`StopCampaignOperator`).

    :param campaign_id: id of the campaign (``cd-...``). Templated.
    :param campaign_type: ``"voice"`` (default) or ``"sms"``. Templated.
    :param missing_ok: when ``True``, a campaign Kore.ai does not know (HTTP 404) is logged and the task
        succeeds, returning ``None``; when ``False`` (default) the task fails for good. Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom: ``return_value`` is what Kore.ai says it deleted (``{}`` if it says nothing), ``None`` when the
    campaign was already gone and ``missing_ok`` is set.
    """

    template_fields: Sequence[str] = ("campaign_id", "campaign_type", *KoreAIBaseOperator.template_fields)

    def __init__(
        self, *, campaign_id: str, campaign_type: str = "voice", missing_ok: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.campaign_type = campaign_type
        self.missing_ok = missing_ok
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "campaign_id": validation.campaign_id,
            "campaign_type": validation.campaign_type,
            "missing_ok": validation.strict_bool,
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any] | None:
        checked = self.checked_arguments()
        campaign_id = checked["campaign_id"]
        try:
            deleted = hook.delete_campaign(campaign_id, checked["campaign_type"])
        except KoreAINotFoundError as error:
            if not self.missing_ok:
                raise
            self.log.info(
                "Deleted nothing: Kore.ai campaign %s does not exist (missing_ok=True): %s",
                campaign_id,
                error,
            )
            return None
        self.log.info("Deleted Kore.ai campaign %s", _named(campaign_id, deleted.get("name")))
        self.record_campaign_change(context, hook, campaign_id, operation="delete")
        return deleted


# -- export the results -------------------------------------------------------------------------------


class ExportCampaignResultsOperator(KoreAIBaseOperator):
    """Write every per-contact result of a campaign's current or last run to a CSV or JSON-lines file, in
    bounded memory (one page of at most 100 rows at a time).

    The rows (phone number, unique id, dialler outcome, attempts, bot session, disposition codes...) are
    read page by page (:meth:`~airflow_provider_koreai.hooks.koreai.KoreAIHook.iter_campaign_contact_pages`)
    and streamed into a temporary object next to ``destination``, which is moved into place at the end: a
    failed export never leaves a partial file that looks complete. Columns, how a row's outcome is counted
    and the progress lines are :mod:`~airflow_provider_koreai.campaign_results`'s. The export may run while
    the campaign is still dialling: the file then holds the rows as they were read.

    :param campaign_id: id of the campaign (``cd-...``). Templated.
    :param destination: where to write: a local path, an ``ObjectStoragePath``, or an object-storage URI
        (``s3://bucket/results/renewals.csv``, ``gs://...``, ``file:///...``), written through Airflow's
        object storage. ``.csv`` or ``.jsonl``/``.ndjson``, gzipped when the name ends in ``.gz``. An
        existing file is replaced. Templated.
    :param destination_conn_id: the Airflow connection of the object store ``destination`` names (e.g. an
        ``aws`` connection for ``s3://``); default: the store's own default. Templated.
    :param file_format: ``"csv"`` or ``"jsonl"``, for a ``destination`` whose name does not say (default:
        from the suffix, after ``.gz``). Not templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...).

    XCom (``return_value``): the export's summary: ``destination``, ``rows_written``, ``file_format``,
    ``compressed``, and ``outcomes``, the number of rows by outcome. Never a phone number.

    Lineage: OpenLineage sees the campaign (``koreai://<host>``, ``<iid>/campaigns/<id>``) as input and the
    file as output; every ``AssetAlias`` among the task's outlets gets an event for the file's asset, whose
    extra names the campaign (``campaign``: its ``koreai://`` URI, ``campaign_id``) and ``rows_written``.
    """

    template_fields: Sequence[str] = (
        "campaign_id",
        "destination",
        "destination_conn_id",
        *KoreAIBaseOperator.template_fields,
    )

    def __init__(
        self,
        *,
        campaign_id: str,
        destination: str | os.PathLike[str] | ObjectStoragePath | XComArg,
        destination_conn_id: str | None = None,
        file_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.campaign_id = campaign_id
        self.destination = destination
        self.destination_conn_id = destination_conn_id
        self.file_format = file_format
        #: The campaign read and the file written, as OpenLineage (namespace, name), once the task ran.
        self.read_from: tuple[str, str] | None = None
        self.written_to: tuple[str, str] | None = None
        self.rows_written: int | None = None
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        file_format = arguments.get("file_format")
        return {
            "campaign_id": validation.campaign_id,
            "destination": partial(
                validation.contact_file_path,
                # A wrong file_format is refused on its own; the destination is then judged by its suffix.
                file_format=file_format if file_format in FILE_FORMATS else None,
            ),
            "destination_conn_id": validation.optional_connection_id,
            "file_format": validation.optional(partial(validation.one_of, choices=FILE_FORMATS)),
            **super().argument_rules(arguments),
        }

    def execute_with_hook(self, context: Context, hook: KoreAIHook) -> dict[str, Any]:
        from airflow_provider_koreai import assets, campaign_results
        from airflow_provider_koreai.contacts_upload import lineage_name

        checked = self.checked_arguments()
        campaign_id = checked["campaign_id"]
        budget = hook.config.rate_budget.requests_per_minute
        self.log.info("Exporting the per-contact results of Kore.ai campaign %s", campaign_id)
        summary = campaign_results.export_campaign_results(
            hook.iter_campaign_contact_pages(campaign_id),
            checked["destination"],
            destination_conn_id=checked["destination_conn_id"],
            file_format=self.file_format,
            seconds_per_request=60 / budget if budget else None,
            # The task's logger (structlog's, on Airflow 3) answers the stdlib calls the export makes.
            log=cast("logging.Logger", self.log),
        )
        result: dict[str, Any] = summary.as_dict()
        campaign_uri = hook.campaign_asset_uri(campaign_id)
        self.read_from = assets.openlineage_names(campaign_uri)
        self.written_to = lineage_name(result["destination"])
        self.rows_written = result["rows_written"]
        self.log.info(
            "Exported %d result row(s) of Kore.ai campaign %s to %s",
            result["rows_written"],
            campaign_id,
            result["destination"],
        )
        self.record_asset_event(
            context,
            _asset_uri(*self.written_to),
            campaign=campaign_uri,
            campaign_id=campaign_id,
            rows_written=result["rows_written"],
        )
        return result

    def openlineage_inputs(self) -> list[Any]:
        if self.read_from is None:
            return []
        from airflow.providers.common.compat.openlineage.facet import InputDataset

        namespace, name = self.read_from
        return [InputDataset(namespace=namespace, name=name)]

    def openlineage_outputs(self) -> list[Any]:
        if self.written_to is None:
            return []
        from airflow.providers.common.compat.openlineage.facet import (
            OutputDataset,
            OutputStatisticsOutputDatasetFacet,
        )

        namespace, name = self.written_to
        statistics = OutputStatisticsOutputDatasetFacet(rowCount=self.rows_written)
        return [OutputDataset(namespace=namespace, name=name, outputFacets={"outputStatistics": statistics})]


def _asset_uri(namespace: str, name: str) -> str:
    """The asset URI of a file from its OpenLineage names: ``file:///abs/path`` or ``s3://bucket/key``."""
    return f"file://{name}" if namespace == "file" else f"{namespace}/{name}"
