"""OpenLineage: what the listener reports for our tasks, in a real ``airflow dags test`` run with a file
transport, and the facets our operators return.

Needs the OpenLineage provider (the ``openlineage`` extra; ``make test-integrations`` installs it); skipped
where it is not installed. Importing our modules never requires it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_koreai.emulator import EmulatorServer

pytest.importorskip(
    "airflow.providers.openlineage", reason="needs the openlineage extra: make test-integrations"
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("airflow_db")]

DAGS = Path(__file__).parent / "dags"


def complete_events(log: Path) -> dict[str, dict[str, Any]]:
    """The COMPLETE events of the file transport, by task id."""
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {
        event["job"]["name"].rsplit(".", 1)[-1]: event
        for event in events
        if event.get("eventType") == "COMPLETE" and "." in event["job"]["name"]
    }


def test_the_listener_reports_the_file_read_and_the_list_filled(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    log = tmp_path / "lineage.jsonl"
    export = tmp_path / "renewals.csv"
    env = dict(
        os.environ,
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
            {"type": "file", "log_file_path": str(log), "append": True}
        ),
        AIRFLOW__OPENLINEAGE__NAMESPACE="koreai-tests",
    )
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "dags", "test", "koreai_openlineage", "-c", json.dumps({"export": str(export)})],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    events = complete_events(log)
    host = emulator.base_url.split("://", 1)[1]
    list_name_prefix = f"{emulator.settings.iid}/contact-lists/"
    add = events["add"]
    assert [(d["namespace"], d["name"]) for d in add["inputs"]] == [("file", str(export))]
    (output,) = add["outputs"]
    assert output["namespace"] == f"koreai://{host}"
    assert output["name"].startswith(list_name_prefix)
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 7
    (created,) = events["create"]["outputs"]
    assert created["name"] == output["name"], "one list, one dataset name"
    assert created["facets"]["lifecycleStateChange"]["lifecycleStateChange"] == "CREATE"
