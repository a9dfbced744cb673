"""The emulator as a child process, for scripts and benchmarks that must not share its CPU or memory.

Tests use :class:`~airflow_provider_koreai.emulator.server.EmulatorServer` (a thread of the test process,
with Python access to its state). A benchmark cannot: the server's work would count as the client's.
:class:`EmulatorProcess` starts ``python -m airflow_provider_koreai.emulator`` on a free loopback port,
reads the connection it prints, and stops it by PID, also when the caller fails.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any

BANNER = "Kore.ai emulator listening on "
CONNECTION_PREFIX = "AIRFLOW_CONN_KOREAI_DEFAULT="


class EmulatorProcess:
    """``with EmulatorProcess("--rate-limit", "0") as emulator: emulator.connection``.

    :param args: extra command-line arguments (``--rate-limit 0``, ``--ingestion-delay 0``...).
    :param startup_timeout: seconds to wait for the emulator to print its connection.
    :param output: where the emulator's own output goes while it runs, each line prefixed with
        ``emulator:`` (a log file); by default it is read and dropped.
    """

    def __init__(self, *args: str, startup_timeout: float = 30.0, output: IO[str] | None = None) -> None:
        self.args: Sequence[str] = args
        self.startup_timeout = startup_timeout
        self.output = output
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.connection: dict[str, Any] = {}

    def start(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "airflow_provider_koreai.emulator", "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_forward, args=(self.process.stdout, lines, self.output), daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2).strip()
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            if line.startswith(BANNER):
                self.url = line.removeprefix(BANNER)
            elif line.startswith(CONNECTION_PREFIX):
                self.connection = json.loads(line.removeprefix(CONNECTION_PREFIX).strip("'"))
                return self
        self.stop()
        raise RuntimeError("the Kore.ai emulator did not start:\n" + "\n".join(seen[-20:]))

    def stop(self) -> None:
        """SIGINT (a clean exit), then SIGKILL if it has not exited 10 s later."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _forward(stream: IO[str], lines: queue.Queue[str], output: IO[str] | None) -> None:
    """Drain the child's output, so that a chatty emulator never blocks on a full pipe; the lines up to
    the connection go to :meth:`EmulatorProcess.start`, every line to ``output``."""
    starting = True
    for line in stream:
        if output is not None:
            output.write(f"emulator: {line}")
        if starting:
            lines.put(line)
            starting = not line.startswith(CONNECTION_PREFIX)
