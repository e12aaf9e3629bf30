"""course_lib.tools.runner: concurrent tool calls with timeouts, isolation and cancellation.

Tools here are probes that wait on ``asyncio.Event``s the test controls, so what finishes when is
decided by the test, not by the wall clock. The only wall-clock waits are the short timeouts
under test (a hanging tool has to be timed out by *something*); the one speed claim is a ratio.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from course_lib.tools import (
    SimulatedLatency,
    ToolCall,
    ToolResult,
    run_tools,
    run_tools_serially,
    tool_call,
)

pytestmark = pytest.mark.timing

GUARD_S = 5.0  # a test that would otherwise hang fails after this long instead


class Probe:
    """An async tool whose finish the test decides; it records that it started and unwound."""

    def __init__(self, value: Any = None, *, error: BaseException | None = None,
                 hang: bool = False, wait_for: asyncio.Event | None = None) -> None:
        self.value, self.error, self.hang = value, error, hang
        self.release = wait_for or asyncio.Event()
        self.started = asyncio.Event()
        self.done = asyncio.Event()
        self.unwound = False  # set in the tool's finally: proof it was not left running
        self.inputs: Any = None
        if not hang and wait_for is None:
            self.release.set()

    async def __call__(self, *args: Any) -> Any:
        self.inputs = args[0] if args else None
        self.started.set()
        try:
            await (asyncio.Event().wait() if self.hang else self.release.wait())
            if self.error is not None:
                raise self.error
            return self.value
        finally:
            self.unwound = True
            self.done.set()


def run(coroutine_factory: Callable[[], Coroutine[Any, Any, Any]], *,
        allow_leftover_tasks: bool = False) -> Any:
    """Run an async test body with a guard against hanging forever.

    Unless allowed, a task still alive when the body returns fails the test: ``asyncio.run``
    would otherwise cancel it quietly on the way out, and run its ``finally`` *after* the code
    under test claimed to have cancelled it.
    """
    async def guarded() -> Any:
        async with asyncio.timeout(GUARD_S):
            result = await coroutine_factory()
        leftover = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if leftover and not allow_leftover_tasks:
            raise AssertionError(f"tasks still running after the test body: {leftover}")
        return result
    return asyncio.run(guarded())


# --------------------------------------------------------------------------- order and concurrency


def test_results_come_back_in_call_order_not_completion_order() -> None:
    async def body() -> list[ToolResult]:
        third = Probe("c")
        second = Probe("b", wait_for=third.done)   # finishes after the third
        first = Probe("a", wait_for=second.done)   # finishes last
        return await run_tools([tool_call("first", first), tool_call("second", second),
                                tool_call("third", third)])

    results = run(body)
    assert [r.name for r in results] == ["first", "second", "third"]
    assert [r.value for r in results] == ["a", "b", "c"]
    assert all(r.ok for r in results)
    # They completed in reverse order, so call order is not an accident of timing.
    assert results[2].finished <= results[1].finished <= results[0].finished


def test_all_tools_run_at_the_same_time() -> None:
    """Each tool waits until all three have started: only a concurrent runner can finish."""
    async def body() -> list[ToolResult]:
        all_started = asyncio.Event()
        probes = [Probe(i, wait_for=all_started) for i in range(3)]

        async def starter() -> None:
            for probe in probes:
                await probe.started.wait()
            all_started.set()

        watcher = asyncio.create_task(starter())
        results = await run_tools([tool_call(f"t{i}", p) for i, p in enumerate(probes)])
        await watcher
        return results

    assert [r.value for r in run(body)] == [0, 1, 2]


def test_serial_baseline_runs_one_tool_at_a_time() -> None:
    async def body() -> tuple[int, list[ToolResult]]:
        running = 0
        most = 0

        async def tool(value: int) -> int:
            nonlocal running, most
            running += 1
            most = max(most, running)
            await asyncio.sleep(0)  # yield, so an overlapping runner would show
            running -= 1
            return value

        results = await run_tools_serially([tool_call(f"t{i}", tool, i) for i in range(4)])
        return most, results

    most, results = run(body)
    assert most == 1
    assert [r.value for r in results] == [0, 1, 2, 3]
    assert all(a.finished <= b.started for a, b in itertools.pairwise(results))


def test_args_and_kwargs_reach_the_tool() -> None:
    async def tool(a: int, b: int, *, scale: int) -> int:
        return (a - b) * scale

    [result] = run(lambda: run_tools([tool_call("sub", tool, 7, 2, scale=10)]))
    assert result.value == 50


# --------------------------------------------------------------------------- timeouts


def test_a_hanging_tool_times_out_is_cancelled_and_the_others_finish() -> None:
    async def body() -> tuple[list[ToolResult], bool]:
        hanging = Probe(hang=True)
        results = await run_tools(
            [tool_call("kb", Probe("kb")), tool_call("stuck", hanging),
             tool_call("user", Probe(7))], timeout_per_tool=0.05)
        return results, hanging.unwound  # checked now, not after asyncio.run cleans up

    results, unwound = run(body)
    assert [r.status for r in results] == ["ok", "timeout", "ok"]
    assert [results[0].value, results[2].value] == ["kb", 7]
    stuck = results[1]
    assert isinstance(stuck.error, TimeoutError)
    assert "timeout_per_tool=0.05" in stuck.reason
    assert stuck.value is None
    assert unwound, "the timed-out tool's finally must have run before run_tools returned"


def test_total_timeout_stops_what_is_still_running_and_says_so() -> None:
    async def body() -> tuple[list[ToolResult], bool]:
        hanging = Probe(hang=True)
        results = await run_tools([tool_call("quick", Probe(1)), tool_call("stuck", hanging)],
                                  timeout_per_tool=10, total_timeout=0.05)
        return results, hanging.unwound

    results, unwound = run(body)
    assert [r.status for r in results] == ["ok", "timeout"]
    assert "total_timeout=0.05" in results[1].reason
    assert unwound


def test_a_tools_own_timeout_error_is_an_error_not_our_timeout() -> None:
    async def body() -> list[ToolResult]:
        return await run_tools([tool_call("http", Probe(error=TimeoutError("upstream read")))],
                               timeout_per_tool=5)

    [result] = run(body)
    assert result.status == "error"
    assert result.reason == "TimeoutError: upstream read"


# --------------------------------------------------------------------------- isolation


def test_one_tools_exception_becomes_its_result_and_the_others_still_complete() -> None:
    async def body() -> list[ToolResult]:
        return await run_tools([tool_call("a", Probe("a")),
                                tool_call("boom", Probe(error=ValueError("bad ticket id"))),
                                tool_call("c", Probe("c"))])

    results = run(body)
    assert [r.status for r in results] == ["ok", "error", "ok"]
    assert isinstance(results[1].error, ValueError)
    assert results[1].reason == "ValueError: bad ticket id"
    with pytest.raises(ValueError, match="bad ticket id"):
        results[1].unwrap()
    assert results[0].unwrap() == "a"


def test_a_blocking_function_given_to_run_tools_is_an_error_that_points_to_the_fix() -> None:
    def blocking() -> int:
        return 1

    [result] = run(lambda: run_tools([tool_call("sync", blocking)]))
    assert result.status == "error"
    assert isinstance(result.error, TypeError)
    assert "run_blocking_tools" in result.reason


# --------------------------------------------------------------------------- cancellation


def test_cancelling_the_caller_cancels_every_running_tool() -> None:
    async def body() -> list[bool]:
        probes = [Probe(hang=True) for _ in range(3)]
        turn = asyncio.create_task(run_tools([tool_call(f"t{i}", p) for i, p in enumerate(probes)]))
        for probe in probes:
            await probe.started.wait()
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn
        return [probe.unwound for probe in probes]

    assert run(body) == [True, True, True]


# --------------------------------------------------------------------------- inputs and results


@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (-1, ValueError), (math.nan, ValueError), (math.inf, ValueError),
    (True, TypeError), ("1", TypeError),
])
def test_bad_timeouts_are_rejected_with_the_parameter_named(bad: Any, error: type) -> None:
    with pytest.raises(error, match="timeout_per_tool"):
        run(lambda: run_tools([], timeout_per_tool=bad))
    with pytest.raises(error, match="total_timeout"):
        run(lambda: run_tools_serially([], total_timeout=bad))


def test_calls_must_be_a_list_of_tool_calls() -> None:
    call = tool_call("a", Probe())
    with pytest.raises(TypeError, match="not a single ToolCall"):
        run(lambda: run_tools(call))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"calls\[1\] is builtin_function_or_method"):
        run(lambda: run_tools([call, print]))  # type: ignore[list-item]
    with pytest.raises(ValueError, match="non-empty name"):
        ToolCall("", print)
    with pytest.raises(TypeError, match="not callable"):
        ToolCall("x", 3)  # type: ignore[arg-type]


def test_no_calls_means_no_results() -> None:
    assert run(lambda: run_tools([])) == []


def test_a_result_cannot_claim_success_with_an_error() -> None:
    with pytest.raises(ValueError, match="does not match"):
        ToolResult("x", "ok", error=RuntimeError("no"))
    with pytest.raises(ValueError, match="does not match"):
        ToolResult("x", "error")
    with pytest.raises(ValueError, match="unknown status"):
        ToolResult("x", "done")  # type: ignore[arg-type]


def test_clock_is_injectable_and_times_are_relative_to_the_start() -> None:
    ticks = iter(range(100, 200))

    [result] = run(lambda: run_tools([tool_call("a", Probe(1))], clock=lambda: next(ticks)))
    # origin=100, started=101, finished=102: relative to the run's own start.
    assert (result.started, result.finished, result.duration) == (1, 2, 1)


# --------------------------------------------------------------------------- the lesson's figure


def test_the_lessons_650_ms_become_about_300_ms() -> None:
    """200/300/150 ms of simulated latency: concurrent is at least 90% of the ideal 650/300."""
    latencies = {"kb": 200, "ticket": 300, "user": 150}

    async def tool(latency: SimulatedLatency) -> float:
        return await latency()

    async def body() -> tuple[float, float]:
        calls = [tool_call(name, tool, SimulatedLatency(ms, time_scale=1.0))
                 for name, ms in latencies.items()]
        serial = await run_tools_serially(calls)
        parallel = await run_tools(calls)
        return (max(r.finished for r in serial), max(r.finished for r in parallel))

    serial_s, parallel_s = run(body)
    ideal = sum(latencies.values()) / max(latencies.values())
    assert serial_s / parallel_s >= 0.9 * ideal
