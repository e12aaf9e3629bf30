"""Many writers, released together, recording calls into one tracker.

A tracker that loses updates only does so when two writers overlap, so a demonstration has to
make them overlap: every writer first gets ready, then waits at a start line (a barrier), and
all of them start recording at once.

* :func:`record_concurrently`: threads of one process, with CPython asked to switch threads
  far more often than usual (:func:`frequent_thread_switches`), so a race that would take hours
  of production traffic shows up in a fraction of a second (the GIL question of notebook 03);
* :func:`race_redis_processes`: OS processes sharing one Redis, each recording every call twice:
  with :class:`course_lib.redis_tracker.RedisCostTracker` (atomic ``HINCRBY`` in one
  ``MULTI``/``EXEC``) and the naive way, ``GET`` the total, add, ``SET`` it back
  (:func:`record_both_ways`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from course_lib.tracker import CostSummary, from_picodollars

__all__ = ["RedisRace", "frequent_thread_switches", "race_redis_processes",
           "record_both_ways", "record_concurrently"]

Call = tuple[str, int, int]  # model, input tokens, output tokens


class _Records(Protocol):
    def record_call(self, model: str, input_tokens: int, output_tokens: int) -> object: ...


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return value


@contextlib.contextmanager
def frequent_thread_switches(seconds: float = 1e-5) -> Iterator[None]:
    """Ask CPython to offer the GIL to another thread every ``seconds`` (default 5 ms)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def record_concurrently(tracker: _Records, call: Call, *, threads: int = 8,
                        calls_per_thread: int = 2_000) -> None:
    """``threads`` threads, started together, each recording ``call`` ``calls_per_thread``
    times into ``tracker``, with frequent thread switches."""
    _positive("threads", threads)
    _positive("calls_per_thread", calls_per_thread)
    start_line = threading.Barrier(threads)

    def work() -> None:
        start_line.wait()
        for _ in range(calls_per_thread):
            tracker.record_call(*call)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    with frequent_thread_switches():
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


def record_both_ways(redis_url: str, prefix: str, call: Call, count: int, start_line: Any
                     ) -> None:
    """One process: record ``call`` ``count`` times, atomically and with a naive GET + SET."""
    import redis

    from course_lib.pricing import cost_usd
    from course_lib.redis_tracker import RedisCostTracker
    from course_lib.tracker import to_picodollars

    client = redis.Redis.from_url(redis_url)
    tracker = RedisCostTracker(client, prefix)
    picodollars = to_picodollars(cost_usd(*call))
    client.ping()  # connected before the start line
    start_line.wait(timeout=60)
    for _ in range(count):
        tracker.record_call(*call)  # HINCRBYs in one MULTI/EXEC
        total = int(client.get(f"{prefix}:naive_total") or 0)  # read ...
        client.set(f"{prefix}:naive_total", total + picodollars)  # ... add, write back
    client.close()


@dataclass(frozen=True)
class RedisRace:
    """What the processes recorded: the shared tracker's summary and the naive total."""

    shared: CostSummary
    naive_usd: Decimal


def race_redis_processes(redis_url: str, call: Call, *, processes: int = 2,
                         calls_per_process: int = 400, prefix: str = "costs:support-bot",
                         timeout_s: float = 120.0) -> RedisRace:
    """Start ``processes`` OS processes behind one barrier, each running
    :func:`record_both_ways`; return both totals. Processes are spawned, as in a notebook."""
    import redis

    from course_lib.redis_tracker import RedisCostTracker

    _positive("processes", processes)
    _positive("calls_per_process", calls_per_process)
    context = multiprocessing.get_context("spawn")
    start_line = context.Barrier(processes)
    workers = [context.Process(target=record_both_ways, daemon=True,
                               args=(redis_url, prefix, call, calls_per_process, start_line))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout_s)
        if worker.is_alive():
            worker.kill()
            worker.join()
    failed = [worker.exitcode for worker in workers if worker.exitcode != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} recording process(es) failed (exit codes {failed})")
    client = redis.Redis.from_url(redis_url)
    try:
        shared = RedisCostTracker(client, prefix).summary()
        naive = from_picodollars(int(client.get(f"{prefix}:naive_total") or 0))
    finally:
        client.close()
    return RedisRace(shared, naive)
