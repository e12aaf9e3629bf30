"""Checks for ``exercises/ex03_concurrent_tools`` (the lesson's task 3, 实现并发 tool 调用).

The learner's runners are driven with the check's own fake tools, so nothing here depends on
how fast the machine is and nothing is compared with :mod:`course_lib.tools`:

* **concurrency** is a barrier, not a stopwatch: each tool waits until *every* tool has started.
  Started together, they pass at once; run one after another, each waits alone until the
  barrier gives up, and the check says so;
* **call order** is tested with tools that finish in a different order than they were called
  (each waits for the one the check wants finished before it);
* **timeouts** use a tool that would hang for seconds, and the check asks whether it was
  *cancelled* (its ``finally`` ran) before the runner returned, not only abandoned;
* **the caller's cancellation** (the user closed the chat) is sent to the learner's runner
  while its tools hang: it must reach the caller as ``CancelledError``, every tool must be
  cancelled with it, and no task may swallow it (an ``except BaseException`` turns it into a
  result, so the user who left keeps waiting).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from course_lib.checks.expect import expect, run_coroutine, short_repr
from course_lib.checks.hints import mistake_hint
from course_lib.checks.registry import register
from course_lib.checks.result import CheckFailure

__all__ = ["check_run_concurrently", "check_run_tools"]

BARRIER_WAIT_S = 0.5  # tools started together meet at once; alone, one waits this long
HANG_S = 4.0  # how long the "hanging" tool would take: far past any timeout the check sets
TIMEOUT_S = 0.2  # the per-tool timeout the check asks for
RUN_LIMIT_S = 3.0  # the check gives up on a runner after this long (a hung runner)
CANCEL_LIMIT_S = 1.0  # a cancelled runner must have ended (its tools cancelled) within this


class ToolLookupError(LookupError):
    """What the check's failing tool raises: easy to tell from anything else."""


@dataclass
class Meeting:
    """A barrier for ``expected`` tools, recording which ones had to wait alone."""

    expected: int
    arrived: int = 0
    waited_alone: list[str] = field(default_factory=list)
    everyone: asyncio.Event = field(default_factory=asyncio.Event)

    async def attend(self, name: str) -> None:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.everyone.set()
        try:
            await asyncio.wait_for(self.everyone.wait(), BARRIER_WAIT_S)
        except TimeoutError:
            self.waited_alone.append(name)


@dataclass
class Tools:
    """The check's fake tools for one run: they meet, finish in a chosen order, fail or hang."""

    meeting: Meeting
    finished: dict[str, asyncio.Event] = field(default_factory=dict)
    finish_order: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    still_running: set[str] = field(default_factory=set)
    ran_in: dict[str, asyncio.Task] = field(default_factory=dict)

    def quick(self, name: str, value: Any, after: str | None = None) -> Callable[[], Awaitable]:
        """A tool returning ``value``, but only once the tool ``after`` has finished."""
        self.finished[name] = asyncio.Event()

        async def tool() -> Any:
            await self.meeting.attend(name)
            if after is not None:
                # Bounded, so tools run one after another still end (and the check can say so).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.finished[after].wait(), BARRIER_WAIT_S)
            await asyncio.sleep(0)
            self.finish_order.append(name)
            self.finished[name].set()
            return value

        return tool

    def failing(self, name: str) -> Callable[[], Awaitable]:
        async def tool() -> Any:
            await self.meeting.attend(name)
            raise ToolLookupError(f"no ticket #99999 ({name})")

        return tool

    def hanging(self, name: str) -> Callable[[], Awaitable]:
        async def tool() -> Any:
            self.still_running.add(name)
            self.ran_in[name] = asyncio.current_task()  # type: ignore[assignment]
            try:
                await self.meeting.attend(name)
                await asyncio.sleep(HANG_S)  # a service that never answers (in time)
                return "too late"
            except asyncio.CancelledError:
                self.cancelled.append(name)
                raise
            finally:
                self.still_running.discard(name)

        return tool


