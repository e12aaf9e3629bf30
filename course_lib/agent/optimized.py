"""The optimized support agent: the naive agent with the lesson's levers, each one switchable.

One turn, with every lever on (:class:`~course_lib.agent.levers.Levers`):

1. **route** the message (:mod:`course_lib.router`): gpt-4o-mini for simple questions;
2. **look up the response cache** (:class:`course_lib.cache.ResponseCache`): a stored answer
   for the same question, prompt, model and parameters is served at once, with no tool and no
   model call. TTLs follow the content kind of the article the answer came from (a day for
   FAQs, an hour for troubleshooting) and answers about the user's own data (``realtime``) are
   **never** stored, so the shared key (no tenant) never serves one user's ticket to another;
3. on a miss, run the real tool-calling loop (:func:`course_lib.agent.loop.run_agent_loop`)
   with the **compressed** system prompt: the model is offered the three tools and asks for
   the ones the message needs, they run **concurrently** (each with a timeout), their results
   go back to the model, and it writes the answer: two round trips, each billed from its own
   usage (tool definitions, tool calls and tool results included);
4. every round goes through a **fallback chain** (:mod:`course_lib.fallback`): up to three
   attempts with full-jitter backoff and Retry-After, then the other model, a circuit breaker
   per model and one deadline per round;
5. every round is **streamed**: the time to first token is when the answer's first text chunk
   arrives;
6. **bill** each round in the :class:`~course_lib.tracker.CostTracker` at the message's time,
   and store the answer in the cache.

Switch a lever off and that step falls back to the naive way of doing it; with every lever off
this agent *is* :class:`~course_lib.agent.naive.NaiveAgent`.

Time settings (tool timeouts, attempt timeouts, backoff, breaker windows) are in *simulated*
seconds, multiplied by ``time_scale`` like the sandbox's delays. At time scale 0 nothing takes
time, so nothing can time out and a breaker has no window to count failures in: timeouts and
breakers are off, and retries do not wait.
"""

from __future__ import annotations

import contextvars
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import openai

from course_lib.cache import (
    CachedAnswer,
    CacheRequest,
    MemoryTTLStore,
    ResponseCache,
    TTLPolicy,
)
from course_lib.datasets import Product, load_knowledge_base
from course_lib.fallback import (
    AsyncFallbackClient,
    ChainLink,
    CircuitBreaker,
    FallbackError,
    FullJitterBackoff,
)
from course_lib.router import STRONG_MODEL, WEAK_MODEL, RouteDecision, Router
from course_lib.time_scale import check_time_scale
from course_lib.tools import SupportTools
from course_lib.tracker import CallCost, CostTracker
from course_lib.traffic import TrafficEvent

from .customers import CustomerDirectory
from .levers import Levers
from .loop import AgentLoopResult, run_agent_loop
from .prompts import build_messages, system_prompt
from .toolbox import support_toolbox
from .turn import TurnRecord

__all__ = [
    "ArrivalClock",
    "ChainSettings",
    "OptimizedAgent",
    "require_no_sdk_retries",
    "support_cache_policy",
]

TEMPERATURE = 0  # deterministic answers: the only kind a response cache may serve again


def require_no_sdk_retries(client: Any) -> None:
    """Refuse a client that retries by itself: the agents decide what happens on a failure."""
    retries = getattr(client, "max_retries", 0)
    if retries:
        raise ValueError(
            f"the client retries failed requests itself (max_retries={retries}); build it with "
            "max_retries=0 so that retries and fallbacks are the agent's levers, measured, "
            "rather than hidden in the SDK")


def support_cache_policy() -> TTLPolicy:
    """Notebook 04's TTLs by content kind, with real-time answers never cached."""
    return TTLPolicy.for_support_bot(realtime_ttl_s=None)


_CURRENT_ARRIVAL: contextvars.ContextVar[tuple[ArrivalClock, float] | None] = (
    contextvars.ContextVar("course_lib_agent_arrival", default=None))


class ArrivalClock:
    """The cache's clock during a replay: the arrival time of the message being handled.

    A day of traffic replays in seconds, so TTLs must run on the trace's time, not the wall
    clock's: a lookup happens, and an answer is stored, at its message's arrival time (the
    seconds the model takes are negligible next to a TTL). The time is kept per asyncio task
    (a ``ContextVar``), so turns handled concurrently each read their own; outside a turn the
    clock reads the latest arrival seen.
    """

    def __init__(self) -> None:
        self.latest = 0.0

    def start_turn(self, arrived_at_s: float) -> None:
        """The current task now handles a message that arrived at ``arrived_at_s``."""
        self.latest = max(self.latest, arrived_at_s)
        _CURRENT_ARRIVAL.set((self, arrived_at_s))

    def __call__(self) -> float:
        current = _CURRENT_ARRIVAL.get()
        return current[1] if current is not None and current[0] is self else self.latest


