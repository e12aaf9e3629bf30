"""The field's latency vocabulary: TTFT, TPOT, ITL and end-to-end latency, with p50/p95/p99.

A streamed answer is a list of arrival times. Serving benchmarks name four figures from it::

    sent     first text                                   last text
    |--TTFT--|tok|-ITL-|tok|-ITL-|tok| ... |tok|-ITL-|tok|
    |---------------------------e2e-----------------------|

* **TTFT**, time to first token: from sending the request to the first chunk that carries text.
  It is the blank-screen wait (queueing, reading the prompt, the network).
* **e2e**, end-to-end latency: from sending the request to the last chunk that carries text.
* **TPOT**, time per output token *after the first*, one figure per request:
  ``(e2e - TTFT) / (output_tokens - 1)``. It is the model's generation speed as the reader feels
  it (1 / TPOT is tokens per second), so ``e2e = TTFT + (output_tokens - 1) * TPOT`` exactly.
* **ITL**, inter-token latency: every gap between two consecutive text chunks. A request of
  ``k`` chunks gives ``k - 1`` gaps; their sum is ``e2e - TTFT``.

:func:`request_latency` computes them for one request; :func:`summarize_latency` gives p50, p95
and p99 of each over many (percentiles by :func:`course_lib.stats.percentile`).

Where the definitions come from, and where the tools differ
-----------------------------------------------------------
vLLM's serving benchmark (``vllm bench serve``, formerly ``benchmarks/benchmark_serving.py``;
``calculate_metrics`` in ``vllm/benchmarks/serve.py`` and the OpenAI chat request function in
``vllm/benchmarks/lib/endpoint_request_func.py``):

* TTFT is the first chunk with a non-empty ``choices`` list, even when its ``delta`` has no
  text (an OpenAI-style server's first chunk carries only ``role``). The course counts only
  chunks that carry text, as GenAI-Perf does, because the user sees nothing before that.
* TPOT is ``(latency - ttft) / (output_len - 1)``, with ``output_len`` from the usage chunk
  (or the tokenizer). A request of one token has no TPOT: vLLM leaves it out of the TPOT
  percentiles (and counts it as 0 only for its goodput check). So does the course
  (:attr:`RequestLatency.tpot_s` is None, and the summary says how many requests had one).
* ITL is every gap between consecutive chunks, **pooled over all requests** (``itls +=
  outputs[i].itl``) before its percentiles are taken. The course pools too. Pooling weighs a
  long answer by its length, so ITL's p50 can differ from TPOT's p50 even though each request's
  TPOT is the mean of its own gaps; and a chunk that carries several tokens is one gap, so ITL
  is per chunk, not per token.
* E2E latency ("E2EL") ends at the last chunk with ``choices`` (the one with ``finish_reason``,
  usually a few milliseconds after the last text); here it ends at the last text.

NVIDIA GenAI-Perf (``genai_perf/profile_data_parser/llm_profile_data_parser.py``; NVIDIA's NIM
benchmarking guide, "Metrics"):

* Responses without text are removed first, so TTFT and "request latency" run from the request
  to the first and to the last response that carries text: the same as here.
* Its **"inter-token latency" is what vLLM calls TPOT**: ``(request_latency - ttft) /
  (output_tokens - 1)``, one value per request of more than one token, with the output tokens
  counted by its own tokenizer. The gaps themselves
  appear only as a per-chunk figure for plots (each gap divided by the tokens in its chunk).
  So "ITL" from GenAI-Perf should be compared with TPOT here, not with ITL.

Output tokens come from the usage the server reports (``stream_options={"include_usage":
True}``); a chunk can carry more than one token, so there may be fewer chunks than tokens.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from course_lib.stats import percentile

__all__ = [
    "LatencySummary",
    "Percentiles",
    "RequestLatency",
    "request_latency",
    "summarize_latency",
]


@dataclass(frozen=True)
class RequestLatency:
    """One streamed request's TTFT, ITL gaps and e2e (seconds), and its output tokens."""

    ttft_s: float
    e2e_s: float
    output_tokens: int
    itl_s: tuple[float, ...]  # gaps between consecutive text chunks, in arrival order

    @property
    def tpot_s(self) -> float | None:
        """``(e2e - TTFT) / (output_tokens - 1)``; None for a one-token answer (undefined)."""
        if self.output_tokens < 2:
            return None
        return (self.e2e_s - self.ttft_s) / (self.output_tokens - 1)


