"""A circuit breaker per model: stop sending requests to a model that keeps failing.

Retries help with a blip. When a model is *down*, every request still pays for its full set of
failed attempts (and their backoff) before it falls back, and the retries add load to a provider
that is already struggling. A breaker remembers recent failures and short-circuits:

* **closed** (normal): calls go through; each transient failure is remembered for ``window_s``.
  ``failure_threshold`` failures inside the window **open** the breaker.
* **open**: calls are rejected at once (the chain skips to the next link without a request)
  until ``cool_down_s`` has passed.
* **half-open**: one probe call is let through. Success closes the breaker; failure opens it
  again for another cool-down. Other calls are rejected while the probe is in flight.

Only failures that say something about the model's health count (5xx, 429, timeouts): a 400
is the caller's bug and a cancellation is the caller's choice; :meth:`CircuitBreaker.release`
frees a probe slot without a verdict.

The clock is injectable, so tests step through the states without sleeping.

Library equivalent: ``pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)`` (wrap the call
with ``breaker.call(fn, ...)``, exclude caller errors with ``exclude=[openai.BadRequestError]``).
pybreaker counts *consecutive* failures rather than failures within a window, and keeps state
in memory or Redis (``CircuitRedisStorage``) so several processes can share one breaker. Use a
library when several services need the same breaker; this one is short so you can read it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Opens after ``failure_threshold`` failures within ``window_s``; probes after
    ``cool_down_s``. Thread-safe."""

    def __init__(
        self,
        failure_threshold: int = 5,
        window_s: float = 30.0,
        cool_down_s: float = 15.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(failure_threshold, int) or isinstance(failure_threshold, bool) or (
            failure_threshold < 1
        ):
            raise ValueError(
                f"failure_threshold must be an integer >= 1, got {failure_threshold!r}")
        for name, value in (("window_s", window_s), ("cool_down_s", cool_down_s)):
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number of seconds > 0, got {value!r}")
        self.failure_threshold = failure_threshold
        self.window_s = float(window_s)
        self.cool_down_s = float(cool_down_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: deque[float] = deque()
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._probe_in_flight = False
        self.times_opened = 0
        self.rejected = 0

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose cool-down is over reads as half-open)."""
        with self._lock:
            return self._current_state()

    def allow(self) -> bool:
        """May a call go through now? In half-open, True claims the single probe slot."""
        with self._lock:
            state = self._current_state()
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return True
            self.rejected += 1
            return False

    def record_success(self) -> None:
        """The call worked: a half-open breaker closes and forgets past failures."""
        with self._lock:
            # Open: a call admitted before the breaker opened, finishing late; the cool-down
            # still stands. Half-open: the probe (or a call running beside it) proved the model.
            if self._current_state() is BreakerState.HALF_OPEN:
                self._state = BreakerState.CLOSED
                self._failures.clear()
                self._probe_in_flight = False

    def record_failure(self) -> None:
        """The model failed (5xx, 429, timeout): count it, and open if there are enough."""
        with self._lock:
            now = self._clock()
            state = self._current_state()
            if state is BreakerState.HALF_OPEN:
                self._probe_in_flight = False
                self._open(now)  # the probe failed: another full cool-down
                return
            if state is BreakerState.OPEN:
                return  # a call admitted before the breaker opened, finishing late
            self._failures.append(now)
            self._forget_before(now - self.window_s)
            if len(self._failures) >= self.failure_threshold:
                self._open(now)

    def release(self) -> None:
        """The call ended without a verdict on the model (caller error, cancellation)."""
        with self._lock:
            self._probe_in_flight = False

    def _current_state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.cool_down_s:
            self._state = BreakerState.HALF_OPEN
        return self._state

    def _open(self, now: float) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = now
        self._failures.clear()
        self.times_opened += 1

    def _forget_before(self, cutoff: float) -> None:
        while self._failures and self._failures[0] <= cutoff:
            self._failures.popleft()

    def __repr__(self) -> str:
        return (f"CircuitBreaker(state={self.state.value}, failure_threshold="
                f"{self.failure_threshold}, window_s={self.window_s:g}, "
                f"cool_down_s={self.cool_down_s:g})")
