"""S3 for tests: moto's S3 server on 127.0.0.1, the Airflow ``aws`` connection that points at it, and a boto3
client of it. Needs the ``integrations-test`` extra (``moto[server]``, boto3, the Amazon provider and s3fs:
``make test-integrations``, ``make e2e-celery``).

* :class:`MotoS3Server`: ``moto_server`` as a process of its own, on a free port, stopped by its PID: what
  a deployment's services and workers reach (the Celery deployment's exports, the upload the kill test
  reads);
* :func:`aws_connection`: the ``aws`` connection (``AIRFLOW_CONN_*`` JSON) of an endpoint, used by that
  deployment and by the integration tests' in-process server alike;
* :func:`s3_client`: boto3, to create buckets, put inputs and read what the DAGs wrote.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.helpers.stores import LoopbackServer, free_port

#: The credentials moto accepts (any), and the region every test client and connection names.
ACCESS_KEY = "testing"
REGION = "us-east-1"


def aws_connection(endpoint: str) -> dict[str, Any]:
    """An Airflow ``aws`` connection (``AIRFLOW_CONN_*`` JSON form) of the S3 server at ``endpoint``."""
    return {
        "conn_type": "aws",
        "login": ACCESS_KEY,
        "password": ACCESS_KEY,
        "extra": {"region_name": REGION, "endpoint_url": endpoint},
    }


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client of the server at ``endpoint``."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=ACCESS_KEY,
    )


class MotoS3Server(LoopbackServer):
    """``with MotoS3Server() as s3: s3.endpoint``: moto's server (every AWS service it emulates, S3 here)
    as a process on 127.0.0.1 and a free port, its state in memory, stopped by its PID."""

    def __init__(self, startup_timeout: float = 60.0) -> None:
        super().__init__()
        self.startup_timeout = startup_timeout
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoS3Server:
        binary = Path(sys.executable).with_name("moto_server")
        if not binary.exists():
            raise RuntimeError(f"{binary} is missing: install the integrations-test extra (moto[server])")
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(binary), "--host", "127.0.0.1", "--port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if self._wait_until(self.answers, self.startup_timeout):
            return self
        self.stop()
        raise RuntimeError(f"moto_server did not answer on {self.endpoint}")

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def client(self) -> Any:
        return s3_client(self.endpoint)
