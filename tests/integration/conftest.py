"""Fixtures of the integration tests (the ``emulator`` fixture itself is in ``tests/conftest.py``)."""

from __future__ import annotations

import pytest

from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.operators.base import KoreAIHookMixin


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operators' and the sensor's hooks as deployed, with backoffs of milliseconds instead of seconds:
    the retries still happen on the wire, without the waits (the backoff policy has tests of its own)."""

    def fast_hook(self: KoreAIHookMixin) -> KoreAIHook:
        params = {"backoff_initial": 0.05, "backoff_max": 0.2, **self.hook_params}
        return KoreAIHook(koreai_conn_id=self.koreai_conn_id, **params)

    monkeypatch.setattr(KoreAIHookMixin, "hook", property(fast_hook))