def _require_async(function: object, name: str, check_id: str) -> None:
    expect(inspect.iscoroutinefunction(function),
           f"{name} should be an async function", call=f"{name}(calls)",
           expected=f"async def {name}(...)", got=short_repr(function),
           hint=mistake_hint(check_id, "not_async"))


def _calls_text(names: list[str], note: str) -> str:
    return f"calls = [{', '.join(repr(n) for n in names)}]  # {note}"


# -- q1: run concurrently, results in call order --------------------------------------------------


@register("ex03.q1", "tools run together, results in call order")
def check_run_concurrently(run_concurrently: Callable[[list], Awaitable[list]]) -> str:
    """All tools start before any finishes; results come back in call order, not finish order."""
    _require_async(run_concurrently, "run_concurrently", "ex03.q1")
    names = ["search_kb", "ticket_status", "user_profile"]
    state: dict[str, Tools] = {}

    async def scenario() -> list:
        tools = state["tools"] = Tools(Meeting(expected=3))
        # user_profile finishes first, then search_kb, then ticket_status.
        calls = [("search_kb", tools.quick("search_kb", "3 articles", after="user_profile")),
                 ("ticket_status", tools.quick("ticket_status", "open", after="search_kb")),
                 ("user_profile", tools.quick("user_profile", "Ada, Business plan"))]
        return await run_concurrently(calls)

    call = "await run_concurrently(calls)\n" + _calls_text(
        names, "they finish in the order user_profile, search_kb, ticket_status")
    got = run_coroutine(scenario, timeout=RUN_LIMIT_S + 3 * BARRIER_WAIT_S, call=call)
    tools = state["tools"]
    expect(not tools.meeting.waited_alone, "the tools ran one after another", call=call,
           expected="all three started before any of them finished",
           got=f"{', '.join(tools.meeting.waited_alone)} waited alone: the others had not "
               "started",
           hint=mistake_hint("ex03.q1", "serial"))
    expected = ["3 articles", "open", "Ada, Business plan"]
    mistake = "values"
    if isinstance(got, list) and sorted(map(str, got)) == sorted(expected):
        mistake = "finish_order"
    expect(got == expected, "the results are not in call order", call=call,
           expected=short_repr(expected), got=short_repr(got),
           hint=mistake_hint("ex03.q1", mistake))
    return "3 tools started together; results in call order although they finished out of order"


# -- q2: errors isolated, hanging tools timed out and cancelled -----------------------------------


def _result_fields(result: object) -> tuple[Any, Any, Any, Any]:
    return (getattr(result, "name", None), getattr(result, "status", None),
            getattr(result, "value", None), getattr(result, "error", None))


def _describe(results: object) -> str:
    if not isinstance(results, list):
        return short_repr(results)
    rows = []
    for result in results:
        name, status, value, error = _result_fields(result)
        rows.append(f"{name!r}: {status!r}, value={short_repr(value, 40)}, "
                    f"error={short_repr(error, 60)}")
    return "\n".join(rows) or "[]"


