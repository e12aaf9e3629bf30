"""A sliding-window log in Redis: one limit shared by every process and machine.

The lesson's limiter lives in one process's memory: run four replicas of the agent and each
admits ``max_requests``, four times the provider quota. Sharing the log in Redis fixes that, but
only if "evict, count, add" happens as one step; two processes that both read "99 of 100" and
then both add would grant 101. A Lua script runs atomically on the server, so the whole decision
is a single round trip that no other client can interleave with.

Atomic is not yet exact. If each process stamps its request with **its own clock** before the
round trip, Redis runs the scripts in arrival order, not in timestamp order: a request stamped
at 1.0000 s can arrive after one stamped 1.0005 s, which already evicted a grant from 0.0003 s;
the late one then counts one grant too few and a window of 1 s ends up holding 41 grants for a
limit of 40 (measured with four processes and 0-1 ms of network delay; the extra grant always
falls within a millisecond of the window's edge). So the script reads the time **on the Redis
server** (``TIME``), at the moment it runs: timestamps then follow execution order, and the log
is exact. (Redis 5 and later replicate a script's effects, not the script, so reading ``TIME``
before writing is allowed.) The injected ``clock`` remains for tests, which need to move time
by hand, and to reproduce the client-clock bug.

:class:`RedisTokenWindowLimiter` is the same log with a weight per grant (tokens per minute,
:mod:`course_lib.algorithms.token_window`), plus a running total kept beside it so a decision
does not sum the whole log.

The log for one key is a sorted set: score = grant time in integer microseconds, member = that
time plus a random suffix. The suffix matters: sorted-set members are unique, so two grants in the
same microsecond with the same member would collapse into one and the second would not count.

In production the ``limits`` package offers the same moving window on Redis
(``limits.storage.RedisStorage`` with ``limits.strategies.MovingWindowRateLimiter``).
"""

from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING

from ..arguments import require_int, require_positive_seconds, require_str
from .rate_limit import Clock, check_rate_limit_args
from .token_window import check_tokens

if TYPE_CHECKING:
    import redis

__all__ = ["SERVER_TIME_LUA", "RedisSlidingWindowLimiter", "RedisTokenWindowLimiter"]

# Sets ``now``: the caller's time (ARGV[1], integer microseconds as a string) or, when ARGV[1]
# is empty, the Redis server's clock. string.format('%d') keeps all 16 digits, where Lua's own
# number-to-string conversion keeps only 14.
SERVER_TIME_LUA = """
local now = tonumber(ARGV[1])
if now == nil then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local now_text = string.format('%d', now)
"""

# KEYS[1]: the log. ARGV: now ('' = server time), window in µs, max_requests, a random member
# suffix, time-to-live in ms. Returns {1 if granted else 0, the grant time in µs}.
_ALLOW_SCRIPT = SERVER_TIME_LUA + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - tonumber(ARGV[2])))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return {0, now_text}
end
redis.call('ZADD', KEYS[1], now_text, now_text .. ':' .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, now_text}
"""

# Read-only. ARGV: now ('' = server time), window in µs, max_requests. Returns {grants in the
# window, the grant time whose expiry frees a slot or -1, now}.
_STATUS_SCRIPT = SERVER_TIME_LUA + """
local cutoff = '(' .. string.format('%d', now - tonumber(ARGV[2]))
local count = redis.call('ZCOUNT', KEYS[1], cutoff, '+inf')
local limit = tonumber(ARGV[3])
if count < limit then
  return {count, -1, now_text}
end
local entry = redis.call('ZRANGEBYSCORE', KEYS[1], cutoff, '+inf',
                         'WITHSCORES', 'LIMIT', count - limit, 1)
return {count, entry[2], now_text}
"""

_MICROS = 1_000_000


class RedisSlidingWindowLimiter:
    """At most ``max_requests`` grants per ``window_seconds`` for ``key``, across processes.

    Same semantics as :class:`course_lib.algorithms.rate_limit.SlidingWindowLimiter`: a grant at
    ``t`` holds a slot during ``[t, t + window_seconds)``. Every limiter object that uses the same
    Redis database and ``key`` shares the limit; use one key per thing you limit (for example
    ``f"ratelimit:{tenant_id}"``).

    ``clock=None`` (the default, for production) reads the Redis server's clock inside the
    script, so every process shares one clock and grants are stamped in the order Redis runs
    them: exact. Pass a clock (seconds since the epoch, e.g. a fake one) only in tests; every
    process sharing the key must then use the same kind of clock, and the log is exact only if
    the requests reach Redis in the order of their timestamps. The key expires once its newest
    grant has left the window, so idle keys cost no memory.

    ``redis_client`` is a ``redis.Redis`` (``decode_responses`` either way).
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        max_requests: int,
        window_seconds: float,
        clock: Clock | None = None,
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

    @property
    def uses_server_time(self) -> bool:
        """True when timestamps come from the Redis server (no clock was injected)."""
        return self._clock is None

    def _now_arg(self) -> str:
        return "" if self._clock is None else str(round(self._clock() * _MICROS))

    def try_acquire(self) -> int | None:
        """Take a slot if one is free: the grant's timestamp as Redis recorded it (integer
        microseconds since the epoch), or ``None`` when the window is full."""
        ttl_ms = math.ceil(self._window_us / 1000)
        granted, at = self._allow(
            keys=[self.key],
            args=[self._now_arg(), self._window_us, self.max_requests, secrets.token_hex(8),
                  ttl_ms],
        )
        return int(at) if int(granted) == 1 else None

    def allow(self) -> bool:
        """Take a slot if one is free, atomically across every process sharing the key."""
        return self.try_acquire() is not None

    def _read_status(self) -> tuple[int, int, int]:
        count, slot_grant, now = self._status(
            keys=[self.key], args=[self._now_arg(), self._window_us, self.max_requests]
        )
        return int(now), int(count), int(slot_grant)

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
        clock = "Redis server time" if self._clock is None else "injected clock"
        return (
            f"{type(self).__name__}(key={self.key!r}, max_requests={self.max_requests}, "
            f"window_seconds={self.window_seconds}, {clock})"
        )