def request_latency(arrivals_s: Sequence[float], output_tokens: int, *,
                    start_s: float = 0.0) -> RequestLatency:
    """The latency figures of one request from when each text-bearing chunk arrived.

    ``arrivals_s`` are the arrival times of the chunks that carried text, on the same clock as
    ``start_s``, the moment the request was sent (by default the arrivals are already measured
    from it). ``output_tokens`` is the answer's length in tokens (the usage's
    ``completion_tokens``).
    """
    if isinstance(output_tokens, bool) or not isinstance(output_tokens, int):
        raise TypeError(f"output_tokens must be an int, got {output_tokens!r}")
    times = [float(t) for t in arrivals_s]
    if not times:
        raise ValueError("no chunk with text arrived: a request with no output tokens has no "
                         "TTFT, ITL or e2e latency (count it as a failure instead)")
    if output_tokens < 1:
        raise ValueError(f"output_tokens must be at least 1 when text arrived, got "
                         f"{output_tokens} (did the stream ask for include_usage?)")
    if not all(math.isfinite(t) for t in (*times, start_s)):
        raise ValueError("arrival and start times must be finite numbers")
    if times[0] < start_s:
        raise ValueError(f"a chunk cannot arrive before the request was sent: first arrival "
                         f"{times[0]} < start {start_s}")
    gaps = tuple(later - earlier for earlier, later in itertools.pairwise(times))
    if any(gap < 0 for gap in gaps):
        raise ValueError("arrival times must be in the order the chunks arrived (non-decreasing)")
    return RequestLatency(times[0] - start_s, times[-1] - start_s, output_tokens, gaps)


@dataclass(frozen=True)
class Percentiles:
    """p50, p95 and p99 of one figure, and how many samples they were taken over."""

    p50: float
    p95: float
    p99: float
    samples: int


def _percentiles(values: Sequence[float]) -> Percentiles | None:
    if not values:
        return None
    p50, p95, p99 = (percentile(values, q) for q in (50, 95, 99))
    assert p50 is not None and p95 is not None and p99 is not None
    return Percentiles(p50, p95, p99, len(values))


@dataclass(frozen=True)
class LatencySummary:
    """p50/p95/p99 of TTFT, TPOT, ITL and e2e over ``requests`` streamed requests.

    TTFT and e2e: one sample per request. TPOT: one per request of two tokens or more (None if
    there is none). ITL: every gap of every request, pooled (None if no request had two text
    chunks).
    """

    requests: int
    ttft_s: Percentiles
    tpot_s: Percentiles | None
    itl_s: Percentiles | None
    e2e_s: Percentiles

    def rows(self) -> list[tuple[str, Percentiles | None]]:
        """``(name, percentiles)`` in the order benchmarks print them."""
        return [("TTFT", self.ttft_s), ("TPOT", self.tpot_s), ("ITL", self.itl_s),
                ("e2e", self.e2e_s)]

    def table(self, to_ms: Callable[[float], float] = lambda s: s * 1000) -> str:
        """A plain-text table in milliseconds; ``to_ms`` converts seconds (e.g. to real time)."""
        lines = [f"{'':6}{'p50':>13}{'p95':>13}{'p99':>13}   samples"]
        for name, stats in self.rows():
            if stats is None:
                why = "tokens" if name == "TPOT" else "text chunks"
                lines.append(f"{name:6}{f'undefined: no request had 2 {why}':>39}   0")
                continue
            cells = "".join(f"{to_ms(v):>10,.1f} ms" for v in (stats.p50, stats.p95, stats.p99))
            lines.append(f"{name:6}{cells}   {stats.samples:,}")
        return "\n".join(lines)


def summarize_latency(requests: Iterable[RequestLatency]) -> LatencySummary:
    """p50, p95 and p99 of each figure over ``requests`` (see :class:`LatencySummary`)."""
    measured = list(requests)
    if not measured:
        raise ValueError("summarize_latency needs at least one request")
    for item in measured:
        if not isinstance(item, RequestLatency):
            raise TypeError(f"expected RequestLatency items (from request_latency), got "
                            f"{type(item).__name__}")
    tpots = [r.tpot_s for r in measured if r.tpot_s is not None]
    ttft = _percentiles([r.ttft_s for r in measured])
    e2e = _percentiles([r.e2e_s for r in measured])
    assert ttft is not None and e2e is not None
    return LatencySummary(
        requests=len(measured),
        ttft_s=ttft,
        tpot_s=_percentiles(tpots),
        itl_s=_percentiles([gap for r in measured for gap in r.itl_s]),
        e2e_s=e2e,
    )