@register("ex03.q2", "errors isolated, a hanging tool timed out and cancelled")
def check_run_tools(run_tools: Callable[..., Awaitable[list]]) -> str:
    """One result per call: ok / error (the tool's own exception) / timeout, hung tool cancelled."""
    _require_async(run_tools, "run_tools", "ex03.q2")

    # 1. A failing tool among working ones: its error is its result; the others still answer.
    state: dict[str, Any] = {}

    async def failing_scenario() -> list:
        tools = state["tools"] = Tools(Meeting(expected=3))
        calls = [("search_kb", tools.quick("search_kb", "3 articles")),
                 ("ticket_status", tools.failing("ticket_status")),
                 ("user_profile", tools.quick("user_profile", "Ada, Business plan"))]
        return await run_tools(calls, timeout_per_tool=RUN_LIMIT_S)

    call = ("await run_tools(calls, timeout_per_tool=3.0)\n"
            + _calls_text(["search_kb", "ticket_status", "user_profile"],
                          "ticket_status raises ToolLookupError"))
    try:
        results = run_coroutine(failing_scenario, timeout=RUN_LIMIT_S + 2, call=call)
    except CheckFailure as failure:
        if isinstance(failure.__cause__, ToolLookupError):
            raise CheckFailure(
                "one tool's error stopped the whole turn", call=call,
                expected="three results: ok, error, ok", got=failure.got,
                hint=mistake_hint("ex03.q2", "isolation"),
            ) from None
        raise
    expect(not state["tools"].meeting.waited_alone, "the tools ran one after another",
           call=call, expected="all three started together",
           got=f"{', '.join(state['tools'].meeting.waited_alone)} waited alone",
           hint=mistake_hint("ex03.q2", "serial"))
    expect(isinstance(results, list) and len(results) == 3,
           "run_tools should return one result per call", call=call,
           expected="a list of 3 ToolResult", got=_describe(results))
    expected_rows = [("search_kb", "ok", "3 articles"), ("ticket_status", "error", None),
                     ("user_profile", "ok", "Ada, Business plan")]
    for result, (name, status, value) in zip(results, expected_rows, strict=True):
        got_name, got_status, got_value, got_error = _result_fields(result)
        expect((got_name, got_status) == (name, status),
               f"the result for {name!r} is wrong", call=call,
               expected="\n".join(f"{n!r}: {s!r}" for n, s, _ in expected_rows),
               got=_describe(results), hint=mistake_hint("ex03.q2", "fields"))
        if status == "ok":
            expect(got_value == value, f"{name!r} lost its value", call=call,
                   expected=repr(value), got=short_repr(got_value))
        else:
            expect(isinstance(got_error, ToolLookupError), f"{name!r} should keep its own error",
                   call=call, expected="the ToolLookupError the tool raised",
                   got=short_repr(got_error), hint=mistake_hint("ex03.q2", "own_error"))

    # 2. A tool that hangs: timed out after timeout_per_tool, cancelled, and the others kept.
    async def hanging_scenario() -> tuple[list, float, list[str], set[str]]:
        tools = Tools(Meeting(expected=2))
        calls = [("ticket_status", tools.hanging("ticket_status")),
                 ("user_profile", tools.quick("user_profile", "Ada, Business plan"))]
        started = time.perf_counter()
        results = await run_tools(calls, timeout_per_tool=TIMEOUT_S)
        elapsed = time.perf_counter() - started
        # Read before asyncio.run() tidies up: was the hanging tool cancelled by run_tools?
        return results, elapsed, list(tools.cancelled), set(tools.still_running)

    call = (f"await run_tools(calls, timeout_per_tool={TIMEOUT_S})\n"
            + _calls_text(["ticket_status", "user_profile"],
                          f"ticket_status never answers (it would take {HANG_S:g} s)"))
    try:
        results, elapsed, cancelled, still_running = run_coroutine(
            hanging_scenario, timeout=RUN_LIMIT_S, call=call)
    except CheckFailure as failure:
        if "did not finish" in failure.problem:
            raise CheckFailure(
                "a hanging tool held the whole turn", call=call,
                expected=f"run_tools returns after about {TIMEOUT_S} s",
                got=f"still waiting after {RUN_LIMIT_S:g} s",
                hint=mistake_hint("ex03.q2", "no_deadline"),
            ) from None
        raise
    expect(isinstance(results, list) and len(results) == 2,
           "run_tools should return one result per call", call=call,
           expected="a list of 2 ToolResult", got=_describe(results))
    statuses = [_result_fields(result)[1] for result in results]
    expect(statuses == ["timeout", "ok"], "the hanging tool should time out, the other answer",
           call=call, expected="'ticket_status': 'timeout'\n'user_profile': 'ok'",
           got=_describe(results), hint=mistake_hint("ex03.q2", "timeout_status"))
    expect("ticket_status" in cancelled and not still_running,
           "the hanging tool was abandoned, not cancelled", call=call,
           expected="ticket_status cancelled (its finally block ran) before run_tools returned",
           got="it was still running when run_tools returned",
           hint=mistake_hint("ex03.q2", "abandoned"))
    expect(elapsed < TIMEOUT_S * 8, "the timeout did not apply promptly", call=call,
           expected=f"about {TIMEOUT_S} s", got=f"{elapsed:.2f} s")

    _check_caller_cancellation(run_tools)
    return (f"errors kept with their tool; a hanging tool timed out after {elapsed:.2f} s "
            "and was cancelled; cancelling the caller cancelled every tool")


