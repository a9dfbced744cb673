"""Literal mistakes in a DAG file are import errors, as the UI shows them: a DAG folder written here,
parsed by a real ``airflow dag-processor`` into its own metadata DB, read back with
``airflow dags list-import-errors`` (what the UI's "DAG Import Errors" lists) and ``airflow dags list``.

A DAG file stops at its first failing task, so each file holds one task with mistakes: its import error
names every mistake of that task, each with its fix. Templated and XCom-fed arguments, mapped or not, are
not checked when the DAG is parsed: that DAG imports cleanly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paths import REPO_ROOT

pytestmark = pytest.mark.integration

HEADER = """\
import pendulum
from airflow.sdk import DAG, task

from airflow_provider_koreai.operators.contact_list import (
    AddContactsOperator,
    CreateContactListOperator,
    DeleteContactListOperator,
    UpdateContactListOperator,
)
from airflow_provider_koreai.sensors.contact_list import ContactListIngestedSensor

START = pendulum.datetime(2025, 1, 1, tz="UTC")
"""

#: File name -> (the DAG file's body, the words each mistake's report must hold: argument, then its fix).
MISTAKES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "update.py": (
        """
        with DAG("koreai_mistakes_update", schedule=None, start_date=START):
            UpdateContactListOperator(
                task_id="update_list",
                contact_list_id="cl-renewals",
                name="Renewals due - August 2025 - every policy of the home insurance portfolios",
                allow_duplicates="maybe",
            )
        """,
        [
            ("name", "74 characters long; Kore.ai accepts at most 48. Shorten it"),
            ("allow_duplicates", "must be a boolean or the text 'true'/'false'"),
        ],
    ),
    "create_mapped.py": (
        """
        with DAG("koreai_mistakes_create_mapped", schedule=None, start_date=START):
            CreateContactListOperator.partial(
                task_id="create_lists", if_exists="replace", hook_params={"timeout": 0}
            ).expand(name=["Renewals", "Lapsed"])
        """,
        [
            ("if_exists", "must be one of 'skip', 'update', 'fail', got 'replace'"),
            ("hook_params['timeout']", "must be a number of seconds above 0"),
        ],
    ),
    "delete.py": (
        """
        with DAG("koreai_mistakes_delete", schedule=None, start_date=START):
            DeleteContactListOperator(
                task_id="delete_list", contact_list_id="cl-1/../getAllListDetails", missing_ok="yes"
            )
        """,
        [
            ("contact_list_id", "must be a bare id such as 'cl-...', not a path"),
            ("missing_ok", "must be True or False"),
        ],
    ),
    "add_contacts.py": (
        """
        with DAG("koreai_mistakes_add_contacts", schedule=None, start_date=START):
            AddContactsOperator(
                task_id="add_contacts",
                contact_list_name="Renewals",
                path="/exports/renewals.xlsx",
                column_map={"Phone": ""},
                chunk_size=0,
            )
        """,
        [
            ("'path'", "name the format with file_format='csv' or 'jsonl'"),
            ("column_map", "the target of 'Phone' must be a non-empty string"),
            ("chunk_size", "must be a whole number of at least 1"),
        ],
    ),
    "sensor.py": (
        """
        with DAG("koreai_mistakes_sensor", schedule=None, start_date=START):
            ContactListIngestedSensor(
                task_id="wait_for_ingestion",
                contact_list_id="cl-renewals",
                expected_count="all of them",
                deferrable=True,
                poke_interval=0,
            )
        """,
        [
            ("expected_count", "must be a whole number of at least 0"),
            ("poke_interval", "with deferrable=True it is the trigger's polling interval"),
        ],
    ),
}

TEMPLATED = """
with DAG("koreai_templated_arguments", schedule=None, start_date=START, params={"list_id": "cl-1"}):

    @task
    def names() -> list[str]:
        return ["Renewals", "Lapsed"]

    @task
    def records() -> list[dict[str, str]]:
        return []

    UpdateContactListOperator(
        task_id="update_list",
        contact_list_id="{{ params.list_id }}",
        name="{{ ti.xcom_pull(task_ids='names')[0] }}",
        allow_duplicates="{{ params.allow | default(false) }}",
        description="{% if params.list_id %}Loaded {{ ds }}{% endif %}",
    )
    CreateContactListOperator.partial(task_id="create_lists").expand(name=names())
    AddContactsOperator(task_id="add_contacts", contact_list_name="{{ params.name }}", records=records())
    ContactListIngestedSensor(
        task_id="wait_for_ingestion",
        contact_list_id="{{ params.list_id }}",
        expected_count="{{ ti.xcom_pull(task_ids='add_contacts', key='expected_count') }}",
    )

with DAG(
    "koreai_own_delimiters",
    schedule=None,
    start_date=START,
    jinja_environment_kwargs={"variable_start_string": "[[", "variable_end_string": "]]"},
):
    DeleteContactListOperator(task_id="delete_list", contact_list_id="[[ params.list_id ]]")
"""


def airflow(*args: str, env: dict[str, str], returncode: int = 0) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == returncode, f"{args}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


def json_output(result: subprocess.CompletedProcess[str]) -> Any:
    """The JSON list an ``-o json`` command printed on a line of its own (log lines may precede it)."""
    lists = [line for line in result.stdout.splitlines() if line.startswith(("[{", "[]"))]
    assert len(lists) == 1, result.stdout[-3000:]
    return json.loads(lists[0])


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The DAG folder parsed once by a dag-processor: import errors by file name, and the DAG ids."""
    root = tmp_path_factory.mktemp("literal_mistakes")
    dags, home = root / "dags", root / "home"
    dags.mkdir()
    home.mkdir()
    for name, (body, _) in MISTAKES.items():
        (dags / name).write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    (dags / "templated.py").write_text(HEADER + TEMPLATED, encoding="utf-8")
    bundle = {
        "name": "koreai_mistakes",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(dags), "refresh_interval": 0},
    }
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([bundle]),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    airflow("db", "migrate", env=env)
    airflow("dag-processor", "--num-runs", "1", env=env)
    # It exits with 1 when it lists any error.
    errors = json_output(airflow("dags", "list-import-errors", "-o", "json", env=env, returncode=1))
    dag_ids = {dag["dag_id"] for dag in json_output(airflow("dags", "list", "-o", "json", env=env))}
    return {"errors": {Path(error["filepath"]).name: error["error"] for error in errors}, "dag_ids": dag_ids}


def test_each_task_with_literal_mistakes_is_an_import_error_naming_every_mistake_and_its_fix(
    parsed: dict[str, Any],
) -> None:
    errors = parsed["errors"]
    assert sorted(errors) == sorted(MISTAKES)
    for name, (_, expected) in MISTAKES.items():
        report = errors[name]
        assert f"{len(expected)} invalid arguments of task" in report, report
        for argument, fix in expected:
            (line,) = [line for line in report.splitlines() if line.startswith("- ") and argument in line]
            assert fix in line, (name, line)


def test_templated_and_xcom_fed_arguments_import_cleanly(parsed: dict[str, Any]) -> None:
    assert "templated.py" not in parsed["errors"]
    assert {"koreai_templated_arguments", "koreai_own_delimiters"} <= parsed["dag_ids"]
