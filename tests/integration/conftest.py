"""Fixtures of the integration tests (the ``emulator`` fixture itself is in ``tests/conftest.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_koreai.hooks.koreai import KoreAIHook
from airflow_provider_koreai.operators.base import KoreAIHookMixin
from tests.helpers import s3


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operators' and the sensor's hooks as deployed, with backoffs of milliseconds instead of seconds:
    the retries still happen on the wire, without the waits (the backoff policy has tests of its own)."""

    def fast_hook(self: KoreAIHookMixin) -> KoreAIHook:
        params = {"backoff_initial": 0.05, "backoff_max": 0.2, **self.hook_params}
        return KoreAIHook(koreai_conn_id=self.koreai_conn_id, **params)

    monkeypatch.setattr(KoreAIHookMixin, "hook", property(fast_hook))


def s3_connection_id(endpoint: str) -> str:
    """A connection id of its own for each server: Airflow keeps one store per connection id for the life of
    the process, which would point the next test at a server stopped already."""
    return "local_s3_" + endpoint.rpartition(":")[2]


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 on 127.0.0.1 (a free port), and an ``aws`` connection (:func:`s3_conn_id`) pointing at
    it. Needs the ``integrations-test`` extra (``make test-integrations``); skips where it is missing."""
    moto_server = pytest.importorskip("moto.server", reason="needs moto[server]: make test-integrations")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(name, s3.ACCESS_KEY)
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{s3_connection_id(endpoint).upper()}", json.dumps(s3.aws_connection(endpoint))
        )
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    """A boto3 S3 client of :func:`s3_endpoint`'s server."""
    pytest.importorskip("boto3")
    return s3.s3_client(s3_endpoint)


@pytest.fixture
def s3_conn_id(s3_endpoint: str) -> str:
    """The Airflow ``aws`` connection of :func:`s3_endpoint`'s server."""
    return s3_connection_id(s3_endpoint)
