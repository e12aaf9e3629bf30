"""Notebook 10's experiments, one call each: a trace replayed through an agent on a fresh
sandbox (:func:`run_agent`), and the knowledge base embedded with and without batching
(:func:`compare_batching`).

:func:`run_agent` starts a private sandbox (never billed) at a time scale, injects the faults
(:data:`FAULTS`: gpt-4o fails 12% of requests, 4% each of 429 with Retry-After, 500 and 503;
gpt-4o-mini 2%, 503), builds the naive agent (``levers=None``) or the optimised one with those
levers on the official client (``max_retries=0``: retries are a lever, not the SDK's), replays
the trace and returns the records with the count of chat requests the sandbox received. Each run
gets the same seed, so the *n*-th request to each model fails the same way in every run.

When the agent caches, identical messages never overlap (``replay(..., in_order_by=query)``): at
their real arrival times, hours apart, the later one would find the earlier one's answer stored.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import openai

from course_lib import llm, sandbox
from course_lib.batching import (
    MAX_INPUTS_PER_REQUEST,
    MAX_TOKENS_PER_REQUEST,
    BatchEmbedder,
    plan_batches,
    predict_seconds,
)
from course_lib.router import RouteDecision, Router
from course_lib.sandbox.profiles import profile_for
from course_lib.tokens import count_tokens
from course_lib.tools import KnowledgeBaseIndex, SupportTools
from course_lib.tracker import CostTracker
from course_lib.traffic import TrafficEvent

from .customers import CustomerDirectory
from .levers import Levers
from .naive import NaiveAgent
from .optimized import OptimizedAgent
from .replay import replay
from .turn import TurnRecord

__all__ = ["FAULTS", "BatchComparison", "Run", "Setup", "compare_batching", "run_agent"]

FAULTS: dict[str, dict[str, float]] = {
    "gpt-4o": {"r429": 0.04, "r500": 0.04, "r503": 0.04},
    "gpt-4o-mini": {"r503": 0.02},
}


class _RememberedRouter:
    """A router whose decisions are kept: every replay asks about the same messages, and a
    decision (an embedding search, some milliseconds) is the same each time."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._decisions: dict[tuple[str, int], RouteDecision] = {}

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        key = (query, conversation_turns)
        if key not in self._decisions:
            self._decisions[key] = self.router.route(query, conversation_turns)
        return self._decisions[key]


@dataclass(frozen=True)
class Setup:
    """What every run shares: the router, the search index, the customers, the seed, faults.

    The router's decisions are remembered across runs (the same message, the same decision).
    """

    router: Router
    kb_index: KnowledgeBaseIndex
    customers: CustomerDirectory
    seed: int = 0
    faults: Mapping[str, Mapping[str, float]] | None = None  # None: :data:`FAULTS`

    def __post_init__(self) -> None:
        if not isinstance(self.router, _RememberedRouter):
            object.__setattr__(self, "router", _RememberedRouter(self.router))

    def fault_rates(self) -> Mapping[str, Mapping[str, float]]:
        return FAULTS if self.faults is None else self.faults


@dataclass(frozen=True)
class Run:
    """One replay: each turn's record, the chat requests the sandbox got, and the wall time."""

    name: str
    records: list[TurnRecord]
    sandbox_requests: int
    seconds: float
    planned_ttft_s: Mapping[str, float] = dataclasses.field(default_factory=dict)

    def with_streamed_first_text(self) -> list[TurnRecord]:
        """The records with each answered miss's first text where streaming would show it.

        Streamed chunk by chunk at a small time scale, a replay measures this machine's CPU
        (hundreds of chunks a second to parse) more than the model's schedule. So a replay can
        run unstreamed and place each answer's first text by the sandbox's schedule: everything
        before the request that wrote the answer (the round asking for tools, the tools), then
        that request's planned time to first token, a sleep that load can only lengthen.
        """
        placed = []
        for record in self.records:
            planned = self.planned_ttft_s.get(record.answer_id or "")
            if record.called_model and record.answer_round_s is not None and planned is not None:
                first = record.total_s - record.answer_round_s + planned
                record = dataclasses.replace(record, ttft_s=min(first, record.total_s))
            placed.append(record)
        return placed


