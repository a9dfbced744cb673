"""What the Kore.ai sensors share: the rule on a deferred sensor's polling interval, the backstop on a
deferral, and the failure of the check a deferrable sensor makes on the worker before it defers.

The DAG processor imports this module with the sensors: it loads only Airflow's base classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSkipException

from airflow_provider_koreai import validation

#: Airflow's own deferral timeout is a backstop (e.g. a triggerer down past the deadline); it is set this
#: much later than the trigger's deadline so that the trigger's timeout event, which says what was last
#: read, normally arrives first.
DEFERRAL_TIMEOUT_GRACE_SECONDS = 60.0


def check_poll_interval(arguments: Mapping[str, Any], refusals: validation.Refusals) -> None:
    """With ``deferrable=True``, ``poke_interval`` is the trigger's polling interval: it must be above 0."""
    interval = arguments.get("poke_interval")
    if isinstance(interval, timedelta):
        interval = interval.total_seconds()
    if arguments.get("deferrable") is True and isinstance(interval, int | float) and not interval > 0:
        refusals.add(
            "poke_interval",
            f"with deferrable=True it is the trigger's polling interval and must be above 0 seconds, "
            f"got {interval:g}",
        )


def deferral_timeout(sensor_timeout: float) -> timedelta:
    """The ``timeout`` handed to ``defer()``: the sensor's, plus :data:`DEFERRAL_TIMEOUT_GRACE_SECONDS`."""
    return timedelta(seconds=sensor_timeout + DEFERRAL_TIMEOUT_GRACE_SECONDS)


def raise_first_check_failure(sensor: Any, error: AirflowFailException) -> NoReturn:
    """The worker's check before deferring failed for good: skip as ``soft_fail``/``never_fail`` ask
    (as Airflow's poke loop does for a poke), else fail. Call it in the ``except`` block."""
    if sensor.soft_fail or getattr(sensor, "never_fail", False):
        raise AirflowSkipException(f"Skipping as soft_fail/never_fail is set: {error}") from error
    raise error
