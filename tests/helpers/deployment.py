"""A real Airflow deployment on loopback, for ``make e2e``: the four Airflow services (api-server,
scheduler, dag-processor, triggerer) with the LocalExecutor on SQLite, the Kore.ai emulator enforcing
Kore.ai's 60 requests per minute, and a ``redis-server`` holding the account's shared request budget.
:class:`Deployment` is also the base of ``make e2e-celery``'s deployment
(:mod:`tests.helpers.celery_deployment`), which replaces the executor, the metadata database and the
stores (:meth:`Deployment.settings`, :meth:`Deployment.stores`) and adds workers
(:meth:`Deployment.start_workers`).

Every service runs in its own process group, on ports chosen at run time, bound to 127.0.0.1 only
(scheduler and triggerer with ``--skip-serve-logs``, whose log server would bind every interface). Each
group is stopped by its id: at the end, on failure, on Ctrl-C / SIGTERM and at interpreter exit; the
stores (Redis...) by their PID after them. Only the ``koreai_default`` connection is configured (an
environment variable pointing at the emulator, its ``rate_limit_store`` at the Redis), plus what a
subclass adds (:meth:`Deployment.connections`).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import requests

from tests.helpers.paths import EXAMPLE_DAGS
from tests.helpers.stores import LoopbackServer, RedisServer, free_port, start_together

BIN = Path(sys.executable).parent


def airflow_env(home: Path, *, dags: Path, settings: dict[str, str]) -> dict[str, str]:
    """The environment of an Airflow service of a test deployment: this process's, less any Airflow
    setting or connection of its own, with this venv's ``bin`` first, ``home`` as ``AIRFLOW_HOME``, no
    example DAGs, every user an admin, then ``settings``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIRFLOW__") and not key.startswith("AIRFLOW_CONN_")
    }
    env.update(
        {
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            **settings,
        }
    )
    return env


#: SQLite answers "database is locked" (HTTP 500) under load: REST calls are retried this often.
REST_ATTEMPTS = 10


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to the service's process group, SIGKILL to what is left after ``grace`` seconds."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        # Children (task runners, gunicorn/uvicorn workers) live in the same group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


