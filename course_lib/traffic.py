"""A seeded, realistic day of support traffic for the Kitewing bot.

Real support traffic is not uniform: a few questions ("how do I reset my password?") make up a
large share of all requests, people phrase the same question in different ways, and more people
write during working hours than at night. Those three facts decide how much a cache saves and
what a day costs, so the course's experiments replay traffic that has them:

* **popularity** follows a Zipf law over knowledge-base entries: the k-th most popular question is
  asked about ``1 / k**s`` as often as the most popular one;
* **wording**: a share of requests use one of the entry's paraphrases instead of its canonical
  question (exact-match caches miss those; semantic caches may not);
* **arrival times** follow a day curve: quiet at night, a peak in the working day.

The same seed gives the same trace, so every notebook can replay it and compare strategies on
identical traffic.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from course_lib.datasets import KnowledgeBaseEntry, load_knowledge_base

__all__ = ["TrafficEvent", "hourly_weights", "support_traffic", "zipf_weights"]

DEFAULT_START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday


@dataclass(frozen=True)
class TrafficEvent:
    """One user message arriving at the support bot."""

    at: datetime
    user_id: str
    query: str
    entry_id: str
    kind: str
    complexity: str
    turns: int
    is_paraphrase: bool


def zipf_weights(n: int, exponent: float) -> list[float]:
    """Normalised Zipf weights for ranks 1..n: rank k has weight proportional to ``1/k**s``."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if exponent < 0:
        raise ValueError(f"exponent must be >= 0, got {exponent}")
    raw = [1.0 / (rank**exponent) for rank in range(1, n + 1)]
    total = sum(raw)
    return [w / total for w in raw]


def hourly_weights() -> list[float]:
    """Share of a day's traffic in each hour (UTC): low at night, peaking mid-afternoon."""
    # A smooth day curve: a floor of night traffic plus a bump centred on 14:00.
    raw = [0.15 + math.exp(-((hour + 0.5 - 14.0) ** 2) / (2 * 3.5**2)) for hour in range(24)]
    total = sum(raw)
    return [w / total for w in raw]


def _cumulative(weights: Sequence[float]) -> list[float]:
    running, out = 0.0, []
    for w in weights:
        running += w
        out.append(running)
    out[-1] = 1.0
    return out


def support_traffic(
    n: int,
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    duration: timedelta = timedelta(days=1),
    zipf_exponent: float = 1.1,
    paraphrase_share: float = 0.3,
    users: int = 1000,
    entries: Sequence[KnowledgeBaseEntry] | None = None,
) -> list[TrafficEvent]:
    """``n`` support messages over ``duration`` from ``start``, sorted by arrival time.

    Which entry is popular is itself drawn from the seed (so popularity does not follow the
    knowledge base's file order). ``paraphrase_share`` of messages use a paraphrase.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 0.0 <= paraphrase_share <= 1.0:
        raise ValueError(f"paraphrase_share must be between 0 and 1, got {paraphrase_share}")
    if users < 1:
        raise ValueError(f"users must be at least 1, got {users}")
    if duration <= timedelta(0):
        raise ValueError(f"duration must be positive, got {duration}")
    rng = random.Random(seed)
    pool = list(entries if entries is not None else load_knowledge_base().entries)
    if not pool:
        raise ValueError("entries must not be empty")
    rng.shuffle(pool)
    popularity = _cumulative(zipf_weights(len(pool), zipf_exponent))
    hours = _cumulative(hourly_weights())
    seconds = duration.total_seconds()
    events = []
    for _ in range(n):
        entry = pool[bisect.bisect_left(popularity, rng.random())]
        paraphrased = bool(entry.paraphrases) and rng.random() < paraphrase_share
        query = rng.choice(entry.paraphrases) if paraphrased else entry.question
        if seconds < 86_400:  # shorter than a day: no day curve to follow
            offset = rng.random() * seconds
        else:  # pick a day, then an hour by the day curve, then a second within that hour
            day = rng.randrange(math.ceil(seconds / 86_400))
            hour = bisect.bisect_left(hours, rng.random())
            offset = min(seconds - 1e-6, day * 86_400 + (hour + rng.random()) * 3_600)
        turns = 1 + min(int(rng.expovariate(0.6)), 11)
        events.append(TrafficEvent(
            at=start + timedelta(seconds=offset),
            user_id=f"user-{rng.randrange(users):05d}",
            query=query,
            entry_id=entry.id,
            kind=entry.kind,
            complexity=entry.complexity,
            turns=turns,
            is_paraphrase=paraphrased,
        ))
    events.sort(key=lambda event: event.at)
    return events
