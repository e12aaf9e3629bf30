"""Notebook 04's experiments, each one call: a day of support traffic through a cache stack.

* :func:`lesson_conversation_prompt` is the lesson's conversation: instructions, the plans and a
  digest of help-centre articles, about 2,000 tokens in front of every question.
* :class:`SupportModel` is the bot's model call through the official ``openai`` client; it turns
  a reply into the :class:`CachedAnswer` a cache stores (with the article it came from).
* :func:`replay_day` sends a trace (:func:`course_lib.traffic.support_traffic`) through an
  optional exact cache and an optional semantic layer, in arrival order, the caches reading the
  message's arrival time as their clock; it counts model calls, hits, wrong answers and the bill.
* :func:`stampede` releases many threads at once, so identical misses really overlap.

A replay prices each model call from the usage the sandbox billed for that very request. The
sandbox answers deterministically, so :meth:`SupportModel.call` sends each distinct request once
and reuses its reply and usage for every later identical call: a thousand-message day costs a
few hundred requests, and ``requests_sent`` says how many went over the wire.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
import openai

from course_lib.cache.cached_answer import CachedAnswer
from course_lib.cache.policy import TTLPolicy
from course_lib.cache.response_cache import CacheRequest, ResponseCache
from course_lib.cache.semantic import Guard, SemanticCache
from course_lib.cache.stores import MemoryTTLStore, TTLStore
from course_lib.datasets import KnowledgeBase
from course_lib.lesson import prompt_cache as lesson
from course_lib.pricing import PREFIX_CACHE_MIN_TOKENS, cost_usd, embedding_cost_usd
from course_lib.support_bot import EMBEDDING_MODEL
from course_lib.timing import seconds_per_call
from course_lib.tokens import count_tokens
from course_lib.traffic import TrafficEvent

__all__ = [
    "DayResult",
    "LessonRedisStore",
    "ReplayClock",
    "SupportModel",
    "hit_timings",
    "lesson_conversation_prompt",
    "logged_warnings",
    "memory_cache",
    "replay_day",
    "semantic_layer",
    "stampede",
    "ttl_sweep",
]

T = TypeVar("T")


def lesson_conversation_prompt(kb: KnowledgeBase) -> str:
    """The lesson's conversation: ~500 tokens of instructions and plans, ~1,500 of articles."""
    plans = "\n".join(f"- {plan.name}: {plan.summary}" for plan in kb.product.plans)
    articles = "\n\n".join(
        f"Q: {entry.question}\nA: {entry.answer_full}" for entry in kb
        if entry.kind == "policy" or (entry.category == "billing" and entry.kind != "realtime"))
    return (
        f"You are Kitewing's customer-support assistant. Kitewing: {kb.product.tagline}\n"
        "Answer from the help-centre articles below. Be brief and exact; never invent prices, "
        "limits or dates. If the answer depends on the user's own account (a ticket, a payment, "
        f"an export), say what you can check.\n\nPlans:\n{plans}\n\nHelp-centre articles:\n"
        f"{articles}")


