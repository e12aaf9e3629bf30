"""Replay a traffic trace through an agent and summarise what users and the budget felt.

:func:`replay` sends the messages of a trace (:func:`course_lib.traffic.support_traffic`) to an
agent in arrival order, at most ``concurrency`` at a time (a closed loop: the next message starts
when a slot frees up, not at its own arrival time; the per-turn latencies do not depend on that
as long as the machine is not saturated, and ``in_order_by`` keeps identical messages from
overlapping, as they would not at their real arrival times). :func:`summarize` turns the
:class:`TurnRecord` list into the figures of notebook 10's table:

``success_rate``          answered turns / all turns
``monthly_usd``           the trace's bill per turn x the lesson's 150,000 conversations a month
                          ("1000 用户/天 × 5 条/用户 × 30 天"); failures cost nothing but count as
                          traffic, since a month of traffic includes them
``p50/p95 ttft and total`` over *answered* turns (a failure has no first token); failures are
                          in the success rate instead, so a fast error never flatters a latency
``cache_share``           answered turns served without a model call (cache or coalesced)
``complex_to_strong``     the share of answered *complex* questions whose answer came from the
                          strong model (routing and fallback both move it)
``completeness``          notebook 05's quality proxy, per answered turn: 1 when the question got
                          a model at least as strong as it needs, else the answer's
                          :func:`~course_lib.router.answer_coverage` of the strong model's answer
                          to the same question (``references``); the mean over turns

Percentiles are :func:`course_lib.stats.percentile` (numpy's linear interpolation).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import numpy as np

from course_lib.cache import canonical_model
from course_lib.router import LESSON_CONVERSATIONS_PER_MONTH, STRONG_MODEL, answer_coverage
from course_lib.stats import percentile
from course_lib.traffic import TrafficEvent

from .turn import TurnRecord

__all__ = [
    "Agent",
    "AgentSummary",
    "completeness",
    "percentile",
    "replay",
    "strong_references",
    "summarize",
]


class Agent(Protocol):
    """What :func:`replay` needs: an async ``answer(event, index)``."""

    async def answer(self, event: TrafficEvent, index: int = 0) -> TurnRecord: ...


async def replay(
    agent: Agent,
    events: Sequence[TrafficEvent],
    *,
    concurrency: int = 1,
    in_order_by: Callable[[TrafficEvent], Hashable] | None = None,
) -> list[TurnRecord]:
    """Every message of ``events`` through ``agent``; records in the order of ``events``.

    Whenever a slot is free, the earliest message that may start does. ``in_order_by`` keys
    messages that must not overlap: a message may not start while an earlier message with the
    same key is still running (later messages with other keys go ahead of it). Use the query as
    key when the agent caches: in a closed loop, messages that were hours apart in the trace
    are in flight together, and two identical ones would share one model call (single-flight)
    instead of the second finding the first's answer in the cache, as it would at their real
    arrival times. With ``concurrency=1`` messages run strictly in arrival order.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
    keys = [in_order_by(event) if in_order_by is not None else index
            for index, event in enumerate(events)]
    waiting = list(range(len(events)))  # not started yet, in arrival order
    running: dict[Hashable, asyncio.Task[TurnRecord]] = {}
    tasks: dict[int, asyncio.Task[TurnRecord]] = {}
    try:
        while waiting:
            running = {key: task for key, task in running.items() if not task.done()}
            busy = set(running) if len(running) < concurrency else None
            ready = None if busy is None else next(
                (position for position, index in enumerate(waiting)
                 if keys[index] not in busy), None)
            if ready is None:  # no free slot, or every waiting message's key is running
                await asyncio.wait(running.values(), return_when=asyncio.FIRST_COMPLETED)
                continue
            index = waiting.pop(ready)
            tasks[index] = running[keys[index]] = asyncio.create_task(
                agent.answer(events[index], index))
        return list(await asyncio.gather(*(tasks[i] for i in range(len(events)))))
    except BaseException:  # a turn raised (an agent bug) or the replay was cancelled
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        raise


