"""Serve an ASGI app with uvicorn on 127.0.0.1, from a background thread.

The sandbox and the streaming server both run inside a notebook's kernel, so neither may block
it. The recipe, shared here:

1. bind the socket first (port 0 picks a free one, so two notebooks never collide), on the
   loopback address only, with ``TCP_NODELAY``: without it, Nagle's algorithm plus delayed ACKs
   hold back each small write (~40 ms per keep-alive request or per SSE event), which would be
   our latency, not the model's;
2. serve it from a daemon thread with its own event loop;
3. return once uvicorn reports it has started;
4. stop it when asked, or at the latest when the interpreter exits (a notebook's kernel shutting
   down): a server a learner left running, such as notebook 09's live page, still shuts down
   cleanly, its lifespan shutdown run and its connections closed, instead of being killed with
   its daemon thread.

uvicorn's logging is configured once per process (:func:`_configure_logging_once`), not by
every server: each ``uvicorn.Config`` would otherwise run ``logging.config.dictConfig``, which
flushes and replaces the handlers the previous server installed. In a Jupyter kernel those
handlers write to the kernel's output stream of an earlier cell, and flushing one from a later
cell can wait out ipykernel's 10-second flush timeout: a notebook starting several servers paid
10 s for nothing.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging.config
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import uvicorn

__all__ = ["HOST", "BackgroundServer", "ServerHandle", "bind_loopback"]

HOST = "127.0.0.1"

_logging_configured = False
_logging_lock = threading.Lock()


def _configure_logging_once() -> None:
    global _logging_configured
    with _logging_lock:
        if not _logging_configured:
            logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
            _logging_configured = True


def bind_loopback(port: int, what: str = "the server") -> socket.socket:
    """A listening TCP socket on ``127.0.0.1:port`` with ``TCP_NODELAY`` set."""
    if not 0 <= port <= 65535:
        raise ValueError(f"port must be between 0 and 65535, got {port}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot bind {what} to {HOST}:{port}: {exc.strerror}") from exc
    sock.listen(256)
    return sock


class _PromptServer(uvicorn.Server):
    """uvicorn's server, stopped the moment it is asked rather than at its next 0.1 s tick.

    A notebook starts and stops a private sandbox per experiment, some a dozen times; polling
    cost each stop up to 0.1 s. The per-second tick (the ``Date`` header) is kept.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._exit_requested: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._exit_requested = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit_requested.wait(), timeout=1.0)
            counter += 10  # on_tick refreshes the Date header every 10th tick, i.e. per second

    def request_exit(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Ask the server to exit; thread-safe."""
        self.should_exit = True
        event = self._exit_requested
        if loop is not None and event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(event.set)


class BackgroundServer:
    """uvicorn serving ``app`` on a pre-bound loopback socket, in a daemon thread.

    ``on_loop`` runs inside the server's event loop thread before serving (to create loop-bound
    objects such as an ``asyncio.Event``).
    """

    def __init__(
        self,
        app: Any,
        *,
        port: int = 0,
        name: str = "server",
        lifespan: str = "off",
        log_level: str = "warning",
        on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.socket = bind_loopback(port, name)
        self.port: int = self.socket.getsockname()[1]
        self.loop: asyncio.AbstractEventLoop | None = None
        _configure_logging_once()
        config = uvicorn.Config(app, log_config=None, log_level=log_level, access_log=False,
                                lifespan=lifespan, timeout_graceful_shutdown=2)
        self._server = _PromptServer(config)
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, args=(on_loop,),
                                        name=f"course-{name}-{self.port}", daemon=True)
        # Registered now, so it runs before exit work registered earlier (logging's shutdown, a
        # kernel closing its sockets), while the server can still shut down properly.
        atexit.register(self.stop)
        self._thread.start()
        deadline = time.monotonic() + startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start within {startup_timeout} s")
            time.sleep(0.005)

    def _serve(self, on_loop: Callable[[asyncio.AbstractEventLoop], None] | None) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        if on_loop is not None:
            on_loop(loop)
        try:
            loop.run_until_complete(self._server.serve(sockets=[self.socket]))
        finally:
            loop.close()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def stopped(self) -> bool:
        return self._stopped

    def call_soon(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` in the server's event loop (thread-safe)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(callback)

    def stop(self) -> None:
        """Stop serving and wait for the thread to finish (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        self._server.request_exit(self.loop)
        self._thread.join(timeout=10)
        self.socket.close()


class ServerHandle:
    """What callers hold: the address and a way to stop; usable as a context manager."""

    def __init__(self, server: BackgroundServer) -> None:
        self._server = server

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:54321``."""
        return self._server.url

    def stop(self) -> None:
        """Stop serving and wait for the thread to finish (idempotent)."""
        self._server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
