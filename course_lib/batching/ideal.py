"""The ideal of a batching strategy, and what it achieved: round trips, time, requests.

A measurement means something only next to an ideal. The sandbox's latency model for an
embeddings request (see :mod:`course_lib.sandbox.profiles`) is a fixed round trip plus a small
cost per token, ``ttft_base_s + ttft_per_prompt_token_s * tokens`` (60 ms + 2 µs per token for
``text-embedding-3-small``), times the sandbox's time scale. From it and the batch plan follow
the ideal times: one request per text pays the round trip once per text; batches of 100 pay it
once per 100 texts; four batches in flight pay it about once per four batches.

That ideal is **waiting only**: the provider's view, where the work happens on its side of the
wire. On this machine every request also costs real work (HTTP, JSON, the client's parsing),
and that work grows when other programs load the machine. So :func:`time_strategies` reads
each request's *simulated* wait from the sandbox's own records, which no load can change,
and reports it beside the measured time: a run can never be faster than its waits
(``measured_s >= ideal_s``), and what batching **saves** (the measured difference) can be set
against the waiting it **removes** (the difference of the ideals), a comparison in which the
machine's work per request only ever adds to the saving.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import openai

from course_lib.batching.embedder import BatchEmbedder
from course_lib.batching.plan import Batch
from course_lib.batching.report import BatchReport
from course_lib.sandbox.profiles import ModelProfile
from course_lib.sandbox.server import SandboxHandle
from course_lib.time_scale import check_time_scale

__all__ = [
    "StrategyTiming",
    "ideal_seconds",
    "model_latency_s",
    "predict_seconds",
    "time_strategies",
]


def model_latency_s(profile: ModelProfile, tokens: int, *, time_scale: float = 1.0) -> float:
    """The latency model's duration of one request of ``tokens`` tokens (jitter averages out)."""
    if tokens < 0:
        raise ValueError(f"tokens must be >= 0, got {tokens}")
    return profile.expected_ttft(tokens) * check_time_scale(time_scale)


def ideal_seconds(waits: Sequence[float], *, concurrency: int = 1) -> float:
    """When the last of these waits ends, ``concurrency`` at a time, nothing else to do.

    Requests are taken in order, each by the first free slot (what an ``asyncio.Semaphore``
    does), and their waits overlap freely.

    >>> ideal_seconds([1.0] * 8, concurrency=4)
    2.0
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
    slots = [0.0] * concurrency  # when each slot is next free
    for wait in waits:
        if not math.isfinite(wait) or wait < 0:
            raise ValueError(f"a wait must be a finite number of seconds >= 0, got {wait!r}")
        heapq.heappush(slots, heapq.heappop(slots) + wait)
    return max(slots)


def predict_seconds(batches: Sequence[Batch], profile: ModelProfile, *, time_scale: float,
                    concurrency: int = 1) -> float:
    """The latency model's ideal time of sending ``batches``, ``concurrency`` at a time."""
    return ideal_seconds([model_latency_s(profile, batch.tokens, time_scale=time_scale)
                          for batch in batches], concurrency=concurrency)


@dataclass(frozen=True)
class StrategyTiming:
    """One way of sending texts: its measured seconds beside its ideal (waiting only).

    ``requests`` is what the sandbox received; ``report`` the embedder's record of the run.
    """

    name: str
    measured_s: float
    ideal_s: float
    requests: int
    texts: int
    report: BatchReport | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a strategy needs a name")
        for label in ("measured_s", "ideal_s"):
            value = getattr(self, label)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{self.name}: {label} must be a positive number of seconds, "
                                 f"got {value!r}")


async def time_strategies(handle: SandboxHandle, model: str, texts: Sequence[str],
                          strategies: Mapping[str, tuple[int, int]], *, time_scale: float,
                          repeats: int = 2) -> list[StrategyTiming]:
    """Send ``texts`` to the sandbox ``handle`` once per strategy, ``name: (per request, in
    flight)``, and time each run beside the waits the sandbox simulated for it.

    A first pass at time scale 0 lets the sandbox embed (and memoise) every text, so each run
    measures round trips, as with a real API. The first strategy, the slow baseline, runs
    once; the others run ``repeats`` times and keep their fastest run (other programs only
    ever slow a run down). Each run's ideal is the schedule of **its own** simulated waits,
    read from the sandbox's records: load cannot change it.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a whole number >= 1, got {repeats!r}")
    time_scale = check_time_scale(time_scale)
    timings = []
    # max_retries=0: the embedder owns retries (the SDK's own would stack under them).
    async with openai.AsyncOpenAI(base_url=handle.base_url, api_key="sandbox",
                                  max_retries=0) as client:
        handle.time_scale = 0
        await BatchEmbedder(client, model, progress=False).embed(texts)
        handle.time_scale = time_scale
        for position, (name, (per_request, in_flight)) in enumerate(strategies.items()):
            embedder = BatchEmbedder(client, model, max_inputs_per_request=per_request,
                                     max_concurrency=in_flight, progress=False)
            runs = []
            for _ in range(1 if position == 0 else repeats):
                before = len(handle.requests)
                report = (await embedder.embed_with_report(texts)).report
                waits = [r.planned_ttft_s or 0.0 for r in handle.requests[before:]]
                runs.append(StrategyTiming(
                    name, report.elapsed_s, ideal_seconds(waits, concurrency=in_flight),
                    requests=len(waits), texts=len(texts), report=report))
            timings.append(min(runs, key=lambda timing: timing.measured_s))
    return timings
