"""Shared fixtures: a real Redis server started by the tests (never assumed to be running), and
a sandbox per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from course_lib import sandbox
from course_lib.local_redis import start_local_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Start a real, throw-away Redis server on 127.0.0.1 for this test session."""
    with start_local_redis() as server:
        yield server.url


@pytest.fixture()
def redis_client(redis_url: str):
    """A client on a flushed database, so each test starts from nothing."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def sandbox_handle(request: pytest.FixtureRequest) -> Iterator[sandbox.SandboxHandle]:
    """A sandbox at time scale 0 for one test module (seed: the module's ``SANDBOX_SEED``)."""
    seed = getattr(request.module, "SANDBOX_SEED", 0)
    with sandbox.start(time_scale=0, seed=seed, hang_seconds=10) as handle:
        yield handle


@pytest.fixture()
def sb(sandbox_handle: sandbox.SandboxHandle) -> Iterator[sandbox.SandboxHandle]:
    """The module's sandbox with no faults scripted and no requests recorded yet."""
    sandbox_handle.faults.clear()
    sandbox_handle.clear_requests()
    yield sandbox_handle
    sandbox_handle.faults.clear()
