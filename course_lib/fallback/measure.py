"""Measure a client under faults: success rate, who answered, latency percentiles and cost.

Notebook 06 sends the same support questions through the lesson's client and through the
chain, against a sandbox that fails on purpose, and compares what a user and a budget feel:

* **success rate**: the share of calls that returned an answer at all;
* **answered by the primary**: a fallback answer is a cheaper, weaker answer. A client that
  falls back at the first blip looks cheap and fast while quietly degrading quality, so this
  figure belongs next to the cost;
* **p50 / p95 latency** of every call, failed ones included (a user waits for those too);
* **cost**: exact, from the ``usage`` of each answer and :mod:`course_lib.pricing`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from course_lib.pricing import usage_cost_usd

__all__ = ["Answer", "CallOutcome", "LoadSummary", "replay_calls", "summarize_calls"]


@dataclass(frozen=True)
class Answer:
    """What a client under test returns for one call: the model that answered, and usage."""

    model: str
    usage: Any


@dataclass(frozen=True)
class CallOutcome:
    """One call as the user felt it."""

    ok: bool
    model: str | None
    latency_s: float
    cost_usd: Decimal
    error: str | None = None


@dataclass(frozen=True)
class LoadSummary:
    """A run of many calls, summarised. Latencies are in seconds as measured."""

    name: str
    calls: int
    success_rate: float
    primary_share: float
    p50_s: float
    p95_s: float
    max_s: float
    cost_usd: Decimal
    requests_sent: int | None = None

    @property
    def requests_per_call(self) -> float | None:
        return None if self.requests_sent is None else self.requests_sent / self.calls


async def replay_calls(
    call: Callable[[str], Awaitable[Answer]],
    prompts: Sequence[str],
    *,
    concurrency: int = 16,
    clock: Callable[[], float] = time.perf_counter,
) -> list[CallOutcome]:
    """Send every prompt through ``call``, at most ``concurrency`` at a time; never raises for
    a failed call (it becomes an outcome with ``ok=False``). Outcomes are in prompt order."""
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
    if not prompts:
        raise ValueError("replay_calls needs at least one prompt")
    gate = asyncio.Semaphore(concurrency)

    async def one(prompt: str) -> CallOutcome:
        async with gate:
            started = clock()
            try:
                answer = await call(prompt)
            except Exception as error:
                return CallOutcome(False, None, clock() - started, Decimal(0),
                                   f"{type(error).__name__}: {error}")
            latency = clock() - started
            return CallOutcome(True, answer.model, latency,
                               usage_cost_usd(answer.model, answer.usage))

    return list(await asyncio.gather(*(one(p) for p in prompts)))


def summarize_calls(name: str, outcomes: Sequence[CallOutcome], *, primary_model: str,
              requests_sent: int | None = None) -> LoadSummary:
    """Success rate, share answered by ``primary_model``, p50/p95/max latency, total cost."""
    if not outcomes:
        raise ValueError("summarize_calls needs at least one outcome")
    latencies = np.array([o.latency_s for o in outcomes])
    return LoadSummary(
        name=name,
        calls=len(outcomes),
        success_rate=sum(o.ok for o in outcomes) / len(outcomes),
        primary_share=sum(o.ok and o.model == primary_model for o in outcomes) / len(outcomes),
        p50_s=float(np.percentile(latencies, 50)),
        p95_s=float(np.percentile(latencies, 95)),
        max_s=float(latencies.max()),
        cost_usd=sum((o.cost_usd for o in outcomes), Decimal(0)),
        requests_sent=requests_sent,
    )
