"""Batch embedding: the time ``BatchEmbedder`` saves by batching, against the waiting it removes.

The ideal of each strategy is its waiting alone: the round trips the sandbox simulated for it
(``text-embedding-3-small``: a fixed round trip plus a little per token), read from the
sandbox's own records by :func:`course_lib.batching.time_strategies`, so no load on the machine
can change it. Batching removes most of that waiting; it also removes the machine's work for
every request it no longer sends, so the time it saves is at least the waiting it removes.
Notebook 07 asserts that (``saved / removed >= 1``); this re-checks it on other texts: one text
per request, one at a time (the baseline), against batches of 25 with 4 in flight.
"""

from __future__ import annotations

import asyncio

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity
from course_lib import sandbox
from course_lib.batching import BatchEmbedder, time_strategies
from course_lib.datasets import load_knowledge_base, load_routing_queries

GROUP = "batching"
MODEL = "text-embedding-3-small"
TIME_SCALE = 0.1
BATCH, IN_FLIGHT = 25, 4


def support_sentences(n: int) -> list[str]:
    """``n`` distinct user questions from the knowledge base and the routing query set."""
    pool = [q for entry in load_knowledge_base().entries for q in entry.all_questions]
    pool += [query.query for query in load_routing_queries()]
    distinct = list(dict.fromkeys(text.strip() for text in pool if text.strip()))
    if len(distinct) < n:
        raise ValueError(f"only {len(distinct)} distinct sentences, {n} asked for")
    return distinct[:n]


def run(config: Config) -> list[Measurement]:
    n = config.pick(200, 40)
    texts = support_sentences(n)
    batched = f"{BATCH} per request, {IN_FLIGHT} in flight"
    strategies = {"one per request": (1, 1), batched: (config.pick(BATCH, 5), IN_FLIGHT)}

    async def measure():
        with sandbox.start(time_scale=TIME_SCALE, seed=7) as sb:
            return await time_strategies(sb, MODEL, texts, strategies, time_scale=TIME_SCALE,
                                         repeats=config.pick(2, 1))

    single, grouped = asyncio.run(measure())
    saved = single.measured_s - grouped.measured_s
    removed = single.ideal_s - grouped.ideal_s

    def profile_batched() -> str:
        async def one_run() -> None:
            with sandbox.start(time_scale=TIME_SCALE, seed=7) as sb:
                await time_strategies(sb, MODEL, texts, {batched: strategies[batched]},
                                      time_scale=TIME_SCALE)
        return cprofile_text(lambda: asyncio.run(one_run()),
                             title=f"{BatchEmbedder.__name__}, {batched}, {n} texts "
                                   "(client thread only)")

    def seconds(timing) -> dict[str, float]:
        return {"measured s": timing.measured_s, "ideal s": timing.ideal_s,
                "requests": float(timing.requests)}

    return [Measurement(
        f"{GROUP}.batch_speedup", GROUP, "BatchEmbedder: time saved vs waiting removed",
        ours=Quantity(f"time saved by batching ({batched})", saved, "s",
                      extra={f"{t.name} {k}": v for t in (single, grouped)
                             for k, v in seconds(t).items()}),
        peer=Quantity("waiting removed (the sandbox's simulated round trips)", removed, "s",
                      reference="model"),
        ratio=saved / removed, ratio_kind="achieved/ideal",
        goal=Goal(">=", 1.0, source="notebook 07's assertion"), profile=profile_batched,
        note=f"{n} texts at time scale {TIME_SCALE:g}; speedup measured "
             f"{single.measured_s / grouped.measured_s:.1f}x, ideal "
             f"{single.ideal_s / grouped.ideal_s:.1f}x")]
