"""The lesson's ``RunToolsConcurrently`` (``internal/agent/parallel_tools.go``), ported faithfully.

The Go code starts one goroutine per tool call, each writing its ``ToolResult`` into its own slot
of a slice, and waits for all of them with a ``sync.WaitGroup``. The port does the same with one
asyncio task per call and ``asyncio.wait`` in place of ``wg.Wait()``. It gets the speed right:
the turn takes as long as the slowest tool, not the sum. What it leaves out is what notebook 08
demonstrates:

- **no per-tool timeout**: the Go code adds no deadline of its own to ``ctx``, so one tool that
  hangs without watching ``ctx`` holds ``wg.Wait()`` and so the whole turn, forever, and the
  results of the tools that did finish are never returned (they are only handed back after
  *all* have finished);
- **a wait that cannot be interrupted**: the Go code passes the caller's ``ctx`` to every
  ``tc.Execute(ctx)``, so when the caller cancels it, tools that watch ``ctx`` do stop; but
  ``wg.Wait()`` cannot be interrupted, so the caller is held until the last tool returns. This
  port differs here, the other way round: cancelling its caller interrupts the wait
  (``asyncio.wait`` is cancellable) but reaches no tool task, so they run on, owned by nobody.
  Neither is what a turn needs: every tool cancelled *and* the caller back at once, which
  ``asyncio.TaskGroup`` gives :func:`course_lib.tools.run_tools`;
- **dependencies ignored**: every call starts at once, so a tool that needs another tool's
  result (search the knowledge base *for the user's plan*) reads an input that is not there yet.

Go's ``Execute`` returns ``(result, err)``; a Python tool signals the error by raising, and the
port stores the exception in ``err`` as the Go code stores the returned error.

The fixes: :func:`course_lib.tools.run_tools` (timeouts, cancellation, isolation) and
:func:`course_lib.tools.run_dag` (dependencies). Do not use this port in real code.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from course_lib.tools import ToolCall

__all__ = ["LessonToolCall", "LessonToolResult", "cancel_after", "cancel_unowned",
           "from_tool_calls", "lesson_tool", "record_ending", "run_tools_concurrently",
           "unowned_tasks", "wait_at_most"]


class LessonToolCall(Protocol):
    """Go's ``ToolCall`` interface: ``Name() string`` and ``Execute(ctx) (any, error)``."""

    def name(self) -> str: ...

    async def execute(self) -> Any: ...


@dataclass
class LessonToolResult:
    """Go's ``ToolResult{ToolName, Result, Err}``."""

    tool_name: str
    result: Any
    err: BaseException | None


@dataclass(frozen=True)
class _FunctionTool:
    tool_name: str
    func: Callable[[], Awaitable[Any]]

    def name(self) -> str:
        return self.tool_name

    async def execute(self) -> Any:
        return await self.func()


def lesson_tool(name: str, func: Callable[[], Awaitable[Any]]) -> LessonToolCall:
    """Wrap an ``async`` function of no arguments as a :class:`LessonToolCall`."""
    return _FunctionTool(name, func)


# Tasks that nobody awaits any more (their caller was cancelled) must still be referenced, or
# the event loop, which holds tasks only weakly, could garbage-collect them mid-run.
_unowned: set[asyncio.Task[None]] = set()


async def run_tools_concurrently(calls: Sequence[LessonToolCall]) -> list[LessonToolResult]:
    """``RunToolsConcurrently``: run every call concurrently and wait until all have finished."""
    results: list[LessonToolResult | None] = [None] * len(calls)  # results := make(...)

    async def run(idx: int, tc: LessonToolCall) -> None:  # go func(idx int, tc ToolCall)
        try:
            result, err = await tc.execute(), None  # result, err := tc.Execute(ctx)
        except Exception as error:
            result, err = None, error
        results[idx] = LessonToolResult(tool_name=tc.name(), result=result, err=err)

    tasks = [asyncio.create_task(run(i, call), name=f"lesson-tool:{call.name()}")  # wg.Add(1)
             for i, call in enumerate(calls)]
    for task in tasks:
        _unowned.add(task)
        task.add_done_callback(_unowned.discard)  # defer wg.Done()
    if tasks:
        await asyncio.wait(tasks)  # wg.Wait(); unlike Go, cancellable, and no ctx reaches the tasks
    return [result for result in results if result is not None]


# -- for the demonstrations of notebook 08 ------------------------------------------------------

def from_tool_calls(calls: Sequence[ToolCall]) -> list[LessonToolCall]:
    """The course's :class:`~course_lib.tools.ToolCall` list as the port's calls."""
    return [lesson_tool(c.name, functools.partial(c.func, *c.args, **c.kwargs)) for c in calls]


def unowned_tasks() -> list[asyncio.Task[None]]:
    """The port's tool tasks still running after their caller stopped waiting for them."""
    return [task for task in _unowned if not task.done()]


async def cancel_unowned() -> None:
    """Cancel the port's abandoned tool tasks and wait for them to unwind (a clean-up by hand:
    in Go such a goroutine would leak until the process exits)."""
    tasks = unowned_tasks()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def record_ending(log: MutableMapping[str, str], call: ToolCall
                  ) -> Callable[[], Awaitable[Any]]:
    """``call`` as a function of no arguments that writes ``"finished"`` or ``"cancelled"``
    under its name in ``log``, whichever way it ends."""
    async def tool() -> Any:
        try:
            value = await call.func(*call.args, **call.kwargs)
        except asyncio.CancelledError:
            log[call.name] = "cancelled"
            raise
        log[call.name] = "finished"
        return value
    return tool


async def cancel_after(seconds: float, turn: Coroutine[Any, Any, Any]) -> None:
    """Run ``turn`` as a task and cancel it after ``seconds`` (the user closes the chat), then
    wait until the task has ended."""
    task = asyncio.create_task(turn)
    await asyncio.sleep(seconds)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def wait_at_most(seconds: float, turn: Awaitable[Any]) -> tuple[Any | None, float]:
    """Await ``turn`` for at most ``seconds``, the outer bound a demonstration adds (the lesson's
    code has none): its value, or None when the bound ran out, and the seconds waited."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            return await turn, time.perf_counter() - started
    except TimeoutError:
        return None, time.perf_counter() - started
