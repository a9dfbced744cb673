"""Real servers for tests and benchmarks: a ``redis-server`` or a PostgreSQL server on 127.0.0.1 and a
free port, in a temporary directory, stopped by its PID (rate-budget stores; the Celery deployment's
broker and metadata database too). :class:`LoopbackServer` is the base of every such server
(:mod:`tests.helpers.s3` has moto's S3); :func:`start_together` starts several at once.

``redis-server`` and PostgreSQL come from the Debian packages ``redis-server`` and ``postgresql``
(``.ci/run`` installs them). Nothing is persisted: no RDB or AOF file, no fsync, and the directory is
removed when the server stops.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, Self

REDIS_SERVER = "redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_available() -> bool:
    return shutil.which(REDIS_SERVER) is not None


class LoopbackServer:
    """A server process of a test, in a temporary directory of its own: started by :meth:`start`, stopped
    by its PID with :attr:`STOP_SIGNAL` (then SIGKILL if it has not exited 10 s later), directory removed;
    also as a context manager."""

    #: The signal of a clean, quick shutdown of this server.
    STOP_SIGNAL = signal.SIGTERM

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._dir: str | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def directory(self) -> str | None:
        """The server's own temporary directory (its data, socket and log), while it runs."""
        return self._dir

    def start(self) -> Self:
        raise NotImplementedError

    def _wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Whether ``ready()`` came true within ``timeout`` seconds, while the process lives."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            if ready():
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, self.STOP_SIGNAL)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_together(servers: Sequence[LoopbackServer]) -> None:
    """Start ``servers`` in parallel threads (each :meth:`~LoopbackServer.start` waits for its own server
    to answer); if one fails, every one is stopped by its PID and the first error raised."""
    with ThreadPoolExecutor(max_workers=max(len(servers), 1)) as pool:
        outcomes = [pool.submit(server.start) for server in servers]
    errors = [outcome.exception() for outcome in outcomes]
    failed = next((error for error in errors if error is not None), None)
    if failed is not None:
        for server in servers:
            server.stop()
        raise failed


class RedisServer(LoopbackServer):
    """``with RedisServer() as redis: redis.url``: a throwaway Redis on loopback."""

    def __init__(self, startup_timeout: float = 10.0) -> None:
        super().__init__()
        self.startup_timeout = startup_timeout
        self.port = 0

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        """The URL of database number ``db`` (one server can be a broker on one, a budget on another)."""
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        binary = shutil.which(REDIS_SERVER)
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        self._dir = tempfile.mkdtemp(prefix="koreai-redis-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self._dir,
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if self._wait_until(self.ping, self.startup_timeout):
            return self
        self.stop()
        raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{self.port}")

    def ping(self) -> bool:
        """A raw ``PING`` (no client library needed)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


# -- PostgreSQL -----------------------------------------------------------------------------------------

POSTGRES_LIB = "/usr/lib/postgresql"
#: PostgreSQL refuses to run as root: as root, the server runs as the Debian package's system user.
POSTGRES_USER = "postgres"


def postgres_bin_dir() -> str | None:
    """The ``bin`` directory of the newest PostgreSQL the Debian packages installed
    (``/usr/lib/postgresql/<version>/bin``), or ``None``."""
    versions: list[tuple[float, str]] = []
    try:
        names = os.listdir(POSTGRES_LIB)
    except OSError:
        return None
    for name in names:
        bin_dir = os.path.join(POSTGRES_LIB, name, "bin")
        if not all(os.access(os.path.join(bin_dir, tool), os.X_OK) for tool in ("initdb", "postgres")):
            continue
        try:
            versions.append((float(name), bin_dir))
        except ValueError:
            continue
    return max(versions)[1] if versions else None


def postgres_available() -> bool:
    """Whether :class:`PostgresServer` can start here: the binaries, and (as root) the system user."""
    if postgres_bin_dir() is None:
        return False
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        return False
    return True


class PostgresServer(LoopbackServer):
    """``with PostgresServer() as postgres: postgres.url``: a throwaway PostgreSQL on loopback.

    ``initdb`` into a temporary directory, then ``postgres`` on 127.0.0.1 and a free port (or ``port``:
    a server started again where one was stopped), its socket in the same directory, without fsync.
    Connections over TCP authenticate with ``password`` when one is given (SCRAM), else are trusted.
    As root, both run as the ``postgres`` system user; otherwise as the current user. Stopped with
    SIGINT, PostgreSQL's fast shutdown (it ends every session).
    """

    STOP_SIGNAL = signal.SIGINT

    def __init__(self, password: str | None = None, port: int = 0, startup_timeout: float = 30.0) -> None:
        super().__init__()
        self.password = password
        self.port = port
        self.startup_timeout = startup_timeout

    @property
    def url(self) -> str:
        auth = f"{POSTGRES_USER}:{self.password}" if self.password else POSTGRES_USER
        return f"postgresql://{auth}@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError(f"PostgreSQL is not installed (Debian package postgresql, {POSTGRES_LIB})")
        as_user = self._run_as()
        self._dir = tempfile.mkdtemp(prefix="koreai-postgres-")
        if as_user is not None:
            os.chown(self._dir, as_user.pw_uid, as_user.pw_gid)
        data = os.path.join(self._dir, "data")
        log_path = os.path.join(self._dir, "server.log")
        initdb = [
            os.path.join(bin_dir, "initdb"),
            "--pgdata",
            data,
            "--username",
            POSTGRES_USER,
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
            "--auth-local",
            "trust",
        ]
        if self.password:
            pwfile = os.path.join(self._dir, "password")
            with open(pwfile, "w") as file:
                file.write(self.password + "\n")
            if as_user is not None:
                os.chown(pwfile, as_user.pw_uid, as_user.pw_gid)
            initdb += ["--auth-host", "scram-sha-256", "--pwfile", pwfile]
        else:
            initdb += ["--auth-host", "trust"]
        run_as = self._popen_user(as_user)
        done = subprocess.run(initdb, cwd=self._dir, capture_output=True, check=False, **run_as)
        if done.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.decode(errors='replace')}")
        if not self.port:
            self.port = free_port()
        with open(log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                [
                    os.path.join(bin_dir, "postgres"),
                    "-D",
                    data,
                    "-k",
                    self._dir,
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                ],
                cwd=self._dir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                **run_as,
            )
        if self._wait_until(self.ready, self.startup_timeout):
            return self
        with open(log_path, errors="replace") as log_file:
            tail = log_file.read()[-2000:]
        self.stop()
        raise RuntimeError(f"postgres did not accept connections on 127.0.0.1:{self.port}:\n{tail}")

    def ready(self) -> bool:
        """Whether the server accepts connections: its ``postmaster.pid`` says ``ready`` (PostgreSQL 10+
        writes the status on its 8th line), read without a client library or a password."""
        if self._dir is None:
            return False
        try:
            with open(os.path.join(self._dir, "data", "postmaster.pid")) as file:
                lines = file.read().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    @staticmethod
    def _run_as() -> pwd.struct_passwd | None:
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(POSTGRES_USER)
        except KeyError:
            raise RuntimeError(
                f"PostgreSQL does not run as root, and there is no {POSTGRES_USER!r} user to run it as "
                "(the Debian package postgresql creates it)"
            ) from None

    @staticmethod
    def _popen_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
        """``Popen`` arguments running the child as ``user`` (its PID is then the server's own, unlike
        with ``runuser``, which would stand between us and the server)."""
        if user is None:
            return {}
        env = {**os.environ, "HOME": user.pw_dir, "USER": user.pw_name, "LOGNAME": user.pw_name}
        return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "env": env}
