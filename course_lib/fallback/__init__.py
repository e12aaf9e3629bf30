"""Fallbacks and retries that know which failures they can fix (notebook 06).

The lesson's implementation 4 ("Fallback 机制") switches to ``gpt-4o-mini`` on any error of the
primary. This package does what a production client needs instead, one concept per module:

* :mod:`~.classification`: which errors to retry, which to fall back on, which to surface
  (the retry rules and the backoff themselves are :mod:`course_lib.retrying`, shared with
  batching and streaming);
* :mod:`~.deadline`: one time budget across every attempt and fallback;
* :mod:`~.circuit_breaker`: stop calling a model that keeps failing; probe it later;
* :mod:`~.chain`: a link, with its model, attempts, per-attempt timeout and own request;
* :mod:`~.run`: the decisions of one call, free of I/O (shared by the sync and async clients);
* :mod:`~.client`: :class:`FallbackClient` and :class:`AsyncFallbackClient`;
* :mod:`~.streaming`: streams fall back only before their first token;
* :mod:`~.failures`: what an attempt's error means, and what the chain raises when it gives up;
* :mod:`~.outcome`: what a call returns;
* :mod:`~.measure`: success rate, who answered, p50/p95 and cost under faults.
* :mod:`~.lab`: notebook 06's experiments, the lesson's client beside the chain on sandboxes
  that fail on purpose, each one call.

The lesson's own code is ported faithfully in :mod:`course_lib.lesson.fallback_client`.
"""

from course_lib.fallback.chain import ChainLink
from course_lib.fallback.circuit_breaker import BreakerState, CircuitBreaker
from course_lib.fallback.classification import (
    CONTEXT_LENGTH_EXCEEDED,
    classify,
    classify_status,
)
from course_lib.fallback.client import AsyncFallbackClient, CancelSignal, FallbackClient
from course_lib.fallback.deadline import Deadline
from course_lib.fallback.failures import (
    AllLinksFailedError,
    CallerCancelledError,
    DeadlineExceededError,
    Failure,
    FailureKind,
    FallbackError,
    LinkAttempt,
    StreamInterruptedError,
)
from course_lib.fallback.outcome import FallbackResult
from course_lib.fallback.run import ChainRun, PlannedCall
from course_lib.fallback.streaming import AsyncFallbackStream, FallbackStream, carries_output
from course_lib.retrying import FullJitterBackoff  # a chain is built with one

__all__ = [
    "CONTEXT_LENGTH_EXCEEDED",
    "AllLinksFailedError",
    "AsyncFallbackClient",
    "AsyncFallbackStream",
    "BreakerState",
    "CallerCancelledError",
    "CancelSignal",
    "ChainLink",
    "ChainRun",
    "CircuitBreaker",
    "Deadline",
    "DeadlineExceededError",
    "Failure",
    "FailureKind",
    "FallbackClient",
    "FallbackError",
    "FallbackResult",
    "FallbackStream",
    "FullJitterBackoff",
    "LinkAttempt",
    "PlannedCall",
    "StreamInterruptedError",
    "carries_output",
    "classify",
    "classify_status",
]