@dataclass
class ReplayClock:
    """The caches' clock during a replay: the arrival time of the message being handled."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


class SupportModel:
    """The support bot's model call, returning what a response cache stores.

    ``system_prompt`` defaults to :func:`lesson_conversation_prompt`.

    The sandbox answers with knowledge-base articles, so each answer names its source; in your
    bot, the retriever's sources tell you the same.
    """

    def __init__(self, base_url: str, kb: KnowledgeBase, *, model: str = "gpt-4o",
                 system_prompt: str | None = None) -> None:
        self.client = openai.OpenAI(base_url=base_url, api_key="sandbox", max_retries=0)
        self.model = model
        self.system_prompt = (system_prompt if system_prompt is not None
                              else lesson_conversation_prompt(kb))
        self._entry_of = {text: entry for entry in kb
                          for text in (entry.answer_full, entry.answer_brief)}
        self._memo: dict[tuple[str, str], tuple[CachedAnswer, Any]] = {}
        self._lock = threading.Lock()
        self.requests_sent = 0

    def _messages(self, query: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system_prompt},
                {"role": "user", "content": query}]

    def _answer(self, text: str, model: str, usage: Any) -> CachedAnswer:
        entry = self._entry_of.get(text)
        return CachedAnswer(
            text, model, {entry.id: entry.version} if entry else {},
            entry.kind if entry else None,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0)

    def request(self, query: str, *, tenant: str = "public") -> CacheRequest:
        """The cache request for ``query`` as this bot sends it (temperature 0)."""
        return CacheRequest(query, self.system_prompt, self.model, tenant=tenant,
                            params={"temperature": 0})

    def request_for(self, event: TrafficEvent) -> CacheRequest:
        """Real-time questions are keyed per user; everything else is shared."""
        return self.request(event.query,
                            tenant=event.user_id if event.kind == "realtime" else "public")

    def ask(self, query: str, *, model: str | None = None) -> tuple[CachedAnswer, Any]:
        """One real chat completion: the answer as a :class:`CachedAnswer`, and its usage."""
        model = model or self.model
        with self._lock:
            self.requests_sent += 1
        response = self.client.chat.completions.create(
            model=model, temperature=0, messages=self._messages(query))
        return (self._answer(response.choices[0].message.content, response.model,
                             response.usage), response.usage)

    async def aask(self, client: openai.AsyncOpenAI, query: str) -> CachedAnswer:
        """The same call on an asyncio client."""
        with self._lock:
            self.requests_sent += 1
        response = await client.chat.completions.create(
            model=self.model, temperature=0, messages=self._messages(query))
        return self._answer(response.choices[0].message.content, response.model,
                            response.usage)

    def ask_with_fallback(self, query: str, fallback: str = "gpt-4o-mini") -> CachedAnswer:
        """The lesson's FallbackClient in miniature: the primary model, else ``fallback``."""
        try:
            return self.ask(query)[0]
        except openai.InternalServerError:
            return self.ask(query, model=fallback)[0]

    def lesson_agent(self, *, with_fallback: bool = False, ttl_s: float = 3600,
                     store: lesson.TTLStore | None = None) -> lesson.LessonAgent:
        """The lesson's ``Agent`` with its ``PromptCache`` (over a map, or ``store``).

        ``with_fallback`` answers through :meth:`ask_with_fallback`, as the lesson's agent does
        behind its ``FallbackClient``.
        """
        def call_llm(query: str) -> lesson.Response:
            answer = self.ask_with_fallback(query) if with_fallback else self.ask(query)[0]
            return lesson.Response(answer.answer, list(answer.sources), model=answer.model)

        store = store if store is not None else lesson.MapTTLStore()
        return lesson.LessonAgent(lesson.PromptCache(store, ttl_s), call_llm,
                                  self.system_prompt, self.model)

    def bill(self, usage: Any, model: str | None = None) -> Decimal:
        """What the call costs, including the provider's prefix-cache discount it reports."""
        return cost_usd(model or self.model, usage.prompt_tokens, usage.completion_tokens,
                        usage.prompt_tokens_details.cached_tokens)

    def call(self, query: str) -> tuple[CachedAnswer, Any]:
        """:meth:`ask`, sent once per distinct question and then reused (see the module).

        A reply billed before the provider's prefix cache held the system prompt is not kept:
        asked again, the same request would be billed the cached-input price.
        """
        key = (self.model, query)
        if key in self._memo:
            return self._memo[key]
        answer, usage = self.ask(query)
        cold = (usage.prompt_tokens >= PREFIX_CACHE_MIN_TOKENS
                and usage.prompt_tokens_details.cached_tokens == 0)
        if not cold:
            self._memo[key] = answer, usage
        return answer, usage


