"""course_lib.tools.blocking: blocking tools in threads, and the thread that cannot be cancelled.

Blocking tools wait on ``threading.Event``s and a ``threading.Barrier`` that the test controls;
every wait has a generous timeout so a broken runner fails instead of hanging.
"""

from __future__ import annotations

import threading

import pytest

from course_lib.tools import run_blocking_tools, tool_call
from tests.test_tools_runner import run

pytestmark = pytest.mark.timing

SAFETY_S = 5.0


def test_blocking_tools_run_in_threads_at_the_same_time_in_call_order() -> None:
    """All three must be inside the barrier together: impossible one after another."""
    barrier = threading.Barrier(3, timeout=SAFETY_S)

    def tool(value: str) -> str:
        barrier.wait()
        return value

    results = run(lambda: run_blocking_tools([tool_call(v, tool, v) for v in ("kb", "t", "u")]))
    assert [(r.name, r.status, r.value) for r in results] == [
        ("kb", "ok", "kb"), ("t", "ok", "t"), ("u", "ok", "u")]


def test_an_exception_in_a_thread_is_that_tools_result() -> None:
    def broken() -> None:
        raise ConnectionError("ticketing API refused the connection")

    results = run(lambda: run_blocking_tools([tool_call("ok", lambda: 1),
                                              tool_call("broken", broken)]))
    assert [r.status for r in results] == ["ok", "error"]
    assert results[1].reason == "ConnectionError: ticketing API refused the connection"


def test_a_timed_out_thread_is_reported_and_really_still_runs() -> None:
    """The caveat, measured: run_blocking_tools returns, the thread has not finished."""
    release, finished = threading.Event(), threading.Event()

    def stuck() -> str:
        try:
            release.wait(SAFETY_S)
            return "late"
        finally:
            finished.set()

    try:
        [result] = run(lambda: run_blocking_tools([tool_call("stuck", stuck)],
                                                  timeout_per_tool=0.05))
        assert result.status == "timeout"
        assert "timeout_per_tool=0.05" in result.reason
        assert "its thread cannot be cancelled and is still running" in result.reason
        assert not finished.is_set(), "a thread cannot be stopped from outside"
    finally:
        release.set()
    assert finished.wait(SAFETY_S), "once released, the abandoned thread ends by itself"


def test_a_call_still_queued_for_a_thread_is_cancelled_before_it_starts() -> None:
    release = threading.Event()
    ran: list[str] = []

    def first() -> None:
        ran.append("first")
        release.wait(SAFETY_S)

    def second() -> None:
        ran.append("second")

    try:
        results = run(lambda: run_blocking_tools(
            [tool_call("first", first), tool_call("second", second)],
            timeout_per_tool=0.05, max_workers=1))
    finally:
        release.set()
    assert [r.status for r in results] == ["timeout", "timeout"]
    assert "still running" in results[0].reason
    assert "still running" not in results[1].reason
    assert ran == ["first"]


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_max_workers_must_be_a_positive_int(bad: object) -> None:
    with pytest.raises(ValueError, match="max_workers"):
        run(lambda: run_blocking_tools([], max_workers=bad))  # type: ignore[arg-type]
