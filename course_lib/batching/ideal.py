"""Predict how long a batching strategy should take, before measuring it.

A measurement means something only next to a prediction. The sandbox's latency model for an
embeddings request (see :mod:`course_lib.sandbox.profiles`) is a fixed round trip plus a small
cost per token, ``ttft_base_s + ttft_per_prompt_token_s * tokens`` (60 ms + 2 µs per token for
``text-embedding-3-small``), times the sandbox's time scale. From it and the batch plan follow
the ideal times: one request per text pays the round trip once per text; batches of 100 pay it
once per 100 texts; four batches in flight pay it about once per four batches.

The sandbox also does *real* work that the latency model does not describe: it runs the
embedding model on this machine's CPU, one batch at a time, plus the HTTP and JSON handling of
every request. A real provider does that work on many GPUs, in parallel, inside its round trip;
the sandbox does it on one core, in series. So an honest prediction has two resources:

* the **CPU** (``cpu_s`` per request, measured, see :class:`MeasuredCost`): one request at a
  time, first come first served, because the sandbox embeds under a lock;
* the **simulated wait** (``wait_s``, from the latency model): any number at once.

:func:`ideal_seconds` schedules requests on ``concurrency`` slots (what an
``asyncio.Semaphore`` does) through both and returns when the last one ends. With ``cpu_s = 0``
it is the latency model alone: the provider's view.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.batching.plan import Batch
from course_lib.sandbox.profiles import ModelProfile
from course_lib.time_scale import check_time_scale

__all__ = [
    "MeasuredCost",
    "PlannedRequest",
    "ideal_seconds",
    "measure_machine_cost",
    "model_latency_s",
    "predict_seconds",
]


def model_latency_s(profile: ModelProfile, tokens: int, *, time_scale: float = 1.0) -> float:
    """The latency model's duration of one request of ``tokens`` tokens (jitter averages out)."""
    if tokens < 0:
        raise ValueError(f"tokens must be >= 0, got {tokens}")
    return profile.expected_ttft(tokens) * check_time_scale(time_scale)


@dataclass(frozen=True)
class MeasuredCost:
    """The machine's own cost of one request: ``per_request_s + per_text_s * texts``.

    Measured with the sandbox at time scale 0 (no simulated wait at all), so what remains is
    HTTP, JSON and the embedding model's CPU time. :meth:`fit` solves the two numbers from the
    median time of single-text requests and of requests of ``batch_size`` texts.
    """

    per_request_s: float
    per_text_s: float

    def __post_init__(self) -> None:
        for name in ("per_request_s", "per_text_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value}")

    @classmethod
    def fit(cls, single_s: float, batch_s: float, batch_size: int) -> MeasuredCost:
        """The line through (1 text, ``single_s``) and (``batch_size`` texts, ``batch_s``)."""
        if batch_size < 2:
            raise ValueError(f"batch_size must be at least 2 to fit a line, got {batch_size}")
        per_text = max(0.0, (batch_s - single_s) / (batch_size - 1))
        return cls(max(0.0, single_s - per_text), per_text)

    def of(self, texts: int) -> float:
        """Seconds of machine work for one request carrying ``texts`` texts."""
        return self.per_request_s + self.per_text_s * texts


@dataclass(frozen=True)
class PlannedRequest:
    """One request: ``cpu_s`` on the one shared CPU, then ``wait_s`` of simulated latency."""

    cpu_s: float
    wait_s: float


def ideal_seconds(requests: Sequence[PlannedRequest], *, concurrency: int = 1) -> float:
    """When the last request ends, ``concurrency`` at a time, sharing one CPU in arrival order.

    Requests are taken in order, each by the first free slot; a request waits for the CPU if
    another one holds it, works for ``cpu_s``, then waits ``wait_s`` (waits overlap freely).

    >>> ideal_seconds([PlannedRequest(0.0, 1.0)] * 8, concurrency=4)
    2.0
    >>> ideal_seconds([PlannedRequest(1.0, 0.5)] * 4, concurrency=4)  # the CPU is the bottleneck
    4.5
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
    slots = [0.0] * concurrency  # when each slot is next free
    cpu_free = 0.0
    finished = 0.0
    for request in requests:
        if request.cpu_s < 0 or request.wait_s < 0:
            raise ValueError(f"durations must be >= 0, got {request}")
        start = heapq.heappop(slots)
        cpu_done = max(start, cpu_free) + request.cpu_s
        cpu_free = cpu_done
        done = cpu_done + request.wait_s
        finished = max(finished, done)
        heapq.heappush(slots, done)
    return finished


def predict_seconds(
    batches: Sequence[Batch],
    profile: ModelProfile,
    *,
    time_scale: float,
    concurrency: int = 1,
    machine: MeasuredCost | None = None,
) -> float:
    """The ideal time of sending ``batches``: the latency model, plus ``machine`` work if given.

    Without ``machine`` this is the provider's view (round trips only); with it, what the
    sandbox on this machine can do at best.
    """
    requests = [
        PlannedRequest(machine.of(batch.size) if machine else 0.0,
                       model_latency_s(profile, batch.tokens, time_scale=time_scale))
        for batch in batches
    ]
    return ideal_seconds(requests, concurrency=concurrency)


async def measure_machine_cost(
    client: Any,
    model: str,
    texts: Sequence[str],
    *,
    singles: int = 30,
    batch_size: int = 100,
    batches: int = 2,
    concurrency: int = 1,
    repeats: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> MeasuredCost:
    """Time real requests to a sandbox **at time scale 0** and fit :class:`MeasuredCost`.

    At time scale 0 the sandbox simulates no latency, so what is timed is the machine: HTTP,
    JSON and the embedding model on the CPU. Other programs on the machine can only ever make
    a measurement slower, so, as ``timeit`` does, the **fastest** observation is taken as the
    machine's own cost:

    * ``singles`` one-text requests, one at a time: the fastest is the cost of one text;
    * ``batches`` requests of ``batch_size`` texts, ``concurrency`` at a time, ``repeats``
      times: the fastest total divided by ``batches`` is the cost of one batch *when that many
      share the machine* (threads competing for one CPU get a little less done than one alone).
      With ``batches=0`` only singles are timed and the cost is all per request.

    Texts are taken from the start of ``texts``, which should look like what will be measured.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, got {concurrency!r}")
    needed = max(singles, batch_size * batches)
    if len(texts) < needed or singles < 1 or batches < 0 or batch_size < 2 or repeats < 1:
        raise ValueError(f"need singles >= 1, batches >= 0, batch_size >= 2, repeats >= 1 and "
                         f"at least {needed} texts, got {len(texts)} texts")

    async def send(inputs: Sequence[str]) -> None:
        await client.embeddings.create(input=list(inputs), model=model)

    async def timed(inputs: Sequence[str]) -> float:
        started = clock()
        await send(inputs)
        return clock() - started

    await send(texts[:1])  # the first request pays for connecting: not what we measure
    single = min([await timed([text]) for text in texts[:singles]])
    if batches == 0:
        return MeasuredCost(single, 0.0)
    slots = asyncio.Semaphore(concurrency)

    async def in_slot(inputs: Sequence[str]) -> None:
        async with slots:
            await send(inputs)

    async def all_batches() -> float:
        started = clock()
        await asyncio.gather(*(in_slot(texts[k * batch_size:(k + 1) * batch_size])
                               for k in range(batches)))
        return clock() - started

    per_batch = min([await all_batches() for _ in range(repeats)]) / batches
    return MeasuredCost.fit(single, per_batch, batch_size)
