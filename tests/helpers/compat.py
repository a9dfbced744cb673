"""The one place where the tests bridge Airflow 3.0 to 3.3, through public names only.

The provider itself imports version-safe names from ``airflow.providers.common.compat.sdk``; the tests
need a few more things that moved between releases (the DAG bag, DAG serialization, one exception, the
secrets masker's reset) and that ``common.compat`` does not map. Each is resolved here, newest location
first, so a test module never spells a version check of its own.
"""

from __future__ import annotations

import importlib
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

import airflow
from packaging.version import Version

#: The running Airflow's version, without pre-release or local parts (``3.1.8``).
AIRFLOW_VERSION = Version(Version(airflow.__version__).base_version)
#: Named like the official providers' ``version_compat`` flags.
AIRFLOW_V_3_2_PLUS = AIRFLOW_VERSION.release >= (3, 2, 0)
#: The task state store (reads kept between reschedule-mode pokes) and ``dag.test()``'s recorded
#: reschedules exist from 3.3.
AIRFLOW_V_3_3_PLUS = AIRFLOW_VERSION.release >= (3, 3, 0)
#: A task's ``conn.extra_dejson`` hands every extra to the masker (which warns, once per process, about a
#: text value shorter than 5 characters) from Task SDK 1.0.5, which came with Airflow 3.0.5.
TASK_SDK_MASKS_EACH_EXTRA = Version(metadata.version("apache-airflow-task-sdk")) >= Version("1.0.5")


def _first(name: str, *modules: str) -> Any:
    """``name`` from the first of ``modules`` that has it (typed ``Any``: its home depends on the release)."""
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"{name} is in none of {modules}")


#: ``airflow.sdk.exceptions`` from 3.2, ``airflow.exceptions`` before (``common.compat`` does not map it).
AirflowRescheduleException: Any = _first(
    "AirflowRescheduleException", "airflow.sdk.exceptions", "airflow.exceptions"
)

__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "TASK_SDK_MASKS_EACH_EXTRA",
    "AirflowRescheduleException",
    "dag_bag",
    "reset_secrets_masker",
    "serialize_round_trip",
    "without_airflow_mask_requests",
]


def dag_bag(dag_folder: str) -> Any:
    """Parse every DAG file of ``dag_folder``, ready for ``dag.test()``.

    ``DagBag`` moved to ``airflow.dag_processing`` in 3.2. From 3.1, ``dag.test()`` writes the DAG's bundle
    to the metadata DB itself; on 3.0 it does not, so its assets are never activated and a task with
    inlets or outlets fails (``AirflowInactiveAssetInInletOrOutletException``). There the bag is written
    to the DB first, under the configured bundle that holds ``dag_folder``, as the DAG processor would.
    """
    dag_bag_class = _first("DagBag", "airflow.dag_processing.dagbag", "airflow.models.dagbag")
    bag = dag_bag_class(dag_folder=dag_folder)
    if AIRFLOW_VERSION.release < (3, 1):
        from airflow.dag_processing.bundles.manager import DagBundlesManager

        manager = DagBundlesManager()
        manager.sync_bundles_to_db()
        folder = Path(dag_folder).resolve()
        names = [b.name for b in manager.get_all_dag_bundles() if Path(b.path).resolve() == folder]
        bag.sync_to_db(names[0] if names else "dags-folder", None)
    return bag


def without_airflow_mask_requests(output: str) -> str:
    """Task output minus Airflow 3.0's own DEBUG echo of each ``MaskSecret`` request.

    Airflow 3.0.x's task runner and supervisor log ``Sending request msg=MaskSecret(value='...')`` at
    DEBUG: every value handed to ``mask_secret`` (including the connection password, which Airflow
    masks itself) shows in clear there. Fixed in 3.1; the provider cannot prevent it, so the leak tests
    check every other line on 3.0 and the whole output on later releases.
    """
    if AIRFLOW_VERSION.release >= (3, 1):
        return output
    return "".join(line for line in output.splitlines(keepends=True) if "MaskSecret(value=" not in line)


def serialize_round_trip(dag: Any) -> Any:
    """The DAG as the scheduler sees it: serialized to JSON-ready data and back."""
    serialized_objects: Any = importlib.import_module("airflow.serialization.serialized_objects")
    # ``DagSerialization`` from Airflow 3.2, ``SerializedDAG`` before.
    serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    data = serializer.to_dict(dag)
    return serializer.from_dict(data)


def reset_secrets_masker() -> None:
    """Forget every value handed to ``mask_secret`` so far.

    In production each task runs in its own process, so the masker only holds that task's secrets; here
    hundreds of tests share one process. ``airflow.sdk.execution_time.secrets_masker`` is the public home
    of ``reset_secrets_masker`` on 3.0/3.1 and a deprecated alias of the same masker from 3.2 on, so this
    resets the very masker ``mask_secret`` fills on every release.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DeprecatedImportWarning on 3.1+
        from airflow.sdk.execution_time.secrets_masker import reset_secrets_masker as reset
    reset()


def storage_conn_id(path: Any) -> str | None:
    """The connection an ``ObjectStoragePath`` opens its store with: an attribute on Airflow 3.1+, a
    storage option on 3.0 (universal-pathlib 0.2)."""
    return getattr(path, "conn_id", None) or path.storage_options.get("conn_id")


def storage_uri(uri: str) -> str:
    """``uri`` as this release's ``ObjectStoragePath`` spells it (``memory:///...`` on Airflow 3.0)."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    return str(ObjectStoragePath(uri))
