"""The fallback chain: retries, fallbacks, deadlines and circuit breakers around chat calls.

What the lesson's ``FallbackClient`` does, and what this one does instead:

============================================ ===============================================
lesson (``internal/llm/fallback_client.go``) here
============================================ ===============================================
falls back on *any* error, 400 and 401        only on errors another attempt or model can
included                                     fix (:mod:`.errors`); the rest is re-raised
falls back when the caller itself cancelled  a cancelled caller stops the chain
the secondary has no deadline                one total deadline over every attempt, and each
                                             attempt's timeout is capped by what is left
``fallbackReq.Model = "gpt-4o-mini"``        every link names its model, may adapt the
                                             request, may use its own client
no retry: one blip on the primary = a        retries with full-jitter backoff that honours
downgraded answer                            Retry-After, then the next link
nothing remembers that a model is down       a circuit breaker per model skips it
``Metadata{"used_fallback": "true"}``        :class:`FallbackResult`: link, model, attempts,
                                             errors, latency, cost
============================================ ===============================================

**Switch off the SDK's own retries.** openai-python retries 408/409/429/5xx twice by default,
with its own backoff. Under this loop that would multiply: 3 of our attempts x 3 SDK tries = 9
requests to a failing primary before the fallback starts. Both clients here therefore use a
copy of each client with ``max_retries=0`` (``keep_sdk_retries=True`` exists only to show the
trap). Library equivalent of the retry loop: ``tenacity`` (see notebook 06); a chain, breakers
and a shared deadline are what it does not give you out of the box.

Usage::

    chain = [ChainLink("gpt-4o", max_attempts=3, attempt_timeout_s=20),
             ChainLink("gpt-4o-mini", max_attempts=2, attempt_timeout_s=10)]
    fallback = AsyncFallbackClient(chain, client=llm.get_async_client(), total_timeout_s=30,
                                   circuit_breaker=CircuitBreaker)
    result = await fallback.create(messages=[...])
    result.content, result.model, result.requests_sent, result.errors, result.latency_s
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from course_lib.fallback.chain import RESERVED_REQUEST_KEYS, ChainLink
from course_lib.fallback.circuit_breaker import CircuitBreaker
from course_lib.fallback.deadline import Deadline
from course_lib.fallback.failures import CallerCancelledError
from course_lib.fallback.outcome import FallbackResult
from course_lib.fallback.run import ChainRun, PlannedCall
from course_lib.fallback.streaming import AsyncFallbackStream, FallbackStream, carries_output
from course_lib.retrying import FullJitterBackoff

__all__ = ["AsyncFallbackClient", "CancelSignal", "FallbackClient"]

T = TypeVar("T")
_UNSET: Any = object()


class CancelSignal(Protocol):
    """Anything with ``is_set()``: a ``threading.Event`` (sync) or ``asyncio.Event`` (async)."""

    def is_set(self) -> bool: ...


class _Chain:
    """What the sync and async clients share: links, clients, breakers, budgets."""

    def __init__(
        self,
        chain: Sequence[ChainLink],
        *,
        client: Any,
        default_client: Callable[[], Any],
        total_timeout_s: float | None,
        backoff: FullJitterBackoff | None,
        circuit_breaker: Callable[[], CircuitBreaker] | None,
        clock: Callable[[], float],
        keep_sdk_retries: bool,
    ) -> None:
        links = tuple(chain)
        if not links:
            raise ValueError("a fallback chain needs at least one ChainLink")
        for link in links:
            if not isinstance(link, ChainLink):
                raise TypeError(f"chain items must be ChainLink objects, got {link!r}")
        self.links = links
        self.total_timeout_s = _check_budget(total_timeout_s)
        self.backoff = backoff if backoff is not None else FullJitterBackoff()
        self.clock = clock
        self.keep_sdk_retries = keep_sdk_retries
        self._client = client
        self._default_client = default_client
        self._clients: dict[int, Any] = {}
        self._breaker_factory = circuit_breaker
        self.breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def client_for(self, call: PlannedCall) -> Any:
        with self._lock:
            if call.link_index not in self._clients:
                raw = call.link.client or self._client
                if raw is None:
                    self._client = raw = self._default_client()
                self._clients[call.link_index] = raw if self.keep_sdk_retries else (
                    _without_sdk_retries(raw))
            return self._clients[call.link_index]

    def breaker_for(self, link: ChainLink) -> CircuitBreaker | None:
        if self._breaker_factory is None:
            return None
        with self._lock:
            if link.label not in self.breakers:
                self.breakers[link.label] = self._breaker_factory()
            return self.breakers[link.label]

    def start(self, request: Mapping[str, Any], cancel: CancelSignal | None,
              deadline_at: float | None, total_timeout_s: float | None) -> ChainRun[Any]:
        reserved = RESERVED_REQUEST_KEYS & request.keys()
        if reserved:
            raise ValueError(
                f"do not pass {sorted(reserved)} in the request: each ChainLink names its model "
                "and attempt timeout, total_timeout_s bounds the call, and .stream() streams")
        budget = self.total_timeout_s if total_timeout_s is _UNSET else _check_budget(
            total_timeout_s)
        deadline = Deadline(budget, at=deadline_at, clock=self.clock)

        def cancelled() -> bool:
            caller_gave_up = deadline_at is not None and self.clock() >= deadline_at
            return caller_gave_up or (cancel is not None and cancel.is_set())

        return ChainRun(self.links, request, deadline=deadline, backoff=self.backoff,
                        breaker_for=self.breaker_for, cancelled=cancelled, clock=self.clock)

    def committed(self, run: ChainRun[Any], call: PlannedCall, stream: Any,
                  buffered: list[Any], stream_class: type[T]) -> T:
        result = run.succeeded(call, None)
        breaker = self.breaker_for(call.link)
        return stream_class(  # type: ignore[call-arg]
            stream, buffered=buffered, link=result.link, model=result.model,
            link_index=result.link_index, attempts=result.attempts,
            started_at=self.clock() - result.latency_s, clock=self.clock,
            on_broken=breaker.record_failure if breaker is not None else _nothing,
        )


class FallbackClient:
    """A fallback chain over a synchronous ``openai.OpenAI`` client.

    ``client`` serves every link without a client of its own (default: ``llm.get_client()``).
    ``total_timeout_s`` bounds each call across all attempts and fallbacks (None: unbounded).
    ``circuit_breaker`` makes one breaker per link (e.g. ``lambda: CircuitBreaker(5, 30, 15)``).
    ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        chain: Sequence[ChainLink],
        *,
        client: Any = None,
        total_timeout_s: float | None = 60.0,
        backoff: FullJitterBackoff | None = None,
        circuit_breaker: Callable[[], CircuitBreaker] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        keep_sdk_retries: bool = False,
    ) -> None:
        self._chain = _Chain(chain, client=client, default_client=_default_sync_client,
                             total_timeout_s=total_timeout_s, backoff=backoff,
                             circuit_breaker=circuit_breaker, clock=clock,
                             keep_sdk_retries=keep_sdk_retries)
        self._sleep = sleep

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """The circuit breaker of each link that has been tried, by link label."""
        return self._chain.breakers

    def create(self, *, cancel: CancelSignal | None = None, deadline_at: float | None = None,
               total_timeout_s: float | None = _UNSET, **request: Any) -> FallbackResult[Any]:
        """``chat.completions.create`` through the chain; ``request`` holds everything but the
        model. ``deadline_at`` is the caller's own deadline on the client's clock."""
        run = self._chain.start(request, cancel, deadline_at, total_timeout_s)
        while True:
            call = run.next_call()
            client = self._chain.client_for(call)
            try:
                response = client.chat.completions.create(**call.request,
                                                          **_timeout(call.timeout_s))
            except Exception as error:
                wait = run.failed(call, error)
                if wait is None:
                    raise
                self._pause(wait, cancel)
                continue
            return run.succeeded(call, response)

    def stream(self, *, cancel: CancelSignal | None = None, deadline_at: float | None = None,
               total_timeout_s: float | None = _UNSET, **request: Any) -> FallbackStream:
        """A streamed answer; returns once the first token arrived (fallbacks happen before)."""
        run = self._chain.start(request, cancel, deadline_at, total_timeout_s)
        while True:
            call = run.next_call()
            client = self._chain.client_for(call)
            stream = None
            try:
                stream = client.chat.completions.create(**_streaming(call.request),
                                                        **_timeout(call.timeout_s))
                buffered = _read_to_first_output(stream)
            except Exception as error:
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()
                wait = run.failed(call, error)
                if wait is None:
                    raise
                self._pause(wait, cancel)
                continue
            return self._chain.committed(run, call, stream, buffered, FallbackStream)

    def _pause(self, seconds: float, cancel: CancelSignal | None) -> None:
        if seconds <= 0:
            return
        if self._sleep is not None:
            self._sleep(seconds)
        elif isinstance(cancel, threading.Event):
            cancel.wait(seconds)  # wakes up early when the caller cancels
        else:
            time.sleep(seconds)