# KEYS[1]: the log (score: grant time in µs; member: "<time>:<tokens>:<random>"); KEYS[2]: the
# tokens the log holds. ARGV: now ('' = server time), window in µs, max_tokens, tokens, random
# suffix, time-to-live in ms, '1' to take the tokens if they fit or '0' only to ask.
# Returns {1 if they fit (and were taken) else 0, µs until they would fit, now}.
_TOKENS_SCRIPT = SERVER_TIME_LUA + """
local cutoff = string.format('%d', now - tonumber(ARGV[2]))
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
if #expired > 0 then
  for _, member in ipairs(expired) do
    used = used - tonumber(string.match(member, '^%d+:(%d+):'))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  if used == 0 then
    redis.call('DEL', KEYS[2])
  else
    redis.call('SET', KEYS[2], used, 'KEEPTTL')
  end
end
local tokens = tonumber(ARGV[4])
local excess = used + tokens - tonumber(ARGV[3])
if excess <= 0 then
  if ARGV[7] == '1' then
    redis.call('ZADD', KEYS[1], now_text, now_text .. ':' .. ARGV[4] .. ':' .. ARGV[5])
    redis.call('SET', KEYS[2], used + tokens, 'PX', ARGV[6])
    redis.call('PEXPIRE', KEYS[1], ARGV[6])
  end
  return {1, 0, now_text}
end
-- Walk the oldest grants until their expiry frees enough: O(grants walked).
local freed, start = 0, 0
while true do
  local page = redis.call('ZRANGE', KEYS[1], start, start + 63, 'WITHSCORES')
  if #page == 0 then  -- the total outlived its log (someone deleted keys): start afresh
    redis.call('DEL', KEYS[2])
    return {0, 0, now_text}
  end
  for i = 1, #page, 2 do
    freed = freed + tonumber(string.match(page[i], '^%d+:(%d+):'))
    if freed >= excess then
      local wait = tonumber(page[i + 1]) + tonumber(ARGV[2]) - now
      return {0, string.format('%d', wait), now_text}
    end
  end
  start = start + 64
end
"""


class RedisTokenWindowLimiter:
    """At most ``max_tokens`` per ``window_seconds`` for ``key``, shared by every process.

    The token window of :class:`course_lib.algorithms.token_window.TokenWindowLimiter` in Redis,
    with the same semantics and the same clock rule as :class:`RedisSlidingWindowLimiter`
    (``clock=None``: the Redis server's time). It uses two keys, ``key`` (the log) and
    ``key + ":tokens"`` (their total); on Redis Cluster put the shared part in braces, e.g.
    ``"{tpm:tenant-42}"``, so both land in one slot.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        key: str,
        max_tokens: int,
        window_seconds: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        self.max_tokens = require_int("max_tokens", max_tokens, minimum=1)
        self.window_seconds = require_positive_seconds("window_seconds", window_seconds)
        if not require_str("key", key):
            raise ValueError("key must be a non-empty str")
        self._window_us = round(self.window_seconds * _MICROS)
        if self._window_us < 1:
            raise ValueError(
                f"window_seconds must be at least one microsecond, got {window_seconds!r}")
        self.key = key
        self._clock = clock
        self._script = redis_client.register_script(_TOKENS_SCRIPT)

    def _run(self, tokens: object, take: bool) -> tuple[bool, float]:
        count = check_tokens(tokens, self.max_tokens)
        now = "" if self._clock is None else str(round(self._clock() * _MICROS))
        fits, wait_us, _ = self._script(
            keys=[self.key, self.key + ":tokens"],
            args=[now, self._window_us, self.max_tokens, count, secrets.token_hex(8),
                  math.ceil(self._window_us / 1000), "1" if take else "0"],
        )
        return int(fits) == 1, int(wait_us) / _MICROS

    def try_acquire(self, tokens: int) -> bool:
        """Take ``tokens`` if they fit in the shared window now; ``False`` (nothing taken) if
        not."""
        return self._run(tokens, take=True)[0]

    def wait_seconds(self, tokens: int) -> float:
        """Seconds until ``tokens`` would fit, if no process takes any meanwhile."""
        return self._run(tokens, take=False)[1]

    def __repr__(self) -> str:
        clock = "Redis server time" if self._clock is None else "injected clock"
        return (f"{type(self).__name__}(key={self.key!r}, max_tokens={self.max_tokens}, "
                f"window_seconds={self.window_seconds}, {clock})")
