"""A time budget for a whole call, across every retry and every fallback.

The lesson gives the primary a timeout and the secondary none: a secondary that hangs holds the
user forever. A :class:`Deadline` is set once, when the call starts, and every attempt gets at
most what is left of it, so a hang can eat one attempt's share but never the whole budget.
Go spells this ``context.WithTimeout``; Python's ``asyncio.timeout`` does the same for one
``await``, but a budget shared by several attempts and sleeps needs to be an object.

The clock is injectable (any ``() -> float`` in seconds, ``time.monotonic`` by default) so tests
move time forward by hand instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["Deadline"]


class Deadline:
    """Expires ``budget_s`` seconds after it was made, or at ``at`` on ``clock``, whichever is
    sooner (both None: never)."""

    def __init__(
        self,
        budget_s: float | None = None,
        *,
        at: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if budget_s is not None and (not math.isfinite(budget_s) or budget_s <= 0):
            raise ValueError(f"budget_s must be a finite number of seconds > 0, got {budget_s!r}")
        if at is not None and not math.isfinite(at):
            raise ValueError(f"at must be a finite time on the clock, got {at!r}")
        self._clock = clock
        self.started_at = clock()
        ends = [t for t in (at, None if budget_s is None else self.started_at + budget_s)
                if t is not None]
        self.expires_at: float = min(ends) if ends else math.inf

    def elapsed(self) -> float:
        """Seconds since the deadline was made."""
        return self._clock() - self.started_at

    def remaining(self) -> float:
        """Seconds left (0 once expired; ``inf`` for no deadline)."""
        return max(0.0, self.expires_at - self._clock())

    def expired(self) -> bool:
        return self._clock() >= self.expires_at

    def cap(self, seconds: float | None) -> float | None:
        """``seconds`` shortened to what is left (None stays None only without a deadline)."""
        left = self.remaining()
        if seconds is None:
            return None if math.isinf(left) else left
        return min(seconds, left)