@dataclass(frozen=True)
class ChainSettings:
    """The fallback chain's budgets, in simulated seconds (scaled by the agent's time scale)."""

    primary_attempts: int = 3
    secondary_attempts: int = 2
    attempt_timeout_s: float = 20.0
    total_timeout_s: float = 30.0
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 4.0
    breaker_failures: int = 5
    breaker_window_s: float = 30.0
    breaker_cool_down_s: float = 15.0
    tool_timeout_s: float = 1.0


class _TurnBill:
    """The loop's tracker for one turn: each round goes on the agent's bill at the message's
    time, and is kept, so a turn that fails in its second round still reports its first."""

    def __init__(self, tracker: CostTracker, at: datetime) -> None:
        self.tracker, self.at = tracker, at
        self.calls: list[CallCost] = []

    def record_usage(self, model: str, usage: Any) -> CallCost:
        call = self.tracker.record_usage(model, usage, at=self.at)
        self.calls.append(call)
        return call

    def total(self, field: str) -> Any:
        return sum((getattr(call, field) for call in self.calls), Decimal(0) if field == "cost_usd"
                   else 0)


class OptimizedAgent:
    """The support agent with the levers of ``levers`` on (see the module docstring)."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        tools: SupportTools,
        tracker: CostTracker,
        customers: CustomerDirectory,
        *,
        router: Router | None = None,
        levers: Levers | None = None,
        time_scale: float = 1.0,
        settings: ChainSettings | None = None,
        cache_policy: TTLPolicy | None = None,
        product: Product | None = None,
        strong_model: str = STRONG_MODEL,
        weak_model: str = WEAK_MODEL,
        seed: int = 0,
        name: str = "optimized",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        require_no_sdk_retries(client)
        self.levers = levers if levers is not None else Levers()
        if self.levers.model_routing and router is None:
            raise ValueError("model routing is on but no router was given")
        self.client = client
        self.tools = tools
        self.tracker = tracker
        self.customers = customers
        self.router = router
        self.time_scale = check_time_scale(time_scale)
        self.toolbox = support_toolbox(tools)
        self.settings = settings or ChainSettings()
        self.product = product or load_knowledge_base().product
        self.strong_model = strong_model
        self.weak_model = weak_model
        self.name = name
        self._clock = clock
        self._seed = seed
        self.arrivals = ArrivalClock()
        self.cache = ResponseCache(
            MemoryTTLStore(clock=self.arrivals), cache_policy or support_cache_policy(),
            clock=self.arrivals) if self.levers.response_cache else None
        self.style = "compact" if self.levers.compressed_prompt else "verbose"
        self._system_prompt = system_prompt(self.style, self.product)
        self._chains: dict[str, AsyncFallbackClient] = {}

    # -- settings in simulated seconds -----------------------------------------------------

    def _sim(self, seconds: float) -> float | None:
        """Simulated seconds as wall-clock seconds; None (no limit) at time scale 0."""
        return None if self.time_scale == 0 else seconds * self.time_scale

    def _chain_for(self, model: str) -> AsyncFallbackClient:
        """The chain for a turn routed to ``model``: ``model`` first, the other one second."""
        if model not in self._chains:
            other = self.weak_model if model == self.strong_model else self.strong_model
            s = self.settings
            timeout = self._sim(s.attempt_timeout_s)
            breaker = None if self.time_scale == 0 else (lambda: CircuitBreaker(
                s.breaker_failures, window_s=s.breaker_window_s * self.time_scale,
                cool_down_s=s.breaker_cool_down_s * self.time_scale))
            self._chains[model] = AsyncFallbackClient(
                [ChainLink(model, max_attempts=s.primary_attempts, attempt_timeout_s=timeout),
                 ChainLink(other, max_attempts=s.secondary_attempts, attempt_timeout_s=timeout)],
                client=self.client,
                total_timeout_s=self._sim(s.total_timeout_s),
                backoff=FullJitterBackoff(s.backoff_base_s * self.time_scale,
                                          s.backoff_cap_s * self.time_scale,
                                          rng=random.Random(f"{self._seed}|{model}")),
                circuit_breaker=breaker,
            )
        return self._chains[model]

    # -- one turn --------------------------------------------------------------------------

    def _route(self, event: TrafficEvent) -> RouteDecision:
        if not self.levers.model_routing:
            return RouteDecision(self.strong_model, "routing off: always the strong model")
        assert self.router is not None  # checked in __init__
        return self.router.route(event.query, event.turns)

    async def answer(self, event: TrafficEvent, index: int = 0) -> TurnRecord:
        """Handle one user message and report what it took."""
        started = self._clock()
        self.arrivals.start_turn(event.at.timestamp())
        routed = self._route(event).model
        bill = _TurnBill(self.tracker, event.at)
        loop: list[AgentLoopResult] = []

        async def compute() -> CachedAnswer:
            loop.append(result := await self._run_loop(event, routed, bill))
            return _cached(result, bill)

        try:
            if self.cache is None:
                answer, served = await compute(), "model"
            else:
                request = CacheRequest(event.query, self._system_prompt, routed,
                                       params={"temperature": TEMPERATURE})
                result = await self.cache.aget_or_compute(request, compute)
                answer = result.answer
                served = "model" if result.called_upstream else result.served_from
        except (openai.APIError, FallbackError) as error:
            attempts = getattr(error, "attempts", ())
            sent = len(bill.calls) + (sum(1 for a in attempts if a.outcome != "skipped")
                                      if attempts else 1)
            return TurnRecord(
                index, event, "failed", total_s=self._clock() - started, routed_model=routed,
                requests_sent=sent, model_rounds=len(bill.calls), cost_usd=bill.total("cost_usd"),
                prompt_tokens=bill.total("input_tokens"),
                completion_tokens=bill.total("output_tokens"),
                error=f"{type(error).__name__}: {error}")
        total = self._clock() - started
        if served != "model":  # nothing was called: the stored (or shared) answer, at once
            return TurnRecord(index, event, served, total_s=total,  # type: ignore[arg-type]
                              answer=answer.answer, model=answer.model, routed_model=routed,
                              ttft_s=total)
        (result,) = loop
        first_text = result.ttft_s
        return TurnRecord(
            index, event, "model", total_s=total, answer=result.text, model=result.model,
            routed_model=routed, ttft_s=total if first_text is None else first_text,
            tools_s=result.tools_s, tool_results=tuple(c.result for c in result.tool_calls),
            used_fallback=result.used_fallback, requests_sent=result.requests_sent,
            model_rounds=len(result.rounds), answer_round_s=result.rounds[-1].model_s,
            answer_id=result.rounds[-1].response_id, prompt_tokens=bill.total("input_tokens"),
            cached_prompt_tokens=bill.total("cached_input_tokens"),
            completion_tokens=bill.total("output_tokens"), cost_usd=bill.total("cost_usd"),
        )

    async def _run_loop(self, event: TrafficEvent, model: str, bill: _TurnBill
                        ) -> AgentLoopResult:
        """The model asks for tools, they run, the model answers: the real two round trips."""
        concurrent = self.levers.concurrent_tools
        messages = build_messages(event.query, style=self.style, product=self.product,
                                  customer=self.customers.for_traffic_user(event.user_id))
        return await run_agent_loop(
            self.client, messages, self.toolbox, model=model, concurrent=concurrent,
            timeout_per_tool=self._sim(self.settings.tool_timeout_s) if concurrent else None,
            stream=self.levers.streaming,
            chain=self._chain_for(model) if self.levers.fallback else None,
            tracker=bill, clock=self._clock, temperature=TEMPERATURE)  # type: ignore[arg-type]


def _cached(result: AgentLoopResult, bill: _TurnBill) -> CachedAnswer:
    """The loop's answer as the cache stores it, kind and sources from the article it used."""
    searches = [call.result.value for call in result.tool_calls
                if call.name == "search_kb" and call.result.ok and call.result.value.hits]
    entry = searches[0].hits[0].entry if searches else None
    return CachedAnswer(
        result.text, result.model,
        sources={entry.id: entry.version} if entry is not None else {},
        # No article, no kind: the policy does not cache what it cannot classify.
        kind=entry.kind if entry is not None else None,
        prompt_tokens=bill.total("input_tokens"), completion_tokens=bill.total("output_tokens"),
    )
