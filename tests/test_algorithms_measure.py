"""course_lib.algorithms.measure: the harness notebook 11 measures with.

Nothing here is timed: ``best_of`` runs on a clock the test scripts, the limiter cost on a
counting stand-in, and ``grants_within`` on the manual clock it is built for.
"""

from __future__ import annotations

import itertools

import pytest

from course_lib.algorithms import RateLimits, SlidingWindowLimiter, TokenWindowLimiter
from course_lib.algorithms.measure import (
    ManualClock,
    check_against_graphlib,
    grants_within,
    seconds_per_allow,
)
from course_lib.timing import best_of


def test_best_of_keeps_the_least_disturbed_run() -> None:
    """Runs of 5, 2 and 7 ticks: the best is 2, and fn ran once per repeat."""
    readings = iter([0, 5, 10, 12, 20, 27])
    calls = []
    assert best_of(3, calls.append, "x", clock=lambda: next(readings)) == 2
    assert calls == ["x", "x", "x"]
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        best_of(0, print)


class CountingLimiter:
    """Records the clock readings and the size of the log it would scan."""

    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        self.max_requests, self.window, self.clock = max_requests, window_seconds, clock
        self.log: list[float] = []

    def allow(self) -> bool:
        now = self.clock()
        self.log = [t for t in self.log if t > now - self.window]
        if len(self.log) >= self.max_requests:
            return False
        self.log.append(now)
        return True


def test_the_limiter_is_measured_at_a_full_window() -> None:
    built = []

    def factory(*args, **kwargs):
        built.append(CountingLimiter(*args, **kwargs))
        return built[-1]

    assert seconds_per_allow(factory, 50, calls=10) > 0
    (limiter,) = built
    assert limiter.window == 60.0 and len(limiter.log) == 50  # full, and never drained


def test_the_lessons_log_is_filled_directly_with_the_same_timestamps() -> None:
    """A port with a ``requests`` list (the Go field) gets it filled without n allow() calls."""
    from course_lib.lesson.algorithms import LessonSlidingWindowLimiter

    built = []

    def factory(*args, **kwargs):
        built.append(LessonSlidingWindowLimiter(*args, **kwargs))
        return built[-1]

    seconds_per_allow(factory, 30, calls=5)
    log = built[0].requests
    assert len(log) == 30 and log == sorted(log) and len(set(log)) == 30  # full, in time order


def test_our_sort_agrees_with_graphlib_on_graphs_with_and_without_cycles() -> None:
    checked, cycles = check_against_graphlib(200, seed=7)
    assert checked == 200 and 0 < cycles < 200


def test_a_client_gets_what_the_binding_limit_allows_in_a_minute() -> None:
    """500 RPM and 30,000 TPM: 2,400-token calls are held to 12 by the tokens, 50-token calls to
    500 by the requests; on the manual clock, nothing sleeps."""
    for tokens, expected in ((2_400, 12), (50, 500)):
        clock = ManualClock()
        limits = RateLimits.per_minute(500, 30_000, clock=clock)
        assert grants_within(limits, tokens, clock, 60.0) == expected
        assert clock.now >= 60.0


def test_a_token_window_alone_refills_as_its_grants_expire() -> None:
    clock = ManualClock()
    window = TokenWindowLimiter(1_000, 10.0, clock=clock)
    assert grants_within(window, 300, clock, 25.0) == 9  # 3 per 10 s window, windows at 0, 10, 20


def test_a_limiter_that_refuses_without_a_wait_is_reported() -> None:
    class Stuck:
        max_tokens = 10

        def try_acquire(self, tokens: int) -> bool:
            return False

        def wait_seconds(self, tokens: int) -> float:
            return 0.0

    with pytest.raises(RuntimeError, match=r"says to wait 0\.0 s"):
        grants_within(Stuck(), 1, ManualClock())


def test_the_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(5.0)
    assert [clock() for _ in itertools.repeat(None, 3)] == [5.0, 5.0, 5.0]
    clock.now += 1
    assert clock() == 6.0
    assert SlidingWindowLimiter(1, 1.0, clock=clock).allow()
