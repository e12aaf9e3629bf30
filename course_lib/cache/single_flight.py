"""Single-flight: many identical misses at once, one upstream call.

A popular question asked by 50 users in the same second finds the cache empty 50 times, and the
lesson's ``Answer`` sends 50 identical requests to the model: a *cache stampede* (also when a hot
entry expires). Single-flight makes the first caller for a key the leader, who does the work;
everyone who asks for the same key while it runs waits and receives the leader's result (or its
exception). This is Go's ``golang.org/x/sync/singleflight.Group``; in Python,
``cachetools.cached(cache, lock=lock, condition=condition)`` gives the same protection to a
function cached in one process.

:class:`SingleFlight` is for threads, :class:`AsyncSingleFlight` for asyncio tasks. Both work
within one process; ``course_lib.cache.redis_single_flight`` extends the idea across processes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["AsyncSingleFlight", "SingleFlight"]

T = TypeVar("T")


@dataclass
class _Call(Generic[T]):
    done: threading.Event = field(default_factory=threading.Event)
    value: T | None = None
    error: BaseException | None = None
    waiters: int = 0


class SingleFlight(Generic[T]):
    """Run ``fn`` once per key at a time, however many threads ask concurrently.

    ``do(key, fn)`` returns ``(value, shared)``: ``shared`` is True for callers that waited for
    another thread's call instead of making their own. Once a call finishes, the next ``do``
    for that key starts a new one (results are not kept: that is the cache's job).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call[T]] = {}
        self.calls = 0
        self.shared = 0

    def waiting(self, key: str) -> int:
        """Callers waiting for the running call on ``key`` (0 when nothing runs for it)."""
        with self._lock:
            call = self._calls.get(key)
            return 0 if call is None else call.waiters

    def do(self, key: str, fn: Callable[[], T]) -> tuple[T, bool]:
        with self._lock:
            call = self._calls.get(key)
            if call is not None:
                call.waiters += 1
                self.shared += 1
                leader = False
            else:
                call = self._calls[key] = _Call()
                self.calls += 1
                leader = True
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.value, True  # type: ignore[return-value]
        try:
            call.value = fn()
        except BaseException as exc:
            call.error = exc
            raise
        finally:
            # Forget the call before waking the waiters, so a caller arriving after the
            # result is published starts afresh (and finds the value in the cache).
            with self._lock:
                del self._calls[key]
            call.done.set()
        return call.value, False


class AsyncSingleFlight(Generic[T]):
    """The asyncio version: ``await do(key, fn)`` with ``fn`` returning an awaitable.

    The shared work runs in its own task, so cancelling the leader (a user who closed the page)
    does not cancel the call the other waiters are waiting for. Use one instance per event loop.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[T]] = {}
        self._waiters: dict[str, int] = {}
        self.calls = 0
        self.shared = 0

    def waiting(self, key: str) -> int:
        """Callers waiting for the running call on ``key`` (0 when nothing runs for it)."""
        return self._waiters.get(key, 0) if key in self._tasks else 0

    def _finished(self, key: str) -> None:
        self._tasks.pop(key, None)
        self._waiters.pop(key, None)

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        task = self._tasks.get(key)
        shared = task is not None
        if task is None:
            task = asyncio.ensure_future(fn())
            self._tasks[key] = task
            self.calls += 1
            task.add_done_callback(lambda _done, key=key: self._finished(key))
        else:
            self.shared += 1
            self._waiters[key] = self._waiters.get(key, 0) + 1
        # No await between the lookup and the registration above: on one event loop that makes
        # "check, then become the leader" atomic without a lock.
        return await asyncio.shield(task), shared
