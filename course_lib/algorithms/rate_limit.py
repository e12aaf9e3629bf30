"""Sliding-window rate limiting in one process: an exact log, and a two-bucket approximation.

"At most ``max_requests`` in any ``window_seconds``" protects a provider quota (requests per
minute) or a user's budget. The lesson's Go limiter keeps every timestamp in a slice and rebuilds
the slice on every request: ``O(n)`` work per call, in one process only. Here:

- :class:`SlidingWindowLimiter` keeps the same log in a ``deque``. Grants are appended in time
  order, so only the oldest can expire: evicting from the left is ``O(1)`` amortised, and the log
  never holds more than ``max_requests`` entries. Exact.
- :class:`SlidingWindowCounter` keeps two counters (this fixed window and the previous one) and
  weights the previous one by how much of it still overlaps the sliding window. ``O(1)`` memory
  whatever the limit; approximate, with the bound documented on the class.
- :class:`course_lib.algorithms.redis_rate_limit.RedisSlidingWindowLimiter` shares one log
  between processes and machines.

Both take ``clock``, a function returning seconds (``time.monotonic`` by default, so a wall-clock
change cannot open or close the window); tests pass a fake clock and never sleep.

In production use the ``limits`` package: ``MovingWindowRateLimiter`` is this exact log (memory,
Redis and other storages), ``SlidingWindowCounterRateLimiter`` is the two-bucket counter.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ..arguments import require_int, require_positive_seconds

__all__ = ["Clock", "SlidingWindowCounter", "SlidingWindowLimiter", "check_rate_limit_args"]

Clock = Callable[[], float]
"""A function returning the current time in seconds; only differences between readings matter."""


def check_rate_limit_args(max_requests: object, window_seconds: object) -> tuple[int, float]:
    """Validate a limit: ``max_requests`` an int >= 1, ``window_seconds`` a positive finite number.

    A limit of 0 requests or a window of 0 seconds has no useful meaning; failing loudly beats a
    limiter that silently refuses (or admits) everything.
    """
    return (
        require_int("max_requests", max_requests, minimum=1),
        require_positive_seconds("window_seconds", window_seconds),
    )


class SlidingWindowLimiter:
    """At most ``max_requests`` grants in any window of ``window_seconds``; exact.

    A request at time ``t`` occupies a slot during ``[t, t + window_seconds)``: at exactly
    ``t + window_seconds`` the slot is free again (the Go code's ``t.After(cutoff)`` has the same
    edge). Thread-safe: one lock covers reading the clock, evicting and appending, so grants
    enter the log in time order and two threads cannot both take the last slot.

    >>> now = [0.0]
    >>> limiter = SlidingWindowLimiter(2, 10.0, clock=lambda: now[0])
    >>> limiter.allow(), limiter.allow(), limiter.allow()
    (True, True, False)
    >>> limiter.retry_after()
    10.0
    >>> now[0] = 10.0
    >>> limiter.allow()
    True
    """

    def __init__(
        self, max_requests: int, window_seconds: float, clock: Clock = time.monotonic
    ) -> None:
        self.max_requests, self.window_seconds = check_rate_limit_args(max_requests, window_seconds)
        self._clock = clock
        # Expiry instants of the grants still in the window, oldest first. Storing the instant a
        # slot frees (rather than the grant time) makes eviction and retry_after() use the very
        # same float, so "retry after x seconds" and "allowed at now + x" cannot disagree.
        self._expiries: deque[float] = deque()
        self._lock = threading.Lock()

    def _evict_expired(self, now: float) -> None:
        expiries = self._expiries
        while expiries and expiries[0] <= now:
            expiries.popleft()

    def allow(self) -> bool:
        """Take a slot if one is free; ``False`` means the caller is over the limit."""
        with self._lock:
            now = self._clock()
            self._evict_expired(now)
            if len(self._expiries) >= self.max_requests:
                return False
            self._expiries.append(now + self.window_seconds)
            return True

    def remaining(self) -> int:
        """How many more requests would be granted right now."""
        with self._lock:
            self._evict_expired(self._clock())
            return self.max_requests - len(self._expiries)

    def retry_after(self) -> float:
        """Seconds until a slot frees (0.0 if one is free now): the value for a Retry-After."""
        with self._lock:
            now = self._clock()
            self._evict_expired(now)
            if len(self._expiries) < self.max_requests:
                return 0.0
            return self._expiries[0] - now

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(max_requests={self.max_requests}, "
            f"window_seconds={self.window_seconds})"
        )


class SlidingWindowCounter:
    """The two-bucket approximation of a sliding window: ``O(1)`` memory for any limit.

    Time is cut into fixed windows of ``window_seconds``. With ``previous`` grants in the last
    fixed window, ``current`` in this one, and a fraction ``f`` of this window elapsed, the
    number of grants in the sliding window is estimated as::

        estimate = previous * (1 - f) + current

    i.e. the previous window's grants are assumed to be spread evenly. A request is granted when
    it fits: ``estimate + 1 <= max_requests``.

    Error bound (what you trade for the ``O(1)`` memory):

    - every fixed window grants at most ``max_requests`` (``current <= estimate``);
    - a sliding window of ``window_seconds`` can hold up to ``2 * max_requests - 1`` grants. The
      worst case is a burst at the very end of one fixed window: its weight fades as the next
      window goes on, though the burst is still inside the sliding window. The exact
      :class:`SlidingWindowLimiter` never exceeds ``max_requests``;
    - the estimate can also be too high (a burst at the start of the previous window still
      counts), so the counter may refuse a request the exact log would grant. When traffic is
      evenly spread both errors vanish, which is why it is popular for high-volume APIs.

    >>> now = [0.0]
    >>> counter = SlidingWindowCounter(4, 10.0, clock=lambda: now[0])
    >>> sum(counter.allow() for _ in range(6))
    4
    >>> now[0] = 15.0  # half of the previous window's 4 grants still count
    >>> counter.estimated_count(), counter.remaining()
    (2.0, 2)
    """

    def __init__(
        self, max_requests: int, window_seconds: float, clock: Clock = time.monotonic
    ) -> None:
        self.max_requests, self.window_seconds = check_rate_limit_args(max_requests, window_seconds)
        self._clock = clock
        self._window_index: int | None = None  # which fixed window ``_current`` counts
        self._previous = 0
        self._current = 0
        self._lock = threading.Lock()

    def _estimate(self, now: float) -> float:
        position = now / self.window_seconds
        index = math.floor(position)
        if index != self._window_index:
            adjacent = self._window_index is not None and index == self._window_index + 1
            self._previous = self._current if adjacent else 0
            self._current = 0
            self._window_index = index
        elapsed_fraction = position - index
        return self._previous * (1.0 - elapsed_fraction) + self._current

    def allow(self) -> bool:
        """Grant the request if it fits in the estimated sliding window."""
        with self._lock:
            if self._estimate(self._clock()) + 1 > self.max_requests:
                return False
            self._current += 1
            return True

    def estimated_count(self) -> float:
        """The weighted count the next decision will use."""
        with self._lock:
            return self._estimate(self._clock())

    def remaining(self) -> int:
        """How many more requests would be granted right now, by the estimate."""
        with self._lock:
            return max(0, math.floor(self.max_requests - self._estimate(self._clock())))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(max_requests={self.max_requests}, "
            f"window_seconds={self.window_seconds})"
        )