class AsyncFallbackClient:
    """A fallback chain over ``openai.AsyncOpenAI`` (same settings as :class:`FallbackClient`).

    Cancelling the task that awaits a call (``task.cancel()``, ``asyncio.timeout`` around it)
    stops the chain at once: ``asyncio.CancelledError`` is never turned into a fallback. A
    ``cancel`` event does the same from outside the task, raising
    :class:`CallerCancelledError`. Each attempt is bounded by ``asyncio.timeout`` as well as by
    the SDK's ``timeout``.
    """

    def __init__(
        self,
        chain: Sequence[ChainLink],
        *,
        client: Any = None,
        total_timeout_s: float | None = 60.0,
        backoff: FullJitterBackoff | None = None,
        circuit_breaker: Callable[[], CircuitBreaker] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        keep_sdk_retries: bool = False,
    ) -> None:
        self._chain = _Chain(chain, client=client, default_client=_default_async_client,
                             total_timeout_s=total_timeout_s, backoff=backoff,
                             circuit_breaker=circuit_breaker, clock=clock,
                             keep_sdk_retries=keep_sdk_retries)
        self._sleep = sleep

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """The circuit breaker of each link that has been tried, by link label."""
        return self._chain.breakers

    async def create(self, *, cancel: asyncio.Event | None = None,
                     deadline_at: float | None = None, total_timeout_s: float | None = _UNSET,
                     **request: Any) -> FallbackResult[Any]:
        """``chat.completions.create`` through the chain (see :meth:`FallbackClient.create`)."""
        run = self._chain.start(request, cancel, deadline_at, total_timeout_s)
        while True:
            call = run.next_call()
            client = self._chain.client_for(call)
            try:
                response = await _unless_cancelled(self._send(client, call), cancel)
            except Exception as error:
                wait = run.failed(call, error)
                if wait is None:
                    raise
                await self._pause(wait, cancel)
                continue
            except BaseException:
                run.abandoned(call)
                raise
            return run.succeeded(call, response)

    async def stream(self, *, cancel: asyncio.Event | None = None,
                     deadline_at: float | None = None, total_timeout_s: float | None = _UNSET,
                     **request: Any) -> AsyncFallbackStream:
        """A streamed answer; returns once the first token arrived (fallbacks happen before)."""
        run = self._chain.start(request, cancel, deadline_at, total_timeout_s)
        while True:
            call = run.next_call()
            client = self._chain.client_for(call)
            try:
                stream, buffered = await _unless_cancelled(self._open(client, call), cancel)
            except Exception as error:
                wait = run.failed(call, error)
                if wait is None:
                    raise
                await self._pause(wait, cancel)
                continue
            except BaseException:
                run.abandoned(call)
                raise
            return self._chain.committed(run, call, stream, buffered, AsyncFallbackStream)

    @staticmethod
    async def _send(client: Any, call: PlannedCall) -> Any:
        async with asyncio.timeout(call.timeout_s):
            return await client.chat.completions.create(**call.request, **_timeout(call.timeout_s))

    @staticmethod
    async def _open(client: Any, call: PlannedCall) -> tuple[Any, list[Any]]:
        stream = None
        try:
            async with asyncio.timeout(call.timeout_s):  # bounds the time to first token
                stream = await client.chat.completions.create(**_streaming(call.request),
                                                              **_timeout(call.timeout_s))
                buffered = []
                async for chunk in stream:
                    buffered.append(chunk)
                    if carries_output(chunk):
                        break
                return stream, buffered
        except BaseException:
            if stream is not None:
                with contextlib.suppress(Exception):
                    await stream.close()
            raise

    async def _pause(self, seconds: float, cancel: asyncio.Event | None) -> None:
        if seconds <= 0:
            return
        if self._sleep is not None:
            await self._sleep(seconds)
        elif cancel is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cancel.wait(), seconds)  # wakes up when cancelled
        else:
            await asyncio.sleep(seconds)


