"""Shared fixtures: a real Redis server started by the tests, never assumed to be running."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