@dataclass
class DayResult:
    """What one strategy did with a day of traffic."""

    name: str
    upstream_calls: int = 0
    from_cache: int = 0
    bill: Decimal = Decimal(0)
    bill_without_prefix_cache: Decimal = Decimal(0)
    wrong_article: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    semantic_hits: int = 0
    semantic_wrong: int = 0
    asked_by_kind: Counter[str] = field(default_factory=Counter)
    hits_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def hit_rate(self) -> float:
        """Share of the messages answered from a cache."""
        total = self.from_cache + self.upstream_calls
        return self.from_cache / total if total else 0.0

    def hit_rate_of(self, kinds: Sequence[str]) -> float:
        """Share of the messages of these content kinds answered from a cache."""
        asked = sum(self.asked_by_kind[kind] for kind in kinds)
        if not asked:
            raise ValueError(f"no message of kinds {list(kinds)} in the replay")
        return sum(self.hits_by_kind[kind] for kind in kinds) / asked

    def saved_share(self, reference: DayResult) -> float:
        """Share of ``reference``'s bill this strategy did not pay."""
        return float((reference.bill - self.bill) / reference.bill)

    def summary(self, reference: DayResult | None = None) -> str:
        """One line: model calls, hit rate, bill (and the share saved against ``reference``),
        wrong answers, and what a semantic layer served."""
        saved = f"   saved {self.saved_share(reference):6.1%}" if reference is not None else ""
        semantic = (f"\n{'':15} of which semantic hits {self.semantic_hits}, "
                    f"{self.semantic_wrong} of them from another article than the one asked "
                    "about" if self.semantic_hits else "")
        return (f"{self.name:15} model calls {self.upstream_calls:5}   from cache "
                f"{self.hit_rate:6.1%}   bill ${self.bill:.4f}{saved}   "
                f"answers from another article {self.wrong_article:4}{semantic}")


CacheFactory = Callable[[ReplayClock], ResponseCache]
SemanticFactory = Callable[[ReplayClock], SemanticCache]


def memory_cache(policy: TTLPolicy | None = None, *, max_entries: int = 10_000) -> CacheFactory:
    """An in-memory :class:`ResponseCache` on the replay's clock (the support bot's TTLs)."""
    policy = policy if policy is not None else TTLPolicy.for_support_bot()

    def build(clock: ReplayClock) -> ResponseCache:
        return ResponseCache(MemoryTTLStore(max_entries, clock=clock), policy, clock=clock)

    return build


def semantic_layer(threshold: float, guards: Sequence[Guard] = (), *,
                   policy: TTLPolicy | None = None) -> SemanticFactory:
    """A :class:`SemanticCache` at ``threshold`` with ``guards``, on the replay's clock
    (``policy``: the TTLs, by default the support bot's)."""

    def build(clock: ReplayClock) -> SemanticCache:
        return SemanticCache(threshold, guards=guards, policy=policy, clock=clock)

    return build


def replay_day(
    name: str, events: Sequence[TrafficEvent], bot: SupportModel, *,
    exact: CacheFactory | None = None,
    semantic: SemanticFactory | None = None,
    vectors: Mapping[str, np.ndarray] | None = None,
    clock: ReplayClock | None = None,
) -> DayResult:
    """Every message in arrival order: exact cache, then semantic layer, then the model.

    ``exact`` and ``semantic`` build the caches on the replay's clock (``clock``, or a new one);
    ``vectors`` are the questions' embeddings, computed once for all replays. A semantic layer
    embeds every question it looks up, and the bill includes that at the embedding price.
    """
    if semantic is not None and vectors is None:
        raise ValueError("a semantic layer needs the questions' vectors")
    result, clock = DayResult(name), clock if clock is not None else ReplayClock()
    exact_layer = exact(clock) if exact is not None else None
    semantic_layer = semantic(clock) if semantic is not None else None
    embedding_tokens = 0
    scopes: dict[str, str] = {}  # a scope is everything but the query: one per tenant here
    for event in events:
        clock.now = event.at.timestamp()
        request = bot.request_for(event)
        scope = scopes.get(request.tenant) or scopes.setdefault(request.tenant, request.scope())
        served = exact_layer.get(request) if exact_layer is not None else None
        if served is None and semantic_layer is not None and vectors is not None:
            embedding_tokens += count_tokens(event.query, EMBEDDING_MODEL)
            match = semantic_layer.lookup(event.query, scope=scope, vector=vectors[event.query])
            if match is not None:
                served = match.answer
                result.semantic_hits += 1
                result.semantic_wrong += event.entry_id not in served.sources
        result.asked_by_kind[event.kind] += 1
        if served is None:
            served, usage = bot.call(event.query)
            result.upstream_calls += 1
            result.bill += bot.bill(usage)
            result.bill_without_prefix_cache += cost_usd(
                bot.model, usage.prompt_tokens, usage.completion_tokens)
            result.prompt_tokens += usage.prompt_tokens
            result.cached_prompt_tokens += usage.prompt_tokens_details.cached_tokens
            if exact_layer is not None:
                exact_layer.put(request, served)
            if semantic_layer is not None and vectors is not None:
                semantic_layer.add(event.query, served, scope=scope, vector=vectors[event.query])
        else:
            result.from_cache += 1
            result.hits_by_kind[event.kind] += 1
        result.wrong_article += event.entry_id not in served.sources
    result.bill += embedding_cost_usd(EMBEDDING_MODEL, embedding_tokens)
    return result


