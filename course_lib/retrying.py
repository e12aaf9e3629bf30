"""One retry vocabulary: which failures deserve another attempt, and how long to wait first.

The fallback chain (notebook 06), the batch embedder (notebook 07) and the streaming relay
(notebook 09) all meet the same failures and answer them with the same rules, written once here:

* **Retryable**: what can succeed on a second try. A rate limit (429), a server error (5xx), a
  timeout or a dropped connection, and 408/409: the openai SDK's own list
  (``openai._base_client.BaseClient._should_retry``). A server may also say so itself with
  ``x-should-retry: true|false``, which wins. Never retry a 400, 401, 403 or 404: the same request
  gets the same answer, and each retry only adds latency.
* **Retry-After**: how long the server asked us to wait, from ``retry-after-ms`` (OpenAI's, in
  milliseconds), else ``Retry-After`` in seconds or as an HTTP date. A wait over
  :data:`MAX_RETRY_AFTER_S` is not waited for: the SDK backs off instead (its
  ``MAX_RETRY_AFTER_DELAY``), and a chain with another model falls back at once.
* **Backoff**: full-jitter exponential (AWS Architecture Blog, "Exponential Backoff And Jitter"):
  after failed attempt ``n`` wait ``uniform(0, min(cap, base * 2 ** (n - 1)))``, so the expected
  wait doubles per attempt but clients that failed together do not come back together. A
  Retry-After is a floor: coming back earlier only counts against the rate limit again.
* **Attempt numbers** start at 1, the first request, everywhere.

Library equivalent: tenacity's ``retry_if_exception(is_retryable)``,
``wait_random_exponential(multiplier=base, max=cap)`` (full jitter) and ``stop_after_attempt``;
notebook 06 shows it beside this. Use tenacity for one call site; the course keeps these rules
in one module because three subsystems must agree on them, and the lesson asks why they are so.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping

import openai

__all__ = [
    "MAX_RETRY_AFTER_S",
    "RETRYABLE_STATUSES",
    "FullJitterBackoff",
    "is_retryable",
    "is_retryable_status",
    "retry_after_seconds",
    "status_of",
]

# 408 request timeout, 409 lock conflict, 429 rate limit; and every 5xx (is_retryable_status).
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# The openai SDK's MAX_RETRY_AFTER_DELAY (two minutes): a header asking for an hour is more
# likely a bug or an outage than a plan.
MAX_RETRY_AFTER_S = 120.0


def is_retryable_status(status: int) -> bool:
    """True for an HTTP status worth another attempt: 408, 409, 429 and every 5xx."""
    return status in RETRYABLE_STATUSES or status >= 500


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an API error, None for a timeout or a connection that failed."""
    return error.status_code if isinstance(error, openai.APIStatusError) else None


def is_retryable(error: BaseException) -> bool:
    """True when the same request might succeed if sent again."""
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if not isinstance(error, openai.APIStatusError):
        return False
    verdict = error.response.headers.get("x-should-retry", "").strip().lower()
    if verdict in ("true", "false"):
        return verdict == "true"
    return is_retryable_status(error.status_code)


def retry_after_seconds(
    headers: Mapping[str, str] | None, *, now: Callable[[], float] = time.time
) -> float | None:
    """The wait the server asked for, in seconds; None when it named none (or nonsense).

    ``retry-after-ms`` wins over ``Retry-After``; a date in the past gives 0 (``now`` is the wall
    clock the date is compared with, injectable for tests). No cap here: what a wait over
    :data:`MAX_RETRY_AFTER_S` means is the caller's decision (:meth:`FullJitterBackoff.delay`).
    """
    if headers is None:
        return None
    for name, per_second in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            continue
        if math.isfinite(value) and value >= 0:
            return value / per_second
    raw_date = headers.get("retry-after")
    if raw_date is None:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(raw_date)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - now())


class FullJitterBackoff:
    """Full-jitter exponential backoff with a cap; a Retry-After is honoured as a floor.

    ``rng`` is injectable so tests (and reproducible experiments) draw known waits.
    """

    def __init__(
        self,
        base_s: float = 0.5,
        cap_s: float = 8.0,
        *,
        max_retry_after_s: float = MAX_RETRY_AFTER_S,
        rng: random.Random | None = None,
    ) -> None:
        for name, value in (("base_s", base_s), ("cap_s", cap_s),
                            ("max_retry_after_s", max_retry_after_s)):
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
        if cap_s < base_s:
            raise ValueError(f"cap_s ({cap_s}) must be at least base_s ({base_s})")
        self.base_s = float(base_s)
        self.cap_s = float(cap_s)
        self.max_retry_after_s = float(max_retry_after_s)
        self._rng = rng if rng is not None else random.Random()

    def ceiling(self, attempt: int) -> float:
        """The largest wait after failed attempt number ``attempt`` (1 for the first request)."""
        if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
            raise ValueError(f"attempt numbers start at 1, got {attempt!r}")
        # 2 ** 64 already exceeds any sensible cap; clamping keeps the float finite.
        return min(self.cap_s, self.base_s * 2.0 ** min(attempt - 1, 64))

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float | None:
        """Seconds to wait after failed attempt ``attempt``; None: the server asked for longer
        than ``max_retry_after_s``, so do not wait (fall back, or back off without it).

        The draw is uniform on ``[0, ceiling(attempt)]``; a Retry-After raises it to at least
        the server's figure.
        """
        jittered = self._rng.uniform(0.0, self.ceiling(attempt))
        if retry_after_s is None:
            return jittered
        if not math.isfinite(retry_after_s) or retry_after_s < 0:
            raise ValueError(f"retry_after_s must be a finite number >= 0, got {retry_after_s!r}")
        if retry_after_s > self.max_retry_after_s:
            return None
        return max(retry_after_s, jittered)

    def __repr__(self) -> str:
        return (f"FullJitterBackoff(base_s={self.base_s:g}, cap_s={self.cap_s:g}, "
                f"max_retry_after_s={self.max_retry_after_s:g})")
