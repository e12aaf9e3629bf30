"""The measurements notebook 11 makes, each one call there: timings that load cannot break,
a limiter's cost per request at a full window, the topological sort checked against
``graphlib``, and a client that waits exactly as long as a limiter tells it to.

- timings are :func:`course_lib.timing.best_of`: the least time over a few runs. Load only ever
  adds time, so the minimum is the run the machine disturbed least.
- :func:`seconds_per_allow`: ``allow()`` on a limiter whose window is full, on a clock that
  moves 1 µs per call, so the log holds ``max_requests`` timestamps, as under heavy traffic.
- :func:`check_against_graphlib`: on random graphs, :func:`~course_lib.algorithms.topological_sort`
  must return a valid order exactly when ``graphlib.TopologicalSorter`` finds no cycle.
- :func:`grants_within`: how many requests of ``tokens`` a client gets through in a window,
  sleeping (on a manual clock) for each limiter's ``wait_seconds`` instead of collecting 429s.
"""

from __future__ import annotations

import graphlib
import random
from collections.abc import Callable
from typing import Any

from course_lib.timing import best_of

from ..arguments import require_int, require_positive_seconds
from .token_window import TokenBudget
from .toposort import find_cycle, topological_sort

__all__ = [
    "ManualClock",
    "check_against_graphlib",
    "grants_within",
    "seconds_per_allow",
]


class ManualClock:
    """A clock that only moves when told to (``clock.now += 1.5``): simulated time."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seconds_per_allow(limiter_class: Callable[..., Any], max_requests: int,
                      calls: int = 200) -> float:
    """Seconds one ``allow()`` takes when ``max_requests`` timestamps are in the window.

    ``limiter_class(max_requests, window_seconds, clock=...)`` builds the limiter (both the
    lesson's and the course's take these arguments). The clock advances 1 µs per reading, so
    a 60-second window never drains: every measured call is refused at a full window, the
    busiest case. The best of three rounds of ``calls`` calls is kept.
    """
    require_int("max_requests", max_requests, minimum=1)
    require_int("calls", calls, minimum=1)
    now = [0.0]

    def ticking() -> float:
        now[0] += 1e-6
        return now[0]

    limiter = limiter_class(max_requests, 60.0, clock=ticking)
    log = getattr(limiter, "requests", None)
    if isinstance(log, list) and not log:
        # The lesson's port keeps its log in ``requests`` (the Go struct's field). Filling it
        # through allow() would cost O(n) per call, O(n²) in all: write the same timestamps.
        log.extend(ticking() for _ in range(max_requests))
    else:
        for _ in range(max_requests):
            limiter.allow()

    def round_of_calls() -> None:
        for _ in range(calls):
            limiter.allow()

    return best_of(3, round_of_calls) / calls


def check_against_graphlib(graphs: int = 300, seed: int = 2025) -> tuple[int, int]:
    """``(graphs checked, how many had a cycle)``; raises ``AssertionError`` on a disagreement.

    Each graph has 1 to 12 nodes and up to twice as many random edges, so about half of them
    have a cycle. On a cycle ours must return ``None`` and :func:`find_cycle` must find one;
    otherwise ours must be an order of every node with each edge pointing forward.
    """
    require_int("graphs", graphs, minimum=1)
    rng = random.Random(seed)
    cycles = 0
    for _ in range(graphs):
        n = rng.randint(1, 12)
        edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(0, 2 * n))]
        sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter(
            {v: set() for v in range(n)})
        for before, after in edges:
            sorter.add(after, before)
        try:
            list(sorter.static_order())
        except graphlib.CycleError:
            cycles += 1
            assert topological_sort(n, edges) is None, (n, edges)
            assert find_cycle(n, edges) is not None, (n, edges)
            continue
        order = topological_sort(n, edges)
        assert order is not None and sorted(order) == list(range(n)), (n, edges, order)
        position = {v: i for i, v in enumerate(order)}
        assert all(position[a] < position[b] for a, b in edges), (n, edges, order)
    return graphs, cycles


def grants_within(limiter: TokenBudget, tokens: int, clock: ManualClock,
                  seconds: float = 60.0) -> int:
    """Requests of ``tokens`` granted before ``clock`` reaches ``seconds``.

    The client asks, and when the limiter says no it sleeps exactly ``wait_seconds(tokens)`` on
    the manual clock (no real time passes), as :class:`course_lib.batching.BatchEmbedder` does.
    ``limiter`` must read ``clock``.
    """
    require_int("tokens", tokens, minimum=1)
    require_positive_seconds("seconds", seconds)
    granted = 0
    while clock.now < seconds:
        if limiter.try_acquire(tokens):
            granted += 1
            continue
        wait = limiter.wait_seconds(tokens)
        if wait <= 0:
            raise RuntimeError(f"{limiter!r} refused {tokens} tokens but says to wait {wait} s")
        clock.now += wait
    return granted