def ttl_sweep(events: Sequence[TrafficEvent], bot: SupportModel, ttls_s: Sequence[float],
              groups: Mapping[str, Sequence[str]]) -> dict[str, list[float]]:
    """Per group of content kinds, the hit rate of a replay with one TTL for every kind.

    One replay per TTL in ``ttls_s``; kinds outside ``groups`` are not cached.
    """
    kinds = [kind for group in groups.values() for kind in group]
    days = [replay_day(f"TTL {ttl_s} s", events, bot,
                       exact=memory_cache(TTLPolicy(dict.fromkeys(kinds, ttl_s))))
            for ttl_s in ttls_s]
    return {name: [day.hit_rate_of(group) for day in days] for name, group in groups.items()}


def stampede(callers: int, answer_once: Callable[[], T]) -> list[T]:
    """``callers`` threads released together by a barrier, each calling ``answer_once``."""
    if callers < 1:
        raise ValueError(f"callers must be at least 1, got {callers}")
    start = threading.Barrier(callers)

    def caller(_: int) -> T:
        start.wait()
        return answer_once()

    with ThreadPoolExecutor(callers) as pool:
        return list(pool.map(caller, range(callers)))


def hit_timings(request: CacheRequest, answer: CachedAnswer, stores: Mapping[str, TTLStore]
                ) -> dict[str, dict[str, float]]:
    """Seconds per read, per store: ``"store read"`` (the key known) and ``"cache hit"``.

    A cache hit also builds the key (the whole system prompt goes through SHA-256) and decodes
    the JSON. Each figure is the fastest of 10 batches of 100 reads: a busy machine can only
    slow a batch down.
    """
    caches = {name: ResponseCache(store) for name, store in stores.items()}
    timings: dict[str, dict[str, float]] = {"store read": {}, "cache hit": {}}
    for name, cache in caches.items():
        cache.put(request, answer)
        key = cache.key_for(request)
        timings["store read"][name] = seconds_per_call(lambda c=cache, k=key: c.store.get(k),
                                                       calls=100)
        timings["cache hit"][name] = seconds_per_call(lambda c=cache: c.get(request), calls=100)
    return timings


class LessonRedisStore:
    """The lesson's ``TTLStore`` interface (get, set, delete) over a redis-py client."""

    def __init__(self, redis_client: Any) -> None:
        self._redis = redis_client

    def get(self, key: str) -> Any:
        return self._redis.get(key)

    def set(self, key: str, value: Any, ttl_s: float) -> None:
        self._redis.set(key, value, px=int(ttl_s * 1000))

    def delete(self, key: str) -> None:
        self._redis.delete(key)


@contextmanager
def logged_warnings(logger: str) -> Iterator[list[str]]:
    """The messages ``logger`` emits inside the block, collected in a list."""
    lines: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger(logger).addHandler(handler)
    try:
        yield lines
    finally:
        logging.getLogger(logger).removeHandler(handler)
