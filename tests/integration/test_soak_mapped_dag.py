"""The operator under load through real Airflow: ``dag.test()`` of a mapped task over 50 lists while the
emulator injects faults into about one request in ten."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pendulum
import pytest

from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.compat import dag_bag

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("airflow_db")]

DAGS = Path(__file__).parent / "dags"
LISTS = 50
FAULTS: list[dict[str, Any]] = [
    {"status": 429, "retry_after": 0},
    {"status": 500},
    {"status": 503},
    {"status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"},
    {"drop": "before"},
    {"drop": "after"},
]


def test_mapped_updates_over_fifty_lists_survive_faults(emulator: EmulatorServer) -> None:
    hook = KoreAIHook(backoff_initial=0.01)
    list_ids = [hook.create_contact_list(name=f"Mapped soak list {n:02d}")["_id"] for n in range(LISTS)]
    emulator.clear_requests()
    # One scripted behaviour per expected request, FIFO: a fault about one time in ten, else a no-op.
    rng = random.Random(7)
    injected: Counter[str] = Counter()
    for _ in range(LISTS * 2):
        if rng.random() < 0.1:
            fault = rng.choice(FAULTS)
            injected[str(fault.get("status") or fault.get("drop"))] += 1
            emulator.inject_fault(route="update_contact_list", **fault)
        else:
            emulator.inject_fault(route="update_contact_list", delay=0)

    dag = dag_bag(str(DAGS)).get_dag("koreai_soak_mapped")
    assert dag is not None
    dag_run = dag.test(
        logical_date=pendulum.datetime(2025, 1, 2, tz="UTC"), run_conf={"contact_list_ids": list_ids}
    )

    assert dag_run.state == "success"
    tis = sorted(
        (ti for ti in dag_run.get_task_instances() if ti.task_id == "update_contact_list"),
        key=lambda ti: ti.map_index,
    )
    assert [ti.map_index for ti in tis] == list(range(LISTS))
    assert all(ti.state == "success" for ti in tis)
    for n, (ti, list_id) in enumerate(zip(tis, list_ids, strict=True)):
        assert ti.xcom_pull(task_ids="update_contact_list", map_indexes=n, key="contact_list_id") == list_id
        stored = emulator.contact_list(list_id)
        assert stored is not None
        assert (stored["name"], stored["description"]) == (f"Mapped soak {n:02d}", f"refresh {n}")
    updates = [r for r in emulator.recorded_requests() if r["route"] == "update_contact_list"]
    faults = sum(injected.values())
    print(f"\nmapped soak: {LISTS} lists, {faults} faults {dict(injected)}, {len(updates)} requests")
    assert sum(injected.values()) >= 5
    assert len(updates) > LISTS
