"""Single-flight: concurrent identical misses make one call, for threads and for asyncio.

No test sleeps to make calls overlap: the leader's work waits until every other caller is
known to be waiting for it, so "they were concurrent" is a fact, not a timing bet.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from course_lib.cache import AsyncSingleFlight, SingleFlight

pytestmark = pytest.mark.timing

CALLERS = 50


def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


def test_fifty_threads_one_call():
    flight: SingleFlight[str] = SingleFlight()
    calls = []

    def work() -> str:
        calls.append(threading.get_ident())
        wait_until(lambda: flight.waiting("k") == CALLERS - 1)
        return "answer"

    with ThreadPoolExecutor(CALLERS) as pool:
        results = list(pool.map(lambda _: flight.do("k", work), range(CALLERS)))
    assert len(calls) == 1
    assert [value for value, _ in results] == ["answer"] * CALLERS
    assert sum(shared for _, shared in results) == CALLERS - 1
    assert flight.waiting("k") == 0


def test_a_finished_call_is_not_reused():
    """Single-flight shares in-flight work only; keeping results is the cache's job."""
    flight: SingleFlight[int] = SingleFlight()
    counter = iter(range(10))
    assert flight.do("k", lambda: next(counter)) == (0, False)
    assert flight.do("k", lambda: next(counter)) == (1, False)


def test_the_leaders_exception_reaches_every_waiter():
    flight: SingleFlight[str] = SingleFlight()

    def failing() -> str:
        wait_until(lambda: flight.waiting("k") == 4)
        raise RuntimeError("upstream 500")

    def call() -> str:
        try:
            flight.do("k", failing)
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(lambda _: call(), range(5)))
    assert outcomes == ["upstream 500"] * 5
    assert flight.do("k", lambda: "recovered") == ("recovered", False)


def test_different_keys_do_not_wait_for_each_other():
    flight: SingleFlight[str] = SingleFlight()
    release = threading.Event()
    slow_started = threading.Event()

    def slow() -> str:
        slow_started.set()
        release.wait(10)
        return "slow"

    with ThreadPoolExecutor(2) as pool:
        slow_future = pool.submit(flight.do, "a", slow)
        slow_started.wait(10)
        assert flight.do("b", lambda: "fast") == ("fast", False)  # not blocked by "a"
        release.set()
        assert slow_future.result(10) == ("slow", False)


def test_fifty_tasks_one_await():
    async def scenario() -> tuple[list[tuple[str, bool]], int]:
        flight: AsyncSingleFlight[str] = AsyncSingleFlight()
        calls = 0

        async def work() -> str:
            nonlocal calls
            calls += 1
            while flight.waiting("k") < CALLERS - 1:
                await asyncio.sleep(0)  # yield so the other tasks can join
            return "answer"

        results = await asyncio.gather(*(flight.do("k", work) for _ in range(CALLERS)))
        return results, calls

    results, calls = asyncio.run(scenario())
    assert calls == 1
    assert [value for value, _ in results] == ["answer"] * CALLERS
    assert sum(shared for _, shared in results) == CALLERS - 1


def test_cancelling_the_leader_does_not_cancel_the_shared_call():
    async def scenario() -> str:
        flight: AsyncSingleFlight[str] = AsyncSingleFlight()
        proceed = asyncio.Event()

        async def work() -> str:
            await proceed.wait()
            return "answer"

        leader = asyncio.ensure_future(flight.do("k", work))
        await asyncio.sleep(0)  # the leader registers the call
        follower = asyncio.ensure_future(flight.do("k", work))
        await asyncio.sleep(0)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        proceed.set()
        value, shared = await follower
        assert shared
        return value

    assert asyncio.run(scenario()) == "answer"
