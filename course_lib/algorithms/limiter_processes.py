"""Several OS processes, released together, asking one Redis limiter for slots.

A demonstration of a shared limiter proves nothing if the processes never overlap: started one
after another, the first takes every slot before the second has even connected. So each process
connects and builds its limiter first, then waits at a start barrier
(``multiprocessing.Barrier``, the process twin of the ``threading.Barrier`` in notebook 03); all
of them are released at once and keep asking for ``duration_s`` seconds. Each returns the
timestamps Redis recorded for its grants, and :func:`busiest_window` checks the one thing that
matters: no window of ``window_seconds`` ever held more than ``max_requests`` grants.

    run = run_limiter_processes(server.url, processes=4, max_requests=40, window_seconds=1.0)
    run.grants_per_process, run.busiest_window(), run.overlap_s
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..arguments import require_int, require_positive_seconds
from .rate_limit import check_rate_limit_args
from .redis_rate_limit import RedisSlidingWindowLimiter

__all__ = ["LimiterRun", "ProcessGrants", "busiest_window", "run_limiter_processes"]

_MICROS = 1_000_000


def busiest_window(grants_us: Sequence[int], window_us: int) -> int:
    """The most grants any window of ``window_us`` microseconds holds.

    A grant at ``t`` holds its slot during ``[t, t + window)``, so the count peaks just at some
    grant ``t``: the grants in ``(t - window, t]``. Two pointers over the sorted times:
    ``O(n log n)`` for the sort, ``O(n)`` after.
    """
    ordered = sorted(grants_us)
    busiest = oldest = 0
    for newest, at in enumerate(ordered):
        while ordered[oldest] <= at - window_us:
            oldest += 1
        busiest = max(busiest, newest - oldest + 1)
    return busiest


@dataclass(frozen=True)
class ProcessGrants:
    """What one process got: its pid, how often it asked, when (µs, as Redis recorded them) it
    was granted, and the wall-clock span (seconds since the epoch) it spent asking."""

    pid: int
    attempts: int
    grants_us: tuple[int, ...]
    asked_from: float
    asked_until: float


@dataclass(frozen=True)
class LimiterRun:
    """Every process's grants against one shared limit."""

    max_requests: int
    window_seconds: float
    server_time: bool
    processes: tuple[ProcessGrants, ...]

    @property
    def grants_per_process(self) -> list[int]:
        return [len(p.grants_us) for p in self.processes]

    @property
    def total_grants(self) -> int:
        return sum(self.grants_per_process)

    @property
    def overlap_s(self) -> float:
        """How long every process was asking at the same time (0 if they never overlapped)."""
        start = max(p.asked_from for p in self.processes)
        end = min(p.asked_until for p in self.processes)
        return max(0.0, end - start)

    def busiest_window(self) -> int:
        """The most grants in any window, all processes together: at most ``max_requests``
        for an exact limiter."""
        grants = [at for p in self.processes for at in p.grants_us]
        return busiest_window(grants, round(self.window_seconds * _MICROS))


def _ask(redis_url: str, key: str, max_requests: int, window_seconds: float, server_time: bool,
         duration_s: float, start_line: Any, results: Any) -> None:
    """One process: connect, wait at the start line, ask for slots until the time is up."""
    import redis

    client = redis.Redis.from_url(redis_url)
    limiter = RedisSlidingWindowLimiter(client, key, max_requests, window_seconds,
                                        clock=None if server_time else time.time)
    client.ping()  # connected before the start, so the first request costs one round trip
    start_line.wait(timeout=60)
    grants: list[int] = []
    attempts = 0
    asked_from = time.time()
    stop_at = time.monotonic() + duration_s
    while time.monotonic() < stop_at:
        attempts += 1
        granted = limiter.try_acquire()
        if granted is not None:
            grants.append(granted)
    results.put(ProcessGrants(os.getpid(), attempts, tuple(grants), asked_from, time.time()))
    client.close()


def run_limiter_processes(
    redis_url: str,
    *,
    processes: int = 4,
    max_requests: int = 40,
    window_seconds: float = 1.0,
    duration_s: float = 2.5,
    key: str | None = None,
    server_time: bool = True,
    timeout_s: float = 120.0,
) -> LimiterRun:
    """Start ``processes`` OS processes behind one barrier; each asks the shared limiter for
    slots as fast as it can for ``duration_s``; return every process's grants.

    ``server_time=False`` stamps each request with the process's own clock (the bug the
    server-time default fixes). ``key`` defaults to a fresh random one, so runs never share a
    log. Processes are spawned (not forked), as they would be in a notebook kernel.
    """
    require_int("processes", processes, minimum=1)
    max_requests, window_seconds = check_rate_limit_args(max_requests, window_seconds)
    duration_s = require_positive_seconds("duration_s", duration_s)
    key = key or f"ratelimit:demo:{secrets.token_hex(6)}"
    context = multiprocessing.get_context("spawn")
    start_line = context.Barrier(processes)
    results = context.Queue()
    workers = [context.Process(
        target=_ask, args=(redis_url, key, max_requests, window_seconds, server_time,
                           duration_s, start_line, results), daemon=True)
        for _ in range(processes)]
    for worker in workers:
        worker.start()
    collected: list[ProcessGrants] = []
    give_up_at = time.monotonic() + timeout_s
    try:
        while len(collected) < processes:
            try:
                collected.append(results.get(timeout=0.2))
            except queue.Empty:
                # A process that died never reports; do not wait out the timeout for it.
                failed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                if failed:
                    raise RuntimeError(f"{len(failed)} limiter process(es) failed (exit codes "
                                       f"{failed})") from None
                if time.monotonic() > give_up_at:
                    raise TimeoutError(f"the limiter processes did not finish within "
                                       f"{timeout_s:g} s") from None
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
                worker.join()
    ordered = tuple(sorted(collected, key=lambda p: p.asked_from))
    return LimiterRun(max_requests, window_seconds, server_time, ordered)
