"""The ingestion rule on its own: which read ends the wait, and why."""

from __future__ import annotations

import pytest

from airflow_provider_koreai.ingestion import SETTLED, TARGET_REACHED, IngestionWatch


def feed(watch: IngestionWatch, counts: list[int], allow_duplicates: bool | None = False) -> list[str | None]:
    return [
        None if (verdict := watch.observe(count, allow_duplicates=allow_duplicates)) is None else verdict.rule
        for count in counts
    ]


def test_the_target_counts_from_the_baseline() -> None:
    """123 rows before 120 were sent: 123 is not "done", 243 is."""
    watch = IngestionWatch(expected_count=243, baseline_count=123, settle_polls=3)
    assert feed(watch, [123, 200, 243]) == [None, None, TARGET_REACHED]


def test_a_count_that_moved_then_stopped_settles_after_settle_polls_unchanged_reads() -> None:
    watch = IngestionWatch(expected_count=90, baseline_count=50, settle_polls=3)
    assert feed(watch, [50, 60, 60, 60, 60], allow_duplicates=True) == [None, None, None, None, SETTLED]
    verdict = watch.observe(60, allow_duplicates=True)
    assert verdict is not None
    assert verdict.as_dict() == {
        "rule": SETTLED,
        "total_record_count": 60,
        "expected_count": 90,
        "baseline_count": 50,
        "missing": 30,
    }


def test_an_unmoving_count_settles_only_on_a_non_empty_list_that_disallows_duplicates() -> None:
    assert feed(IngestionWatch(expected_count=60, baseline_count=30), [30] * 4)[-1] == SETTLED
    assert feed(IngestionWatch(expected_count=60, baseline_count=30), [30] * 20, True)[-1] is None
    assert feed(IngestionWatch(expected_count=60, baseline_count=30), [30] * 20, None)[-1] is None
    assert feed(IngestionWatch(expected_count=30, baseline_count=0), [0] * 20)[-1] is None, "empty list"


def test_growth_never_settles_and_none_disables_settling() -> None:
    assert feed(IngestionWatch(expected_count=100, baseline_count=0), list(range(0, 99, 3))) == [None] * 33
    watch = IngestionWatch(expected_count=90, baseline_count=50, settle_polls=None)
    assert feed(watch, [60] * 20) == [None] * 20


def test_without_a_baseline_the_first_read_stands_in() -> None:
    watch = IngestionWatch(expected_count=10)
    assert feed(watch, [4, 4, 4, 4], True) == [None] * 4
    assert watch.baseline_count == 4
    assert "never moved" in watch.timeout_hint()


@pytest.mark.parametrize("reads", [[], [5], [5, 7], [5, 7, 7]])
def test_the_state_round_trips_through_json(reads: list[int]) -> None:
    watch = IngestionWatch(expected_count=20, baseline_count=5, settle_polls=2)
    feed(watch, reads)
    again = IngestionWatch.from_dict(watch.to_dict())
    assert again == watch
    assert feed(again, [7, 7]) == feed(watch, [7, 7])
