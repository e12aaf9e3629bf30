"""Run an agent turn's tool calls concurrently on asyncio, each with its own deadline.

The lesson's question: a query needs the knowledge base, the ticket's status and the user's
profile (200 + 300 + 150 ms). One after another that is 650 ms; started together, the turn waits
only for the slowest, 300 ms. The lesson's Go code (``RunToolsConcurrently``, ported in
:mod:`course_lib.lesson.parallel_tools`) gets the speed but not the safety. :func:`run_tools` adds:

- a **per-tool timeout**: a tool that hangs is cancelled (its ``finally`` blocks run) and reported
  as ``timeout``, instead of holding the whole turn forever;
- a **total timeout** for the turn: whatever has not finished by then is cancelled the same way;
- **error isolation**: one tool's exception becomes that tool's result; the others still finish;
- **cancellation**: cancelling the caller (the user closed the chat) cancels every running tool,
  and :func:`run_tools` returns only after they have all unwound (``asyncio.TaskGroup``);
- results **in call order**, each with its start and finish time for a Gantt chart.

Library equivalents: ``asyncio.TaskGroup`` plus ``asyncio.timeout`` is all this is built on;
``anyio`` task groups with ``move_on_after`` / ``fail_after`` do the same across asyncio and trio.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .result import ToolResult

__all__ = ["Clock", "ToolCall", "run_tools", "run_tools_serially", "tool_call"]

Clock = Callable[[], float]


@dataclass(frozen=True)
class ToolCall:
    """One call to make: ``func(*args, **kwargs)`` under the name ``name``.

    For :func:`run_tools` ``func`` is an ``async`` function; for
    :func:`~course_lib.tools.blocking.run_blocking_tools` an ordinary (blocking) one.
    """

    name: str
    func: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a tool call needs a non-empty name, got {self.name!r}")
        if not callable(self.func):
            raise TypeError(f"tool {self.name!r}: func {self.func!r} is not callable")
        if not isinstance(self.args, tuple):
            raise TypeError(f"tool {self.name!r}: args must be a tuple, "
                            f"got {type(self.args).__name__}")


def tool_call(name: str, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> ToolCall:
    """``tool_call("ticket_status", tools.ticket_status, 10427)``: a :class:`ToolCall`."""
    return ToolCall(name, func, args, dict(kwargs))


def check_timeout(label: str, value: float | None) -> None:
    """A timeout is ``None`` (no limit) or a positive, finite number of seconds."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{label} must be a number of seconds or None, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{label} must be a positive, finite number of seconds, got {value!r}")


def check_calls(calls: Sequence[ToolCall]) -> list[ToolCall]:
    if isinstance(calls, ToolCall):
        raise TypeError("pass a list of ToolCall, not a single ToolCall")
    calls = list(calls)
    for index, call in enumerate(calls):
        if not isinstance(call, ToolCall):
            raise TypeError(f"calls[{index}] is {type(call).__name__}, not a ToolCall "
                            "(build one with tool_call(name, func, *args))")
    return calls


class Deadlines:
    """When each tool must stop: ``timeout_per_tool`` after it starts, and never later than
    ``total_timeout`` after the run starts; the message says which limit it was."""

    def __init__(self, timeout_per_tool: float | None, total_timeout: float | None) -> None:
        check_timeout("timeout_per_tool", timeout_per_tool)
        check_timeout("total_timeout", total_timeout)
        self.timeout_per_tool = timeout_per_tool
        self.total_timeout = total_timeout
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._total_at = None if total_timeout is None else loop.time() + total_timeout

    def for_tool_starting_now(self) -> tuple[float | None, str]:
        """(loop time to stop at, what to say when it is reached)."""
        now = self._loop.time()
        per_tool_at = None if self.timeout_per_tool is None else now + self.timeout_per_tool
        if self._total_at is not None and (per_tool_at is None or self._total_at <= per_tool_at):
            return self._total_at, f"stopped: total_timeout={self.total_timeout:g} s ran out"
        if per_tool_at is None:
            return None, ""
        return per_tool_at, f"timed out after timeout_per_tool={self.timeout_per_tool:g} s"


async def run_guarded(
    name: str,
    start: Callable[[], Awaitable[Any]],
    deadlines: Deadlines,
    clock: Clock,
    origin: float,
) -> ToolResult:
    """Run one tool under its deadline; every way it can end becomes a :class:`ToolResult`.

    Cancellation from outside (``CancelledError``) is not a result: it propagates, after the
    tool has unwound. A tool's own ``TimeoutError`` (say, from its HTTP client) is an ``error``,
    told apart from ours by asking the timeout context whether *it* expired.
    """
    when, why = deadlines.for_tool_starting_now()
    if when is not None and when <= asyncio.get_running_loop().time():
        now = clock() - origin
        return ToolResult(name, "timeout", error=TimeoutError(f"{name!r} never started: {why}"),
                          finished=now)
    started = clock() - origin
    limit = asyncio.timeout_at(when)
    try:
        async with limit:
            awaitable = start()
            if not inspect.isawaitable(awaitable):
                raise TypeError(
                    f"{name!r} returned {type(awaitable).__name__}, not an awaitable: it is not "
                    "an async function (run blocking functions with run_blocking_tools)")
            value = await awaitable
    except TimeoutError as error:
        finished = clock() - origin
        if limit.expired():
            return ToolResult(name, "timeout", error=TimeoutError(f"{name!r} {why}"),
                              started=started, finished=finished)
        return ToolResult(name, "error", error=error, started=started, finished=finished)
    except Exception as error:  # isolation: one tool's failure is its own result
        return ToolResult(name, "error", error=error, started=started, finished=clock() - origin)
    return ToolResult(name, "ok", value=value, started=started, finished=clock() - origin)


def _starter(call: ToolCall) -> Callable[[], Awaitable[Any]]:
    return lambda: call.func(*call.args, **call.kwargs)


async def run_tools(
    calls: Sequence[ToolCall],
    *,
    timeout_per_tool: float | None = None,
    total_timeout: float | None = None,
    clock: Clock = time.perf_counter,
) -> list[ToolResult]:
    """Run every call concurrently; return one :class:`ToolResult` per call, in call order.

    A tool that raises or runs past ``timeout_per_tool`` (seconds from its start) or past
    ``total_timeout`` (seconds from the start of the run) gets an ``error`` or ``timeout`` result;
    a timed-out tool is cancelled and has finished unwinding before this returns. Cancelling the
    caller cancels every tool still running, then re-raises ``CancelledError``. ``clock`` (a
    monotonic clock in seconds) times the results; a tool that swallows ``CancelledError``
    cannot be stopped by anyone, so don't write one.
    """
    calls = check_calls(calls)
    deadlines = Deadlines(timeout_per_tool, total_timeout)
    origin = clock()
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(run_guarded(call.name, _starter(call), deadlines, clock, origin),
                              name=f"tool:{call.name}")
            for call in calls
        ]
    return [task.result() for task in tasks]


async def run_tools_serially(
    calls: Sequence[ToolCall],
    *,
    timeout_per_tool: float | None = None,
    total_timeout: float | None = None,
    clock: Clock = time.perf_counter,
) -> list[ToolResult]:
    """The baseline: the same calls one after another, with the same timeouts and results.

    The turn takes the *sum* of the tools' times, where :func:`run_tools` takes the *maximum*.
    """
    calls = check_calls(calls)
    deadlines = Deadlines(timeout_per_tool, total_timeout)
    origin = clock()
    return [await run_guarded(call.name, _starter(call), deadlines, clock, origin)
            for call in calls]
