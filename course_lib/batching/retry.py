"""Which failures are worth another attempt, and how long to wait before it.

Retry what can succeed on a second try: a rate limit (429), a server error (5xx), a timeout or
a dropped connection, and 408/409, the same list as the openai SDK. Never retry a 400 (an empty
input, a batch over the token limit), a 401 or a 404: the same request gets the same answer, and
each retry only adds latency. A server may also say so itself with ``x-should-retry``.

Waiting: a 429 names its wait in ``Retry-After`` (seconds, or ``retry-after-ms``, OpenAI's more
precise variant); honour it. Otherwise back off exponentially with *full jitter* (a random wait
between 0 and ``base * 2**(attempt - 1)``, capped), so clients that failed together do not all
come back together.

Libraries that do the same: the openai SDK's ``max_retries`` (408/409/429/5xx, exponential
backoff, Retry-After honoured); tenacity's ``retry_if_exception(...)``,
``wait_random_exponential`` (full jitter) and ``stop_after_attempt``.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import openai

__all__ = ["Backoff", "is_retryable", "retry_after_seconds", "status_of"]

RETRYABLE_STATUSES = frozenset({408, 409, 429})
# The SDK ignores a Retry-After longer than this (two minutes) and backs off instead: a header
# asking for an hour is more likely a bug than a plan.
MAX_RETRY_AFTER_S = 120.0


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
    return error.status_code in RETRYABLE_STATUSES or error.status_code >= 500


def _headers(error: BaseException) -> Mapping[str, str]:
    return error.response.headers if isinstance(error, openai.APIStatusError) else {}


def retry_after_seconds(error: BaseException, *, now: float | None = None) -> float | None:
    """The wait a failed response asked for, in seconds; None when it named none (or nonsense).

    Reads ``retry-after-ms`` first, then ``retry-after`` as seconds or as an HTTP date (``now``:
    the current Unix time, injectable for tests).
    """
    headers = _headers(error)
    for name, per_second in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            seconds = float(raw) / per_second
        except ValueError:
            continue
        return seconds if math.isfinite(seconds) and 0 <= seconds <= MAX_RETRY_AFTER_S else None
    raw = headers.get("retry-after")
    parsed = email.utils.parsedate_tz(raw) if raw else None
    if parsed is None:
        return None
    seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
    return max(0.0, seconds) if seconds <= MAX_RETRY_AFTER_S else None


@dataclass
class Backoff:
    """Full-jitter exponential backoff: attempt ``n`` waits ``uniform(0, min(cap, base·2ⁿ⁻¹))``.

    ``rng`` is injectable so a seeded run waits the same every time.
    """

    base_s: float = 0.5
    cap_s: float = 8.0
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        for name in ("base_s", "cap_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
        if attempt < 1:
            raise ValueError(f"attempt numbers start at 1, got {attempt}")
        ceiling = min(self.cap_s, self.base_s * 2.0 ** min(attempt - 1, 60))
        return self.rng.uniform(0.0, ceiling)
