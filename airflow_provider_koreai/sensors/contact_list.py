"""``ContactListIngestedSensor``: wait until Kore.ai has ingested the contacts sent to a list.

Adding contacts is asynchronous on Kore.ai's side, with no job id (reference 3.6); the list's
``totalRecordCount`` (reference 3.3) is the only sign of progress. This sensor waits for it to reach an
expected count, either by poking from the worker (``mode="poke"`` or ``"reschedule"``) or, with
``deferrable=True``, by handing the wait to :class:`~airflow_provider_koreai.triggers.contact_list.
ContactListIngestedTrigger` in the triggerer. Either way it only reads: send the contacts in an upstream
task, on the worker (the hook's ``add_contacts``), never from a trigger.

The DAG processor imports this module on every parse: it loads only Airflow's base classes and our
dependency-free modules; the hook, the trigger and the HTTP stack load when the sensor runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_koreai import validation
from airflow_provider_koreai.defaults import DEFAULT_CONN_ID, KOREAI_UI_COLOR
from airflow_provider_koreai.exceptions import KoreAIError

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_koreai.hooks.koreai import KoreAIHook

#: The XCom key that holds the final ``totalRecordCount`` (also the task's return value).
XCOM_TOTAL_RECORD_COUNT = "total_record_count"
#: Airflow's own deferral timeout is a backstop (e.g. a triggerer down past the deadline); it is set this
#: much later than the trigger's deadline so that the trigger's timeout event, which says what count was
#: reached, normally arrives first.
DEFERRAL_TIMEOUT_GRACE_SECONDS = 60.0


class ContactListIngestedSensor(BaseSensorOperator):
    """Wait until a Kore.ai contact list's ``totalRecordCount`` reaches ``expected_count``.

    :param contact_list_id: id of the list (``cl-...``). Templated.
    :param expected_count: how many contacts the list must hold (``totalRecordCount >= expected_count``);
        a whole number of at least 0, or its digits as a string (what a Jinja template renders).
        Templated.
    :param koreai_conn_id: the ``koreai`` connection. Templated.
    :param deferrable: wait in the triggerer instead of occupying a worker slot; default: Airflow's
        ``[operators] default_deferrable``. The worker checks once first and returns at once if the count
        is already reached; the trigger then polls every ``poke_interval`` seconds until ``timeout``.

    ``poke_interval``, ``timeout``, ``mode``, ``soft_fail`` and the other
    :class:`~airflow.sdk.BaseSensorOperator` arguments work as usual. Kore.ai allows 60 requests per
    minute per account, shared by every Contact Center API call: keep ``poke_interval`` in tens of seconds.

    Rate limiting (429), server errors (5xx) and connection failures are waited out until ``timeout``
    (the hook retries each poke first); an unknown list (404), refused credentials (401/403) or an answer
    without a ``totalRecordCount`` fail the task at once, without retries.

    XCom: the final count, as ``return_value`` and under the key ``total_record_count``.
    """

    template_fields: Sequence[str] = ("contact_list_id", "expected_count", "koreai_conn_id")
    ui_color = KOREAI_UI_COLOR

    def __init__(
        self,
        *,
        contact_list_id: str,
        expected_count: int | str,
        koreai_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contact_list_id = contact_list_id
        self.expected_count = expected_count
        self.koreai_conn_id = koreai_conn_id
        self.deferrable = deferrable

    @cached_property
    def hook(self) -> KoreAIHook:
        """One hook per task try (``poke`` mode reuses its session between pokes). Imported on first use:
        parsing a DAG file never loads the HTTP stack."""
        from airflow_provider_koreai.hooks.koreai import KoreAIHook

        return KoreAIHook(koreai_conn_id=self.koreai_conn_id)

    def _arguments(self) -> tuple[str, int]:
        """The rendered arguments, checked before any request; a bad one fails the task for good."""
        try:
            return (
                validation.contact_list_id(self.contact_list_id),
                validation.record_count(self.expected_count, "expected_count"),
            )
        except KoreAIError as error:
            raise AirflowFailException(str(error)) from error

    def _read_count(self, contact_list_id: str) -> int | None:
        """The list's current count; ``None`` when Kore.ai could not answer for now (the hook's retries
        are spent on a 429, 5xx or connection failure), so that the sensor simply waits longer."""
        from airflow_provider_koreai.triggers.contact_list import total_record_count

        try:
            data = self.hook.get_contact_list(contact_list_id)
            return total_record_count(data, f"GET {self.hook.contact_list_path(contact_list_id)}")
        except KoreAIError as error:
            if error.retryable:
                self.log.warning("Kore.ai list %s: no count this time (%s); waiting", contact_list_id, error)
                return None
            raise AirflowFailException(str(error)) from error

    def _done(self, context: Context, contact_list_id: str, expected: int) -> int | None:
        """The final count (pushed to XCom) once ``expected`` is reached, else ``None``."""
        count = self._read_count(contact_list_id)
        if count is None:
            return None
        if count < expected:
            self.log.info("Kore.ai list %s holds %d of %d contacts", contact_list_id, count, expected)
            return None
        self.log.info("Kore.ai list %s holds %d contacts (expected %d)", contact_list_id, count, expected)
        context["ti"].xcom_push(key=XCOM_TOTAL_RECORD_COUNT, value=count)
        return count

    def poke(self, context: Context) -> bool | PokeReturnValue:
        contact_list_id, expected = self._arguments()
        count = self._done(context, contact_list_id, expected)
        if count is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=count)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        try:
            contact_list_id, expected = self._arguments()
            if not self.poke_interval > 0:
                raise AirflowFailException(
                    f"Invalid 'poke_interval': with deferrable=True it is the trigger's polling interval and "
                    f"must be above 0 seconds, got {self.poke_interval:g}"
                )
            count = self._done(context, contact_list_id, expected)
        except AirflowFailException as error:
            if self.soft_fail or getattr(self, "never_fail", False):
                raise AirflowSkipException(f"Skipping as soft_fail/never_fail is set: {error}") from error
            raise
        if count is not None:
            return count
        from airflow_provider_koreai.triggers.contact_list import ContactListIngestedTrigger

        trigger = ContactListIngestedTrigger(
            contact_list_id=contact_list_id,
            expected_count=expected,
            deadline=time.time() + self.timeout,
            koreai_conn_id=self.koreai_conn_id,
            poll_interval=self.poke_interval,
        )
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + DEFERRAL_TIMEOUT_GRACE_SECONDS),
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
        self.log.info("Kore.ai list %s holds %d contacts", event.get("contact_list_id"), count)
        context["ti"].xcom_push(key=XCOM_TOTAL_RECORD_COUNT, value=count)
        return count
