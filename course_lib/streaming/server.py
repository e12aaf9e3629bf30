"""Serve the streaming app (or any ASGI app) with uvicorn on 127.0.0.1, from a background thread.

The same recipe as the sandbox's runner: bind the socket first (port 0 picks a free one), with
``TCP_NODELAY`` so small SSE writes leave at once instead of waiting for Nagle's algorithm, then
serve it from a daemon thread with its own event loop, and return once the server answers::

    with start_stream_server(allowed_origins=["http://localhost:3000"]) as server:
        print(server.url)            # open it in a browser: the live page
        result = await stream_chat(server.url, "How do I reset my password?")
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from course_lib.streaming.app import StreamOutcome, StreamState, create_stream_app

__all__ = ["HOST", "ServerHandle", "serve_app", "start_stream_server"]

HOST = "127.0.0.1"


def _bound_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Nagle's algorithm holds a small write back until the previous one is acknowledged; with
    # delayed ACKs that is ~40 ms per token event, which would be our latency, not the model's.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot bind the streaming server to {HOST}:{port}: {exc.strerror}"
                      ) from exc
    sock.listen(128)
    return sock


@dataclass
class ServerHandle:
    """A running server. Use as a context manager, or call :meth:`stop`."""

    app: Any
    port: int
    _server: uvicorn.Server
    _thread: threading.Thread
    _socket: socket.socket
    _stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:54321`` (the page is at ``/``)."""
        return f"http://{HOST}:{self.port}"

    @property
    def state(self) -> StreamState:
        """The streaming app's settings, tracker and outcome log."""
        state = getattr(getattr(self.app, "state", None), "stream", None)
        if not isinstance(state, StreamState):
            raise AttributeError("this server does not run create_stream_app()")
        return state

    @property
    def outcomes(self) -> list[StreamOutcome]:
        """How each stream ended, oldest first."""
        return list(self.state.outcomes)

    def stop(self) -> None:
        """Stop serving and wait for the thread to finish (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<streaming server {'stopped' if self._stopped else 'running'} at {self.url}>"


def serve_app(app: ASGIApp, *, port: int = 0, log_level: str = "warning",
              startup_timeout: float = 15.0) -> ServerHandle:
    """Serve ``app`` on ``127.0.0.1:port`` (0: any free port) and wait until it is up."""
    sock = _bound_socket(port)
    # lifespan "auto": apps that handle it (create_stream_app closes its model client there)
    # get their startup and shutdown; others are served without.
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="auto",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            loop.close()

    port_number = sock.getsockname()[1]
    thread = threading.Thread(target=serve, name=f"course-stream-{port_number}", daemon=True)
    handle = ServerHandle(app, port_number, server, thread, sock)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            handle.stop()
            raise RuntimeError(f"the server did not start within {startup_timeout} s")
        time.sleep(0.005)
    return handle


def start_stream_server(*, port: int = 0, log_level: str = "warning",
                        **app_options: Any) -> ServerHandle:
    """Build :func:`~course_lib.streaming.app.create_stream_app` (``app_options`` go to it)
    and serve it; returns a handle with ``.url``, ``.state``, ``.outcomes`` and ``.stop()``."""
    return serve_app(create_stream_app(**app_options), port=port, log_level=log_level)
