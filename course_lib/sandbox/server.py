"""Run the sandbox: uvicorn in a background thread, on 127.0.0.1 only.

``start()`` returns once the server answers; :mod:`course_lib.serving` holds the recipe
(a pre-bound loopback socket with ``TCP_NODELAY``, a daemon thread with its own event loop).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from course_lib.sandbox.app import RequestRecord, SandboxState, SimulatedStreamCut, create_app
from course_lib.sandbox.caches import EmbeddingMemo
from course_lib.sandbox.faults import FaultInjector
from course_lib.sandbox.serve_as import parse_serve_as
from course_lib.serving import BackgroundServer, ServerHandle
from course_lib.time_scale import check_time_scale, default_time_scale

__all__ = ["SandboxHandle", "start"]


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


class SandboxHandle(ServerHandle):
    """A running sandbox. Use as a context manager, or call :meth:`stop`."""

    def __init__(self, state: SandboxState, server: BackgroundServer) -> None:
        super().__init__(server)
        self.state = state

    @property
    def base_url(self) -> str:
        """What to pass as the ``openai`` client's ``base_url``."""
        return f"{self.url}/v1"

    @property
    def faults(self) -> FaultInjector:
        """Fail requests on purpose: ``handle.faults.script("429", count=2, model="gpt-4o")``."""
        return self.state.faults

    @property
    def time_scale(self) -> float:
        return self.state.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        self.state.time_scale = check_time_scale(value)

    @property
    def requests(self) -> list[RequestRecord]:
        """What the sandbox did, per request, oldest first."""
        return list(self.state.records)

    def clear_requests(self) -> None:
        self.state.records.clear()

    def stop(self) -> None:
        """Stop serving and wait for the thread to finish (idempotent)."""
        shutting_down = self.state.shutting_down
        if shutting_down is not None and not self._server.stopped:
            self._server.call_soon(shutting_down.set)  # wake requests that simulate a hang
        super().stop()

    def __repr__(self) -> str:
        status = "stopped" if self._server.stopped else "running"
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
    serve_as: str | Mapping[str, str] | None = None,
    embedding_memo: EmbeddingMemo | None = None,
) -> SandboxHandle:
    """Start a sandbox on ``127.0.0.1:port`` (0: any free port) and wait until it answers.

    ``time_scale`` multiplies every simulated delay (1.0 real-time, 0.1 ten times faster,
    0 no delay at all); ``seed`` makes latency jitter and fault rates reproducible.
    ``warm`` loads the tokenizers, the knowledge base and the embedding model first (once per
    process), so the first request measured is not also the one that pays for loading them.
    ``serve_as`` (``"llama3.1:8b=gpt-4o,..."`` or a mapping) makes it serve only those names,
    each simulating a model it knows (:mod:`.serve_as`). ``embedding_memo`` shares one memo of
    vectors between sandboxes, so a notebook that starts a fresh sandbox per experiment embeds
    each text once.
    """
    served = parse_serve_as(serve_as)
    for logger in ("uvicorn.error", "course_lib.http_edge"):
        logging.getLogger(logger).addFilter(_CUT_FILTER)  # adding it twice is a no-op
    if warm:
        _warm_up()
    state = SandboxState(
        time_scale=default_time_scale() if time_scale is None else time_scale,
        seed=seed,
        hang_seconds=hang_seconds,
        faults=FaultInjector(seed=seed, retry_after_s=retry_after_s),
        serve_as=served,
        embedding_memo=EmbeddingMemo() if embedding_memo is None else embedding_memo,
    )

    def make_shutdown_event(loop: asyncio.AbstractEventLoop) -> None:
        state.shutting_down = asyncio.Event()

    server = BackgroundServer(create_app(state), port=port, name="sandbox",
                              log_level=log_level, on_loop=make_shutdown_event)
    return SandboxHandle(state, server)
