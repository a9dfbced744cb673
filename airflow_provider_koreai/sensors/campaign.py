"""``CampaignStatusSensor``: wait until a Kore.ai campaign reaches a status, typically ``Completed``.

It only reads the campaign's status (``POST .../campaign/{id}/status?view=status``, safe to repeat),
either by poking from the worker (``mode="poke"`` or ``"reschedule"``) or, with ``deferrable=True``, by
handing the wait to :class:`~airflow_provider_koreai.triggers.campaign.CampaignStatusTrigger` in the
triggerer. Which status ends the wait, and how, is the rule of :mod:`airflow_provider_koreai.campaign_status`.

The DAG processor imports this module on every parse: it loads only Airflow's base classes and our
dependency-free modules; the hook, the trigger and the HTTP stack load when the sensor runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_koreai import validation
from airflow_provider_koreai.campaign_status import FAILURE, CampaignStatusWatch, StatusReading
from airflow_provider_koreai.defaults import DEFAULT_CONN_ID, KOREAI_UI_COLOR
from airflow_provider_koreai.exceptions import KoreAICampaignStateError, KoreAIError
from airflow_provider_koreai.operators.base import KoreAIArgumentsMixin, KoreAIHookMixin, raise_for_task
from airflow_provider_koreai.sensors.base import (
    check_poll_interval,
    deferral_timeout,
    raise_first_check_failure,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

#: Campaigns run for hours: one status read every 5 minutes is plenty, and spares the account's budget
#: of 60 requests per minute.
DEFAULT_POKE_INTERVAL_SECONDS = 300.0
#: Key of the last status seen in Airflow's task state store, between reschedule-mode pokes.
STATE_KEY = "koreai_campaign_status"


class CampaignStatusSensor(KoreAIHookMixin, KoreAIArgumentsMixin, BaseSensorOperator):
    """Wait until a Kore.ai campaign is in one of ``target_statuses``; fail for good on one of
    ``failure_statuses``.

    After :class:`~airflow_provider_koreai.operators.campaign.StartCampaignOperator`::

        CampaignStatusSensor(
            task_id="wait_for_campaign",
            campaign_id="{{ params.campaign_id }}",
            deferrable=True,  # or mode="reschedule": a campaign runs for hours
            timeout=12 * 3600,
        )

    :param campaign_id: id of the campaign (``cd-...``). Templated.
    :param target_statuses: the statuses that end the wait with success (default ``("Completed",)``),
        spelled as Kore.ai does: ``Preparing``, ``Ready``, ``Active``, ``Paused``, ``Completed``,
        ``Stopped``, ``Scheduled``, ``Rescheduled``.
    :param failure_statuses: the statuses that fail the task for good (default ``("Stopped",)``), with
        :class:`~airflow_provider_koreai.exceptions.KoreAICampaignStateError` naming the status; none of
        ``target_statuses``. ``()`` fails on none. ``Paused`` keeps waiting unless listed here.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...), for
        the worker's reads and the trigger's alike (the trigger sends one request per poll: its poll
        interval is its retry).
    :param deferrable: wait in the triggerer instead of occupying a worker slot; default: Airflow's
        ``[operators] default_deferrable``. The worker reads the status once first and returns (or fails)
        at once if the wait is already over; the trigger then polls every ``poke_interval`` seconds until
        ``timeout``.
    :param poke_interval: seconds between two status reads; default 300 (5 minutes), as campaigns run
        for hours. Kore.ai allows 60 requests per minute per account, shared by every Contact Center API
        call.

    ``timeout``, ``mode``, ``soft_fail`` and the other :class:`~airflow.sdk.BaseSensorOperator`
    arguments work as usual. Set ``timeout`` to the longest the campaign may take (Airflow's default is
    7 days). Prefer ``deferrable=True``, or ``mode="reschedule"``, to the default ``mode="poke"``, which
    holds a worker slot for the whole campaign.

    Each change of status is logged once (``status changed from Active to Paused``), the first status
    read too; an unchanged status only at DEBUG. A status Kore.ai does not document is logged as a
    warning and waited on until the timeout. In ``reschedule`` mode each poke runs in a new process: the
    last status is carried between pokes in Airflow's task state store (Airflow 3.3+); where there is
    none, each poke logs the status it reads, as it cannot know the previous one. A deferred wait logs
    the changes in the triggerer's log of the task.

    Rate limiting (429), server errors (5xx) and connection failures are waited out until ``timeout``
    (the hook retries each poke first); an unknown campaign (404) or refused credentials (401/403) fail
    the task at once, without retries. On timeout the error names the last status read.

    XCom (``return_value``): ``{"campaign_id", "status", "name"}`` of the status that ended the wait.
    """

    template_fields: Sequence[str] = ("campaign_id", "koreai_conn_id")
    between_arguments = ("poke_interval",)
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        campaign_id: str,
        target_statuses: Sequence[str] = ("Completed",),
        failure_statuses: Sequence[str] = ("Stopped",),
        koreai_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poke_interval: float | timedelta = DEFAULT_POKE_INTERVAL_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.campaign_id = campaign_id
        self.target_statuses = target_statuses
        self.failure_statuses = failure_statuses
        self.koreai_conn_id = koreai_conn_id
        self.hook_params = {} if hook_params is None else hook_params
        self.deferrable = deferrable
        self._watch: CampaignStatusWatch | None = None
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "campaign_id": validation.campaign_id,
            "target_statuses": validation.campaign_statuses,
            "failure_statuses": validation.campaign_statuses,
            "deferrable": validation.strict_bool,
            **super().argument_rules(arguments),
        }

    @classmethod
    def check_between_arguments(
        cls, arguments: Mapping[str, Any], refusals: validation.Refusals, *, complete: bool
    ) -> None:
        targets = _statuses_given(arguments.get("target_statuses"))
        failures = _statuses_given(arguments.get("failure_statuses"))
        given = arguments.get("target_statuses")
        if isinstance(given, list | tuple | set | frozenset) and not given:
            refusals.add("target_statuses", "must name at least one status to wait for, e.g. ['Completed']")
        both = [status for status in failures if status in targets]
        if both:
            refusals.add(
                "failure_statuses",
                f"has {both}, also in target_statuses: a status either ends the wait with success or "
                "fails it; leave it out of one of them",
            )
        check_poll_interval(arguments, refusals)

    def _campaign_id(self) -> str:
        """The rendered arguments, checked before any request; bad ones fail the task for good."""
        try:
            checked = self.checked_arguments()
        except KoreAIError as error:
            raise_for_task(error)
        return str(checked["campaign_id"])

    # -- the last status seen: on the instance in poke mode, in the task state store between reschedules

    def _state_store(self, context: Context) -> Any:
        return context.get("task_state_store") if self.reschedule else None

    def _load_watch(self, context: Context, campaign_id: str) -> CampaignStatusWatch:
        if self._watch is None:
            store = self._state_store(context)
            state = store.get(STATE_KEY) if store is not None else None
            last = None
            if isinstance(state, dict) and state.get("campaign_id") == campaign_id:
                last = state.get("status") if isinstance(state.get("status"), str) else None
            self._watch = CampaignStatusWatch(
                campaign_id, self.target_statuses, self.failure_statuses, last_status=last
            )
        return self._watch

    def _save_watch(self, context: Context, watch: CampaignStatusWatch) -> None:
        store = self._state_store(context)
        if store is not None:
            store.set(STATE_KEY, {"campaign_id": watch.campaign_id, "status": watch.last_status})

    def _check(self, context: Context, campaign_id: str) -> StatusReading | None:
        """One read: the reading once the wait is over with success, ``None`` to keep waiting; a failure
        status raises :class:`~airflow_provider_koreai.exceptions.KoreAICampaignStateError`."""
        watch = self._load_watch(context, campaign_id)
        try:
            read = self.hook.get_campaign_status(campaign_id)
        except KoreAIError as error:
            if error.retryable:
                self.log.warning("%s: no status this time (%s); waiting", watch.who(), error)
                return None
            raise_for_task(error)
        reading = watch.observe(read.status, read.name)
        self.log.log(reading.level, reading.message)
        self._save_watch(context, watch)
        if reading.outcome == FAILURE:
            raise KoreAICampaignStateError(campaign_id, reading.status, reading.message)
        return reading if reading.outcome else None

    def poke(self, context: Context) -> bool | PokeReturnValue:
        reading = self._check(context, self._campaign_id())
        if reading is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=reading.as_xcom())

    def execute(self, context: Context) -> Any:
        self._watch = None  # each try starts afresh (reschedule mode reloads the last status from the store)
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as error:
                if self._watch is None:
                    raise
                raise AirflowSensorTimeout(f"{error} {self._watch.timeout_message()}") from error
        try:
            campaign_id = self._campaign_id()
            reading = self._check(context, campaign_id)
        except AirflowFailException as error:
            raise_first_check_failure(self, error)
        if reading is not None:
            return reading.as_xcom()
        watch = self._load_watch(context, campaign_id)
        from airflow_provider_koreai.triggers.campaign import CampaignStatusTrigger

        trigger = CampaignStatusTrigger(
            campaign_id=campaign_id,
            target_statuses=list(watch.target_statuses),
            failure_statuses=list(watch.failure_statuses),
            deadline=time.time() + self.timeout,
            koreai_conn_id=self.koreai_conn_id,
            hook_params=self.hook_params,
            poll_interval=self.poke_interval,
            last_status=watch.last_status,
        )
        self.log.info(
            "Deferring: the triggerer reads the status of %s every %g s",
            watch.who(),
            self.poke_interval,
        )
        self.defer(trigger=trigger, method_name="execute_complete", timeout=deferral_timeout(self.timeout))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger: the XCom of the status reached, or the trigger's failure."""
        if not isinstance(event, dict):
            raise AirflowFailException(f"Kore.ai campaign {self.campaign_id}: the trigger sent no event")
        kind = event.get("status")
        message = str(event.get("message") or f"the trigger reported {kind!r}")
        status = event.get("campaign_status")
        if kind == "timeout":
            raise AirflowSensorTimeout(message)
        if kind == "failure" and isinstance(status, str):
            raise KoreAICampaignStateError(str(event.get("campaign_id") or self.campaign_id), status, message)
        if kind != "success" or not isinstance(status, str):
            raise AirflowFailException(message)
        name = event.get("name")
        result = {
            "campaign_id": str(event.get("campaign_id") or self.campaign_id),
            "status": status,
            "name": name if isinstance(name, str) else None,
        }
        self.log.info("Kore.ai campaign %s is %s: the wait is over", result["campaign_id"], status)
        return result


def _statuses_given(value: Any) -> list[str]:
    """The statuses of an argument as given (one string, or a list or tuple of them); others: none."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [item for item in value if isinstance(item, str)]
    return []
