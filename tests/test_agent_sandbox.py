"""The naive and optimized agents on a tiny trace, against a private sandbox at time scale 0.

What each lever must do is checked where it shows: in the requests the sandbox received
(``handle.requests``), never in the agent's own account of itself. Failures are scripted
(``handle.faults.script``); the tools' network latency is injected (a latency that logs when it
starts and ends, and yields to the event loop in between), and the agents read a counting clock,
so "concurrent" means intervals that overlap, not a stopwatch.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openai
import pytest

from course_lib import sandbox
from course_lib.agent import (
    CustomerDirectory,
    Levers,
    NaiveAgent,
    OptimizedAgent,
    TurnRecord,
    replay,
)
from course_lib.datasets import load_knowledge_base
from course_lib.embeddings import embed
from course_lib.pricing import cost_usd
from course_lib.router import RouteDecision, memoised
from course_lib.tools import TOOL_NAMES, KnowledgeBaseIndex, SupportTools, no_latency
from course_lib.tracker import CostTracker
from course_lib.traffic import TrafficEvent
from tests.test_tools_runner import run

pytestmark = pytest.mark.timing

KB = load_knowledge_base()
FAQ = next(e for e in KB if e.kind == "faq" and e.complexity == "simple")
HOWTO = next(e for e in KB if e.kind == "howto" and e.complexity == "complex")
REALTIME = next(e for e in KB if e.kind == "realtime")
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def event(entry_id: str, *, minute: int = 0, user: str = "user-00001", also: str = ""
          ) -> TrafficEvent:
    entry = KB.by_id(entry_id)
    return TrafficEvent(at=START + timedelta(minutes=minute), user_id=user,
                        query=entry.question + also, entry_id=entry.id, kind=entry.kind,
                        complexity=entry.complexity, turns=1, is_paraphrase=False)


# A message that needs all three tools: the article, the customer's ticket and their plan.
ALL_THREE = " Any news on my ticket? And which plan am I on?"


class TickClock:
    """A clock that moves one millisecond every time it is read: order, not duration."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> float:
        return next(self._ticks) / 1000


class FixedRouter:
    """Routes by a table of query -> model (unknown queries go to gpt-4o)."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        return RouteDecision(self.table.get(query, "gpt-4o"), "fixed table for the test")


class LoggedLatency:
    """A tool's network wait that logs its start and end and yields to the loop in between."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    async def __call__(self) -> float:
        self.log.append(f"start {self.name}")
        for _ in range(3):
            await asyncio.sleep(0)
        self.log.append(f"end {self.name}")
        return 0.0


@pytest.fixture(scope="module")
def kb_index() -> KnowledgeBaseIndex:
    return KnowledgeBaseIndex(KB, embed=memoised(embed))


@pytest.fixture(scope="module")
def customers() -> CustomerDirectory:
    return CustomerDirectory()


SANDBOX_SEED = 10  # read by the shared `sb` fixture in tests/conftest.py


def tools(kb_index: KnowledgeBaseIndex, log: list[str] | None = None) -> SupportTools:
    latency = {name: (LoggedLatency(name, log) if log is not None else no_latency)
               for name in TOOL_NAMES}
    return SupportTools(latency=latency, kb_index=kb_index)


def client(handle: sandbox.SandboxHandle) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=handle.base_url, api_key="sandbox", max_retries=0)


def optimized(handle, kb_index, customers, levers, *, router=None, tracker=None, log=None,
              ) -> OptimizedAgent:
    return OptimizedAgent(client(handle), tools(kb_index, log), tracker or CostTracker(),
                          customers, router=router, levers=levers, time_scale=0,
                          clock=TickClock())


def answer_all(agent, events: list[TrafficEvent]) -> list[TurnRecord]:
    return run(lambda: replay(agent, events))


def chat_requests(handle: sandbox.SandboxHandle) -> list[sandbox.RequestRecord]:
    return [r for r in handle.requests if r.endpoint == "chat.completions"]


# --------------------------------------------------------------------------- response cache


def test_a_cache_hit_answers_without_calling_the_model(sb, kb_index, customers) -> None:
    agent = optimized(sb, kb_index, customers, Levers.none().with_on("response_cache"))
    first, second = answer_all(agent, [event(FAQ.id, minute=0),
                                       event(FAQ.id, minute=5, user="user-00002")])
    assert (first.served_from, second.served_from) == ("model", "cache")
    assert len(chat_requests(sb)) == 2, "the repeat must not reach the model (one turn, 2 rounds)"
    assert second.answer == first.answer and second.cost_usd == 0
    assert second.tools_s is None, "a cached answer needs no tools either"


def test_a_cached_answer_expires_with_its_kinds_ttl(sb, kb_index, customers) -> None:
    agent = optimized(sb, kb_index, customers, Levers.none().with_on("response_cache"))
    day_later = 25 * 60  # FAQ answers live 24 hours
    records = answer_all(agent, [event(FAQ.id), event(FAQ.id, minute=day_later)])
    assert [r.served_from for r in records] == ["model", "model"]
    assert len(chat_requests(sb)) == 4  # two turns of two rounds


