"""Reading a task's log as the tests capture it (``capsys``/``capfd``: Airflow's structlog output)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def task_log(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    """What the current test phase logged from this package, wherever this Airflow release sends it.

    Airflow 3.1+ (structlog) prints it to stdout. Airflow 3.0's standard logging, once a module-scoped
    fixture has configured its console handler during setup, keeps writing to the stream of that phase, so
    a test's own stdout is empty and only pytest's log capture holds the records (``caplog.text``, one
    ``LEVEL    logger:file:line message`` per record). One source, never both: no line is counted twice.
    """
    out = capsys.readouterr().out
    return out if "airflow_provider_koreai" in out else caplog.text


def the_line(output: str, words: str) -> str:
    """The one line of ``output`` that holds ``words``; fails unless exactly one line does."""
    lines = [line for line in output.splitlines() if words in line]
    assert len(lines) == 1, f"{len(lines)} line(s) hold {words!r}:\n" + "\n".join(lines or [output[-2000:]])
    return lines[0]


def lines_at(output: str, level: str, words: str = "") -> list[str]:
    """The lines of ``output`` logged at ``level`` (``"info"``, ``"warning"``...) that hold ``words``.

    Airflow's structlog console output tags each line with its level (``[info     ]``), Airflow 3.0's
    standard logging with ``INFO -``, pytest's log capture (:func:`task_log`) starts it with ``INFO``;
    DEBUG lines are not printed at the default level, so a test asserts
    what INFO shows and what it does not.
    """
    tags = (f"[{level:<9}]", f" {level.upper()} - ")
    captured = f"{level.upper():<8} "
    return [
        line
        for line in output.splitlines()
        if (any(tag in line for tag in tags) or line.startswith(captured)) and words in line
    ]
