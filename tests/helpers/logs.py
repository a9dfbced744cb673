"""Reading a task's log as the tests capture it (``capsys``/``capfd``: Airflow's structlog output)."""

from __future__ import annotations


def the_line(output: str, words: str) -> str:
    """The one line of ``output`` that holds ``words``; fails unless exactly one line does."""
    lines = [line for line in output.splitlines() if words in line]
    assert len(lines) == 1, f"{len(lines)} line(s) hold {words!r}:\n" + "\n".join(lines or [output[-2000:]])
    return lines[0]


def lines_at(output: str, level: str, words: str = "") -> list[str]:
    """The lines of ``output`` logged at ``level`` (``"info"``, ``"warning"``...) that hold ``words``.

    Airflow's structlog console output tags each line with its level (``[info     ]``), Airflow 3.0's
    standard logging with ``INFO -``; DEBUG lines are not printed at the default level, so a test asserts
    what INFO shows and what it does not.
    """
    tags = (f"[{level:<9}]", f" {level.upper()} - ")
    return [line for line in output.splitlines() if any(tag in line for tag in tags) and words in line]
