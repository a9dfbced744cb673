"""Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``).

Kept import-free apart from the package version and the form declaration: Airflow calls this while it
is still initialising its own configuration.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_koreai import __version__
from airflow_provider_koreai.connection_form import provider_info_connection_form

INTEGRATION = "Kore.ai Contact Center"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-koreai",
        "name": "Kore.ai",
        "description": "`Kore.ai Contact Center <https://docs.kore.ai/>`__: keep campaign contact lists in "
        "step with your data pipelines.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://docs.kore.ai/",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_koreai.hooks.koreai"]},
        ],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_koreai.operators.contact_list",
                    "airflow_provider_koreai.operators.campaign",
                ],
            },
        ],
        "sensors": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_koreai.sensors.contact_list",
                    "airflow_provider_koreai.sensors.campaign",
                ],
            },
        ],
        "triggers": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_koreai.triggers.contact_list",
                    "airflow_provider_koreai.triggers.campaign",
                ],
            },
        ],
        "asset-uris": [
            {
                "schemes": ["koreai"],
                "handler": "airflow_provider_koreai.assets.sanitize_uri",
                "factory": "airflow_provider_koreai.assets.create_asset",
                "to_openlineage_converter": "airflow_provider_koreai.assets.convert_asset_to_openlineage",
            }
        ],
        "connection-types": [
            {
                "connection-type": "koreai",
                "hook-class-name": "airflow_provider_koreai.hooks.koreai.KoreAIHook",
                "hook-name": "Kore.ai",
                **provider_info_connection_form(),
            }
        ],
    }