def test_realtime_answers_are_never_cached(sb, kb_index, customers) -> None:
    agent = optimized(sb, kb_index, customers, Levers.none().with_on("response_cache"))
    records = answer_all(agent, [event(REALTIME.id, minute=0), event(REALTIME.id, minute=1)])
    assert [r.served_from for r in records] == ["model", "model"]
    assert len(chat_requests(sb)) == 4  # two turns of two rounds
    assert agent.cache is not None and agent.cache.stats.stores == 0


# --------------------------------------------------------------------------- routing


def test_the_routers_decision_is_the_model_called(sb, kb_index, customers) -> None:
    router = FixedRouter({FAQ.question: "gpt-4o-mini", HOWTO.question: "gpt-4o"})
    agent = optimized(sb, kb_index, customers, Levers.none().with_on("model_routing"),
                      router=router)
    records = answer_all(agent, [event(FAQ.id), event(HOWTO.id, minute=1)])
    assert [r.model for r in chat_requests(sb)] == ["gpt-4o-mini"] * 2 + ["gpt-4o"] * 2
    assert [(r.routed_model, r.model) for r in records] == [("gpt-4o-mini", "gpt-4o-mini"),
                                                            ("gpt-4o", "gpt-4o")]
    assert records[0].answer == FAQ.answer_brief, "the sandbox's small model answers briefly"


def test_routing_needs_a_router(sb, kb_index, customers) -> None:
    with pytest.raises(ValueError, match="no router"):
        optimized(sb, kb_index, customers, Levers.none().with_on("model_routing"))


# --------------------------------------------------------------------------- fallback


@pytest.mark.parametrize("streaming", [False, True], ids=["create", "stream"])
def test_the_fallback_model_answers_when_the_primary_keeps_failing(
        sb, kb_index, customers, streaming: bool) -> None:
    levers = Levers.none().with_on("fallback", *(["streaming"] if streaming else []))
    agent = optimized(sb, kb_index, customers, levers)
    sb.faults.script("500", count=3, model="gpt-4o")  # all three attempts on the primary
    [record] = answer_all(agent, [event(FAQ.id)])
    # Round 1 falls back to mini; round 2 goes through the chain again, and gpt-4o answers it.
    assert [r.model for r in chat_requests(sb)] == ["gpt-4o"] * 3 + ["gpt-4o-mini", "gpt-4o"]
    assert record.ok and record.used_fallback and record.model == "gpt-4o"
    assert (record.requests_sent, record.model_rounds) == (5, 2)


def test_a_retry_on_the_primary_keeps_the_primarys_answer(sb, kb_index, customers) -> None:
    agent = optimized(sb, kb_index, customers, Levers.none().with_on("fallback"))
    sb.faults.script("429", count=1, model="gpt-4o")
    [record] = answer_all(agent, [event(HOWTO.id)])
    assert [r.model for r in chat_requests(sb)] == ["gpt-4o"] * 3  # a retry, then round 2
    assert record.model == "gpt-4o" and not record.used_fallback
    assert (record.requests_sent, record.model_rounds) == (3, 2)


def test_without_fallback_a_failure_is_a_failed_turn(sb, kb_index, customers) -> None:
    tracker = CostTracker()
    naive = NaiveAgent(client(sb), tools(kb_index), tracker, customers, clock=TickClock())
    sb.faults.script("503", count=1, model="gpt-4o")
    [record] = answer_all(naive, [event(FAQ.id)])
    assert not record.ok and record.answer is None and "503" in (record.error or "")
    assert len(chat_requests(sb)) == 1, "no retry, no fallback"
    assert record.cost_usd == 0 and tracker.summary()["total_calls"] == 0


def test_a_failure_in_the_second_round_still_bills_the_first(sb, kb_index, customers) -> None:
    async def fail_the_next_request() -> float:  # runs between the two rounds
        sb.faults.script("503", model="gpt-4o")
        return 0.0

    tracker = CostTracker()
    failing = SupportTools(latency=dict.fromkeys(TOOL_NAMES, fail_the_next_request),
                           kb_index=kb_index)
    naive = NaiveAgent(client(sb), failing, tracker, customers, clock=TickClock())
    [record] = answer_all(naive, [event(FAQ.id)])
    first, second = chat_requests(sb)
    assert not record.ok and (first.status, second.status) == (200, 503)
    assert record.prompt_tokens == first.prompt_tokens > 0
    assert record.cost_usd == tracker.summary()["total_cost_usd"] > 0


@pytest.mark.parametrize("fallback", [False, True], ids=["plain stream", "chain"])
def test_a_stream_cut_after_its_first_token_is_a_failed_turn(
        sb, kb_index, customers, fallback: bool) -> None:
    levers = Levers.none().with_on("streaming", *(["fallback"] if fallback else []))
    agent = optimized(sb, kb_index, customers, levers)
    sb.faults.script("cut", count=1, model="gpt-4o")
    [record] = answer_all(agent, [event(HOWTO.id)])
    assert not record.ok and record.error
    # Output already reached the client, so even the chain must not splice in another answer.
    [request] = chat_requests(sb)
    assert request.model == "gpt-4o"


