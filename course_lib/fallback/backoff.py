"""How long to wait before trying again: full-jitter exponential backoff, floored by Retry-After.

When a provider is overloaded, every client sees the failure at the same moment. If they all
wait exactly 1 s, 2 s, 4 s, they all come back at the same moment too, and the overload repeats
in waves. *Full jitter* (AWS Architecture Blog, "Exponential Backoff And Jitter") spreads them
out by drawing the whole wait at random::

    sleep = random(0, min(cap, base * 2 ** retry))

so the expected wait still doubles per retry, but no two clients collide by construction.

When the server says how long to wait (``Retry-After`` / ``retry-after-ms`` on a 429 or 503),
that is a floor: coming back earlier is wasted effort that counts against your rate limit. A
Retry-After longer than ``max_retry_after_s`` means "this model is unavailable for a while":
the chain stops waiting on it and falls back instead (:meth:`FullJitterBackoff.delay` returns
None).

Library equivalent: ``tenacity.wait_random_exponential(multiplier=base, max=cap)`` is full
jitter; combine it with a wait that reads Retry-After (``tenacity.wait_combine``) and
``stop_after_attempt``/``stop_after_delay``. Notebook 06 shows the tenacity version.
"""

from __future__ import annotations

import math
import random

__all__ = ["FullJitterBackoff"]


class FullJitterBackoff:
    """Full-jitter exponential backoff with a cap; Retry-After is honoured as a floor.

    ``rng`` is injectable so tests (and reproducible experiments) draw known waits.
    """

    def __init__(
        self,
        base_s: float = 0.5,
        cap_s: float = 8.0,
        *,
        max_retry_after_s: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        for name, value in (("base_s", base_s), ("cap_s", cap_s),
                            ("max_retry_after_s", max_retry_after_s)):
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
        if cap_s < base_s:
            raise ValueError(f"cap_s ({cap_s}) must be at least base_s ({base_s})")
        self.base_s = float(base_s)
        self.cap_s = float(cap_s)
        self.max_retry_after_s = float(max_retry_after_s)
        self._rng = rng if rng is not None else random.Random()

    def ceiling(self, retry: int) -> float:
        """The largest wait before retry number ``retry`` (0 for the first retry)."""
        if not isinstance(retry, int) or isinstance(retry, bool) or retry < 0:
            raise ValueError(f"retry must be an integer >= 0, got {retry!r}")
        # 2 ** 64 already exceeds any sensible cap; clamping keeps the float finite.
        return min(self.cap_s, self.base_s * 2.0 ** min(retry, 64))

    def delay(self, retry: int, retry_after_s: float | None = None) -> float | None:
        """Seconds to wait before retry number ``retry``; None: do not wait, fall back instead.

        The draw is uniform on ``[0, ceiling(retry)]``; a Retry-After raises it to at least the
        server's figure, unless that figure exceeds ``max_retry_after_s``.
        """
        jittered = self._rng.uniform(0.0, self.ceiling(retry))
        if retry_after_s is None:
            return jittered
        if not math.isfinite(retry_after_s) or retry_after_s < 0:
            raise ValueError(f"retry_after_s must be a finite number >= 0, got {retry_after_s!r}")
        if retry_after_s > self.max_retry_after_s:
            return None
        return max(retry_after_s, jittered)

    def __repr__(self) -> str:
        return (f"FullJitterBackoff(base_s={self.base_s:g}, cap_s={self.cap_s:g}, "
                f"max_retry_after_s={self.max_retry_after_s:g})")