def _is_strong(model: str | None, strong_model: str) -> bool:
    return model is not None and canonical_model(model) == canonical_model(strong_model)


def strong_references(records: Sequence[TurnRecord], strong_model: str = STRONG_MODEL
                      ) -> dict[str, str]:
    """The strong model's answer to each question it answered in ``records`` (query -> text).

    The naive agent answers everything with the strong model, so its replay is the reference
    the optimized agent's weaker answers are compared with.
    """
    references: dict[str, str] = {}
    for record in records:
        if record.answer is not None and _is_strong(record.model, strong_model):
            references.setdefault(record.event.query, record.answer)
    return references


def completeness(record: TurnRecord, references: Mapping[str, str],
                 strong_model: str = STRONG_MODEL) -> float | None:
    """Notebook 05's completeness of one answered turn (None: failed, or no reference)."""
    if record.answer is None:
        return None
    if record.event.complexity == "simple" or _is_strong(record.model, strong_model):
        return 1.0
    reference = references.get(record.event.query)
    if reference is None:
        return None
    return answer_coverage(record.answer, reference)


@dataclass(frozen=True)
class AgentSummary:
    """One agent's replay in a line of figures (see the module docstring)."""

    name: str
    turns: int
    answered: int
    cost_usd: Decimal
    monthly_usd: Decimal
    p50_ttft_s: float | None
    p95_ttft_s: float | None
    p50_total_s: float | None
    p95_total_s: float | None
    p50_tools_s: float | None
    cache_share: float
    fallback_share: float
    strong_share: float
    complex_to_strong: float | None
    completeness: float | None
    unscored: int  # answered turns without a reference answer to score them against
    requests_sent: int

    @property
    def success_rate(self) -> float:
        return self.answered / self.turns

    @property
    def cost_per_turn_usd(self) -> Decimal:
        return self.cost_usd / self.turns


def summarize(
    name: str,
    records: Sequence[TurnRecord],
    *,
    references: Mapping[str, str] | None = None,
    conversations_per_month: int = LESSON_CONVERSATIONS_PER_MONTH,
    strong_model: str = STRONG_MODEL,
) -> AgentSummary:
    """The figures of one replay; ``references`` enable ``completeness`` (else None)."""
    if not records:
        raise ValueError("summarize needs at least one turn record")
    if isinstance(conversations_per_month, bool) or not isinstance(
            conversations_per_month, int) or conversations_per_month < 1:
        raise ValueError("conversations_per_month must be a whole number >= 1, got "
                         f"{conversations_per_month!r}")
    answered = [r for r in records if r.ok]
    cost = sum((r.cost_usd for r in records), Decimal(0))
    complex_answered = [r for r in answered if r.event.complexity == "complex"]
    scores: list[float] = []
    unscored = 0
    if references is not None:
        for record in answered:
            score = completeness(record, references, strong_model)
            if score is None:
                unscored += 1
            else:
                scores.append(score)

    def share(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    tools = [r.tools_s for r in answered if r.tools_s is not None]
    return AgentSummary(
        name=name,
        turns=len(records),
        answered=len(answered),
        cost_usd=cost,
        monthly_usd=cost * conversations_per_month / len(records),
        p50_ttft_s=percentile([r.ttft_s for r in answered if r.ttft_s is not None], 50),
        p95_ttft_s=percentile([r.ttft_s for r in answered if r.ttft_s is not None], 95),
        p50_total_s=percentile([r.total_s for r in answered], 50),
        p95_total_s=percentile([r.total_s for r in answered], 95),
        p50_tools_s=percentile(tools, 50),
        cache_share=share(sum(not r.called_model for r in answered), len(answered)),
        fallback_share=share(sum(r.used_fallback for r in answered), len(answered)),
        strong_share=share(sum(_is_strong(r.model, strong_model) for r in answered),
                           len(answered)),
        complex_to_strong=(share(sum(_is_strong(r.model, strong_model)
                                     for r in complex_answered), len(complex_answered))
                           if complex_answered else None),
        completeness=float(np.mean(scores)) if scores else None,
        unscored=unscored,
        requests_sent=sum(r.requests_sent for r in records),
    )
