"""Single-flight across processes: a Redis lock so only one worker computes a missing answer.

In-process single-flight stops a stampede inside one worker. Run eight workers behind a load
balancer and a hot miss still reaches the model eight times. The fix is a short-lived lock in
the shared Redis, taken with ``SET lock-key token NX PX ttl`` ("set if absent, expire after
ttl"): the process that gets it computes and stores the answer; the others wait for the answer to
appear in the cache.

Three details make it safe:

* the lock **expires** (``PX``), so a worker that crashes while holding it delays the others by
  at most the lock's TTL instead of forever;
* it is released with a **compare-and-delete** script, so a worker whose lock already expired
  cannot delete the lock a successor now holds;
* waiting is **bounded**: after ``wait_timeout_s`` a waiter computes by itself, and when the
  holder releases without storing anything (it failed, or the answer was not cacheable) a waiter
  takes the lock and computes. A slow or broken peer never blocks a user for longer than that.

This is a lease, not a consensus lock: with a lock TTL shorter than the computation two workers
can compute at once. That costs one duplicate call, never a wrong answer, which is the right
trade for a cache. (Redis's documentation discusses the stronger Redlock variant.)
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import redis

__all__ = ["RedisSingleFlight"]

T = TypeVar("T")
logger = logging.getLogger(__name__)

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisSingleFlight:
    """One computation per key at a time across every process sharing ``redis_client``.

    ``run(key, compute, peek)`` returns ``(value, shared)``. ``peek()`` looks in the cache
    (None on a miss); ``compute()`` produces the value *and stores it*, so that waiters find it
    with ``peek``. ``on_wait(key)`` is called once when this process starts waiting for a peer
    (a hook for metrics and for tests that must know a waiter exists).
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        prefix: str = "course:cache:lock:",
        lock_ttl_s: float = 30.0,
        wait_timeout_s: float | None = None,
        poll_interval_s: float = 0.005,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix must be a non-empty string, got {prefix!r}")
        for name, value in (("lock_ttl_s", lock_ttl_s), ("poll_interval_s", poll_interval_s)):
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        self.prefix = prefix
        self.lock_ttl_s = float(lock_ttl_s)
        self.wait_timeout_s = float(lock_ttl_s if wait_timeout_s is None else wait_timeout_s)
        self.poll_interval_s = float(poll_interval_s)
        self.on_wait = on_wait
        self._redis = redis_client
        self._release = redis_client.register_script(_RELEASE)

    def _try_acquire(self, name: str) -> str | None:
        token = secrets.token_hex(16)
        ttl_ms = max(1, math.ceil(self.lock_ttl_s * 1000))
        return token if self._redis.set(name, token, nx=True, px=ttl_ms) else None

    def _held(self, name: str) -> bool:
        return bool(self._redis.exists(name))

    def run(self, key: str, compute: Callable[[], T], peek: Callable[[], T | None]
            ) -> tuple[T, bool]:
        import redis

        name = self.prefix + key
        deadline = time.monotonic() + self.wait_timeout_s
        announced = False
        while True:
            try:
                token = self._try_acquire(name)
            except redis.RedisError as exc:
                logger.warning("cross-process lock unavailable (%s); computing without it", exc)
                return compute(), False
            if token is not None:
                try:
                    # A peer may have stored the value between our miss and our lock.
                    found = peek()
                    if found is not None:
                        return found, True
                    return compute(), False
                finally:
                    try:
                        self._release(keys=[name], args=[token])
                    except redis.RedisError as exc:  # it expires by itself
                        logger.warning("could not release cross-process lock %s: %s", name, exc)
            if not announced:
                announced = True
                if self.on_wait is not None:
                    self.on_wait(key)
            try:
                while self._held(name) and time.monotonic() < deadline:
                    found = peek()
                    if found is not None:
                        return found, True
                    time.sleep(self.poll_interval_s)
            except redis.RedisError as exc:
                logger.warning("cross-process lock unavailable (%s); computing without it", exc)
                return compute(), False
            found = peek()
            if found is not None:
                return found, True
            if time.monotonic() >= deadline:
                logger.warning("waited %.2f s for a peer computing %s; computing here",
                               self.wait_timeout_s, key)
                return compute(), False
            # The holder let go without storing a value: take the lock and compute.
