"""The fallback chain's failure types: what one attempt's error means, and what the chain raises.

An attempt that fails is classified (:mod:`~.classification`) into a :class:`Failure` of one
:class:`FailureKind`, and recorded as a :class:`LinkAttempt`. When the chain cannot return an
answer it raises one of the :class:`FallbackError` classes below, carrying those attempts.

Errors that no link can fix (a 400, a 401) are *not* wrapped: the chain re-raises the
provider's own exception (``openai.BadRequestError`` ...), so ``except`` clauses written for
the plain client keep working. The classes below are for what only the chain knows: every link
failed, the time budget ran out, the caller gave up, or a stream broke after its first token.
Each carries ``attempts``, the record of what was tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "AllLinksFailedError",
    "CallerCancelledError",
    "DeadlineExceededError",
    "Failure",
    "FailureKind",
    "FallbackError",
    "LinkAttempt",
    "StreamInterruptedError",
]


class FailureKind(StrEnum):
    """What a failure means for the fallback chain."""

    RETRYABLE = "retryable"
    CONTEXT_TOO_LONG = "context_too_long"
    NOT_RETRYABLE = "not_retryable"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Failure:
    """One classified error: its kind, and what the provider said about it."""

    kind: FailureKind
    error_type: str
    message: str
    status: int | None = None
    code: str | None = None
    retry_after_s: float | None = None

    def describe(self) -> str:
        """A one-line summary, e.g. ``"429 rate_limit_exceeded (retryable, retry after 1.0 s)"``."""
        head = " ".join(str(part) for part in (self.status, self.code) if part is not None)
        head = head or self.error_type
        after = "" if self.retry_after_s is None else f", retry after {self.retry_after_s:g} s"
        return f"{head} ({self.kind.value}{after})"


@dataclass(frozen=True)
class LinkAttempt:
    """One attempt on one link (``outcome="skipped"``: its circuit breaker was open, no request
    was sent). Times are seconds since the call started."""

    link: str
    model: str
    attempt: int
    outcome: Literal["ok", "failed", "skipped"]
    started_s: float
    duration_s: float = 0.0
    failure: Failure | None = None
    waited_after_s: float = 0.0

    def describe(self) -> str:
        what = {"ok": "ok", "skipped": "skipped (circuit open)"}.get(
            self.outcome, self.failure.describe() if self.failure else "failed")
        wait = f", then waited {self.waited_after_s * 1000:.0f} ms" if self.waited_after_s else ""
        return f"{self.link} #{self.attempt}: {what}{wait}"


class FallbackError(Exception):
    """Base class: the chain gave up. ``attempts`` lists what it tried, in order."""

    def __init__(self, message: str, attempts: Sequence[LinkAttempt] = ()) -> None:
        super().__init__(message)
        self.attempts: tuple[LinkAttempt, ...] = tuple(attempts)


class AllLinksFailedError(FallbackError):
    """Every link of the chain failed with errors worth retrying (or was skipped, its breaker
    open). The last provider error is the ``__cause__``."""


class DeadlineExceededError(FallbackError, TimeoutError):
    """The call's total time budget ran out before any link answered."""


class CallerCancelledError(FallbackError):
    """The caller gave up (its cancel event was set, or the deadline it gave has passed).

    Raised instead of trying another link: a fallback would answer a question nobody is waiting
    for, and counting the cancellation as the model's failure would trip its circuit breaker.
    (``asyncio.CancelledError`` is never caught by the chain: it propagates as it is.)
    """


class StreamInterruptedError(FallbackError):
    """A stream failed *after* its first token reached the caller.

    Falling back now would splice a second model's answer onto the first one's half sentence,
    or silently repeat it, so the chain surfaces the error with what was received
    (``text_received``) and lets the caller decide (retry the whole answer, or show an error
    event as the lesson's SSE section suggests).
    """

    def __init__(self, message: str, attempts: Sequence[LinkAttempt] = (), *, link: str,
                 model: str, text_received: str) -> None:
        super().__init__(message, attempts)
        self.link = link
        self.model = model
        self.text_received = text_received
