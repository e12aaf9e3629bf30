"""Timing the way ``timeit`` does it: warm up, then keep the best of several repetitions.

The best repetition, not the mean, is the figure that compares: every repetition does the same
work, and anything slower than the fastest one was slowed down by something else on the machine
(another process, a garbage collection, a cache miss). ``timeit.Timer.repeat`` documents the same
reasoning. The garbage collector is paused while a repetition runs, as ``timeit`` does, so one
side of a comparison is not charged for collecting the other side's garbage.

Every figure in the benchmark report is a *ratio* of two timings taken here in the same run; the
absolute times are kept only as context, since they depend on the machine and its load.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Timer", "Timing", "best_of", "percentile"]

Timer = Callable[[], float]


@dataclass(frozen=True)
class Timing:
    """Seconds per operation, one value per repetition, in the order they ran."""

    repetitions: tuple[float, ...]
    operations: int  # operations per repetition (a loop of ``operations`` calls, timed once)

    def __post_init__(self) -> None:
        if not self.repetitions:
            raise ValueError("a timing needs at least one repetition")
        if any(not math.isfinite(value) or value < 0 for value in self.repetitions):
            raise ValueError(f"repetitions must be finite, non-negative seconds, got "
                             f"{self.repetitions}")

    @property
    def best(self) -> float:
        """The fastest repetition: the figure every ratio is computed from."""
        return min(self.repetitions)

    @property
    def median(self) -> float:
        return statistics.median(self.repetitions)


def best_of(
    run: Callable[..., Any],
    *,
    setup: Callable[[], Any] | None = None,
    operations: int = 1,
    repeat: int = 5,
    warmup: int = 1,
    timer: Timer = time.perf_counter,
    pause_gc: bool = True,
) -> Timing:
    """Time ``run`` ``repeat`` times after ``warmup`` untimed runs; seconds per operation.

    ``run()`` performs ``operations`` operations (say, a loop of 10,000 ``get`` calls) and the
    time of one repetition is divided by that count. With ``setup``, every run (warm-up
    included) gets fresh state: ``run(setup())``, and only ``run`` is timed; use it when a run
    changes what the next one would measure (a rate limiter that fills up, a cache that warms).
    """
    if isinstance(operations, bool) or not isinstance(operations, int) or operations < 1:
        raise ValueError(f"operations must be a whole number >= 1, got {operations!r}")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a whole number >= 1, got {repeat!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a whole number >= 0, got {warmup!r}")

    def once() -> float:
        args = () if setup is None else (setup(),)
        was_enabled = gc.isenabled()
        if pause_gc:
            gc.disable()
        try:
            started = timer()
            run(*args)
            return timer() - started
        finally:
            if was_enabled:
                gc.enable()

    for _ in range(warmup):
        once()
    return Timing(tuple(once() / operations for _ in range(repeat)), operations)


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation, as ``numpy.percentile``."""
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q!r}")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
