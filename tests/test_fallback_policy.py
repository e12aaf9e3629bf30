"""The fallback chain's building blocks, alone: error classification, backoff, deadline, breaker.

Every clock and random draw is injected; nothing here sleeps or touches the network.
"""

from __future__ import annotations

import asyncio

import httpx2
import openai
import pytest

from course_lib.fallback import (
    AllLinksFailedError,
    BreakerState,
    CallerCancelledError,
    CircuitBreaker,
    Deadline,
    FailureKind,
    classify,
    classify_status,
)

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
# The exception classes openai-python raises per status (its documented error table).
STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def status_error(status: int, code: str | None = None, headers: dict[str, str] | None = None
                 ) -> openai.APIStatusError:
    """The exception the official client raises for ``status`` (built from a real response)."""
    body = {"message": f"simulated {status}", "type": "test", "code": code}
    response = httpx2.Response(status, headers=headers or {}, json={"error": body},
                               request=REQUEST)
    exception_class = STATUS_ERRORS.get(status, openai.InternalServerError if status >= 500
                                        else openai.APIStatusError)
    return exception_class(f"Error code: {status}", response=response, body=body)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- classification ---------------------------------------------------------------------------

@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_transient_statuses_are_retryable(status: int) -> None:
    assert classify_status(status) is FailureKind.RETRYABLE


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_caller_side_statuses_are_not_retryable(status: int) -> None:
    assert classify_status(status) is FailureKind.NOT_RETRYABLE


def test_context_length_exceeded_is_its_own_kind_only_on_400() -> None:
    assert classify_status(400, "context_length_exceeded") is FailureKind.CONTEXT_TOO_LONG
    assert classify_status(400, "invalid_value") is FailureKind.NOT_RETRYABLE
    assert classify_status(503, "context_length_exceeded") is FailureKind.RETRYABLE


@pytest.mark.parametrize("bad", [200, 302, 99, 600, "500", True])
def test_classify_status_rejects_non_error_statuses(bad: object) -> None:
    with pytest.raises(ValueError, match="status"):
        classify_status(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "exception_class", "kind"), [
    (400, openai.BadRequestError, FailureKind.NOT_RETRYABLE),
    (401, openai.AuthenticationError, FailureKind.NOT_RETRYABLE),
    (403, openai.PermissionDeniedError, FailureKind.NOT_RETRYABLE),
    (404, openai.NotFoundError, FailureKind.NOT_RETRYABLE),
    (409, openai.ConflictError, FailureKind.RETRYABLE),
    (422, openai.UnprocessableEntityError, FailureKind.NOT_RETRYABLE),
    (429, openai.RateLimitError, FailureKind.RETRYABLE),
    (500, openai.InternalServerError, FailureKind.RETRYABLE),
    (503, openai.InternalServerError, FailureKind.RETRYABLE),
])
def test_openai_status_errors_are_classified_by_status(status, exception_class, kind) -> None:
    failure = classify(status_error(status))
    assert failure.kind is kind
    assert failure.status == status
    assert failure.error_type == exception_class.__name__


def test_openai_context_length_error_is_context_too_long() -> None:
    failure = classify(status_error(400, "context_length_exceeded"))
    assert failure.kind is FailureKind.CONTEXT_TOO_LONG
    assert failure.code == "context_length_exceeded"


def test_timeouts_and_connection_errors_are_retryable() -> None:
    assert classify(openai.APITimeoutError(request=REQUEST)).kind is FailureKind.RETRYABLE
    assert classify(openai.APIConnectionError(request=REQUEST)).kind is FailureKind.RETRYABLE
    assert classify(TimeoutError()).kind is FailureKind.RETRYABLE


def test_cancellation_is_never_retryable() -> None:
    assert classify(asyncio.CancelledError()).kind is FailureKind.CANCELLED
    assert classify(CallerCancelledError("user left")).kind is FailureKind.CANCELLED


def test_our_own_bugs_and_inner_chain_failures_are_not_retried() -> None:
    assert classify(KeyError("choices")).kind is FailureKind.NOT_RETRYABLE
    assert classify(AllLinksFailedError("inner chain gave up")).kind is FailureKind.NOT_RETRYABLE


def test_retry_after_is_read_from_the_error_response() -> None:
    failure = classify(status_error(429, "rate_limit_exceeded", {"retry-after": "7"}))
    assert failure.retry_after_s == 7.0
    assert "retry after 7 s" in failure.describe()


# --- deadline ---------------------------------------------------------------------------------

def test_deadline_counts_down_on_the_injected_clock() -> None:
    clock = FakeClock()
    deadline = Deadline(10.0, clock=clock)
    clock.advance(4.0)
    assert deadline.remaining() == 6.0
    assert deadline.cap(30.0) == 6.0
    assert deadline.cap(2.0) == 2.0
    clock.advance(6.0)
    assert deadline.expired()
    assert deadline.remaining() == 0.0


def test_deadline_takes_the_sooner_of_budget_and_absolute_time() -> None:
    clock = FakeClock(start=100.0)
    assert Deadline(10.0, at=105.0, clock=clock).remaining() == 5.0
    assert Deadline(10.0, at=500.0, clock=clock).remaining() == 10.0


def test_no_deadline_never_expires_and_caps_nothing() -> None:
    deadline = Deadline(None, clock=FakeClock())
    assert not deadline.expired()
    assert deadline.cap(None) is None
    assert deadline.cap(3.0) == 3.0


@pytest.mark.parametrize("budget", [0, -1, float("nan"), float("inf")])
def test_deadline_rejects_a_budget_that_is_not_a_positive_number(budget: float) -> None:
    with pytest.raises(ValueError, match="budget_s"):
        Deadline(budget)


# --- circuit breaker --------------------------------------------------------------------------

def test_breaker_opens_after_threshold_failures_within_the_window() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, window_s=10.0, cool_down_s=5.0, clock=clock)
    for _ in range(2):
        breaker.record_failure()
        clock.advance(1.0)
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert breaker.times_opened == 1


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, window_s=10.0, cool_down_s=5.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(10.5)
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_open_breaker_rejects_until_the_cool_down_then_lets_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, window_s=10.0, cool_down_s=5.0, clock=clock)
    breaker.record_failure()
    assert breaker.allow() is False
    clock.advance(4.9)
    assert breaker.allow() is False
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() is True  # the probe
    assert breaker.allow() is False  # only one probe at a time
    assert breaker.rejected == 3


def test_successful_probe_closes_the_breaker() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, window_s=10.0, cool_down_s=5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_failed_probe_reopens_for_a_full_cool_down() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, window_s=10.0, cool_down_s=5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5.0)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(4.0)
    assert not breaker.allow()
    clock.advance(1.0)
    assert breaker.allow()
    assert breaker.times_opened == 2


def test_released_probe_frees_the_slot_without_a_verdict() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, window_s=10.0, cool_down_s=5.0, clock=clock)
    breaker.record_failure()
    clock.advance(5.0)
    assert breaker.allow()
    breaker.release()  # e.g. the probe was a 400: nothing learnt about the model
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()


def test_late_results_do_not_end_the_cool_down() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, window_s=10.0, cool_down_s=5.0, clock=clock)
    breaker.record_failure()
    breaker.record_success()  # a call admitted before the breaker opened
    assert breaker.state is BreakerState.OPEN


@pytest.mark.parametrize("kwargs", [{"failure_threshold": 0}, {"failure_threshold": 2.5},
                                    {"window_s": 0}, {"cool_down_s": float("nan")}])
def test_breaker_rejects_bad_settings(kwargs) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(**kwargs)
