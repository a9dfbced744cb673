"""One emulator server per settings for the whole session: the factory behind the ``emulator`` fixture.

Starting a server costs a thread and a socket; what a test must not inherit is its state. So a server is
started the first time a test asks for its settings, handed out :meth:`~EmulatorServer.reset` (seeded
lists, no faults, no recorded requests, empty rate-limit windows) and stopped when the session ends.

The ``emulator`` fixture (``tests/conftest.py``) takes its settings from the ``emulator_settings``
fixture: a module that needs another emulator overrides that fixture, e.g. ::

    @pytest.fixture
    def emulator_settings() -> dict[str, Any]:
        return {**EMULATOR_DEFAULTS, "ingestion_delay_seconds": 0.6}

A test that needs a second, differently configured server at once asks the ``emulators`` fixture:
``emulators.get(rate_limit_per_minute=5)``.
"""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_koreai.emulator import EmulatorServer

#: What most tests want: no rate limit (the budget has tests of its own), and contacts that land 0.2 s
#: after they were accepted, so that a read right after the write still sees the old count.
EMULATOR_DEFAULTS: dict[str, Any] = {"rate_limit_per_minute": 0, "ingestion_delay_seconds": 0.2}


class Emulators:
    """Emulator servers on 127.0.0.1, one per distinct :class:`EmulatorSettings`, started on first use."""

    def __init__(self) -> None:
        self._servers: dict[str, EmulatorServer] = {}
        self._running = ExitStack()

    def get(self, **settings: Any) -> EmulatorServer:
        """The server with these settings (the others at their defaults), freshly reset."""
        from airflow_provider_koreai.emulator import EmulatorServer, EmulatorSettings

        wanted = EmulatorSettings(**settings)
        key = repr(wanted)  # a dataclass with a dict field: its repr, not its hash, tells them apart
        server = self._servers.get(key)
        if server is None:
            server = EmulatorServer(wanted, host="127.0.0.1", port=0)
            self._servers[key] = self._running.enter_context(server)  # started; stopped by close()
        server.reset()
        return server

    def close(self) -> None:
        self._servers = {}
        self._running.close()

    def __enter__(self) -> Emulators:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
