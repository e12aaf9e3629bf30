"""The optimized support agent: the naive agent with the lesson's levers, each one switchable.

One turn, with every lever on (:class:`~course_lib.agent.levers.Levers`):

1. **route** the message (:mod:`course_lib.router`): gpt-4o-mini for simple questions;
2. **look up the response cache** (:class:`course_lib.cache.ResponseCache`): a stored answer
   for the same question, prompt, model and parameters is served at once, with no tool and no
   model call. TTLs follow the content kind of the article the answer came from (a day for
   FAQs, an hour for troubleshooting) and answers about the user's own data (``realtime``) are
   **never** stored, so the shared key (no tenant) never serves one user's ticket to another;
3. on a miss, call the three tools **concurrently**, each with a timeout;
4. build the **compressed** prompt;
5. ask the routed model through a **fallback chain** (:mod:`course_lib.fallback`): up to three
   attempts with full-jitter backoff and Retry-After, then the other model, a circuit breaker
   per model and one deadline for the whole call;
6. **stream** the answer: the time to first token is when the first text chunk arrives;
7. **bill** the call in the :class:`~course_lib.tracker.CostTracker` from the usage in the
   stream's last chunk, and store the answer in the cache.

Switch a lever off and that step falls back to the naive agent's way of doing it; with every
lever off this agent behaves, and bills, like :class:`~course_lib.agent.naive.NaiveAgent`.

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
from typing import Any

import httpx2
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
    StreamInterruptedError,
    carries_output,
)
from course_lib.router import STRONG_MODEL, WEAK_MODEL, RouteDecision, Router
from course_lib.streaming import estimated_bill
from course_lib.time_scale import check_time_scale
from course_lib.tools import SupportTools
from course_lib.tracker import CallCost, CostTracker
from course_lib.traffic import TrafficEvent

from .context import SupportContext, gather_context
from .customers import CustomerDirectory
from .levers import Levers
from .naive import require_no_sdk_retries
from .prompts import build_messages, system_prompt
from .turn import TurnRecord

__all__ = [
    "ArrivalClock",
    "ChainSettings",
    "OptimizedAgent",
    "StreamEndedEarlyError",
    "support_cache_policy",
]

TEMPERATURE = 0  # deterministic answers: the only kind a response cache may serve again


class StreamEndedEarlyError(RuntimeError):
    """A stream broke, or ended without its usage chunk, after ``text_received``.

    The provider still bills what it generated, so the agent bills an estimate (the prompt and
    the received text counted with tiktoken) before it reports the failure.
    """

    def __init__(self, message: str, *, model: str, text_received: str) -> None:
        super().__init__(message)
        self.model = model
        self.text_received = text_received


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


@dataclass
class _Reply:
    text: str
    model: str
    usage: Any
    ttft_s: float | None  # None: not streamed
    used_fallback: bool
    requests_sent: int


@dataclass
class _MissTrace:
    """What the model path of one turn did, filled in as it goes (read after a miss)."""

    routed_model: str
    context: SupportContext | None = None
    reply: _Reply | None = None
    call: CallCost | None = None
    requests_sent: int = 0


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
        trace = _MissTrace(routed)

        async def compute() -> CachedAnswer:
            return await self._answer_from_model(event, trace, started)

        try:
            if self.cache is None:
                answer, served = await compute(), "model"
            else:
                request = CacheRequest(event.query, self._system_prompt, routed,
                                       params={"temperature": TEMPERATURE})
                result = await self.cache.aget_or_compute(request, compute)
                answer = result.answer
                served = "model" if result.called_upstream else result.served_from
        except (openai.APIError, FallbackError, StreamEndedEarlyError) as error:
            attempts = getattr(error, "attempts", ())
            sent = sum(1 for a in attempts if a.outcome != "skipped") if attempts else (
                trace.requests_sent or 1)
            context = trace.context
            return TurnRecord(
                index, event, "failed", total_s=self._clock() - started, routed_model=routed,
                tools_s=context.seconds if context else None,
                tool_results=context.tool_results if context else (), requests_sent=sent,
                error=f"{type(error).__name__}: {error}")
        total = self._clock() - started
        if served != "model":  # nothing was called: the stored (or shared) answer, at once
            return TurnRecord(index, event, served, total_s=total,  # type: ignore[arg-type]
                              answer=answer.answer, model=answer.model, routed_model=routed,
                              ttft_s=total)
        reply, context, call = trace.reply, trace.context, trace.call
        assert reply and context and call, "a turn served by the model has a complete trace"
        return TurnRecord(
            index, event, "model", total_s=total, answer=reply.text, model=reply.model,
            routed_model=routed, ttft_s=reply.ttft_s if reply.ttft_s is not None else total,
            tools_s=context.seconds, tool_results=context.tool_results,
            used_fallback=reply.used_fallback, requests_sent=reply.requests_sent,
            prompt_tokens=call.input_tokens, cached_prompt_tokens=call.cached_input_tokens,
            completion_tokens=call.output_tokens, cost_usd=call.cost_usd,
        )

    async def _answer_from_model(self, event: TrafficEvent, trace: _MissTrace, started: float
                                 ) -> CachedAnswer:
        customer = self.customers.for_traffic_user(event.user_id)
        concurrent = self.levers.concurrent_tools
        trace.context = context = await gather_context(
            self.tools, event.query, customer, concurrent=concurrent,
            timeout_per_tool=self._sim(self.settings.tool_timeout_s) if concurrent else None,
            clock=self._clock)
        messages = build_messages(event.query, style=self.style, product=self.product,
                                  hits=context.hits, profile=context.profile,
                                  ticket=context.ticket, unavailable=context.unavailable)
        try:
            trace.reply = reply = await self._ask(messages, trace, started)
        except (StreamEndedEarlyError, StreamInterruptedError) as cut:
            # Tokens were generated before the break: they are on the provider's bill.
            bill = estimated_bill(cut.model, messages, cut.text_received)
            self.tracker.record_usage(bill.model, bill.usage(), at=event.at)
            raise
        trace.call = call = self.tracker.record_usage(reply.model, reply.usage, at=event.at)
        entry = context.best_entry
        return CachedAnswer(
            reply.text, reply.model,
            sources={entry.id: entry.version} if entry is not None else {},
            # No article, no kind: the policy does not cache what it cannot classify.
            kind=entry.kind if entry is not None else None,
            prompt_tokens=call.input_tokens, completion_tokens=call.output_tokens,
        )

    async def _ask(self, messages: list[dict[str, Any]], trace: _MissTrace, started: float
                   ) -> _Reply:
        """One model answer, streamed or not, through the fallback chain or not."""
        request: dict[str, Any] = {"messages": messages, "temperature": TEMPERATURE}
        if self.levers.fallback:
            return await self._ask_through_chain(request, trace.routed_model, started)
        trace.requests_sent = 1
        return await self._ask_once(request, trace.routed_model, started)

    async def _ask_through_chain(self, request: dict[str, Any], model: str, started: float
                                 ) -> _Reply:
        chain = self._chain_for(model)
        if not self.levers.streaming:
            result = await chain.create(**request)
            return _Reply(result.content or "", result.model, result.response.usage, None,
                          result.used_fallback, result.requests_sent)
        # The chain returns once the first text has arrived: that is the first token.
        stream = await chain.stream(**request)
        ttft = self._clock() - started
        async for _ in stream:
            pass
        _require_usage(stream.usage, stream.model, stream.text)
        sent = sum(1 for attempt in stream.attempts if attempt.outcome != "skipped")
        return _Reply(stream.text, stream.model, stream.usage, ttft, stream.used_fallback, sent)

    async def _ask_once(self, request: dict[str, Any], model: str, started: float) -> _Reply:
        if not self.levers.streaming:
            response = await self.client.chat.completions.create(model=model, **request)
            return _Reply(response.choices[0].message.content or "", model, response.usage,
                          None, False, 1)
        ttft: float | None = None
        pieces: list[str] = []
        usage = None
        chunks = await self.client.chat.completions.create(
            model=model, stream=True, stream_options={"include_usage": True}, **request)
        try:
            async for chunk in chunks:
                if ttft is None and carries_output(chunk):
                    ttft = self._clock() - started
                pieces += [choice.delta.content for choice in chunk.choices
                           if choice.delta.content]
                if chunk.usage is not None:
                    usage = chunk.usage
        except (openai.APIError, httpx2.HTTPError) as exc:
            raise StreamEndedEarlyError(
                f"the {model} stream broke after {len(''.join(pieces))} characters: {exc}",
                model=model, text_received="".join(pieces)) from exc
        _require_usage(usage, model, "".join(pieces))
        return _Reply("".join(pieces), model, usage, ttft, False, 1)


def _require_usage(usage: Any, model: str, text: str) -> None:
    if usage is None:
        raise StreamEndedEarlyError(
            f"the {model} stream ended without its usage chunk after {len(text)} characters: "
            "the answer may be cut short", model=model, text_received=text)
