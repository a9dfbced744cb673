"""A distributed Airflow deployment on one machine, for ``make e2e-celery``: the CeleryExecutor with two
workers that share no scratch disk.

* **Metadata**: PostgreSQL (Debian's ``postgresql``; :class:`~tests.helpers.stores.PostgresServer`), through
  psycopg 3, which the package's ``postgres`` extra installs already (``postgresql+psycopg://``, for the
  async engine too).
* **Redis** (Debian's ``redis-server``): the Celery broker on database :data:`BROKER_DB`, and the connection's
  request budget (``rate_limit_store``) on :data:`BUDGET_DB`: one server, two database numbers, as a
  deployment that reuses its broker would.
* **S3**: moto's server (:class:`~tests.helpers.s3.MotoS3Server`), reached through the ``aws`` connection
  :data:`S3_CONN_ID`: the examples' exports, and the kill test's input.
* The api-server, scheduler, dag-processor and triggerer share one ``AIRFLOW_HOME`` (``<root>/airflow``).
* **Two workers** (:class:`Worker`), each with its own ``AIRFLOW_HOME``, working directory and ``TMPDIR``
  under ``<root>/worker-<name>``, started with ``--skip-serve-logs`` (the log server would bind every
  interface), a small ``--concurrency``, and their own queues. As root, each runs in its own mount namespace
  with a private tmpfs on ``/tmp`` (``unshare --mount`` then ``mount -t tmpfs``): what one worker writes
  under ``/tmp`` the other cannot see, as on separate machines. What a worker needs that lives under
  ``/tmp`` (a clone of the repository, its virtualenv) is bound back into that tmpfs, read from the host's
  ``/tmp`` bound elsewhere first. Without root, the workers only get separate ``TMPDIR`` s, and
  :attr:`CeleryDeployment.private_tmp_missing` says why (the test prints it).
* Task heartbeats every 2 s and a heartbeat timeout of 15 s (instead of 300 s): a task whose worker died is
  retried within seconds.

Every server is started in parallel, and stopped by its PID (stores) or process group (services, workers)
at the end, on failure and on Ctrl-C (:func:`tests.helpers.deployment.deployment`).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.deployment import BIN, Deployment, Service
from tests.helpers.paths import EXAMPLE_DAGS, REPO_ROOT
from tests.helpers.s3 import MotoS3Server, aws_connection
from tests.helpers.stores import LoopbackServer, PostgresServer

#: Redis database numbers: the Celery broker's, and the connection's request budget's.
BROKER_DB = 0
BUDGET_DB = 1
#: The ``aws`` connection of moto's S3.
S3_CONN_ID = "koreai_e2e_s3"
#: DAGs that exist only for the Celery deployment's tests (a second DAG bundle).
E2E_DAGS = REPO_ROOT / "tests" / "e2e" / "dags"
#: Seconds between a task's heartbeats, and without one before the scheduler fails (and retries) it.
HEARTBEAT_SECONDS = 2
HEARTBEAT_TIMEOUT_SECONDS = 15
#: Processes of each worker: a kill test's two uploads at once.
WORKER_CONCURRENCY = 2
#: Where ``/tmp`` is, and the size of a worker's private tmpfs there.
TMP = Path("/tmp")
PRIVATE_TMP_OPTIONS = "mode=1777,size=256m"


def kept_under_tmp(paths: Sequence[Path]) -> list[Path]:
    """Of what a worker needs (``paths``, the virtualenv, this package, ``PYTHONPATH``), the folders under
    ``/tmp`` (as given and resolved; none inside another): a private ``/tmp`` must show them still."""
    import airflow_provider_koreai

    needed = [
        *paths,
        REPO_ROOT,
        Path(sys.prefix),
        Path(sys.executable).parent,
        Path(airflow_provider_koreai.__file__).parent,
        *(Path(entry) for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry),
    ]
    under = {
        form
        for path in needed
        for form in (Path(os.path.abspath(path)), path.resolve())
        if form.is_relative_to(TMP) and form != TMP
    }
    return sorted(
        path for path in under if not any(path != other and path.is_relative_to(other) for other in under)
    )


def private_tmp_script(host_tmp: Path, keep: Sequence[Path]) -> str:
    """The shell that ``unshare --mount`` runs before it becomes the worker: a tmpfs on ``/tmp``, with the
    folders in ``keep`` (under the host's ``/tmp``) bound back into it from ``host_tmp``, where the host's
    ``/tmp`` is bound first. Every mount stays inside the worker's namespace."""
    lines = ["set -e"]
    if keep:
        lines.append(f"mount --bind {TMP} {shlex.quote(str(host_tmp))}")
    lines.append(f"mount -t tmpfs -o {PRIVATE_TMP_OPTIONS} koreai-e2e-tmp {TMP}")
    for path in keep:
        source = shlex.quote(str(host_tmp / path.relative_to(TMP)))
        target = shlex.quote(str(path))
        lines.append(f"mkdir -p {target}")
        lines.append(f"mount --bind {source} {target}")
    lines.append('exec "$@"')
    return "\n".join(lines)


def private_tmp_command(script: str, command: Sequence[str], name: str) -> list[str]:
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, name, *command]


