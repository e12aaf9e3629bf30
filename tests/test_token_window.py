"""The token window (tokens per minute), in memory and in Redis, and RPM + TPM together.

Every test moves an injected clock by hand; nothing sleeps. The property tests compare the
limiter's decisions and waits with a brute-force log that sums every live grant.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib.algorithms import (
    RateLimits,
    RedisTokenWindowLimiter,
    SlidingWindowLimiter,
    TokenBudget,
    TokenWindowLimiter,
)

EPOCH = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class BruteForceLog:
    """Every grant kept forever; the tokens in the window summed from scratch each time."""

    def __init__(self, max_tokens: int, window: float) -> None:
        self.max_tokens, self.window = max_tokens, window
        self.grants: list[tuple[float, int]] = []

    def used_at(self, now: float) -> int:
        return sum(n for t, n in self.grants if t + self.window > now)

    def try_acquire(self, now: float, tokens: int) -> bool:
        if self.used_at(now) + tokens > self.max_tokens:
            return False
        self.grants.append((now, tokens))
        return True

    def wait_seconds(self, now: float, tokens: int) -> float:
        # The budget only grows when a grant expires: try every expiry, earliest first.
        expiries = sorted(t + self.window for t, _ in self.grants if t + self.window > now)
        for moment in [now, *expiries]:
            if self.used_at(moment) + tokens <= self.max_tokens:
                return moment - now
        raise AssertionError("a request within max_tokens always fits eventually")


def test_a_grant_holds_its_tokens_for_exactly_one_window() -> None:
    clock = FakeClock()
    tpm = TokenWindowLimiter(1_000, 60.0, clock=clock)
    assert tpm.try_acquire(400)
    clock.now = 30.0
    assert tpm.try_acquire(500)
    assert not tpm.try_acquire(200)  # 900 in the window; 200 more would make 1,100
    assert tpm.wait_seconds(200) == 30.0  # the 400 from t=0 expire at t=60
    assert tpm.wait_seconds(100) == 0.0
    assert (tpm.used(), tpm.remaining()) == (900, 100)
    clock.now = 59.999
    assert not tpm.try_acquire(200)
    clock.now = 60.0
    assert tpm.try_acquire(200)
    assert tpm.wait_seconds(1_000) == 60.0  # the 200 granted at t=60 hold until t=120


def test_bad_requests_are_named() -> None:
    tpm = TokenWindowLimiter(1_000, clock=FakeClock())
    with pytest.raises(ValueError, match="a request of 1,001 tokens can never fit a window of "
                                         "1,000 tokens"):
        tpm.try_acquire(1_001)
    for bad, error in ((0, ValueError), (-5, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="tokens must be"):
            tpm.wait_seconds(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_tokens must be >= 1"):
        TokenWindowLimiter(0)
    with pytest.raises(ValueError, match="window_seconds must be a positive"):
        TokenWindowLimiter(10, 0)


def test_memory_stays_bounded_by_the_live_grants() -> None:
    """Expired grants are dropped in bulk: 100,000 grants over time, never more than a few
    hundred entries kept, while each decision stays exact."""
    clock = FakeClock()
    tpm = TokenWindowLimiter(100, 100.0, clock=clock)
    for step in range(100_000):
        clock.now = float(step)  # 100 grants per window
        assert tpm.try_acquire(1)
        assert len(tpm._expiries) - tpm._head == min(step + 1, 100)
        assert len(tpm._expiries) <= 300


def steps_of(min_size: int, max_size: int) -> st.SearchStrategy[list[tuple[int, int]]]:
    """(seconds to advance, tokens to ask for) pairs."""
    return st.lists(st.tuples(st.integers(min_value=0, max_value=25),
                              st.integers(min_value=1, max_value=12)),
                    min_size=min_size, max_size=max_size)


@settings(max_examples=60, deadline=None)
@given(steps=steps_of(100, 160), max_tokens=st.integers(min_value=12, max_value=40),
       window=st.integers(min_value=1, max_value=60))
def test_same_decisions_and_waits_as_the_brute_force_log(steps, max_tokens, window) -> None:
    """At least 100 steps: long enough for expired grants to be compacted away midway."""
    clock = FakeClock()
    tpm = TokenWindowLimiter(max_tokens, window, clock=clock)
    brute = BruteForceLog(max_tokens, window)
    for advance, tokens in steps:
        clock.now += advance
        assert tpm.wait_seconds(tokens) == brute.wait_seconds(clock.now, tokens)
        assert tpm.try_acquire(tokens) == brute.try_acquire(clock.now, tokens)
        assert tpm.used() == brute.used_at(clock.now)


# --------------------------------------------------------------------------- RPM and TPM


def test_requests_and_tokens_are_taken_together_or_not_at_all() -> None:
    clock = FakeClock()
    limits = RateLimits.per_minute(rpm=3, tpm=1_000, clock=clock)
    assert isinstance(limits, TokenBudget) and limits.max_tokens == 1_000
    assert limits.try_acquire(900)
    assert not limits.try_acquire(200)  # the TPM refuses: the RPM must not lose a slot
    assert limits.requests.remaining() == 2
    assert limits.wait_seconds(200) == 60.0
    assert limits.try_acquire(50) and limits.try_acquire(50)
    assert not limits.try_acquire(1)  # the RPM refuses: no token taken
    assert limits.tokens.used() == 1_000
    clock.now = 60.0
    assert limits.wait_seconds(1_000) == 0.0


def test_rate_limits_need_the_two_limiter_kinds() -> None:
    with pytest.raises(TypeError, match="requests must be a SlidingWindowLimiter"):
        RateLimits(TokenWindowLimiter(10), TokenWindowLimiter(10))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tokens must be a TokenWindowLimiter"):
        RateLimits(SlidingWindowLimiter(1, 1.0), SlidingWindowLimiter(1, 1.0))  # type: ignore


# --------------------------------------------------------------------------- Redis


_keys = itertools.count()


@pytest.mark.redis
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps_of(0, 60), max_tokens=st.integers(min_value=12, max_value=40),
       window=st.integers(min_value=1, max_value=60))
def test_redis_window_decides_as_the_in_memory_one(redis_client, steps, max_tokens,
                                                   window) -> None:
    clock = FakeClock(EPOCH)
    key = f"tpm:property:{next(_keys)}"
    shared = RedisTokenWindowLimiter(redis_client, key, max_tokens, window, clock=clock)
    local = TokenWindowLimiter(max_tokens, window, clock=clock)
    for advance, tokens in steps:
        clock.now += advance
        assert shared.wait_seconds(tokens) == pytest.approx(local.wait_seconds(tokens), abs=1e-6)
        assert shared.try_acquire(tokens) == local.try_acquire(tokens)


@pytest.mark.redis
def test_two_redis_limiters_on_one_key_share_the_tokens(redis_client) -> None:
    clock = FakeClock(EPOCH)
    first = RedisTokenWindowLimiter(redis_client, "tpm:shared", 1_000, 60.0, clock=clock)
    second = RedisTokenWindowLimiter(redis_client, "tpm:shared", 1_000, 60.0, clock=clock)
    assert first.try_acquire(700)
    assert not second.try_acquire(400)
    assert second.wait_seconds(400) == pytest.approx(60.0)
    assert second.try_acquire(300)
    assert int(redis_client.get("tpm:shared:tokens")) == 1_000
    clock.now += 60.0
    assert first.try_acquire(1_000)
    assert 0 < redis_client.pttl("tpm:shared") <= 60_000
    assert 0 < redis_client.pttl("tpm:shared:tokens") <= 60_000


@pytest.mark.redis
def test_the_redis_window_uses_the_servers_clock_by_default(redis_client) -> None:
    tpm = RedisTokenWindowLimiter(redis_client, "tpm:server", 1_000, 30.0)
    assert "Redis server time" in repr(tpm)
    assert tpm.try_acquire(800)
    assert not tpm.try_acquire(300)
    assert 29.0 <= tpm.wait_seconds(300) <= 30.0
    (member, score), = redis_client.zrange("tpm:server", 0, -1, withscores=True)
    seconds, micros = redis_client.time()
    assert 0 <= seconds * 1_000_000 + micros - score < 1_000_000
    assert member.decode().split(":")[1] == "800"
