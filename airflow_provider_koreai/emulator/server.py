"""Run the emulator in a background thread of the current process (the moto-style test fixture).

Tests and ``make demo`` want a real HTTP server on 127.0.0.1 (so the provider's real ``requests`` code
path, timeouts and connection handling are exercised) without managing a subprocess, plus Python-level
access to the emulator's state and fault queue.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI

from airflow_provider_koreai.emulator.app import EmulatorRuntime, create_app
from airflow_provider_koreai.emulator.campaigns import EmulatorClock
from airflow_provider_koreai.emulator.faults import FaultSpec
from airflow_provider_koreai.emulator.settings import EmulatorSettings
from airflow_provider_koreai.emulator.state import ContactStore
from airflow_provider_koreai.emulator.transport import DroppableH11Protocol


def bind_socket(host: str, port: int, backlog: int = 128) -> socket.socket:
    """Bind and listen before serving, so ``port=0`` yields the real port before anyone needs the URL.

    Listening right away means a client that connects as soon as the URL is printed waits in the backlog
    until uvicorn starts accepting, instead of being refused.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: FastAPI, log_level: str = "warning") -> uvicorn.Config:
    """uvicorn settings shared by :class:`EmulatorServer` and the CLI (h11 with droppable connections)."""
    return uvicorn.Config(
        app,
        http=DroppableH11Protocol,
        loop="asyncio",
        lifespan="off",
        log_level=log_level,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=2,
    )


class EmulatorServer:
    """The emulator on ``host:port`` (``port=0`` picks a free port) in a daemon thread.

    ``start()`` returns once the socket accepts connections; ``stop()`` asks uvicorn to exit and joins the
    thread for at most ``shutdown_timeout`` seconds. Also a context manager.
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        startup_timeout: float = 10.0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.host = host
        self.port = port
        self.app = create_app(self.settings)
        self._runtime: EmulatorRuntime = self.app.state.runtime
        self._log_level = log_level
        self._startup_timeout = startup_timeout
        self._shutdown_timeout = shutdown_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    # ---------------------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def airflow_connection(self) -> dict[str, Any]:
        """A ``koreai`` connection pointing at this server, for ``AIRFLOW_CONN_KOREAI_DEFAULT``."""
        return self.settings.airflow_connection(self.base_url)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> EmulatorServer:
        if self.running:
            return self
        sock = bind_socket(self.host, self.port)
        self._socket = sock
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn_config(self.app, self._log_level))
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"koreai-emulator-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Kore.ai emulator did not start on {self.base_url}")
            time.sleep(0.01)
        with socket.create_connection((self.host, self.port), timeout=self._startup_timeout):
            pass
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(self._shutdown_timeout)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(self._shutdown_timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------ test-facing helpers

    @property
    def store(self) -> ContactStore:
        return self._runtime.store

    def inject_fault(
        self,
        route: str,
        count: int = 1,
        status: int | None = None,
        retry_after: int | str | None = None,
        delay: float | None = None,
        drop: str | None = None,
        body: str | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue a fault exactly like ``POST /_emulator/faults`` (raises ``pydantic.ValidationError``)."""
        spec = FaultSpec.model_validate(
            {
                "route": route,
                "count": count,
                "status": status,
                "retry_after": retry_after,
                "delay": delay,
                "drop": drop,
                "body": body,
                "content_type": content_type,
                "headers": headers,
            }
        )
        self._runtime.faults.add(spec)

    def clear_faults(self) -> None:
        self._runtime.faults.clear()

    def pending_faults(self) -> list[dict[str, Any]]:
        return self._runtime.faults.pending()

    def recorded_requests(self) -> list[dict[str, Any]]:
        return self._runtime.recorder.all()

    def clear_requests(self) -> None:
        self._runtime.recorder.clear()

    def contact_list(self, list_id: str) -> dict[str, Any] | None:
        """The list as ``GET .../contactList/{id}`` would return it in ``data``, or None if absent."""
        return self._runtime.store.find(self._tenant, list_id)

    def contact_lists(self) -> list[dict[str, Any]]:
        """All lists of the configured tenant, as ``getAllListDetails`` returns them."""
        return self._runtime.store.all(self._tenant)

    def contacts(self, list_id: str) -> list[dict[str, Any]]:
        """Every contact currently in a list (raises ``KoreApiError`` 404 for an unknown list)."""
        results, _ = self._runtime.store.contacts_page(self._tenant, list_id, 0, 2**31)
        return results

    @property
    def clock(self) -> EmulatorClock:
        """The campaigns' clock: ``clock.freeze()`` then ``clock.advance(seconds)`` to count dialled
        contacts without sleeping; :meth:`reset` returns it to real time."""
        return self._runtime.clock

    def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        """The campaign as ``GET .../campaign/{id}`` would return it in ``data``, or None if absent."""
        return self._runtime.campaigns.find(self._tenant, campaign_id)

    def campaigns(self, campaign_type: str = "voice") -> list[dict[str, Any]]:
        """All campaigns of one type of the configured tenant, oldest first."""
        return self._runtime.campaigns.all(self._tenant, campaign_type)

    def campaign_results(self, campaign_id: str) -> list[dict[str, Any]]:
        """Every per-contact result row of the campaign's current/last run (``view=contacts``)."""
        campaigns = self._runtime.campaigns
        first = campaigns.contacts_page(self._tenant, campaign_id, 1, 100)
        rows: list[dict[str, Any]] = first["results"]
        for page in range(2, first["totalPages"] + 1):
            rows.extend(campaigns.contacts_page(self._tenant, campaign_id, page, 100)["results"])
        return rows

    def pause_campaign(self, campaign_id: str) -> dict[str, Any]:
        """Pause an Active campaign, like ``POST /_emulator/campaigns/{id}/pause``."""
        return self._runtime.campaigns.pause(self._tenant, campaign_id)

    def campaigns_state(self) -> list[dict[str, Any]]:
        """Like ``GET /_emulator/state/campaigns``: every campaign of every tenant."""
        return self._runtime.campaigns.snapshot()

    def state(self) -> list[dict[str, Any]]:
        """Like ``GET /_emulator/state``: every list of every tenant, with its contacts."""
        return self._runtime.store.snapshot()

    def reset(self) -> None:
        """Back to the seeded state (lists, campaigns, real time); faults, recordings, seen jtis and
        rate-limit windows cleared."""
        self._runtime.reset()

    @property
    def _tenant(self) -> tuple[str, str]:
        return (self.settings.account_id, self.settings.iid)
