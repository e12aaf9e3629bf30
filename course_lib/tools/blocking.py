"""Blocking tools (a synchronous SDK, ``requests``, a CPU-bound step) run concurrently in threads.

An ``async`` runner cannot overlap code that blocks: a ``time.sleep`` or a synchronous HTTP call
inside a coroutine stops the whole event loop, and every other tool waits. The fix is to hand
each blocking call to a worker thread and await its future: :func:`run_blocking_tools` does that
with a ``concurrent.futures.ThreadPoolExecutor`` and gives the same results, order, per-tool and
total timeouts and error isolation as :func:`~course_lib.tools.runner.run_tools`.

**The caveat: a thread cannot be cancelled.** Python has no way to stop a running thread from
outside. When a blocking tool times out, :func:`run_blocking_tools` stops *waiting* for it and
reports ``timeout``, but the thread runs on until the function returns by itself, holding its
connection, its worker slot and whatever it locked. The result says so ("its thread cannot be
cancelled and is still running"). The remedies are all on the tool's side: give the blocking call
its own timeout (``requests.get(..., timeout=2)``), make it check a stop flag, use an interrupt
the library offers (``sqlite3.Connection.interrupt``; see :mod:`course_lib.tools.readonly_db`),
or run it in a subprocess, which *can* be killed.

``asyncio.to_thread(func, *args)`` is the one-line way to run a single call in a thread. It uses
the loop's default executor, and ``asyncio.run`` waits for that executor's threads when it
exits: a stuck thread then holds up the program's exit too. This module uses a private executor
that it shuts down without waiting, so the caller gets its results on time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from .result import ToolResult
from .runner import Clock, Deadlines, ToolCall, check_calls, run_guarded

__all__ = ["run_blocking_tools"]


async def run_blocking_tools(
    calls: Sequence[ToolCall],
    *,
    timeout_per_tool: float | None = None,
    total_timeout: float | None = None,
    max_workers: int | None = None,
    clock: Clock = time.perf_counter,
) -> list[ToolResult]:
    """Run blocking (synchronous) tool functions concurrently in worker threads.

    ``max_workers`` threads (default: one per call) share the calls; a call waiting for a free
    thread is already on the clock for its ``timeout_per_tool``. Results are in call order. A
    tool that times out while its thread is running keeps running in the background (see the
    module docstring); one that was still queued is cancelled before it starts.
    """
    calls = check_calls(calls)
    if max_workers is not None and (isinstance(max_workers, bool)
                                    or not isinstance(max_workers, int) or max_workers < 1):
        raise ValueError(f"max_workers must be a positive int or None, got {max_workers!r}")
    deadlines = Deadlines(timeout_per_tool, total_timeout)
    executor = concurrent.futures.ThreadPoolExecutor(
        max_workers=max_workers or max(1, len(calls)), thread_name_prefix="blocking-tool")
    submitted: list[concurrent.futures.Future[Any] | None] = [None] * len(calls)

    def in_thread(index: int, call: ToolCall) -> Callable[[], Awaitable[Any]]:
        def start() -> Awaitable[Any]:
            future = executor.submit(functools.partial(call.func, *call.args, **call.kwargs))
            submitted[index] = future
            return asyncio.wrap_future(future)
        return start

    origin = clock()
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(run_guarded(call.name, in_thread(index, call), deadlines,
                                              clock, origin), name=f"blocking-tool:{call.name}")
                for index, call in enumerate(calls)
            ]
    finally:
        # Queued calls are dropped; a running thread cannot be stopped, so do not wait for it.
        executor.shutdown(wait=False, cancel_futures=True)
    return [_say_if_still_running(task.result(), future)
            for task, future in zip(tasks, submitted, strict=True)]


def _say_if_still_running(
    result: ToolResult, future: concurrent.futures.Future[Any] | None
) -> ToolResult:
    if result.status != "timeout" or future is None or future.done():
        return result
    error = TimeoutError(f"{result.error}; its thread cannot be cancelled and is still running")
    return ToolResult(result.name, "timeout", error=error, started=result.started,
                      finished=result.finished)
