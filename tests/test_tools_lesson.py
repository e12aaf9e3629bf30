"""course_lib.lesson.parallel_tools: the lesson's RunToolsConcurrently, traps included.

These tests pin down the port's behaviour, flaws and all, so notebook 08 demonstrates the real
thing: concurrency works, errors land in ``err``, a hanging tool blocks the whole call, and
cancelling the caller leaves the tools running.
"""

from __future__ import annotations

import asyncio

import pytest

from course_lib.lesson.parallel_tools import (
    LessonToolResult,
    lesson_tool,
    run_tools_concurrently,
)
from tests.test_tools_runner import Probe, run


def test_results_are_in_call_order_with_errors_in_err() -> None:
    async def body() -> list[LessonToolResult]:
        third = Probe("c")
        first = Probe("a", wait_for=third.done)
        return await run_tools_concurrently([
            lesson_tool("first", first),
            lesson_tool("broken", Probe(error=RuntimeError("db down"))),
            lesson_tool("third", third),
        ])

    results = run(body)
    assert [r.tool_name for r in results] == ["first", "broken", "third"]
    assert [r.result for r in results] == ["a", None, "c"]
    assert results[0].err is None and results[2].err is None
    assert isinstance(results[1].err, RuntimeError)


def test_the_port_runs_tools_concurrently() -> None:
    async def body() -> list[LessonToolResult]:
        all_started = asyncio.Event()
        probes = [Probe(i, wait_for=all_started) for i in range(3)]

        async def opener() -> None:
            for probe in probes:
                await probe.started.wait()
            all_started.set()

        watcher = asyncio.create_task(opener())
        results = await run_tools_concurrently([lesson_tool(f"t{i}", p)
                                                for i, p in enumerate(probes)])
        await watcher
        return results

    assert [r.result for r in run(body)] == [0, 1, 2]


def test_one_hanging_tool_blocks_the_call_and_the_finished_results_are_lost() -> None:
    async def body() -> Probe:
        quick, hanging = Probe("kb"), Probe(hang=True)
        call = asyncio.create_task(run_tools_concurrently([lesson_tool("kb", quick),
                                                           lesson_tool("stuck", hanging)]))
        await quick.done.wait()
        # Only an outer timeout ends the wait; then nothing at all is returned.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await call
        return quick

    # The hanging tool is still alive after the call gave up: that is the trap.
    assert run(body, allow_leftover_tasks=True).done.is_set()


def test_cancelling_the_caller_leaves_the_tools_running() -> None:
    async def body() -> bool:
        tool = Probe("late", wait_for=asyncio.Event())
        call = asyncio.create_task(run_tools_concurrently([lesson_tool("slow", tool)]))
        await tool.started.wait()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        still_running = not tool.unwound  # the caller is gone, the tool is not
        tool.release.set()
        await tool.done.wait()  # it finishes on its own, owned by nobody
        return still_running

    assert run(body) is True
