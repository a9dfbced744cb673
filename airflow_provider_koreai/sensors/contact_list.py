"""``ContactListIngestedSensor``: wait until Kore.ai has ingested the contacts sent to a list.

Adding contacts is asynchronous on Kore.ai's side, with no job id; the list's ``totalRecordCount`` is
the only sign of progress (see the docs, "ContactListIngestedSensor"). This sensor waits for *this run's*
contacts, by the rule of :mod:`airflow_provider_koreai.ingestion` (target ``baseline + rows sent`` reached,
or the count settled short of it because duplicates were dropped), either by poking from the worker
(``mode="poke"`` or ``"reschedule"``) or, with
``deferrable=True``, by handing the wait to :class:`~airflow_provider_koreai.triggers.contact_list.
ContactListIngestedTrigger` in the triggerer. Either way it only reads: send the contacts in an upstream
task, on the worker (the hook's ``add_contacts``), never from a trigger.

The DAG processor imports this module on every parse: it loads only Airflow's base classes and our
dependency-free modules; the hook, the trigger and the HTTP stack load when the sensor runs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_koreai import validation
from airflow_provider_koreai.defaults import DEFAULT_CONN_ID, KOREAI_UI_COLOR
from airflow_provider_koreai.exceptions import KoreAIError
from airflow_provider_koreai.ingestion import (
    DEFAULT_SETTLE_POLLS,
    IngestionVerdict,
    IngestionWatch,
)
from airflow_provider_koreai.operators.base import (
    KoreAIArgumentsMixin,
    KoreAIHookMixin,
    raise_for_task,
)
from airflow_provider_koreai.sensors.base import (
    check_poll_interval,
    deferral_timeout,
    raise_first_check_failure,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_koreai.responses import ContactCount

#: The XCom key that holds the final ``totalRecordCount`` (also the task's return value).
XCOM_TOTAL_RECORD_COUNT = "total_record_count"
#: The XCom key that says which rule ended the wait (``IngestionVerdict.as_dict()``).
XCOM_INGESTION = "ingestion"
#: Key of the ingestion state in Airflow's task state store, between reschedule-mode pokes.
STATE_KEY = "koreai_ingestion_watch"


class ContactListIngestedSensor(KoreAIHookMixin, KoreAIArgumentsMixin, BaseSensorOperator):
    """Wait until Kore.ai has ingested the contacts this run sent to a list.

    The wait ends by one of two rules (:mod:`airflow_provider_koreai.ingestion`), reported in the log and
    in XCom: ``target_reached`` (``totalRecordCount >= expected_count``) or ``settled`` (the count stopped
    changing for ``settle_polls`` reads short of the target, after it moved or on a list that disallows
    duplicates: the missing contacts were dropped as duplicates). Otherwise it times out with an error
    that gives the baseline, the last count and the target.

    Fed by :class:`~airflow_provider_koreai.operators.contact_list.AddContactsOperator`, which reads the
    count before sending::

        ContactListIngestedSensor(
            task_id="wait_for_ingestion",
            contact_list_id="{{ ti.xcom_pull(task_ids='add_contacts', key='contact_list_id') }}",
            expected_count="{{ ti.xcom_pull(task_ids='add_contacts', key='expected_count') }}",
            baseline_count="{{ ti.xcom_pull(task_ids='add_contacts', key='count_before') }}",
        )

    :param contact_list_id: id of the list (``cl-...``). Templated.
    :param expected_count: how many contacts the list must hold once this run's contacts are in
        (``baseline + rows sent``); a whole number of at least 0, or its digits as a string (what a Jinja
        template renders). Templated.
    :param baseline_count: the list's count before the contacts were sent; ``None`` takes the first count
        the sensor reads. Templated.
    :param settle_polls: how many consecutive unchanged reads end the wait short of the target (default
        3); ``None`` waits for the target or the timeout. Keep ``settle_polls * poke_interval`` above the
        time Kore.ai takes to start ingesting.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param hook_params: tuning of the hook (``timeout``, ``max_attempts``, ``retry_timeout``...), for
        the worker's reads and the trigger's alike (the trigger sends one request per poll: its poll
        interval is its retry).
    :param deferrable: wait in the triggerer instead of occupying a worker slot; default: Airflow's
        ``[operators] default_deferrable``. The worker checks once first and returns at once if the count
        is already reached; the trigger then polls every ``poke_interval`` seconds until ``timeout``.

    ``poke_interval``, ``timeout``, ``mode``, ``soft_fail`` and the other
    :class:`~airflow.sdk.BaseSensorOperator` arguments work as usual. Kore.ai allows 60 requests per
    minute per account, shared by every Contact Center API call: keep ``poke_interval`` in tens of seconds.

    Rate limiting (429), server errors (5xx) and connection failures are waited out until ``timeout``
    (the hook retries each poke first); an unknown list (404), refused credentials (401/403) or an answer
    without a ``totalRecordCount`` fail the task at once, without retries.

    XCom: the final count, as ``return_value`` and under the key ``total_record_count``; under the key
    ``ingestion``, ``{"rule", "total_record_count", "expected_count", "baseline_count", "missing"}``.

    In ``reschedule`` mode each poke runs in a new process; the reads are carried between pokes in
    Airflow's task state store (Airflow 3.3+). Where there is none, ``settled`` can only use the reads of
    one poke, so it never applies with ``settle_polls`` above 0: prefer ``deferrable=True``.
    """

    template_fields: Sequence[str] = ("contact_list_id", "expected_count", "baseline_count", "koreai_conn_id")
    between_arguments = ("poke_interval",)
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        contact_list_id: str,
        expected_count: int | str,
        baseline_count: int | str | None = None,
        settle_polls: int | None = DEFAULT_SETTLE_POLLS,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        hook_params: dict[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.expected_count = expected_count
        self.baseline_count = baseline_count
        self.settle_polls = settle_polls
        self.koreai_conn_id = koreai_conn_id
        self.hook_params = {} if hook_params is None else hook_params
        self.deferrable = deferrable
        self._watch: IngestionWatch | None = None
        self.check_arguments()

    @classmethod
    def argument_rules(cls, arguments: Mapping[str, Any]) -> dict[str, validation.Rule]:
        return {
            "contact_list_id": validation.contact_list_id,
            "expected_count": validation.record_count,
            "baseline_count": validation.optional_whole_number,
            "settle_polls": validation.optional(validation.settle_polls),
            "deferrable": validation.strict_bool,
            **super().argument_rules(arguments),
        }

    @classmethod
    def check_between_arguments(
        cls, arguments: Mapping[str, Any], refusals: validation.Refusals, *, complete: bool
    ) -> None:
        check_poll_interval(arguments, refusals)

    def _arguments(self) -> tuple[str, int, int | None]:
        """The rendered arguments, checked before any request; bad ones fail the task for good."""
        try:
            checked = self.checked_arguments()
        except KoreAIError as error:
            raise_for_task(error)
        return checked["contact_list_id"], checked["expected_count"], checked["baseline_count"]

    def _read_count(self, contact_list_id: str) -> ContactCount | None:
        """The hook's reading of the list; ``None`` when Kore.ai could not answer for now (the hook's
        retries are spent on a 429, 5xx or connection failure), so that the sensor simply waits longer."""
        try:
            return self.hook.count_contacts(contact_list_id=contact_list_id)
        except KoreAIError as error:
            if error.retryable:
                self.log.warning("Kore.ai list %s: no count this time (%s); waiting", contact_list_id, error)
                return None
            raise_for_task(error)

    # -- the reads so far: on the instance in poke mode, in the task state store between reschedules

    def _state_store(self, context: Context) -> Any:
        return context.get("task_state_store") if self.reschedule else None

    def _load_watch(self, context: Context, expected: int, baseline: int | None) -> IngestionWatch:
        if self._watch is None:
            store = self._state_store(context)
            state = store.get(STATE_KEY) if store is not None else None
            if isinstance(state, dict) and state.get("expected_count") == expected:
                self._watch = IngestionWatch.from_dict(state)
            else:
                self._watch = IngestionWatch(
                    expected_count=expected, baseline_count=baseline, settle_polls=self.settle_polls
                )
        return self._watch

    def _save_watch(self, context: Context, watch: IngestionWatch) -> None:
        store = self._state_store(context)
        if store is not None:
            store.set(STATE_KEY, watch.to_dict())

    def _check(
        self, context: Context, contact_list_id: str, expected: int, baseline: int | None
    ) -> IngestionVerdict | None:
        """One read: the verdict (pushed to XCom) once the wait is over, else ``None``."""
        watch = self._load_watch(context, expected, baseline)
        reading = self._read_count(contact_list_id)
        if reading is None:
            return None
        verdict = watch.observe(reading.total_record_count, allow_duplicates=reading.allow_duplicates)
        if verdict is None:
            self.log.info(watch.progress(contact_list_id, reading.total_record_count))
            self._save_watch(context, watch)
            return None
        self._report(context, verdict)
        return verdict

    def _report(self, context: Context, verdict: IngestionVerdict) -> None:
        message = f"{verdict.describe(self.contact_list_id)}; rule: {verdict.rule}"
        if verdict.missing:
            self.log.warning(message)
        else:
            self.log.info(message)
        context["ti"].xcom_push(key=XCOM_TOTAL_RECORD_COUNT, value=verdict.total_record_count)
        context["ti"].xcom_push(key=XCOM_INGESTION, value=verdict.as_dict())

    def poke(self, context: Context) -> bool | PokeReturnValue:
        contact_list_id, expected, baseline = self._arguments()
        verdict = self._check(context, contact_list_id, expected, baseline)
        if verdict is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=verdict.total_record_count)

    def execute(self, context: Context) -> Any:
        self._watch = None  # each try starts afresh (reschedule mode reloads the reads from the store)
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as error:
                if self._watch is None:
                    raise
                raise AirflowSensorTimeout(
                    f"{error} Kore.ai list {self.contact_list_id} did not reach {self._watch.expected_count} "
                    f"contacts: {self._watch.timeout_hint()}"
                ) from error
        try:
            contact_list_id, expected, baseline = self._arguments()
            verdict = self._check(context, contact_list_id, expected, baseline)
        except AirflowFailException as error:
            raise_first_check_failure(self, error)
        if verdict is not None:
            return verdict.total_record_count
        watch = self._load_watch(context, expected, baseline)
        from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger

        trigger = ContactListIngestedTrigger(
            contact_list_id=contact_list_id,
            expected_count=expected,
            deadline=time.time() + self.timeout,
            koreai_conn_id=self.koreai_conn_id,
            hook_params=self.hook_params,
            poll_interval=self.poke_interval,
            baseline_count=watch.baseline_count,
            settle_polls=self.settle_polls,
            recent_counts=watch.recent,
            moved=watch.moved,
        )
        self.log.info(
            "Deferring: the triggerer polls Kore.ai list %s every %g s for %d contacts",
            contact_list_id,
            self.poke_interval,
            expected,
        )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=deferral_timeout(self.timeout),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> int:
        """Resume after the trigger: return the count, or fail with the trigger's explanation."""
        if not isinstance(event, dict):
            raise AirflowFailException(f"Kore.ai list {self.contact_list_id}: the trigger sent no event")
        status = event.get("status")
        message = str(event.get("message") or f"the trigger reported {status!r}")
        if status == "timeout":
            raise AirflowSensorTimeout(message)
        if status != "success":
            raise AirflowFailException(message)
        count = event.get("total_record_count")
        if isinstance(count, bool) or not isinstance(count, int):
            raise AirflowFailException(
                f"Kore.ai list {self.contact_list_id}: the trigger reported success without a count"
            )
        expected = event.get("expected_count")
        verdict = IngestionVerdict(
            rule=str(event.get("rule") or "target_reached"),
            total_record_count=count,
            expected_count=expected if isinstance(expected, int) else count,
            baseline_count=event.get("baseline_count"),
        )
        self._report(context, verdict)
        return count
