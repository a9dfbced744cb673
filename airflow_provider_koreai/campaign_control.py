"""What starting and stopping a Kore.ai campaign means for each status it may be in: one rule each, used by
:class:`~airflow_provider_koreai.operators.campaign.StartCampaignOperator` and
:class:`~airflow_provider_koreai.operators.campaign.StopCampaignOperator`.

Kore.ai's play and stop calls are not safe to repeat, and what they do to a campaign that is not in the
expected status is undocumented (the emulator's model answers HTTP 409). So both operators read the status
first and decide:

**Start** (:func:`start_action`)

``Active``
    ``if_active="skip"`` (default): nothing is sent, the task succeeds with the running instance;
    ``if_active="fail"``: the task fails for good.
``Preparing``
    waited on (:func:`wait_while_preparing`), a status read every ``preparing_poll_interval`` seconds, up
    to ``preparing_timeout`` seconds of waiting; then decided again by the status it reached. Still
    ``Preparing``: the task fails for good.
``Paused``
    played: Kore.ai resumes the same instance.
``Ready``
    played: the first instance starts.
``Completed``, ``Stopped``
    played: a **new** instance starts and dials every contact of the campaign's lists from the top (the
    last instance's per-contact results are replaced).
anything else
    played; Kore.ai decides (a refusal fails the task with its message).

**Stop** (:func:`stop_action`): the task's promise is "when it succeeds, the campaign is not dialling".

``Active``, ``Paused``
    stopped.
``Stopped``, ``Completed``
    nothing sent: already done.
``Preparing``, ``Ready``
    nothing sent: never started, nothing to stop (logged); a later start still works. Failing here would
    break a "stop whatever runs" clean-up task on the first run of a pipeline.
``Scheduled``, ``Rescheduled``
    nothing sent, with a warning: not dialling now, but its schedule will start it (a stop cancels no
    schedule; disable it in Kore.ai).
anything else
    stop sent; Kore.ai decides.

Standard library only: the operators' module imports this one when a DAG is parsed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from time import sleep

#: What ``StartCampaignOperator`` does with a campaign that is already Active.
IF_ACTIVE_MODES = ("skip", "fail")
#: How long ``StartCampaignOperator`` waits for a campaign still being prepared, and how often it looks.
DEFAULT_PREPARING_TIMEOUT = 600.0
DEFAULT_PREPARING_POLL_INTERVAL = 15.0

ACTIVE = "Active"
PREPARING = "Preparing"
#: A campaign that is dialling, or will dial again when resumed.
RUNNING = ("Active", "Paused")
#: The last instance ended: by itself, or stopped.
FINISHED = ("Completed", "Stopped")
#: Created, never started.
NOT_STARTED = ("Preparing", "Ready")
#: Waiting for its schedule.
SCHEDULED = ("Scheduled", "Rescheduled")

# Start's and stop's actions.
PLAY = "play"
SKIP = "skip"
FAIL = "fail"
WAIT = "wait"
STOP = "stop"
ALREADY_STOPPED = "already_stopped"
NOTHING_RUNNING = "nothing_running"
SCHEDULE_PENDING = "schedule_pending"


def start_action(status: str, if_active: str) -> str:
    """:data:`SKIP`, :data:`FAIL`, :data:`WAIT` (still Preparing) or :data:`PLAY`, for a campaign in
    ``status`` (see the module docstring)."""
    if status == ACTIVE:
        return FAIL if if_active == FAIL else SKIP
    if status == PREPARING:
        return WAIT
    return PLAY


def stop_action(status: str) -> str:
    """:data:`STOP`, :data:`ALREADY_STOPPED`, :data:`NOTHING_RUNNING` or :data:`SCHEDULE_PENDING`, for a
    campaign in ``status`` (see the module docstring)."""
    if status in FINISHED:
        return ALREADY_STOPPED
    if status in NOT_STARTED:
        return NOTHING_RUNNING
    if status in SCHEDULED:
        return SCHEDULE_PENDING
    return STOP


def preparing_polls(timeout: float, poll_interval: float) -> int:
    """How many status reads a wait of ``timeout`` seconds makes, one every ``poll_interval`` seconds (the
    last interval cut short so that the sleeps add up to ``timeout``)."""
    return max(1, math.ceil(timeout / poll_interval))


def wait_while_preparing(
    read_status: Callable[[], str],
    *,
    timeout: float,
    poll_interval: float,
    on_poll: Callable[[int, str], None] | None = None,
) -> str:
    """Read the status until it is no longer ``Preparing``, or until :func:`preparing_polls` reads said it
    still is; returns the last status read.

    The bound is a number of reads, so that it holds however long each read takes to be answered (the
    account's request budget may delay it): the sleeps add up to ``timeout``, the reads add their own time.

    :param read_status: one status read (the hook's ``get_campaign_status``).
    :param on_poll: called after each read with its number (from 1) and the status, to log it.
    """
    polls = preparing_polls(timeout, poll_interval)
    status = PREPARING
    for poll in range(1, polls + 1):
        sleep(min(poll_interval, timeout - poll_interval * (poll - 1)))
        status = read_status()
        if on_poll is not None:
            on_poll(poll, status)
        if status != PREPARING:
            break
    return status