@dataclass
class Deployment:
    home: Path
    api_port: int = field(default_factory=free_port)
    emulator_port: int = field(default_factory=free_port)
    services: list[Service] = field(default_factory=list)
    redis: RedisServer = field(default_factory=RedisServer)
    # Holds the client secret, and a REST token: never in a repr (pytest prints one on failure).
    connection: dict[str, Any] = field(default_factory=dict, repr=False)
    _token: str | None = field(default=None, repr=False)
    # Shared by every service and worker, so that the task tokens one signs the others accept.
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    def budget_store_url(self) -> str:
        """The connection's ``rate_limit_store``: where every task process and the triggerer take their
        requests' slots."""
        return self.redis.url

    def stores(self) -> list[LoopbackServer]:
        """The servers the deployment needs before Airflow starts, started together, stopped last."""
        return [self.redis]

    def settings(self) -> dict[str, str]:
        """The executor and the metadata database: the LocalExecutor on SQLite in ``home``."""
        return {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": "4"}

    def connections(self) -> dict[str, dict[str, Any]]:
        """Every connection of the deployment, by id: ``koreai_default`` (the emulator's)."""
        from airflow_provider_koreai.emulator import EmulatorSettings

        self.connection = EmulatorSettings().airflow_connection(self.emulator_url)
        # Every task process and the triggerer take their requests' slots from one budget.
        self.connection["extra"]["rate_limit_store"] = self.budget_store_url()
        return {"koreai_default": self.connection}

    def log_roots(self) -> list[Path]:
        """Every folder of task and service logs (one per ``AIRFLOW_HOME``)."""
        return [self.logs]

    def env(self) -> dict[str, str]:
        return airflow_env(
            self.home,
            dags=EXAMPLE_DAGS,
            settings={
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__TRIGGERER__DEFAULT_CAPACITY": "50",
                **{
                    f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(connection)
                    for conn_id, connection in self.connections().items()
                },
                **self.settings(),
            },
        )

    # -- processes

    def start(
        self,
        name: str,
        *args: str,
        env: dict[str, str],
        log_dir: Path | None = None,
        cwd: Path | None = None,
    ) -> Service:
        log_path = (log_dir or self.logs / "services") / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                list(args),
                cwd=cwd or self.home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped by its id
            )
        service = Service(name, process, log_path)
        self.services.append(service)
        return service

    def stop(self) -> None:
        while self.services:
            self.services.pop().stop()
        for store in self.stores():
            store.stop()

    def check_alive(self) -> None:
        for service in self.services:
            if service.process.poll() is not None:
                tail = service.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{service.name} exited with {service.process.returncode}:\n{tail}")

    def boot(self, *, emulator_args: Sequence[str], say: Callable[[str], None]) -> None:
        """Start every service; ``emulator_args``: the emulator's flags (``--ingestion-delay 15``...)."""
        start_together(self.stores())
        env = self.env()
        self.home.mkdir(parents=True, exist_ok=True)
        self.start(
            "emulator",
            sys.executable,
            "-m",
            "airflow_provider_koreai.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.emulator_port),
            *emulator_args,
            env=env,
            # The emulator stands in for Kore.ai, outside the deployment: its banner prints the demo
            # credentials it accepts, so its output is kept out of the deployment's logs.
            log_dir=self.emulator_logs,
        )
        say(f"AIRFLOW_HOME={self.home}: migrating the metadata database")
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"],
            env=env,
            cwd=self.home,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=300,
        )
        airflow = str(BIN / "airflow")
        self.start(
            "api-server", airflow, "api-server", "--host", "127.0.0.1", "--port", str(self.api_port), env=env
        )
        self.start("scheduler", airflow, "scheduler", "--skip-serve-logs", env=env)
        self.start("dag-processor", airflow, "dag-processor", env=env)
        self.start("triggerer", airflow, "triggerer", "--skip-serve-logs", env=env)
        self.start_workers(env, say)
        say(
            "started "
            + ", ".join(f"{s.name} (pid {s.pid})" for s in self.services)
            + f"; api-server {self.api_url}, emulator {self.emulator_url}; "
            + ", ".join(f"{type(store).__name__} (pid {store.pid})" for store in self.stores())
        )
        self.wait_for(lambda: requests.get(f"{self.api_url}/api/v2/version", timeout=5).ok, 120, "api-server")
        self.wait_for(
            lambda: requests.get(f"{self.emulator_url}/_emulator/state", timeout=5).ok, 30, "emulator"
        )

    @property
    def emulator_logs(self) -> Path:
        """The emulator's output: outside the deployment's logs (and its secret scan)."""
        return self.home / "emulator"

    def start_workers(self, env: dict[str, str], say: Callable[[str], None]) -> None:
        """The executor's workers: none for the LocalExecutor (the scheduler runs the tasks)."""

    def wait_for(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(requests.RequestException):
                if ready():
                    return
            time.sleep(1)
        raise TimeoutError(f"{what} not ready after {timeout:.0f} s")

    # -- REST API v2

    def token(self) -> str:
        if self._token is None:
            response = requests.get(f"{self.api_url}/auth/token", timeout=10)
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def rest(self, method: str, path: str, **kwargs: Any) -> Any:
        """One REST call, retried on SQLite's "database is locked" (HTTP 500) and connection hiccups."""
        last: str = ""
        for attempt in range(REST_ATTEMPTS):
            try:
                response = requests.request(
                    method,
                    f"{self.api_url}/api/v2{path}",
                    headers={"Authorization": f"Bearer {self.token()}"},
                    timeout=30,
                    **kwargs,
                )
            except requests.RequestException as error:
                last = f"{type(error).__name__}"
            else:
                if response.status_code < 500:
                    if not response.ok:
                        raise RuntimeError(
                            f"{method} {path}: HTTP {response.status_code} {response.text[:500]}"
                        )
                    return response.json() if response.content else None
                last = f"HTTP {response.status_code} {response.text[:200]}"
            time.sleep(min(0.5 * 2**attempt, 5))
        raise RuntimeError(f"{method} {path} failed {REST_ATTEMPTS} times: {last}")

    def emulator(self, path: str, *, method: str = "GET", json: Any = None) -> Any:
        """One call of the emulator's admin API (``state``, ``requests``, ``faults``...)."""
        response = requests.request(method, f"{self.emulator_url}/_emulator/{path}", json=json, timeout=30)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def deployment(
    home: Path,
    *,
    emulator_args: Sequence[str],
    say: Callable[[str], None],
    kind: Callable[[Path], Deployment] = Deployment,
) -> Iterator[Deployment]:
    """Boot ``kind(home)``, yield it, and stop every service by its process group and every store by its
    PID: also on failure, SIGTERM or Ctrl-C."""
    deployed = kind(home)
    previous: dict[int, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        deployed.stop()
        handler = previous.get(signum)
        if callable(handler):
            handler(signum, frame)
        raise SystemExit(128 + signum)

    atexit.register(deployed.stop)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        previous[int(stop_signal)] = signal.signal(stop_signal, on_signal)
    try:
        deployed.boot(emulator_args=emulator_args, say=say)
        yield deployed
    finally:
        deployed.stop()
        say("every service stopped")
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        atexit.unregister(deployed.stop)
