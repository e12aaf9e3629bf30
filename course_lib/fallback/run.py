"""The decisions of one fallback call, kept apart from how requests are sent.

A call walks the chain: try a link, and on failure either wait and try it again, jump to
another link, or give up. Those decisions are the same whether the request is sent by the sync
or the async client, streamed or not, so they live here, in a small state machine that never
does I/O; :mod:`course_lib.fallback.client` drives it::

    run = ChainRun(...)
    while True:
        call = run.next_call()          # raises when the chain must give up
        try:
            response = send(call)
        except Exception as error:
            wait = run.failed(call, error)
            if wait is None:
                raise                   # not the provider's problem: the caller sees it as is
            sleep(wait)
            continue
        return run.succeeded(call, response)

The rules, in the order they are checked:

1. The caller cancelled (cancel event set, or its own deadline passed): stop, no fallback.
2. The total deadline passed: stop.
3. A link whose circuit breaker is open is skipped without a request.
4. ``NOT_RETRYABLE`` (400, 401, 403, 404, 422, our own bugs): re-raise at once.
5. ``CONTEXT_TOO_LONG``: no retry; jump to the next link with a larger ``context_window``
   (none: re-raise).
6. ``RETRYABLE``: retry the same link after a full-jitter backoff (at least Retry-After),
   while it has attempts left *and* the wait fits in the remaining budget; otherwise move to
   the next link at once. Every attempt's timeout is capped by the remaining budget.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, Literal, TypeVar

from course_lib.fallback.chain import ChainLink
from course_lib.fallback.circuit_breaker import CircuitBreaker
from course_lib.fallback.classification import classify
from course_lib.fallback.deadline import Deadline
from course_lib.fallback.failures import (
    AllLinksFailedError,
    CallerCancelledError,
    DeadlineExceededError,
    Failure,
    FailureKind,
    LinkAttempt,
)
from course_lib.fallback.outcome import FallbackResult
from course_lib.retrying import FullJitterBackoff

__all__ = ["ChainRun", "PlannedCall"]

ResponseT = TypeVar("ResponseT")


@dataclass(frozen=True)
class PlannedCall:
    """The next request to send: on which link, with what request and timeout."""

    link: ChainLink
    link_index: int
    attempt: int
    request: dict[str, Any]
    timeout_s: float | None
    started_at: float


class ChainRun(Generic[ResponseT]):
    """The state of one call through a chain (single use, not thread-safe)."""

    def __init__(
        self,
        chain: Sequence[ChainLink],
        request: Mapping[str, Any],
        *,
        deadline: Deadline,
        backoff: FullJitterBackoff,
        breaker_for: Callable[[ChainLink], CircuitBreaker | None],
        cancelled: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not chain:
            raise ValueError("a fallback chain needs at least one link")
        self._chain = tuple(chain)
        self._request = dict(request)
        self._deadline = deadline
        self._backoff = backoff
        self._breaker_for = breaker_for
        self._cancelled = cancelled
        self._clock = clock
        self._link_index = 0
        self._attempt = 0
        self._attempts: list[LinkAttempt] = []
        self._last_error: BaseException | None = None

    @property
    def attempts(self) -> tuple[LinkAttempt, ...]:
        return tuple(self._attempts)

    def next_call(self) -> PlannedCall:
        """The next request to send; raises when the chain must stop instead."""
        while True:
            self._raise_if_cancelled()
            if self._deadline.expired():
                raise DeadlineExceededError(
                    f"the call's time budget ran out after {self._deadline.elapsed():.3f} s "
                    f"and {len(self._attempts)} attempt(s)", self._attempts,
                ) from self._last_error
            if self._link_index >= len(self._chain):
                tried = ", ".join(dict.fromkeys(a.link for a in self._attempts))
                raise AllLinksFailedError(
                    f"every link of the fallback chain failed ({tried})", self._attempts,
                ) from self._last_error
            link = self._chain[self._link_index]
            # Built before the breaker is asked: a bug in ``adapt`` must not hold a probe slot.
            request = link.request_for(self._request)
            breaker = self._breaker_for(link)
            if breaker is not None and not breaker.allow():
                self._record(link, self._attempt + 1, "skipped", self._clock())
                self._move_to(self._link_index + 1)
                continue
            self._attempt += 1
            return PlannedCall(
                link=link,
                link_index=self._link_index,
                attempt=self._attempt,
                request=request,
                timeout_s=self._deadline.cap(link.attempt_timeout_s),
                started_at=self._clock(),
            )

    def failed(self, call: PlannedCall, error: BaseException) -> float | None:
        """Record a failed attempt. Returns seconds to wait before :meth:`next_call`, or None
        when the caller must see ``error`` unchanged (re-raise it)."""
        failure = classify(error)
        self._last_error = error
        record = self._record(call.link, call.attempt, "failed", call.started_at, failure)
        breaker = self._breaker_for(call.link)
        if isinstance(error, CallerCancelledError):
            error.attempts = tuple(self._attempts)  # raised mid-attempt, before it knew them
        if failure.kind is not FailureKind.RETRYABLE:
            if breaker is not None:
                breaker.release()  # says nothing about the model's health
            if failure.kind is FailureKind.CONTEXT_TOO_LONG:
                target = self._larger_context_link(call.link_index)
                if target is not None:
                    self._move_to(target)
                    return 0.0
            _note_not_fallen_back(error, failure)
            return None
        if breaker is not None:
            breaker.record_failure()
        # A request that failed while the caller was cancelling failed *because* of it.
        self._raise_if_cancelled()
        if call.attempt < call.link.max_attempts:
            wait = self._backoff.delay(call.attempt, failure.retry_after_s)
            if wait is not None and wait < self._deadline.remaining():
                self._attempts[-1] = replace(record, waited_after_s=wait)
                return wait
        self._move_to(call.link_index + 1)
        return 0.0

    def succeeded(self, call: PlannedCall, response: ResponseT) -> FallbackResult[ResponseT]:
        """Record the answer and build the result."""
        breaker = self._breaker_for(call.link)
        if breaker is not None:
            breaker.record_success()
        self._record(call.link, call.attempt, "ok", call.started_at)
        return FallbackResult(
            response=response,
            link=call.link.label,
            model=call.link.model,
            link_index=call.link_index,
            attempts=tuple(self._attempts),
            latency_s=self._deadline.elapsed(),
        )

    def abandoned(self, call: PlannedCall) -> None:
        """The attempt was interrupted (``asyncio.CancelledError``): free its breaker slot."""
        breaker = self._breaker_for(call.link)
        if breaker is not None:
            breaker.release()

    def _raise_if_cancelled(self) -> None:
        if self._cancelled():
            raise CallerCancelledError(
                f"the caller cancelled after {len(self._attempts)} attempt(s); not falling back",
                self._attempts,
            ) from self._last_error

    def _larger_context_link(self, failed_index: int) -> int | None:
        failed = self._chain[failed_index]
        for index in range(failed_index + 1, len(self._chain)):
            if self._chain[index].accepts_longer_context_than(failed):
                return index
        return None

    def _move_to(self, link_index: int) -> None:
        self._link_index = link_index
        self._attempt = 0

    def _record(self, link: ChainLink, attempt: int,
                outcome: Literal["ok", "failed", "skipped"], started_at: float,
                failure: Failure | None = None) -> LinkAttempt:
        now = self._clock()
        record = LinkAttempt(
            link=link.label,
            model=link.model,
            attempt=attempt,
            outcome=outcome,
            started_s=started_at - self._deadline.started_at,
            duration_s=now - started_at,
            failure=failure,
        )
        self._attempts.append(record)
        return record


def _note_not_fallen_back(error: BaseException, failure: Failure) -> None:
    if failure.kind is FailureKind.NOT_RETRYABLE:
        reason = "no other model can accept this request, so the chain did not retry or fall back"
    elif failure.kind is FailureKind.CONTEXT_TOO_LONG:
        reason = "no later link of the chain declares a larger context_window"
    else:
        return
    error.add_note(f"fallback chain: {failure.describe()}: {reason}")
