"""The test suite's bridge to Airflow 3.0-3.3 (``tests/helpers/compat.py``) works on the running release."""

from __future__ import annotations

import pendulum
import pytest
from airflow.providers.common.compat.sdk import redact
from airflow.sdk import DAG, BaseOperator

from airflow_provider_koreai.auth import register_long_lived_secret
from tests.helpers.compat import dag_bag, reset_secrets_masker, serialize_round_trip
from tests.helpers.paths import EXAMPLE_DAGS

SECRET = "only-a-test-value-9f8e7d6c5b4a"


def test_reset_secrets_masker_forgets_what_mask_secret_registered() -> None:
    """The per-test isolation in ``conftest.py`` relies on this, on every Airflow release."""
    register_long_lived_secret(SECRET)  # Airflow's mask_secret, found where this release keeps it
    assert SECRET not in str(redact(f"token {SECRET}"))
    reset_secrets_masker()
    assert redact(f"token {SECRET}") == f"token {SECRET}"


@pytest.mark.usefixtures("airflow_db")
def test_dag_bag_parses_the_example_dags() -> None:
    bag = dag_bag(str(EXAMPLE_DAGS))
    assert not bag.import_errors, bag.import_errors
    assert bag.get_dag("koreai_refresh_on_customer_data") is not None


def test_serialize_round_trip_keeps_the_tasks() -> None:
    with DAG("koreai_compat", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
        BaseOperator(task_id="noop")
    assert serialize_round_trip(dag).task_ids == ["noop"]
