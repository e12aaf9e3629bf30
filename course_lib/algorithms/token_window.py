"""A token window: at most ``max_tokens`` per window, counted the way providers count them.

The lesson names two uses of a sliding window: rate limiting and "Token 计数窗口", a token
counting window. Providers limit both. OpenAI publishes, per model, requests per minute (RPM)
*and* tokens per minute (TPM): each request is charged its tokens (the input, plus
``max_tokens`` for a chat completion) when it arrives, and a request that would take the last
minute over the TPM is answered with 429. For embeddings the TPM is usually the binding limit:
a batch of 2,048 inputs is one request, but it can be 300,000 tokens.

:class:`TokenWindowLimiter` is the sliding-window log of
:class:`~course_lib.algorithms.rate_limit.SlidingWindowLimiter` with a weight per grant:

- a grant of ``n`` tokens at ``t`` holds ``n`` tokens of budget during ``[t, t + window)``;
- the log keeps each grant's expiry and a **running total** of tokens granted so far. The
  tokens in the window are then one subtraction (``total - total before the oldest live
  grant``), so a decision is ``O(1)`` amortised: each grant is appended once and evicted once;
- :meth:`~TokenWindowLimiter.wait_seconds` says exactly when ``n`` tokens would fit: the running
  totals are sorted, so a binary search finds the oldest grant whose expiry frees enough
  (``O(log n)``). A caller sleeps that long instead of sending and collecting a 429.

:class:`RateLimits` puts the two limits side by side (an RPM
:class:`~course_lib.algorithms.rate_limit.SlidingWindowLimiter` and a TPM
:class:`TokenWindowLimiter`) and admits a request only when both have room, taking from both
or neither. :class:`course_lib.algorithms.redis_rate_limit.RedisTokenWindowLimiter` shares one
token window between processes. :class:`course_lib.batching.BatchEmbedder` takes any of them
as ``rate_limit`` and waits for budget before each request.

In production the ``limits`` package's moving window takes a ``cost`` per hit
(``limiter.hit(item, key, cost=tokens)``), which is this window.
"""

from __future__ import annotations

import bisect
import threading
import time
from typing import Protocol, runtime_checkable

from ..arguments import require_int, require_positive_seconds
from .rate_limit import Clock, SlidingWindowLimiter

__all__ = ["RateLimits", "TokenBudget", "TokenWindowLimiter", "check_tokens"]


@runtime_checkable
class TokenBudget(Protocol):
    """What a caller that spends tokens needs from a limiter (all limiters here have it)."""

    max_tokens: int  # the most one request can ever take

    def try_acquire(self, tokens: int) -> bool:
        """Take ``tokens`` of budget now if they fit; otherwise take nothing."""
        ...

    def wait_seconds(self, tokens: int) -> float:
        """Seconds until ``tokens`` would fit (0.0 if they fit now)."""
        ...


def check_tokens(tokens: object, max_tokens: int) -> int:
    """A request's tokens: a whole number from 1 to the window's ``max_tokens``."""
    count = require_int("tokens", tokens, minimum=1)
    if count > max_tokens:
        raise ValueError(f"a request of {count:,} tokens can never fit a window of "
                         f"{max_tokens:,} tokens; split it")
    return count