async def _unless_cancelled(work: Awaitable[T], cancel: asyncio.Event | None) -> T:
    """Await ``work``, unless ``cancel`` is set first: then stop it and raise."""
    if cancel is None:
        return await work
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    if task.cancelled():
        raise CallerCancelledError("the caller cancelled during an attempt; not falling back")
    return task.result()


def _read_to_first_output(stream: Any) -> list[Any]:
    buffered = []
    for chunk in stream:
        buffered.append(chunk)
        if carries_output(chunk):
            break
    return buffered


def _streaming(request: Mapping[str, Any]) -> dict[str, Any]:
    # Usage comes only in a final chunk that must be asked for: without it no stream is billed.
    return {"stream_options": {"include_usage": True}, **request, "stream": True}


def _timeout(seconds: float | None) -> dict[str, float]:
    return {} if seconds is None else {"timeout": seconds}


def _without_sdk_retries(client: Any) -> Any:
    if getattr(client, "max_retries", 0) and hasattr(client, "with_options"):
        return client.with_options(max_retries=0)
    return client


def _check_budget(seconds: float | None) -> float | None:
    if seconds is not None and (not isinstance(seconds, int | float) or
                                not math.isfinite(seconds) or seconds <= 0):
        raise ValueError(f"total_timeout_s must be a number of seconds > 0 or None, "
                         f"got {seconds!r}")
    return seconds


def _default_sync_client() -> Any:
    from course_lib import llm

    return llm.get_client(max_retries=0)


def _default_async_client() -> Any:
    from course_lib import llm

    return llm.get_async_client(max_retries=0)


def _nothing() -> None:
    return None