def _check_caller_cancellation(run_tools: Callable[..., Awaitable[list]]) -> None:
    """The user closes the chat while two tools hang: cancelling the caller's task must cancel
    every tool, and the cancellation must reach the caller, swallowed by no task on the way."""
    state: dict[str, Any] = {}

    async def scenario() -> None:
        tools = state["tools"] = Tools(Meeting(expected=2))
        calls = [("search_kb", tools.hanging("search_kb")),
                 ("ticket_status", tools.hanging("ticket_status"))]
        turn = asyncio.create_task(run_tools(calls, timeout_per_tool=RUN_LIMIT_S))
        with contextlib.suppress(TimeoutError):  # both tools have started (or one never will)
            await asyncio.wait_for(asyncio.shield(tools.meeting.everyone.wait()), BARRIER_WAIT_S)
        turn.cancel()
        await asyncio.wait({turn}, timeout=CANCEL_LIMIT_S)
        # Read before asyncio.run() tidies up: how did the turn and each tool's task end?
        state["done"], state["still_running"] = turn.done(), set(tools.still_running)
        state["cancelled"] = turn.done() and turn.cancelled()
        state["outcome"] = (None if not turn.done() or turn.cancelled()
                            else turn.exception() or turn.result())
        state["swallowed"] = sorted(name for name, task in tools.ran_in.items()
                                    if task.done() and not task.cancelled())

    call = ("turn = asyncio.create_task(run_tools(calls, timeout_per_tool=3.0))\n"
            "turn.cancel()  # the user closed the chat\n"
            + _calls_text(["search_kb", "ticket_status"],
                          f"both would take {HANG_S:g} s; the turn is cancelled once both "
                          "have started"))
    run_coroutine(scenario, timeout=BARRIER_WAIT_S + CANCEL_LIMIT_S + 2, call=call)
    expect(state["done"], "a cancelled run_tools kept running", call=call,
           expected=f"run_tools ends within {CANCEL_LIMIT_S:g} s of the cancel",
           got=f"still running after {CANCEL_LIMIT_S:g} s",
           hint=mistake_hint("ex03.q2",
                             "cancel_swallowed" if state["swallowed"] else "cancel_ignored"))
    outcome = state["outcome"]
    expect(state["cancelled"], "the caller's cancellation was swallowed", call=call,
           expected="run_tools raises CancelledError to its caller",
           got=(f"it returned {_describe(outcome)}" if isinstance(outcome, list)
                else f"it ended with {short_repr(outcome)}"),
           hint=mistake_hint("ex03.q2", "cancel_swallowed"))
    expect(not state["still_running"], "the tools outlived the cancelled turn", call=call,
           expected="every tool cancelled (its finally block ran) before run_tools ended",
           got=f"{', '.join(sorted(state['still_running']))} still running",
           hint=mistake_hint("ex03.q2", "cancel_leaves_tools"))
    expect(not state["swallowed"], "the caller's cancellation was swallowed on the way",
           call=call, expected="the task of each tool ends cancelled",
           got=f"the task running {', '.join(state['swallowed'])} caught the CancelledError "
               "and finished as if nothing had happened",
           hint=mistake_hint("ex03.q2", "cancel_swallowed"))
