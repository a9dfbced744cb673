"""The Airflow UI in a real browser, for ``make test-browser``.

``airflow api-server`` of the running Python's Airflow on a free port of 127.0.0.1, in a throwaway
``AIRFLOW_HOME`` migrated first, with connection testing enabled and every user an admin (no login
page); and Debian's ``chromium`` (the Debian package, which ``.ci/run`` installs), driven by the PyPI
``playwright`` package through its executable path: Playwright's own browser download is never used.
The server runs in its own process group, stopped by its id.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from tests.helpers.deployment import BIN, Service, airflow_env
from tests.helpers.stores import free_port

CHROMIUM = "/usr/bin/chromium"
#: Headless, and nothing that reaches beyond the machine: no QUIC, no background or component updates,
#: no sync. ``--no-sandbox``: CI runs as root.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


class ApiServer:
    """``with ApiServer() as server: server.url``: the Airflow UI and REST API on loopback."""

    def __init__(self, startup_timeout: float = 120.0) -> None:
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="koreai-ui-"))
        self.service: Service | None = None
        self._token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return airflow_env(
            self.home,
            dags=self.home / "dags",
            settings={
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
            },
        )

    def start(self) -> ApiServer:
        env = self.env()
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"],
            env=env,
            cwd=self.home,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=300,
        )
        log_path = self.home / "api-server.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [str(BIN / "airflow"), "api-server", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=self.home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped by its id
            )
        self.service = Service("api-server", process, log_path)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"api-server exited with {process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/api/v2/version", timeout=5).ok:
                    return self
            time.sleep(1)
        self.stop()
        raise TimeoutError(f"api-server not ready after {self.startup_timeout:.0f} s")

    def log_tail(self, chars: int = 3000) -> str:
        path = self.home / "api-server.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def version(self) -> str:
        return str(requests.get(f"{self.url}/api/v2/version", timeout=10).json()["version"])

    def rest(self, method: str, path: str, **kwargs: Any) -> Any:
        if self._token is None:
            response = requests.get(f"{self.url}/auth/token", timeout=10)
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        response = requests.request(
            method,
            f"{self.url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def chromium_page(base_url: str) -> Iterator[Any]:
    """A page of Debian's headless Chromium, its relative URLs under ``base_url``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_FLAGS), headless=True
        )
        try:
            page = browser.new_page(base_url=base_url, viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()
