"""When has Kore.ai finished ingesting the contacts this run sent? One rule, shared by the sensor and its
trigger.

Kore.ai adds contacts asynchronously and hands out no job id: a list's
``totalRecordCount`` is the only sign of progress. Two facts make a bare ``count >= rows sent`` wrong:

* a **reused list** already holds rows: 123 rows plus 120 sent is reached at 243, not at 120. So the
  target is ``baseline + rows sent``, the baseline being the count read just before sending
  (:class:`~airflow_provider_koreai.operators.contact_list.AddContactsOperator` reads it and pushes both);
* a list with ``allowDuplicates=false`` **drops contacts whose phone number it already holds**, so the
  target may never be reached; waiting for it would end only at the timeout, and say nothing useful.

The rule, applied to every read of the count (:meth:`IngestionWatch.observe`):

``target_reached``
    ``count >= expected_count``: done.
``settled``
    The count is short of the target and has not changed for ``settle_polls`` consecutive reads, **and**
    either it has moved away from the baseline (ingestion started, then stopped short: contacts were
    dropped as duplicates or rejected), or the list disallows duplicates and already held contacts before
    this run sent its own (then every contact sent may already have been in the list, so the count need
    not move at all; on an empty list that cannot be). Done, with a warning that says how many contacts
    did not arrive.

Otherwise the wait goes on, until the sensor's ``timeout``, whose error gives the baseline, the last count
and the target. On a list that **allows** duplicates, or on one that was empty, a count that never moves
is never taken as settled: ingestion has simply not started. ``settle_polls=None`` turns ``settled`` off
(only the target ends the wait). Choose ``settle_polls * poke_interval`` longer than the time Kore.ai
takes to *start* ingesting: on a non-empty list that disallows duplicates, a count that has not moved yet
is otherwise taken as "all duplicates".

The state (the baseline and the last reads) is a small JSON-able dict, so it survives the hand-over from
the worker to the triggerer, and reschedule-mode pokes through Airflow's task state store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Consecutive unchanged reads that end the wait short of the target (see the module docstring).
DEFAULT_SETTLE_POLLS = 3
TARGET_REACHED = "target_reached"
SETTLED = "settled"


@dataclass(frozen=True)
class IngestionVerdict:
    """Why the wait ended, and with which count; ``as_dict()`` is what the sensor pushes to XCom."""

    rule: str
    total_record_count: int
    expected_count: int
    baseline_count: int | None

    @property
    def missing(self) -> int:
        return max(self.expected_count - self.total_record_count, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "total_record_count": self.total_record_count,
            "expected_count": self.expected_count,
            "baseline_count": self.baseline_count,
            "missing": self.missing,
        }

    def describe(self, contact_list_id: str) -> str:
        if self.rule == TARGET_REACHED:
            return (
                f"Kore.ai list {contact_list_id} holds {self.total_record_count} contacts "
                f"(target {self.expected_count} reached)"
            )
        return (
            f"Kore.ai list {contact_list_id} settled at {self.total_record_count} contacts, {self.missing} "
            f"short of {self.expected_count} (baseline {self.baseline_count}): the count stopped changing. "
            "A list with allowDuplicates=false drops contacts whose phone number it already holds"
        )


@dataclass
class IngestionWatch:
    """The reads seen so far and the rule above. Not thread-safe; one per waiting task."""

    expected_count: int
    baseline_count: int | None = None
    settle_polls: int | None = DEFAULT_SETTLE_POLLS
    #: The last ``settle_polls + 1`` reads, oldest first.
    recent: list[int] = field(default_factory=list)
    moved: bool = False

    def observe(self, count: int, *, allow_duplicates: bool | None) -> IngestionVerdict | None:
        """Record one read; the verdict if the wait is over, else ``None``.

        ``allow_duplicates`` is the list's ``allowDuplicates`` as Kore.ai reports it (``None``: unknown,
        treated like ``True``: the count must move before it can settle).
        """
        if self.baseline_count is None:
            # No baseline from the sender: the first count seen stands in for it.
            self.baseline_count = count
        if count != self.baseline_count:
            self.moved = True
        self.recent = [*self.recent, count][-(self.settle_polls or 0) - 1 :]
        if count >= self.expected_count:
            return self._verdict(TARGET_REACHED, count)
        if (
            self.settle_polls
            and self.stable()
            and (self.moved or self._all_may_be_duplicates(allow_duplicates))
        ):
            return self._verdict(SETTLED, count)
        return None

    def _all_may_be_duplicates(self, allow_duplicates: bool | None) -> bool:
        """Whether an unmoving count can mean "every contact sent was already there"."""
        return allow_duplicates is False and bool(self.baseline_count)

    def stable(self) -> bool:
        """The last ``settle_polls`` reads each equal the read before them."""
        return (
            self.settle_polls is not None
            and len(self.recent) == self.settle_polls + 1
            and len(set(self.recent)) == 1
        )

    def _verdict(self, rule: str, count: int) -> IngestionVerdict:
        return IngestionVerdict(
            rule=rule,
            total_record_count=count,
            expected_count=self.expected_count,
            baseline_count=self.baseline_count,
        )

    def progress(self, contact_list_id: str, count: int) -> str:
        """One log line while waiting."""
        since = f", baseline {self.baseline_count}" if self.baseline_count is not None else ""
        unchanged = len(self.recent) - 1 if len(set(self.recent)) == 1 else 0
        still = f", unchanged for {unchanged} read(s)" if unchanged else ""
        return f"Kore.ai list {contact_list_id} holds {count} of {self.expected_count} contacts{since}{still}"

    def timeout_hint(self) -> str:
        """What to tell the user when the deadline passes."""
        last = self.recent[-1] if self.recent else None
        if last is None:
            return "no count was read"
        text = f"the last count read was {last} (baseline {self.baseline_count})"
        if not self.moved:
            text += (
                "; the count never moved: Kore.ai has not ingested anything yet, or every contact sent was "
                "a duplicate of a phone number already in a list that disallows duplicates"
            )
        return text

    # -- hand-over between worker, triggerer and reschedule pokes

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected_count": self.expected_count,
            "baseline_count": self.baseline_count,
            "settle_polls": self.settle_polls,
            "recent": list(self.recent),
            "moved": self.moved,
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> IngestionWatch:
        return cls(
            expected_count=int(state["expected_count"]),
            baseline_count=None if state.get("baseline_count") is None else int(state["baseline_count"]),
            settle_polls=None if state.get("settle_polls") is None else int(state["settle_polls"]),
            recent=[int(c) for c in state.get("recent") or []],
            moved=bool(state.get("moved")),
        )