class TokenWindowLimiter:
    """At most ``max_tokens`` granted in any window of ``window_seconds`` (60: TPM); exact.

    Thread-safe. ``clock`` returns seconds (``time.monotonic`` by default); tests inject one.

    >>> now = [0.0]
    >>> tpm = TokenWindowLimiter(10_000, 60.0, clock=lambda: now[0])
    >>> tpm.try_acquire(6_000), tpm.try_acquire(6_000), tpm.wait_seconds(6_000)
    (True, False, 60.0)
    >>> now[0] = 60.0
    >>> tpm.try_acquire(6_000), tpm.used()
    (True, 6000)
    """

    def __init__(
        self, max_tokens: int, window_seconds: float = 60.0, clock: Clock = time.monotonic
    ) -> None:
        self.max_tokens = require_int("max_tokens", max_tokens, minimum=1)
        self.window_seconds = require_positive_seconds("window_seconds", window_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        # Grant i frees its tokens at _expiries[i]; _granted[i] is the running total of tokens
        # granted up to and including grant i (so both lists are sorted). Grants before _head
        # have expired; the lists are compacted once most of them are dead, and _dropped is
        # the running total of the grants compacted away.
        self._expiries: list[float] = []
        self._granted: list[int] = []
        self._head = 0
        self._dropped = 0

    def _check_tokens(self, tokens: object) -> int:
        return check_tokens(tokens, self.max_tokens)

    def _evict_expired(self, now: float) -> None:
        head, expiries = self._head, self._expiries
        while head < len(expiries) and expiries[head] <= now:
            head += 1
        if head > 64 and head * 2 > len(expiries):  # amortised O(1): each grant deleted once
            self._dropped = self._granted[head - 1]
            del expiries[:head], self._granted[:head]
            head = 0
        self._head = head

    def _expired_total(self) -> int:
        """The running total just before the oldest live grant."""
        return self._granted[self._head - 1] if self._head else self._dropped

    def _in_window(self) -> int:
        total = self._granted[-1] if self._granted else self._dropped
        return total - self._expired_total()

    def try_acquire(self, tokens: int) -> bool:
        """Take ``tokens`` if they fit in the window now; ``False`` (nothing taken) if not."""
        tokens = self._check_tokens(tokens)
        with self._lock:
            now = self._clock()
            self._evict_expired(now)
            if self._in_window() + tokens > self.max_tokens:
                return False
            total = self._granted[-1] if self._granted else self._dropped
            self._expiries.append(now + self.window_seconds)
            self._granted.append(total + tokens)
            return True

    def wait_seconds(self, tokens: int) -> float:
        """Seconds until ``tokens`` would fit, if nothing else is granted meanwhile."""
        tokens = self._check_tokens(tokens)
        with self._lock:
            now = self._clock()
            self._evict_expired(now)
            excess = self._in_window() + tokens - self.max_tokens
            if excess <= 0:
                return 0.0
            # The oldest live grants free their tokens first: find the first grant whose expiry
            # brings the freed total to ``excess``.
            freeing = bisect.bisect_left(self._granted, self._expired_total() + excess,
                                         lo=self._head)
            return self._expiries[freeing] - now

    def used(self) -> int:
        """Tokens granted within the current window."""
        with self._lock:
            self._evict_expired(self._clock())
            return self._in_window()

    def remaining(self) -> int:
        """Tokens that would be granted right now."""
        return self.max_tokens - self.used()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(max_tokens={self.max_tokens}, "
                f"window_seconds={self.window_seconds})")


class RateLimits:
    """A provider's two limits together: requests per window and tokens per window.

    A request is admitted only when both limiters have room, and then takes from both (one
    request, ``tokens`` tokens); otherwise it takes from neither. This object must be the only
    user of the two limiters it is given, or "both or neither" cannot hold.

    >>> now = [0.0]
    >>> limits = RateLimits(SlidingWindowLimiter(3, 60.0, clock=lambda: now[0]),
    ...                     TokenWindowLimiter(1_000, 60.0, clock=lambda: now[0]))
    >>> [limits.try_acquire(100) for _ in range(4)]  # the RPM binds first
    [True, True, True, False]
    >>> limits.tokens.used()
    300
    """

    def __init__(self, requests: SlidingWindowLimiter, tokens: TokenWindowLimiter) -> None:
        if not isinstance(requests, SlidingWindowLimiter):
            raise TypeError(f"requests must be a SlidingWindowLimiter, got "
                            f"{type(requests).__name__}")
        if not isinstance(tokens, TokenWindowLimiter):
            raise TypeError(f"tokens must be a TokenWindowLimiter, got {type(tokens).__name__}")
        self.requests = requests
        self.tokens = tokens
        self._lock = threading.Lock()

    @property
    def max_tokens(self) -> int:
        """The most tokens one request can take: the token window's size."""
        return self.tokens.max_tokens

    @classmethod
    def per_minute(cls, rpm: int, tpm: int, *, clock: Clock = time.monotonic) -> RateLimits:
        """The limits as providers publish them: requests and tokens per minute."""
        return cls(SlidingWindowLimiter(rpm, 60.0, clock=clock),
                   TokenWindowLimiter(tpm, 60.0, clock=clock))

    def try_acquire(self, tokens: int) -> bool:
        """Admit one request of ``tokens`` tokens if both limits allow it now."""
        with self._lock:
            if self.requests.remaining() < 1 or self.tokens.wait_seconds(tokens) > 0:
                return False
            self.requests.allow()
            self.tokens.try_acquire(tokens)
            return True

    def wait_seconds(self, tokens: int) -> float:
        """Seconds until both limits would admit a request of ``tokens`` tokens."""
        with self._lock:
            return max(self.requests.retry_after(), self.tokens.wait_seconds(tokens))

    def __repr__(self) -> str:
        return f"RateLimits(requests={self.requests!r}, tokens={self.tokens!r})"
