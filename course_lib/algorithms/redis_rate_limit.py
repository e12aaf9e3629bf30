"""A sliding-window log in Redis: one limit shared by every process and machine.

The lesson's limiter lives in one process's memory: run four replicas of the agent and each
admits ``max_requests``, four times the provider quota. Sharing the log in Redis fixes that, but
only if "evict, count, add" happens as one step; two processes that both read "99 of 100" and
then both add would grant 101. A Lua script runs atomically on the server, so the whole decision
is a single round trip that no other client can interleave with.

The log for one key is a sorted set: score = grant time in integer microseconds, member = that
time plus a random suffix. The suffix matters: sorted-set members are unique, so two grants in the
same microsecond with the same member would collapse into one and the second would not count.

In production the ``limits`` package offers the same moving window on Redis
(``limits.storage.RedisStorage`` with ``limits.strategies.MovingWindowRateLimiter``).
"""

from __future__ import annotations

import math
import secrets
import time
from typing import TYPE_CHECKING

from ._checks import require_str
from .rate_limit import Clock, check_rate_limit_args

if TYPE_CHECKING:
    import redis

__all__ = ["RedisSlidingWindowLimiter"]

# KEYS[1]: the log. ARGV: cutoff (grants at or before it have expired), now, max_requests,
# member, time-to-live in ms. Times are integer microseconds passed as strings: Lua turns
# numbers into strings with 14 significant digits, too few for microseconds since 1970.
_ALLOW_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""

# Read-only: returns {grants in the window, grant time whose expiry frees a slot or -1}.
_STATUS_SCRIPT = """
local count = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')
local limit = tonumber(ARGV[2])
if count < limit then
  return {count, -1}
end
local entry = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf',
                         'WITHSCORES', 'LIMIT', count - limit, 1)
return {count, tonumber(entry[2])}
"""

_MICROS = 1_000_000


class RedisSlidingWindowLimiter:
    """At most ``max_requests`` grants per ``window_seconds`` for ``key``, across processes.

    Same semantics as :class:`course_lib.algorithms.rate_limit.SlidingWindowLimiter`: a grant at
    ``t`` holds a slot during ``[t, t + window_seconds)``. Every limiter object that uses the same
    Redis database and ``key`` shares the limit; use one key per thing you limit (for example
    ``f"ratelimit:{tenant_id}"``).

    ``clock`` defaults to ``time.time``: the log is shared, so every process must read the same
    kind of clock, and wall-clock time is the one they share. Skew between machines shifts the
    window by that much; keep hosts on NTP. The key expires once its newest grant has left the
    window, so idle keys cost no memory.

    ``redis_client`` is a ``redis.Redis`` (``decode_responses`` either way).
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        max_requests: int,
        window_seconds: float,
        clock: Clock = time.time,
    ) -> None:
        self.max_requests, self.window_seconds = check_rate_limit_args(max_requests, window_seconds)
        if not require_str("key", key):
            raise ValueError("key must be a non-empty str")
        self._window_us = round(self.window_seconds * _MICROS)
        if self._window_us < 1:
            raise ValueError(
                f"window_seconds must be at least one microsecond, got {window_seconds!r}"
            )
        self.key = key
        self._clock = clock
        self._redis = redis_client
        self._allow = redis_client.register_script(_ALLOW_SCRIPT)
        self._status = redis_client.register_script(_STATUS_SCRIPT)

    def _now_us(self) -> int:
        return round(self._clock() * _MICROS)

    def allow(self) -> bool:
        """Take a slot if one is free, atomically across every process sharing the key."""
        now = self._now_us()
        member = f"{now}:{secrets.token_hex(8)}"
        ttl_ms = math.ceil(self._window_us / 1000)
        granted = self._allow(
            keys=[self.key],
            args=[str(now - self._window_us), str(now), self.max_requests, member, ttl_ms],
        )
        return int(granted) == 1

    def _read_status(self) -> tuple[int, int, int]:
        now = self._now_us()
        count, slot_grant = self._status(
            keys=[self.key], args=[str(now - self._window_us), self.max_requests]
        )
        return now, int(count), int(slot_grant)

    def remaining(self) -> int:
        """How many more requests would be granted right now (by every process together)."""
        _, count, _ = self._read_status()
        return max(0, self.max_requests - count)

    def retry_after(self) -> float:
        """Seconds until a slot frees (0.0 if one is free now)."""
        now, _, slot_grant = self._read_status()
        if slot_grant < 0:
            return 0.0
        return max(0.0, (slot_grant + self._window_us - now) / _MICROS)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(key={self.key!r}, max_requests={self.max_requests}, "
            f"window_seconds={self.window_seconds})"
        )
