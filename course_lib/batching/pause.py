"""One cool-down for every worker: when the provider says "slow down", everybody slows down.

A 429 answer is about the *account*, not about the request that received it: the rate limit is
shared by every request in flight. If only the worker that got the 429 backs off, the three
others keep sending, collect 429s of their own, and the quota never recovers. So a 429 closes
a shared gate until the time its ``Retry-After`` header names, and every worker waits at the
gate before it sends anything.

The clock and the sleep are injected (``time.monotonic`` and ``asyncio.sleep`` by default), so a
test can check what was waited without waiting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

__all__ = ["AsyncSleep", "Clock", "SharedPause"]

Clock = Callable[[], float]
AsyncSleep = Callable[[float], Awaitable[object]]


class SharedPause:
    """A gate that any worker can close for a while and that every worker waits at.

    ``pause_for(seconds)`` keeps the gate closed until at least ``now + seconds`` (a later
    pause extends it; an earlier one never shortens it). ``await wait()`` returns once it is
    open. ``paused_s`` is how long the gate has been closed in total, overlaps counted once;
    ``windows`` lists the closed intervals ``(from, until)`` in clock time.
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: AsyncSleep = asyncio.sleep
                 ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = -math.inf
        self.paused_s = 0.0
        self.windows: list[tuple[float, float]] = []

    def pause_for(self, seconds: float) -> None:
        """Close the gate for ``seconds`` from now (no effect if it already stays closed longer)."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"a pause must be a finite number of seconds >= 0, got {seconds!r}")
        now = self._clock()
        until = now + seconds
        if until > self._until:
            self.paused_s += until - max(self._until, now)
            if self.windows and self._until >= now:  # still closed: extend the same window
                self.windows[-1] = (self.windows[-1][0], until)
            else:
                self.windows.append((now, until))
            self._until = until

    def remaining(self) -> float:
        """Seconds until the gate opens (0 when it is open)."""
        return max(0.0, self._until - self._clock())

    async def wait(self) -> float:
        """Wait until the gate is open; return how long this caller waited."""
        waited = 0.0
        # A loop, not one sleep: another worker may extend the pause while we sleep.
        while (remaining := self.remaining()) > 0:
            started = self._clock()
            await self._sleep(remaining)
            waited += self._clock() - started
        return waited