async def run_agent(name: str, levers: Levers | None, trace: Sequence[TrafficEvent],
                    setup: Setup, *, time_scale: float, concurrency: int = 1) -> Run:
    """Replay ``trace`` through the naive agent (``levers=None``) or the optimised one."""
    with sandbox.start(time_scale=time_scale, seed=setup.seed) as sb:
        for model, rates in setup.fault_rates().items():
            sb.faults.set_rates(model, **rates)
        async with openai.AsyncOpenAI(base_url=sb.base_url, api_key=llm.SANDBOX_API_KEY,
                                      max_retries=0) as client:
            tools = SupportTools(time_scale=time_scale, kb_index=setup.kb_index)
            agent = (NaiveAgent(client, tools, CostTracker(), setup.customers,
                                time_scale=time_scale) if levers is None else
                     OptimizedAgent(client, tools, CostTracker(), setup.customers,
                                    router=setup.router, levers=levers, time_scale=time_scale,
                                    seed=setup.seed, name=name))
            caches = levers is not None and levers.response_cache
            started = time.perf_counter()
            records = await replay(agent, trace, concurrency=concurrency,
                                   in_order_by=(lambda event: event.query) if caches else None)
            seconds = time.perf_counter() - started
        chat = [r for r in sb.requests if r.endpoint == "chat.completions"]
    return Run(name, records, len(chat), seconds,
               {r.request_id: r.planned_ttft_s for r in chat if r.planned_ttft_s is not None})


@dataclass(frozen=True)
class BatchComparison:
    """The knowledge base embedded one text per request, then batched (the fourth cost lever).

    ``seconds`` are wall-clock seconds on this machine; ``round_trips_speedup`` is what the
    sandbox's latency model predicts for the round trips alone, as a real API would charge them.
    """

    requests: dict[str, int]
    seconds: dict[str, float]
    cost_usd: dict[str, Decimal]
    same_vectors: bool
    round_trips_speedup: float

    @property
    def speedup(self) -> float:
        return self.seconds["one per request"] / self.seconds["batched"]


async def compare_batching(texts: Sequence[str], *, time_scale: float, seed: int = 0,
                           model: str = "text-embedding-3-small") -> BatchComparison:
    """Embed ``texts`` one per request, one after another, then with :class:`BatchEmbedder`
    (up to 2,048 inputs per request, 4 in flight), on one sandbox.

    One unmeasured pass comes first: the sandbox then has the vectors, so both ways of sending
    pay the same (nothing) for its CPU, as a real API's compute is on its side of the wire.
    """
    ways = {"one per request": (1, 1), "batched": (MAX_INPUTS_PER_REQUEST, 4)}
    runs = {}
    with sandbox.start(time_scale=time_scale, seed=seed) as sb:
        async with openai.AsyncOpenAI(base_url=sb.base_url, api_key=llm.SANDBOX_API_KEY,
                                      max_retries=0) as client:
            await BatchEmbedder(client, model, progress=False).embed(list(texts))
            for label, (per_request, in_flight) in ways.items():
                embedder = BatchEmbedder(client, model, max_inputs_per_request=per_request,
                                         max_concurrency=in_flight, progress=False)
                started = time.perf_counter()
                run = await embedder.embed_with_report(list(texts))
                runs[label] = (run, time.perf_counter() - started)
    counts = [count_tokens(text, model) for text in texts]
    predicted = {label: predict_seconds(
        plan_batches(counts, max_inputs=per_request, max_tokens=MAX_TOKENS_PER_REQUEST),
        profile_for(model), time_scale=1.0) for label, (per_request, _) in ways.items()}
    first, second = (runs[label][0] for label in ways)
    return BatchComparison(
        requests={label: run.report.requests for label, (run, _) in runs.items()},
        seconds={label: seconds for label, (_, seconds) in runs.items()},
        cost_usd={label: run.report.cost_usd for label, (run, _) in runs.items()},
        same_vectors=bool(np.allclose(first.vectors, second.vectors, atol=1e-4)),
        round_trips_speedup=predicted["one per request"] / predicted["batched"])