def test_agents_refuse_a_client_that_retries_by_itself(sb, kb_index, customers) -> None:
    retrying = openai.AsyncOpenAI(base_url=sb.base_url, api_key="sandbox", max_retries=2)
    with pytest.raises(ValueError, match="max_retries=2"):
        NaiveAgent(retrying, tools(kb_index), CostTracker(), customers)
    with pytest.raises(ValueError, match="max_retries=2"):
        OptimizedAgent(retrying, tools(kb_index), CostTracker(), customers,
                       levers=Levers.none())


# --------------------------------------------------------------------------- tools


def tool_intervals(record: TurnRecord) -> dict[str, tuple[float, float]]:
    return {r.name: (r.started, r.finished) for r in record.tool_results}


def test_the_optimized_agent_runs_its_tools_at_the_same_time(sb, kb_index, customers) -> None:
    log: list[str] = []
    agent = optimized(sb, kb_index, customers, Levers.none().with_on("concurrent_tools"),
                      log=log)
    [record] = answer_all(agent, [event(HOWTO.id, also=ALL_THREE)])
    assert [line.split()[0] for line in log[:3]] == ["start"] * 3, log
    intervals = tool_intervals(record)
    assert set(intervals) == set(TOOL_NAMES)
    latest_start = max(start for start, _ in intervals.values())
    earliest_end = min(end for _, end in intervals.values())
    assert latest_start < earliest_end, f"the tools' intervals do not overlap: {intervals}"


def test_the_naive_agent_runs_its_tools_one_after_another(sb, kb_index, customers) -> None:
    log: list[str] = []
    naive = NaiveAgent(client(sb), tools(kb_index, log), CostTracker(), customers,
                       clock=TickClock())
    [record] = answer_all(naive, [event(HOWTO.id, also=ALL_THREE)])
    assert log == [f"{verb} {name}" for name in TOOL_NAMES for verb in ("start", "end")]
    spans = sorted(tool_intervals(record).values())
    assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(spans))


# --------------------------------------------------------------------------- streaming


def test_streaming_shows_the_first_text_before_the_answer_is_complete(
        sb, kb_index, customers) -> None:
    streamed = optimized(sb, kb_index, customers, Levers.none().with_on("streaming"))
    whole = optimized(sb, kb_index, customers, Levers.none())
    [fast] = answer_all(streamed, [event(HOWTO.id)])
    [slow] = answer_all(whole, [event(HOWTO.id)])
    assert fast.ttft_s is not None and fast.ttft_s < fast.total_s
    assert slow.ttft_s == slow.total_s, "not streamed: the first text is the whole answer"
    assert fast.answer == slow.answer and fast.completion_tokens == slow.completion_tokens
    assert [r.stream for r in chat_requests(sb)] == [True, True, False, False]


# --------------------------------------------------------------------------- billing


def billed_by_sandbox(handle: sandbox.SandboxHandle) -> tuple[int, int, int, Decimal]:
    """Usage of every successful chat request, as the sandbox recorded it, priced here."""
    ok = [r for r in chat_requests(handle) if r.status == 200]
    return (sum(r.prompt_tokens for r in ok), sum(r.completion_tokens for r in ok),
            sum(r.cached_tokens for r in ok),
            sum((cost_usd(r.model, r.prompt_tokens, r.completion_tokens, r.cached_tokens)
                 for r in ok), Decimal(0)))


def tracked(tracker: CostTracker) -> tuple[int, int, int, Decimal]:
    summary = tracker.summary()
    return (summary["total_input_tokens"], summary["total_output_tokens"],
            summary["total_cached_input_tokens"], summary["total_cost_usd"])


TRACE = [event(FAQ.id), event(HOWTO.id, minute=1), event(REALTIME.id, minute=2),
         event(FAQ.id, minute=3, user="user-00007"), event(HOWTO.id, minute=4),
         event(REALTIME.id, minute=5, user="user-00008")]


@pytest.mark.parametrize("agent_kind", ["naive", "optimized"])
def test_every_call_is_billed_exactly_once(sb, kb_index, customers, agent_kind: str) -> None:
    tracker = CostTracker()
    if agent_kind == "naive":
        agent = NaiveAgent(client(sb), tools(kb_index), tracker, customers, clock=TickClock())
    else:
        router = FixedRouter({FAQ.question: "gpt-4o-mini"})
        agent = optimized(sb, kb_index, customers, Levers(), router=router, tracker=tracker)
    sb.faults.script("429", count=1, model="gpt-4o")  # a failed request is not billed
    records = answer_all(agent, TRACE)
    assert tracked(tracker) == billed_by_sandbox(sb)
    assert sum((r.cost_usd for r in records), Decimal(0)) == tracker.summary()["total_cost_usd"]
    assert tracker.summary()["total_calls"] == sum(r.status == 200 for r in chat_requests(sb))
