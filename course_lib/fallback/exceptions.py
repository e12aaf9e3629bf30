"""What the fallback chain raises when it cannot return an answer.

Errors that no link can fix (a 400, a 401) are *not* wrapped: the chain re-raises the
provider's own exception (``openai.BadRequestError`` ...), so ``except`` clauses written for
the plain client keep working. The classes below are for what only the chain knows: every link
failed, the time budget ran out, the caller gave up, or a stream broke after its first token.
Each carries ``attempts``, the record of what was tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from course_lib.fallback.outcome import LinkAttempt

__all__ = [
    "AllLinksFailedError",
    "CallerCancelledError",
    "DeadlineExceededError",
    "FallbackError",
    "StreamInterruptedError",
]


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
