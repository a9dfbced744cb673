"""Closing a client connection without any response, which plain ASGI cannot express.

An ASGI app that fails before ``http.response.start`` makes uvicorn answer 500, and one that fails after
it leaves the client with headers and a truncated body. To emulate a network failure (the client sees a
connection reset / "remote end closed connection without response" and cannot know whether the request
was applied), the app needs the socket's transport. :class:`DroppableH11Protocol` is uvicorn's h11
protocol plus a registry of live transports keyed by client address, found through the app's
``state.connections``; pass it as ``uvicorn.Config(http=DroppableH11Protocol)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol


class ConnectionRegistry:
    """Live transports by ``(host, port)`` of the client, filled by :class:`DroppableH11Protocol`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transports: dict[tuple[str, int], asyncio.BaseTransport] = {}

    def add(self, client: tuple[str, int] | None, transport: asyncio.BaseTransport) -> None:
        if client is not None:
            with self._lock:
                self._transports[client] = transport

    def discard(self, client: tuple[str, int] | None, transport: asyncio.BaseTransport) -> None:
        if client is not None:
            with self._lock:
                if self._transports.get(client) is transport:
                    del self._transports[client]

    def get(self, client: Any) -> asyncio.BaseTransport | None:
        if not client:
            return None
        with self._lock:
            return self._transports.get((str(client[0]), int(client[1])))


class DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, registering its transport with the app's :class:`ConnectionRegistry`."""

    def _registry(self) -> ConnectionRegistry | None:
        registry = getattr(getattr(self.config.app, "state", None), "connections", None)
        return registry if isinstance(registry, ConnectionRegistry) else None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        # h11 writes the status line and the body separately; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add about 40 ms to every response on loopback.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        registry = self._registry()
        if registry is not None:
            registry.add(self.client, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        registry = self._registry()
        if registry is not None:
            registry.discard(self.client, self.transport)
        super().connection_lost(exc)


async def drop_connection(registry: ConnectionRegistry, scope: Scope, receive: Receive, send: Send) -> None:
    """Close the client's connection with nothing written, then wait until the server has noticed.

    Waiting for ``http.disconnect`` matters: uvicorn only skips its "returned without a response" 500 when
    the cycle is already marked disconnected. Without a registered transport (another server, the test
    client) the best available approximation is a response whose body is cut short.
    """
    transport = registry.get(scope.get("client"))
    if transport is None:
        await send(
            {"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"1048576")]}
        )
        raise ConnectionAbortedError("emulator fault: connection dropped")
    transport.close()
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(_until_disconnected(receive), timeout=5)


async def _until_disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
