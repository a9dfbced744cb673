"""Run DAGs for real: the examples (``example_dags/``) and the test-only DAGs (``tests/integration/dags``),
parsed afresh and executed by ``dag.test()`` against the migrated metadata DB of ``AIRFLOW_HOME``.

``dag.test()`` runs only DAGs of a configured bundle: ``tests/conftest.py`` configures both folders.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.helpers.compat import dag_bag
from tests.helpers.paths import EXAMPLE_DAGS, TEST_DAGS


def example_dagbag() -> Any:
    """Parsed afresh for every run: ``dag.test(run_conf=...)`` leaves the conf in the DAG object's
    params, which would leak into the next test's run."""
    bag = dag_bag(str(EXAMPLE_DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag


def run_example_dag(dag_id: str, *, tweak: Callable[[Any], None] | None = None, **kwargs: Any) -> Any:
    """``dag.test()`` never raises for a failed task: callers assert on the returned DagRun.

    ``tweak(dag)`` may adjust the freshly parsed DAG first (e.g. shorter retry delays).
    """
    dag = example_dagbag().get_dag(dag_id)
    assert dag is not None, f"{dag_id} not found in {EXAMPLE_DAGS}"
    if tweak is not None:
        tweak(dag)
    return dag.test(**kwargs)


def run_test_dag(dag_id: str, **kwargs: Any) -> Any:
    """:func:`run_example_dag` for a DAG of ``tests/integration/dags``."""
    bag = dag_bag(str(TEST_DAGS))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not found in {TEST_DAGS}"
    return dag.test(**kwargs)


def xcom(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    return dag_run.get_task_instance(task_id).xcom_pull(task_ids=task_id, key=key)


def run_xcoms(dag_run: Any) -> dict[tuple[str, str], str]:
    """Every XCom of the run, as stored, keyed by (task_id, key): each value as JSON text."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(XComModel).where(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id)
        ).all()
        return {(row.task_id, row.key): json.dumps(row.value, default=str) for row in rows}
