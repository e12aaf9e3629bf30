"""Serve the streaming app (or any ASGI app) with uvicorn on 127.0.0.1, from a background thread.

The same recipe as the sandbox's runner (:mod:`course_lib.serving`): a pre-bound loopback
socket with ``TCP_NODELAY``, so small SSE writes leave at once, served from a daemon thread::

    with start_stream_server(allowed_origins=["http://localhost:3000"]) as server:
        print(server.url)            # open it in a browser: the live page
        result = await stream_chat(server.url, "How do I reset my password?")
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from course_lib.serving import HOST, BackgroundServer
from course_lib.serving import ServerHandle as BaseHandle
from course_lib.streaming.app import StreamOutcome, StreamState, create_stream_app

__all__ = ["HOST", "StreamServerHandle", "serve_app", "start_stream_server"]


class StreamServerHandle(BaseHandle):
    """A running server. Use as a context manager, or call :meth:`stop`."""

    def __init__(self, app: Any, server: BackgroundServer) -> None:
        super().__init__(server)
        self.app = app

    @property
    def state(self) -> StreamState:
        """The streaming app's settings, tracker and outcome log."""
        state = getattr(getattr(self.app, "state", None), "stream", None)
        if not isinstance(state, StreamState):
            raise AttributeError("this server does not run create_stream_app()")
        return state

    @property
    def outcomes(self) -> list[StreamOutcome]:
        """How the latest streams ended (at most ``MAX_OUTCOMES``), oldest first."""
        return list(self.state.outcomes)

    def __repr__(self) -> str:
        status = "stopped" if self._server.stopped else "running"
        return f"<streaming server {status} at {self.url}>"


def serve_app(app: ASGIApp, *, port: int = 0, log_level: str = "warning",
              startup_timeout: float = 15.0) -> StreamServerHandle:
    """Serve ``app`` on ``127.0.0.1:port`` (0: any free port) and wait until it is up."""
    # lifespan "auto": apps that handle it (create_stream_app closes its model client there)
    # get their startup and shutdown; others are served without.
    server = BackgroundServer(app, port=port, name="streaming server", lifespan="auto",
                              log_level=log_level, startup_timeout=startup_timeout)
    return StreamServerHandle(app, server)


def start_stream_server(*, port: int = 0, log_level: str = "warning",
                        **app_options: Any) -> StreamServerHandle:
    """Build :func:`~course_lib.streaming.app.create_stream_app` (``app_options`` go to it)
    and serve it; returns a handle with ``.url``, ``.state``, ``.outcomes`` and ``.stop()``."""
    return serve_app(create_stream_app(**app_options), port=port, log_level=log_level)
