"""Timing a fast call on a busy machine: the fastest of several batches.

A call that takes microseconds cannot be timed one at a time (the clock's own cost dominates),
so it is repeated in a batch and the batch is timed. A busy machine can only make a batch
*slower*: another process takes the core, the scheduler wakes us late. So the fastest of several
batches is the best estimate of what the call itself costs, and it is stable under load where a
mean is not (``timeit`` reports the minimum for the same reason).
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["seconds_per_call"]


def seconds_per_call(fn: Callable[[], object], *, calls: int = 200, batches: int = 10,
                     clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds one ``fn()`` takes: the fastest of ``batches`` batches of ``calls`` calls."""
    for label, value in (("calls", calls), ("batches", batches)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
    fastest = float("inf")
    for _ in range(batches):
        started = clock()
        for _ in range(calls):
            fn()
        fastest = min(fastest, clock() - started)
    return fastest / calls
