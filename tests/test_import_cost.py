"""DAG files import our operators and sensor on every parse by the DAG processor, which never sends a
request: those modules must load neither the HTTP stack, the JWT and retry libraries, nor the CSV reader,
nor our own modules that need them.

Counting modules, not timing them (``benchmarks/import_cost.py`` times them). ``airflow.sdk`` already
loads ``httpx``, ``tenacity`` and others, so a plain "which modules are new" check cannot see our code
import them: every ``import`` statement executed while our module loads is recorded instead, whether or
not the module was already loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

#: Packages that a DAG parse must not ask for through our modules.
HEAVY = (
    *("requests", "jwt", "tenacity", "urllib3", "httpx", "pyrate_limiter", "fastapi", "csv"),
    *("openlineage", "fsspec", "redis", "psycopg", "psycopg_pool"),
)
#: The modules DAG files import from us.
PARSED_BY_DAG_FILES = [
    "airflow_provider_koreai.operators.contact_list",
    "airflow_provider_koreai.operators.campaign",
    "airflow_provider_koreai.sensors.contact_list",
    "airflow_provider_koreai.sensors.campaign",
]
#: Our modules that the DAG processor may load for a DAG using our operators and sensor.
PARSE_TIME = {
    "airflow_provider_koreai",
    "airflow_provider_koreai.defaults",
    "airflow_provider_koreai.exceptions",
    "airflow_provider_koreai.ingestion",
    "airflow_provider_koreai.validation",
    "airflow_provider_koreai.operators",
    "airflow_provider_koreai.operators.base",
    "airflow_provider_koreai.operators.contact_list",
    "airflow_provider_koreai.operators.campaign",
    "airflow_provider_koreai.campaign_control",
    "airflow_provider_koreai.sensors",
    "airflow_provider_koreai.sensors.base",
    "airflow_provider_koreai.sensors.contact_list",
    "airflow_provider_koreai.sensors.campaign",
    "airflow_provider_koreai.campaign_status",
}

CHILD = textwrap.dedent(
    """
    import builtins, json, sys
    import airflow.sdk
    import airflow.triggers.base
    from airflow.providers.common.compat.sdk import (
        AirflowException, AirflowFailException, BaseHook, BaseOperator, BaseSensorOperator, conf,
    )
    before = set(sys.modules)
    asked = []
    real_import = builtins.__import__

    def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            asked.append(name)
        return real_import(name, globals, locals, fromlist, level)

    builtins.__import__ = recording_import
    try:
        import {module}
    finally:
        builtins.__import__ = real_import
    print(json.dumps({{"asked": sorted(set(asked)), "added": sorted(set(sys.modules) - before)}}))
    """
)


def imports_of(module: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD.format(module=module)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "module",
    [
        *PARSED_BY_DAG_FILES,
        "airflow_provider_koreai.triggers.contact_list",
        "airflow_provider_koreai.triggers.campaign",
        "airflow_provider_koreai.hooks.koreai",
    ],
)
def test_module_asks_for_nothing_heavy(module: str) -> None:
    asked = imports_of(module)["asked"]
    heavy = sorted(name for name in asked if name.split(".")[0] in HEAVY)
    assert heavy == [], f"importing {module} imports {heavy}: load them on first use instead"


@pytest.mark.parametrize("module", PARSED_BY_DAG_FILES)
def test_dag_parse_loads_only_our_dependency_free_modules(module: str) -> None:
    added = imports_of(module)["added"]
    ours = {name for name in added if name.split(".")[0] == "airflow_provider_koreai"}
    assert ours <= PARSE_TIME, f"a DAG parse loads {sorted(ours - PARSE_TIME)}"
    others = sorted(name for name in added if name.split(".")[0] != "airflow_provider_koreai")
    assert others == [], f"a DAG parse loads {others} through {module}"