def private_tmp_unavailable(script: str) -> str | None:
    """Why workers cannot get a private tmpfs on ``/tmp`` here, or ``None`` if they can (root, ``unshare``,
    and ``script`` succeeding once)."""
    if os.geteuid() != 0:
        return "not root (a mount namespace needs CAP_SYS_ADMIN)"
    if shutil.which("unshare") is None:
        return "no unshare command (util-linux)"
    probe = subprocess.run(
        private_tmp_command(script, ["true"], "probe"), capture_output=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        return f"unshare/mount failed: {probe.stderr.decode(errors='replace').strip()}"
    return None


@dataclass
class Worker:
    """One Celery worker: its own ``AIRFLOW_HOME``, working directory and ``TMPDIR`` under ``root``."""

    name: str
    queues: tuple[str, ...]
    root: Path
    service: Service | None = None

    @property
    def home(self) -> Path:
        return self.root / "airflow"

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def tmpdir(self) -> Path:
        return self.root / "tmp"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def node(self) -> str:
        """Celery's name of the worker (``--celery-hostname``)."""
        return f"{self.name}@{socket.gethostname()}"

    @property
    def pid(self) -> int:
        assert self.service is not None, f"worker {self.name} is not started"
        return self.service.pid

    def alive(self) -> bool:
        return self.service is not None and self.service.process.poll() is None


@dataclass
class CeleryDeployment(Deployment):
    """:class:`~tests.helpers.deployment.Deployment` on the CeleryExecutor: ``home`` is the services'
    ``AIRFLOW_HOME``, its parent the deployment's root (the workers' folders are there too)."""

    postgres: PostgresServer = field(default_factory=PostgresServer)
    s3: MotoS3Server = field(default_factory=MotoS3Server)
    #: Worker ``a`` also serves the kill test's queue (:data:`KILL_QUEUE`); ``b`` only the default one.
    workers: list[Worker] = field(default_factory=list)
    #: ``None`` when the workers have private ``/tmp`` mounts; otherwise why not.
    private_tmp_missing: str | None = None
    #: What the workers need that lives under ``/tmp`` (a CI clone, say), bound into their private one.
    kept_under_tmp: list[Path] = field(default_factory=list)
    #: Task processes left behind by a killed worker, as (PID, start time): stopped in :meth:`stop`.
    orphans: list[tuple[int, int | None]] = field(default_factory=list)
    fernet_key: str = field(default="", repr=False)
    _env: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from cryptography.fernet import Fernet

        self.fernet_key = Fernet.generate_key().decode()
        if not self.workers:
            self.workers = [
                Worker("worker-a", ("default", KILL_QUEUE), self.root / "worker-a"),
                Worker("worker-b", ("default",), self.root / "worker-b"),
            ]

    @property
    def root(self) -> Path:
        return self.home.parent

    @property
    def private_tmp(self) -> bool:
        return self.private_tmp_missing is None

    @property
    def host_tmp(self) -> Path:
        """Where a worker's namespace binds the host's ``/tmp`` (an empty folder seen from outside)."""
        return self.root / "host-tmp"

    @property
    def private_tmp_script(self) -> str:
        return private_tmp_script(self.host_tmp, self.kept_under_tmp)

    @property
    def broker_url(self) -> str:
        return self.redis.url_for(BROKER_DB)

    def budget_store_url(self) -> str:
        return self.redis.url_for(BUDGET_DB)

    def stores(self) -> list[LoopbackServer]:
        return [self.redis, self.postgres, self.s3]

    def settings(self) -> dict[str, str]:
        database = f"postgresql+psycopg://postgres@127.0.0.1:{self.postgres.port}/postgres"
        bundles = [
            {
                "name": name,
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(path)},
            }
            for name, path in (("koreai_examples", EXAMPLE_DAGS), ("koreai_e2e_dags", E2E_DAGS))
        ]
        return {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": database,
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database}",
            # Airflow's default for Redis, said explicitly (it warns otherwise).
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "86400",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": str(HEARTBEAT_SECONDS),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_SECONDS),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
        }

    def connections(self) -> dict[str, dict[str, Any]]:
        return {**super().connections(), S3_CONN_ID: aws_connection(self.s3.endpoint)}

    def env(self) -> dict[str, str]:
        if not self._env:
            self._env = super().env()
        return self._env

    def log_roots(self) -> list[Path]:
        return [self.logs, *(worker.logs for worker in self.workers)]

    def stop(self) -> None:
        """Every service and worker by its process group, the stores by their PID, then every task process
        a worker left behind (in a process group of its own, out of reach of its worker's) by its PID:
        those of a killed worker (:meth:`kill_worker`) and those running when the workers stopped."""
        running = [pid for worker in self.workers if worker.alive() for pid in self.task_processes(worker)]
        self.orphans += [(pid, started_at(pid)) for pid in running]
        super().stop()
        for pid, start in self.orphans:
            # The same process (not a later one given its PID), if it still runs.
            if start is not None and process_alive(pid, start):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.orphans.clear()

    # -- workers

    def start_workers(self, env: dict[str, str], say: Callable[[str], None]) -> None:
        self.kept_under_tmp = kept_under_tmp([self.root])
        self.host_tmp.mkdir(parents=True, exist_ok=True)
        self.private_tmp_missing = private_tmp_unavailable(self.private_tmp_script)
        if self.private_tmp:
            kept = f" (bound back into it from the host's /tmp: {', '.join(map(str, self.kept_under_tmp))})"
            say(
                "each worker runs in its own mount namespace, with a private tmpfs on /tmp"
                + (kept if self.kept_under_tmp else "")
            )
        else:
            say(
                f"NO private /tmp for the workers ({self.private_tmp_missing}): "
                "they only get separate AIRFLOW_HOMEs, working directories and TMPDIRs"
            )
        for worker in self.workers:
            self.start_worker(worker)

    def start_worker(self, worker: Worker) -> Service:
        for folder in (worker.home, worker.workdir, worker.tmpdir):
            folder.mkdir(parents=True, exist_ok=True)
        env = {**self.env(), "AIRFLOW_HOME": str(worker.home), "TMPDIR": str(worker.tmpdir)}
        command = [
            str(BIN / "airflow"),
            "celery",
            "worker",
            "--skip-serve-logs",
            "--queues",
            ",".join(worker.queues),
            "--concurrency",
            str(WORKER_CONCURRENCY),
            "--celery-hostname",
            worker.node,
            "--without-mingle",
            "--without-gossip",
        ]
        if self.private_tmp:
            command = private_tmp_command(self.private_tmp_script, command, worker.name)
        worker.service = self.start(
            worker.name, *command, env=env, log_dir=worker.logs / "services", cwd=worker.workdir
        )
        return worker.service

    def wait_for_workers(self, timeout: float = 120) -> None:
        """Until every worker said it is ready (Celery's ``<node> ready.``)."""

        def ready() -> bool:
            return all(
                worker.service is not None
                and f"{worker.node} ready." in worker.service.log_path.read_text(errors="replace")
                for worker in self.workers
            )

        self.wait_for(ready, timeout, "the Celery workers")

    def kill_worker(self, worker: Worker) -> list[int]:
        """SIGKILL to the worker's process group, as when its machine dies; the PIDs of its task processes,
        each in a process group of its own, which the kill does not reach (stopped by :meth:`stop`)."""
        tasks = self.task_processes(worker)
        self.orphans += [(pid, started_at(pid)) for pid in tasks]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        assert worker.service is not None
        worker.service.process.wait(timeout=30)
        # A dead worker is no longer a service to watch (nor to stop: its group is gone).
        self.services.remove(worker.service)
        return tasks

    def add_consumer(self, worker: Worker, queue: str, timeout: float = 30) -> None:
        """Have a running worker also serve ``queue`` (Celery's remote control, through the broker)."""
        from celery import Celery

        app = Celery("koreai-e2e", broker=self.broker_url)
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                replies = app.control.add_consumer(queue, destination=[worker.node], reply=True, timeout=5)
                if any(worker.node in reply for reply in replies or []):
                    return
            raise TimeoutError(f"{worker.node} did not answer add_consumer({queue!r}) in {timeout:.0f} s")
        finally:
            app.close()

    def task_processes(self, worker: Worker) -> list[int]:
        """The PIDs of the running worker's task processes: its descendants outside its process group
        (Airflow 3.3's supervisor gives each task runner a group of its own, which a SIGKILL of the
        worker's group does not reach)."""
        children: dict[int, list[int]] = collections.defaultdict(list)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    children[parent].append(int(entry.name))
        found, todo = [], list(children.get(worker.pid, []))
        while todo:
            pid = todo.pop()
            todo += children.get(pid, [])
            with contextlib.suppress(ProcessLookupError):
                if os.getpgid(pid) != worker.pid:
                    found.append(pid)
        return sorted(found)


#: The queue only worker ``a`` serves at first: the kill test's uploads run there.
KILL_QUEUE = "koreai_kill_test"


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or ``None``."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def started_at(pid: int) -> int | None:
    """When ``pid`` started (clock ticks after boot): with the PID, names one process even if the PID is
    reused later."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def process_alive(pid: int, start: int | None = None) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped by its new parent, does not), and is the process
    that started at ``start`` when given."""
    fields = _stat(pid)
    if not fields or fields[0] == "Z":
        return False
    return start is None or int(fields[19]) == start
