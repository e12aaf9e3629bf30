"""Timing a fast call on a busy machine: the fastest of several batches.

:func:`best_of` keeps the fastest of several runs of one call. A call that takes microseconds
cannot be timed one at a time (the clock's own cost dominates),
so it is repeated in a batch and the batch is timed. A busy machine can only make a batch
*slower*: another process takes the core, the scheduler wakes us late. So the fastest of several
batches is the best estimate of what the call itself costs, and it is stable under load where a
mean is not (``timeit`` reports the minimum for the same reason).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["best_of", "seconds_per_call"]


def best_of(repeats: int, fn: Callable[..., Any], *args: Any,
            clock: Callable[[], float] = time.perf_counter) -> float:
    """The least seconds ``fn(*args)`` took over ``repeats`` runs."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    best = float("inf")
    for _ in range(repeats):
        started = clock()
        fn(*args)
        best = min(best, clock() - started)
    return best


def seconds_per_call(fn: Callable[[], object], *, calls: int = 200, batches: int = 10,
                     clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds one ``fn()`` takes: the fastest of ``batches`` batches of ``calls`` calls."""
    for label, value in (("calls", calls), ("batches", batches)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")

    def batch() -> None:
        for _ in range(calls):
            fn()

    return best_of(batches, batch, clock=clock) / calls
