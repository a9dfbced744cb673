"""DAG files import our operators and sensors on every parse by the DAG processor, which never sends a
request: those modules must not pull in the HTTP stack, the JWT library or the retry library."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

HEAVY = ("requests", "jwt", "tenacity", "urllib3", "httpx", "pyrate_limiter")


@pytest.mark.parametrize(
    "module",
    [
        "airflow_provider_koreai.operators.contact_list",
        "airflow_provider_koreai.sensors.contact_list",
        "airflow_provider_koreai.triggers.contact_list",
        "airflow_provider_koreai.hooks.koreai",
    ],
)
def test_module_imports_nothing_heavy(module: str) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import airflow.sdk
        import airflow.triggers.base
        from airflow.providers.common.compat.sdk import BaseHook, BaseOperator, BaseSensorOperator
        before = set(sys.modules)
        import {module}
        added = set(sys.modules) - before
        print(",".join(sorted(m for m in added if m.split(".")[0] in {HEAVY!r})))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == ""
