"""A real retry of AddContactsOperator in ``dag.test()``, against the emulator on 127.0.0.1: a chunk's
connection drops after Kore.ai applied it (its outcome unknown to the task), Airflow retries the task, and
the retry resumes from the record in Airflow 3.3's task state store, or in an Airflow Variable (the backend
before 3.3), through the task runner's real supervisor calls. Each row ends up in the list once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from airflow_provider_koreai import upload_progress
from airflow_provider_koreai.emulator import EmulatorServer
from airflow_provider_koreai.hooks.koreai import KoreAIHook
from tests.helpers.dag_runs import run_test_dag, xcom

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db", "fast_backoff")]

DAG_ID = "koreai_resumed_upload_test"
ROWS = 200


@pytest.fixture
def drop_after_chunk(monkeypatch: pytest.MonkeyPatch, emulator: EmulatorServer) -> None:
    """Kore.ai applies chunk 6, then the connection drops before its answer (once per test)."""
    real = KoreAIHook.add_contacts
    armed = [True]

    def add_contacts(self: KoreAIHook, *args: Any, before_chunk: Any = None, **kwargs: Any) -> Any:
        def dropping(index: int, rows: int) -> None:
            before_chunk(index, rows)
            if index == 5 and armed.pop():
                emulator.inject_fault("add_contacts", drop="after")

        return real(self, *args, before_chunk=dropping, **kwargs)

    monkeypatch.setattr(KoreAIHook, "add_contacts", add_contacts)


@pytest.mark.parametrize("backend", ["task_state_store", pytest.param("variable", marks=pytest.mark.slow)])
@pytest.mark.parametrize(
    ("name", "list_id", "held", "in_doubt"),
    [("Churn Risk", "cl-demo-churn-risk", 0, 0), ("Overdue Invoices", "cl-demo-overdue-invoices", 1, 20)],
    ids=["allowDuplicates=false", "allowDuplicates=true"],
)
def test_airflows_retry_resumes_the_upload(
    emulator: EmulatorServer,
    drop_after_chunk: None,
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
    name: str,
    list_id: str,
    held: int,
    in_doubt: int,
) -> None:
    saved: list[str] = []
    if backend == "variable":
        real_store_for = upload_progress.store_for
        monkeypatch.setattr(
            upload_progress,
            "store_for",
            lambda context: real_store_for({**context, "task_state_store": None}),
        )
        real_save = upload_progress.VariableStore.save

        def save(self: upload_progress.VariableStore, record: dict[str, Any]) -> None:
            saved.append(self.key)
            real_save(self, record)

        monkeypatch.setattr(upload_progress.VariableStore, "save", save)
    records = [{"phoneNumber": f"+1415{i:07d}"} for i in range(ROWS)]

    dag_run = run_test_dag(DAG_ID, run_conf={"list_name": name, "records": records})

    assert dag_run.state == "success"
    assert dag_run.get_task_instance("add_contacts").try_number == 2
    pushed = {
        key: xcom(dag_run, "add_contacts", key) for key in ("rows_sent", "rows_sent_earlier", "rows_in_doubt")
    }
    assert pushed == {"rows_sent": ROWS - 100 - in_doubt, "rows_sent_earlier": 100, "rows_in_doubt": in_doubt}
    assert xcom(dag_run, "wait_for_ingestion", "ingestion")["rule"] == "target_reached"
    phones = Counter(contact["phoneNumber"] for contact in emulator.contacts(list_id))
    assert len(phones) == held + ROWS
    assert set(phones.values()) == {1}
    if backend == "variable":
        assert saved, "the record went to a Variable"
        from airflow.models import Variable

        assert Variable.get(saved[0], default_var=None) is None, "deleted when the task succeeded"
