"""Sliding-window rate limiting: ``SlidingWindowLimiter.allow()`` against two peers.

Peers: the faithful port of the lesson's Go limiter (``LessonSlidingWindowLimiter``, which
rebuilds its list of timestamps on every call) and the ``limits`` package's moving window in
memory (``MovingWindowRateLimiter`` over ``MemoryStorage``), the library the course recommends.

Workload, the same for all three, at a limit of ``N`` requests per 60-second window: a fresh
limiter receives ``2N`` requests as fast as they come. The first ``N`` are granted (the window
fills), the next ``N`` are refused (the window is full). Both halves are where a limiter spends
its life under load. All three read the real clock; the whole run takes far less than the
window, so no grant expires in the middle and all three make the same decisions (checked).

The lesson's limiter does ``O(N)`` work per call once the window holds ``N`` timestamps, so its
cost per call grows with the limit; the deque-based limiter's does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity, speedup_row
from benchmarks.timing import best_of
from course_lib.algorithms import SlidingWindowLimiter
from course_lib.lesson.algorithms import LessonSlidingWindowLimiter

GROUP = "rate_limit"
WINDOW_S = 60.0


class _LimitsAdapter:
    """``limits``' moving window behind the same ``allow()`` as the others."""

    def __init__(self, max_requests: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._item = RateLimitItemPerMinute(max_requests)

    def allow(self) -> bool:
        return self._limiter.hit(self._item, "user-42")


def _requests(count: int) -> Callable[[Any], list[bool]]:
    def run(limiter: Any) -> list[bool]:
        allow = limiter.allow
        return [allow() for _ in range(count)]
    return run


def run(config: Config) -> list[Measurement]:
    rows: list[Measurement] = []
    for limit in config.pick((1_000, 10_000), (50, 200)):
        calls = 2 * limit
        factories: dict[str, Callable[[], Any]] = {
            "ours": lambda limit=limit: SlidingWindowLimiter(limit, WINDOW_S),
            "lesson": lambda limit=limit: LessonSlidingWindowLimiter(limit, WINDOW_S),
            "limits": lambda limit=limit: _LimitsAdapter(limit),
        }
        # This check is also the warm-up: every limiter has run the same calls once.
        expected = [True] * limit + [False] * limit
        for name, factory in factories.items():
            if _requests(calls)(factory()) != expected:
                raise AssertionError(f"{name} did not grant exactly the first {limit} requests")

        slow = limit >= 10_000 and not config.quick  # the lesson's O(N^2) run takes seconds
        timings = {
            name: best_of(_requests(calls), setup=factory, operations=calls, warmup=0,
                          repeat=3 if slow and name == "lesson" else config.pick(5, 2))
            for name, factory in factories.items()
        }
        ours = Quantity.timed("SlidingWindowLimiter.allow", timings["ours"])

        def profile(limit: int = limit, calls: int = calls) -> str:
            limiter = SlidingWindowLimiter(limit, WINDOW_S)
            return cprofile_text(lambda: _requests(calls)(limiter),
                                 title=f"SlidingWindowLimiter: {calls:,} calls, limit {limit:,}")

        is_big = limit == config.pick(10_000, 200)
        rows.append(speedup_row(
            f"{GROUP}.vs_lesson_{limit}", GROUP,
            f"SlidingWindowLimiter vs lesson's O(n) limiter, {limit:,}/window",
            ours, Quantity.timed("LessonSlidingWindowLimiter.allow", timings["lesson"]),
            goal=Goal(">=", 10) if is_big else None, profile=profile,
            note=f"time per call over {calls:,} calls (half granted, half refused)"))
        rows.append(speedup_row(
            f"{GROUP}.vs_limits_{limit}", GROUP,
            f"SlidingWindowLimiter vs limits moving window, {limit:,}/window",
            ours, Quantity.timed("limits MovingWindowRateLimiter.hit", timings["limits"]),
            goal=Goal(">", 1), profile=profile,
            note=f"time per call over {calls:,} calls (half granted, half refused)"))
    return rows
