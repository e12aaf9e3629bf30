"""Exercise 3's checks: the solution passes; serial, reordered, fragile or leaky runners fail.

Wrong answers: tools awaited one by one (the thing the task replaces), results collected in
finishing order, ``gather`` without ``return_exceptions`` (one error loses the turn), no
deadline (a hanging tool holds the turn), ``asyncio.wait(timeout=...)`` that stops waiting
but leaves the tool running, and ``except BaseException``, which swallows the caller's
cancellation (with ``gather``, a ``TaskGroup`` or tasks awaited one by one).
"""

from __future__ import annotations

import asyncio

import pytest

from course_lib.checks import Status, run_check
from course_lib.tools import ToolResult
from tests.test_exercises_support import assert_fails, load_solution

SOLUTION = load_solution("ex03_concurrent_tools")


@pytest.mark.parametrize(
    ("check_id", "name"), [("ex03.q1", "run_concurrently"), ("ex03.q2", "run_tools")]
)
def test_the_solution_passes(check_id: str, name: str) -> None:
    result = run_check(check_id, SOLUTION[name])
    assert result.status is Status.PASSED, result.text()


# -- q1 -----------------------------------------------------------------------------------------


async def one_after_another(calls):
    return [await make() for _, make in calls]


async def in_finishing_order(calls):
    return [await next_done for next_done in asyncio.as_completed([make() for _, make in calls])]


def not_async(calls):
    return [make() for _, make in calls]


def test_tools_awaited_one_by_one_fail_as_serial() -> None:
    result = assert_fails("ex03.q1", one_after_another, hint_words=["one by one"])
    assert result.summary == "the tools ran one after another"
    assert result.got is not None and "waited alone" in result.got


def test_results_in_finishing_order_fail() -> None:
    result = assert_fails("ex03.q1", in_finishing_order, hint_words=["finished"])
    assert result.expected == "['3 articles', 'open', 'Ada, Business plan']"


def test_a_plain_function_is_told_to_be_async() -> None:
    assert_fails("ex03.q1", not_async, hint_words=["async def"])


# -- q2 -----------------------------------------------------------------------------------------


def _result(name, outcome):
    if isinstance(outcome, BaseException):
        return ToolResult(name, "error", error=outcome)
    return ToolResult(name, "ok", value=outcome)


async def gather_without_isolation(calls, timeout_per_tool):
    async def one(make):
        async with asyncio.timeout(timeout_per_tool):
            return await make()

    values = await asyncio.gather(*(one(make) for _, make in calls))
    return [_result(name, value) for (name, _), value in zip(calls, values, strict=True)]


async def no_deadline(calls, timeout_per_tool):
    values = await asyncio.gather(*(make() for _, make in calls), return_exceptions=True)
    return [_result(name, value) for (name, _), value in zip(calls, values, strict=True)]


async def stops_waiting_but_does_not_cancel(calls, timeout_per_tool):
    tasks = [asyncio.ensure_future(make()) for _, make in calls]
    await asyncio.wait(tasks, timeout=timeout_per_tool)
    results = []
    for (name, _), task in zip(calls, tasks, strict=True):
        if not task.done():
            results.append(ToolResult(name, "timeout", error=TimeoutError(name)))
        elif task.exception() is not None:
            results.append(ToolResult(name, "error", error=task.exception()))
        else:
            results.append(ToolResult(name, "ok", value=task.result()))
    return results


async def errors_as_strings(calls, timeout_per_tool):
    results = await SOLUTION["run_tools"](calls, timeout_per_tool)
    return [r if r.ok else ToolResult(r.name, r.status, error=RuntimeError(str(r.error)))
            for r in results]


def test_one_error_losing_the_turn_fails() -> None:
    result = assert_fails("ex03.q2", gather_without_isolation,
                          hint_words=["that tool's result"])
    assert result.summary == "one tool's error stopped the whole turn"


def test_no_deadline_fails_as_a_held_turn() -> None:
    result = assert_fails("ex03.q2", no_deadline, hint_words=["its own deadline"])
    assert result.summary == "a hanging tool held the whole turn"


def test_waiting_without_cancelling_fails() -> None:
    result = assert_fails("ex03.q2", stops_waiting_but_does_not_cancel,
                          hint_words=["not stopping"])
    assert result.summary == "the hanging tool was abandoned, not cancelled"


def test_an_error_replaced_by_another_fails() -> None:
    assert_fails("ex03.q2", errors_as_strings, hint_words=["exception object itself"])


# -- q2: the caller's cancellation ----------------------------------------------------------------


async def _run_one_catching_everything(name, make, timeout_per_tool):
    try:
        async with asyncio.timeout(timeout_per_tool):
            value = await make()
    except TimeoutError:
        return ToolResult(name, "timeout", error=TimeoutError(name))
    except BaseException as error:  # the mistake: CancelledError is a BaseException too
        return ToolResult(name, "error", error=error)
    return ToolResult(name, "ok", value=value)


async def catching_base_exception_in_gather(calls, timeout_per_tool):
    return list(await asyncio.gather(
        *(_run_one_catching_everything(name, make, timeout_per_tool) for name, make in calls)))


async def catching_base_exception_in_a_task_group(calls, timeout_per_tool):
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_run_one_catching_everything(name, make, timeout_per_tool))
                 for name, make in calls]
    return [task.result() for task in tasks]


async def catching_base_exception_in_tasks_awaited_in_turn(calls, timeout_per_tool):
    tasks = [asyncio.create_task(_run_one_catching_everything(name, make, timeout_per_tool))
             for name, make in calls]
    return [await task for task in tasks]


async def wait_for_each_tool(calls, timeout_per_tool):
    """A right answer written differently: wait_for per tool, exceptions handed back by gather."""
    outcomes = await asyncio.gather(*(asyncio.wait_for(make(), timeout_per_tool)
                                      for _, make in calls), return_exceptions=True)
    results = []
    for (name, _), outcome in zip(calls, outcomes, strict=True):
        if isinstance(outcome, TimeoutError):
            results.append(ToolResult(name, "timeout", error=outcome))
        elif isinstance(outcome, Exception):
            results.append(ToolResult(name, "error", error=outcome))
        else:
            results.append(ToolResult(name, "ok", value=outcome))
    return results


@pytest.mark.parametrize("answer", [catching_base_exception_in_gather,
                                    catching_base_exception_in_a_task_group])
def test_catching_base_exception_swallows_the_callers_cancellation(answer) -> None:
    # gather and TaskGroup pass the cancellation on to the caller anyway; the tool's own task
    # still swallowed it, which the check sees.
    result = assert_fails("ex03.q2", answer, hint_words=["BaseException", "cancellation"])
    assert result.summary == "the caller's cancellation was swallowed on the way"
    assert result.call is not None and "turn.cancel()" in result.call


def test_tasks_awaited_in_turn_keep_a_cancelled_caller_waiting() -> None:
    result = assert_fails("ex03.q2", catching_base_exception_in_tasks_awaited_in_turn,
                          hint_words=["BaseException"])
    assert result.summary == "a cancelled run_tools kept running"


def test_a_deadline_per_tool_with_wait_for_is_right_too() -> None:
    result = run_check("ex03.q2", wait_for_each_tool)
    assert result.status is Status.PASSED, result.text()
    assert "cancelling the caller cancelled every tool" in result.summary
