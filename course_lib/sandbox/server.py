"""Run the sandbox: uvicorn in a background thread, on 127.0.0.1 only.

``start()`` binds a socket first (port 0 picks a free one, so two notebooks never collide), then
serves on it from a daemon thread with its own event loop, and returns once the server answers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

import uvicorn

from course_lib.sandbox.app import RequestRecord, SandboxState, SimulatedStreamCut, create_app
from course_lib.sandbox.faults import FaultInjector

__all__ = ["SandboxHandle", "default_time_scale", "start"]

HOST = "127.0.0.1"


def default_time_scale() -> float:
    """``COURSE_SANDBOX_TIME_SCALE`` if set (CI runs faster), else 1.0 (real-time latencies)."""
    raw = os.environ.get("COURSE_SANDBOX_TIME_SCALE", "1.0")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"COURSE_SANDBOX_TIME_SCALE must be a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"COURSE_SANDBOX_TIME_SCALE must be >= 0, got {value}")
    return value


class _HideSimulatedCuts(logging.Filter):
    """A stream cut on purpose is not a server error: keep its traceback out of notebooks."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedStreamCut))


_CUT_FILTER = _HideSimulatedCuts()


def _warm_up() -> None:
    from course_lib import tokens
    from course_lib.embeddings import get_embedder
    from course_lib.sandbox.answers import get_retriever

    for model in ("gpt-4o", "text-embedding-3-small"):
        tokens.encoding_for(model)
    get_retriever()
    get_embedder()


def _bound_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Without TCP_NODELAY, Nagle's algorithm plus delayed ACKs add ~40 ms to every small
    # keep-alive request: that would be the sandbox's latency, not the model's.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot bind the sandbox to {HOST}:{port}: {exc.strerror}") from exc
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


@dataclass
class SandboxHandle:
    """A running sandbox. Use as a context manager, or call :meth:`stop`."""

    state: SandboxState
    port: int
    _server: uvicorn.Server
    _thread: threading.Thread
    _socket: socket.socket
    _stopped: bool = field(default=False)

    @property
    def base_url(self) -> str:
        """What to pass as the ``openai`` client's ``base_url``."""
        return f"http://{HOST}:{self.port}/v1"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def faults(self) -> FaultInjector:
        """Fail requests on purpose: ``handle.faults.script("429", count=2, model="gpt-4o")``."""
        return self.state.faults

    @property
    def time_scale(self) -> float:
        return self.state.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"time_scale must be >= 0, got {value}")
        self.state.time_scale = float(value)

    @property
    def requests(self) -> list[RequestRecord]:
        """What the sandbox did, per request, oldest first."""
        return list(self.state.records)

    def clear_requests(self) -> None:
        self.state.records.clear()

    def stop(self) -> None:
        """Stop serving and wait for the thread to finish (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        loop_event = self.state.shutting_down
        if loop_event is not None and self._server_loop is not None:
            self._server_loop.call_soon_threadsafe(loop_event.set)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    _server_loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        status = "stopped" if self._stopped else "running"
        return f"<course sandbox {status} at {self.base_url}, time_scale={self.time_scale}>"


def start(
    *,
    port: int = 0,
    time_scale: float | None = None,
    seed: int = 0,
    hang_seconds: float = 60.0,
    retry_after_s: float = 1.0,
    log_level: str = "warning",
    warm: bool = True,
) -> SandboxHandle:
    """Start a sandbox on ``127.0.0.1:port`` (0: any free port) and wait until it answers.

    ``time_scale`` multiplies every simulated delay (1.0 real-time, 0.1 ten times faster,
    0 no delay at all); ``seed`` makes latency jitter and fault rates reproducible.
    ``warm`` loads the tokenizers, the knowledge base and the embedding model first (once per
    process), so the first request measured is not also the one that pays for loading them.
    """
    logging.getLogger("uvicorn.error").addFilter(_CUT_FILTER)  # adding it twice is a no-op
    if warm:
        _warm_up()
    state = SandboxState(
        time_scale=default_time_scale() if time_scale is None else time_scale,
        seed=seed,
        hang_seconds=hang_seconds,
        faults=FaultInjector(seed=seed, retry_after_s=retry_after_s),
    )
    sock = _bound_socket(port)
    config = uvicorn.Config(
        create_app(state),
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=2,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    ready = threading.Event()
    handle: SandboxHandle

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        state.shutting_down = asyncio.Event()
        handle._server_loop = loop
        ready.set()
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name=f"course-sandbox-{sock.getsockname()[1]}",
                              daemon=True)
    handle = SandboxHandle(state, sock.getsockname()[1], server, thread, sock)
    thread.start()
    ready.wait(timeout=10)
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            handle.stop()
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.005)
    return handle
