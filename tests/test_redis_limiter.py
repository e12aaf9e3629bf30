"""RedisSlidingWindowLimiter against the real Redis server that conftest.py starts.

In-process behaviour runs on a fake clock (no sleeping); the cross-process test starts two OS
processes that share one key and must together get exactly ``max_requests`` grants.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.algorithms import RedisSlidingWindowLimiter, SlidingWindowLimiter

pytestmark = pytest.mark.redis

# A realistic epoch time: microsecond scores near 1.7e15 must stay exact.
EPOCH = 1_700_000_000.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = EPOCH) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_boundary_at_the_window_edge(redis_client):
    """A grant at t frees its slot at exactly t + window; retry_after says when."""
    clock = FakeClock()
    limiter = RedisSlidingWindowLimiter(redis_client, "rl:edge", 3, 10.0, clock=clock)
    for offset in (0.0, 1.0, 2.0):
        clock.now = EPOCH + offset
        assert limiter.allow()
    assert limiter.remaining() == 0
    clock.now = EPOCH + 9.75
    assert not limiter.allow()
    assert limiter.retry_after() == pytest.approx(0.25, abs=1e-6)
    clock.now = EPOCH + 10.0
    assert limiter.remaining() == 1
    assert limiter.retry_after() == 0.0
    assert limiter.allow()
    assert not limiter.allow()
    assert limiter.retry_after() == pytest.approx(1.0, abs=1e-6)
    clock.now = EPOCH + 12.5
    assert limiter.remaining() == 2


def test_same_microsecond_requests_all_count(redis_client):
    """Unique members: five grants at one instant are five entries, and the sixth is refused."""
    limiter = RedisSlidingWindowLimiter(redis_client, "rl:burst", 5, 60.0, clock=FakeClock())
    assert [limiter.allow() for _ in range(7)] == [True] * 5 + [False] * 2
    assert redis_client.zcard("rl:burst") == 5


def test_key_expires_after_the_window(redis_client):
    """Idle keys clean themselves up: the TTL is the window."""
    limiter = RedisSlidingWindowLimiter(redis_client, "rl:ttl", 2, 30.0, clock=FakeClock())
    assert limiter.allow()
    assert 0 < redis_client.pttl("rl:ttl") <= 30_000


def test_limiters_sharing_a_key_share_the_limit_and_other_keys_do_not(redis_client):
    """Two objects on one key split one allowance; another key has its own."""
    clock = FakeClock()
    first = RedisSlidingWindowLimiter(redis_client, "rl:tenant-a", 4, 60.0, clock=clock)
    second = RedisSlidingWindowLimiter(redis_client, "rl:tenant-a", 4, 60.0, clock=clock)
    other = RedisSlidingWindowLimiter(redis_client, "rl:tenant-b", 4, 60.0, clock=clock)
    assert [first.allow(), second.allow(), first.allow(), second.allow()] == [True] * 4
    assert not first.allow()
    assert not second.allow()
    assert all(other.allow() for _ in range(4))


def test_decoded_responses_client_works_too(redis_url):
    """A client created with decode_responses=True returns str replies; the limiter copes."""
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        clock = FakeClock()
        limiter = RedisSlidingWindowLimiter(client, "rl:decoded", 1, 10.0, clock=clock)
        assert limiter.allow()
        assert not limiter.allow()
        clock.now += 4.0
        assert limiter.retry_after() == pytest.approx(6.0, abs=1e-6)
        assert limiter.remaining() == 0
    finally:
        client.delete("rl:decoded")
        client.close()


_keys = itertools.count()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=40), max_size=40).map(sorted),
    max_requests=st.integers(min_value=1, max_value=5),
    window=st.integers(min_value=1, max_value=15),
)
def test_same_decisions_as_the_in_process_limiter(redis_client, offsets, max_requests, window):
    """On any arrival sequence the shared log decides exactly as the in-process exact log."""
    key = f"rl:property:{next(_keys)}"  # a fresh key per example; the fixture flushes once
    clock = FakeClock()
    shared = RedisSlidingWindowLimiter(redis_client, key, max_requests, window, clock=clock)
    local = SlidingWindowLimiter(max_requests, window, clock=clock)
    for offset in offsets:
        clock.now = EPOCH + offset
        assert shared.allow() == local.allow()
        assert shared.remaining() == local.remaining()
        assert shared.retry_after() == pytest.approx(local.retry_after(), abs=1e-6)


CHILD = textwrap.dedent(
    """
    import sys

    import redis

    from course_lib.algorithms import RedisSlidingWindowLimiter

    url, key, name, attempts, limit = sys.argv[1:]
    client = redis.Redis.from_url(url)
    limiter = RedisSlidingWindowLimiter(client, key, int(limit), 60.0)
    client.rpush(key + ":ready", name)
    if client.blpop([key + ":go"], timeout=20) is None:
        sys.exit("no start signal")
    print(sum(limiter.allow() for _ in range(int(attempts))))
    """
)


def test_two_processes_sharing_a_key_get_exactly_max_requests(redis_client, redis_url):
    """Two OS processes, started together, hammer one key: 60 grants in total out of 300 tries."""
    key, limit, attempts = "rl:shared", 60, 150
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, redis_url, key, name, str(attempts), str(limit)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("first", "second")
    ]
    try:
        # Wait until both are connected, then release them at once so their requests interleave.
        for _ in children:
            assert redis_client.blpop([f"{key}:ready"], timeout=20) is not None
        redis_client.rpush(f"{key}:go", 1, 1)
        outputs = [child.communicate(timeout=30) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (_, stderr) in zip(children, outputs, strict=True):
        assert child.returncode == 0, stderr
    grants = [int(stdout) for stdout, _ in outputs]
    assert sum(grants) == limit
    assert redis_client.zcard(key) == limit


@pytest.mark.parametrize(
    ("key", "max_requests", "window", "error", "message"),
    [
        ("rl:x", 0, 1.0, ValueError, "max_requests must be >= 1, got 0"),
        ("rl:x", -1, 1.0, ValueError, "max_requests must be >= 1"),
        ("rl:x", 10, 0, ValueError, "window_seconds must be a positive, finite number"),
        ("rl:x", 10, -2.5, ValueError, "window_seconds must be a positive"),
        ("rl:x", 10, math.inf, ValueError, "window_seconds must be a positive, finite"),
        ("rl:x", 10, 1e-9, ValueError, "at least one microsecond"),
        ("", 10, 1.0, ValueError, "key must be a non-empty str"),
        (b"rl:x", 10, 1.0, TypeError, "key must be a str"),
    ],
)
def test_bad_arguments(redis_client, key, max_requests, window, error, message):
    """Bad limits and keys fail at construction with a message naming the argument."""
    with pytest.raises(error, match=message):
        RedisSlidingWindowLimiter(redis_client, key, max_requests, window)
