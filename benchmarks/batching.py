"""Batch embedding: the speedup ``BatchEmbedder`` achieves over one text per request, as a share
of the ideal one.

The ideal is the prediction of :func:`course_lib.batching.predict_seconds`: the sandbox's
latency model for ``text-embedding-3-small`` (a fixed round trip plus a little per token), plus
this machine's own cost per request and per text, measured first at time scale 0 (HTTP and
JSON; the sandbox's embedding memo is warmed first, as in notebook 07). Notebook 07 asserts that
batching delivers at least 80% of that ideal; this re-checks it: one text per request, one at a
time (the baseline), against batches of 25 with 4 in flight.
"""

from __future__ import annotations

import asyncio
import time

import openai

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity
from course_lib import sandbox, tokens
from course_lib.batching import (
    MAX_TOKENS_PER_REQUEST,
    BatchEmbedder,
    measure_machine_cost,
    plan_batches,
    predict_seconds,
)
from course_lib.datasets import load_knowledge_base, load_routing_queries
from course_lib.sandbox.profiles import profile_for

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


def _client(handle: sandbox.SandboxHandle) -> openai.AsyncOpenAI:
    # max_retries=0: the embedder owns retries and refuses a client whose own would stack.
    return openai.AsyncOpenAI(base_url=handle.base_url, api_key="sandbox", max_retries=0)


async def _seconds(embedder: BatchEmbedder, texts: list[str]) -> float:
    started = time.perf_counter()
    vectors = await embedder.embed(texts)
    elapsed = time.perf_counter() - started
    if vectors.shape[0] != len(texts):
        raise AssertionError(f"{vectors.shape[0]} vectors for {len(texts)} texts")
    return elapsed


def run(config: Config) -> list[Measurement]:
    n = config.pick(200, 40)
    repeat = config.pick(2, 1)
    profile = profile_for(MODEL)
    if profile is None:
        raise LookupError(f"the sandbox has no profile for {MODEL}")
    texts = support_sentences(n)
    counts = [tokens.count_tokens(text, MODEL) for text in texts]
    strategies = {"one per request": (1, 1), f"{BATCH} per request, {IN_FLIGHT} in flight":
                  (config.pick(BATCH, 5), IN_FLIGHT)}

    async def measure() -> tuple[dict[str, float], dict[str, float]]:
        with sandbox.start(time_scale=0, seed=7) as sb:
            async with _client(sb) as client:
                # The sandbox embeds each distinct text once and memoises it: warm it, so every
                # strategy below measures round trips, not which one met a text first.
                await BatchEmbedder(client, MODEL, progress=False).embed(texts)
                machine = await measure_machine_cost(
                    client, MODEL, texts, singles=config.pick(30, 3),
                    batch_size=config.pick(BATCH, 5), batches=config.pick(4, 2))
                sb.time_scale = TIME_SCALE
                measured, predicted = {}, {}
                for name, (per_request, in_flight) in strategies.items():
                    embedder = BatchEmbedder(client, MODEL, max_inputs_per_request=per_request,
                                             max_concurrency=in_flight, progress=False)
                    runs = [await _seconds(embedder, texts) for _ in range(repeat)]
                    measured[name] = min(runs)
                    batches = plan_batches(counts, max_inputs=per_request,
                                           max_tokens=MAX_TOKENS_PER_REQUEST)
                    predicted[name] = predict_seconds(batches, profile, time_scale=TIME_SCALE,
                                                      concurrency=in_flight, machine=machine)
        return measured, predicted

    measured, predicted = asyncio.run(measure())
    baseline, batched = strategies
    achieved = measured[baseline] / measured[batched]
    ideal = predicted[baseline] / predicted[batched]

    def profile_batched() -> str:
        async def one_run() -> None:
            with sandbox.start(time_scale=TIME_SCALE, seed=7) as sb:
                async with _client(sb) as client:
                    per_request, in_flight = strategies[batched]
                    await _seconds(BatchEmbedder(client, MODEL, progress=False,
                                                 max_inputs_per_request=per_request,
                                                 max_concurrency=in_flight), texts)
        return cprofile_text(lambda: asyncio.run(one_run()),
                             title=f"BatchEmbedder, {batched}, {n} texts (client thread only)")

    return [Measurement(
        f"{GROUP}.batch_speedup", GROUP, "BatchEmbedder: achieved vs ideal speedup",
        ours=Quantity(f"achieved speedup ({batched})", achieved, "x",
                      extra={f"{name} s": seconds for name, seconds in measured.items()}),
        peer=Quantity("ideal speedup (latency model + measured machine cost)", ideal, "x",
                      extra={f"{name} s": seconds for name, seconds in predicted.items()},
                      reference="model"),
        ratio=achieved / ideal, ratio_kind="achieved/ideal",
        goal=Goal(">=", 0.8, source="notebook 07's assertion"), profile=profile_batched,
        note=f"{n} texts at time scale {TIME_SCALE:g}; best of {repeat}; one per request "
             f"{measured[baseline]:.2f} s, batched {measured[batched]:.2f} s")]
