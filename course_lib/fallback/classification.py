"""Which failures deserve a retry, which a fallback, and which must reach the caller unchanged.

The lesson's ``FallbackClient`` treats every error alike: the primary failed, so try the other
model. But an error says *whose* problem it is, and only some problems go away by asking again
or by asking someone else:

======================= ==================================================== =================
kind                    examples                                             what to do
======================= ==================================================== =================
``RETRYABLE``           408, 409, 429, 5xx, a timeout, a dropped connection  wait, try again;
                                                                             then the next link
``CONTEXT_TOO_LONG``    400 with code ``context_length_exceeded``            no retry: go to a
                                                                             link with a larger
                                                                             context window
``NOT_RETRYABLE``       400, 401, 403, 404, 422 (and any error that is not   surface it: the
                        the provider's, such as a bug in our own code)       request or the key
                                                                             is wrong everywhere
``CANCELLED``           the caller gave up (``asyncio.CancelledError``, a    surface it: nobody
                        cancel event, a deadline the caller set)             is waiting any more
======================= ==================================================== =================

A 400 (bad parameter) or a 401 (bad key) cannot succeed on the secondary either: falling back
just doubles the latency and blames two models for the caller's bug. 403 and 404 usually mean a
model name or an access grant is wrong; a chain that quietly routes around them hides the
misconfiguration for months, so they surface too.

The retryable set, and how Retry-After is read, are the course's one retry vocabulary
(:mod:`course_lib.retrying`), shared with the batch embedder and the streaming relay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import openai

from course_lib.fallback.failures import (
    CallerCancelledError,
    Failure,
    FailureKind,
    FallbackError,
)
from course_lib.retrying import is_retryable, is_retryable_status, retry_after_seconds

__all__ = [
    "CONTEXT_LENGTH_EXCEEDED",
    "classify",
    "classify_status",
]

CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"


def classify_status(status: int, code: str | None = None) -> FailureKind:
    """The kind of an HTTP error status (with the error body's ``code``, when there is one)."""
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code between 100 and 599, got {status!r}")
    if status < 400:
        raise ValueError(f"status {status} is not an error status (errors are 400-599)")
    if status == 400 and code == CONTEXT_LENGTH_EXCEEDED:
        return FailureKind.CONTEXT_TOO_LONG
    return FailureKind.RETRYABLE if is_retryable_status(status) else FailureKind.NOT_RETRYABLE


def classify(error: BaseException, *, now: Callable[[], float] = time.time) -> Failure:
    """Classify any exception a chat call can raise (``now``: wall clock for HTTP dates)."""
    name = type(error).__name__
    message = str(error) or name
    if isinstance(error, CallerCancelledError):
        return Failure(FailureKind.CANCELLED, name, message)
    if isinstance(error, asyncio.CancelledError):
        return Failure(FailureKind.CANCELLED, name, "the caller cancelled the call")
    if isinstance(error, FallbackError):
        # An inner chain already retried and fell back as far as it could.
        return Failure(FailureKind.NOT_RETRYABLE, name, message)
    if isinstance(error, openai.APIStatusError):
        code = getattr(error, "code", None)
        kind = classify_status(error.status_code, code)
        if kind is not FailureKind.CONTEXT_TOO_LONG:
            kind = FailureKind.RETRYABLE if is_retryable(error) else FailureKind.NOT_RETRYABLE
        return Failure(
            kind,
            name,
            message,
            status=error.status_code,
            code=code,
            retry_after_s=retry_after_seconds(error.response.headers, now=now),
        )
    if isinstance(error, openai.APIResponseValidationError):
        # The provider answered 2xx with a body that is not what the API promises: its fault,
        # so another attempt or another link may well be fine.
        return Failure(FailureKind.RETRYABLE, name, message, status=error.status_code)
    if isinstance(error, openai.APIError):
        # APITimeoutError and APIConnectionError (the request never got an answer), and errors
        # a stream reports mid-way: none of them says the request itself was wrong.
        return Failure(FailureKind.RETRYABLE, name, message, code=getattr(error, "code", None))
    if isinstance(error, TimeoutError):
        return Failure(FailureKind.RETRYABLE, name, "the attempt timed out")
    return Failure(FailureKind.NOT_RETRYABLE, name, message)
