"""A stand-in for Airflow 3.3's ``context["task_state_store"]`` (``TaskStateStoreAccessor``): the same
``get``/``set``/``delete``, in memory, shared by the "tries" a test runs, and counting every operation."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any


class FakeTaskStateStore:
    """One task instance's keys, as every try of it sees them; ``operations`` counts get/set/delete."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.operations: Counter[str] = Counter()

    def get(self, key: str, default: Any = None) -> Any:
        self.operations["get"] += 1
        return copy.deepcopy(self.values.get(key, default))

    def set(self, key: str, value: Any, **_: Any) -> None:
        if value is None:
            raise ValueError("Cannot set value as None")
        self.operations["set"] += 1
        self.values[key] = copy.deepcopy(value)

    def delete(self, key: str) -> None:
        self.operations["delete"] += 1
        self.values.pop(key, None)
