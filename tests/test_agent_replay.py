"""course_lib.agent.replay: the figures of a replay, checked on hand-made turn records.

Every expected value is worked out by hand in the test (percentiles by linear interpolation,
shares by counting), never by the code under test.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from course_lib.agent import (
    ArrivalClock,
    Run,
    Setup,
    TurnRecord,
    completeness,
    percentile,
    replay,
    strong_references,
    summarize,
)
from course_lib.router import RouteDecision
from course_lib.traffic import TrafficEvent
from tests.test_tools_runner import run

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)


def ev(query: str, complexity: str = "simple") -> TrafficEvent:
    return TrafficEvent(at=AT, user_id="user-00001", query=query, entry_id="kb-001",
                        kind="faq", complexity=complexity, turns=1, is_paraphrase=False)


def turn(index: int, *, query: str = "q", complexity: str = "simple", served: str = "model",
         model: str | None = "gpt-4o", answer: str | None = "an answer", total: float = 1.0,
         ttft: float | None = None, tools: float | None = None, cost: str = "0",
         fallback: bool = False, sent: int = 1) -> TurnRecord:
    failed = served == "failed"
    return TurnRecord(index, ev(query, complexity), served,  # type: ignore[arg-type]
                      total_s=total, answer=None if failed else answer,
                      model=None if failed else model, ttft_s=ttft, tools_s=tools,
                      cost_usd=Decimal(cost), used_fallback=fallback, requests_sent=sent)


# --------------------------------------------------------------------------- percentile


def test_percentile_interpolates_between_order_statistics() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == pytest.approx(2.5)  # halfway between 2 and 3
    # rank 0.95 * 3 = 2.85: 3 + 0.85 * (4 - 3)
    assert percentile(values, 95) == pytest.approx(3.85)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 4.0
    assert percentile([], 50) is None


def test_percentile_refuses_a_rank_outside_0_100() -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


# --------------------------------------------------------------------------- summarize


def test_summary_of_hand_made_turns() -> None:
    records = [
        turn(0, total=2.0, ttft=0.5, tools=0.3, cost="0.004", model="gpt-4o"),
        turn(1, total=4.0, ttft=1.0, tools=0.3, cost="0.002", model="gpt-4o-mini",
             complexity="complex", answer="short", fallback=True, sent=4),
        turn(2, served="cache", total=0.01, ttft=0.01, model="gpt-4o"),
        turn(3, served="failed", total=9.0, sent=3),
    ]
    summary = summarize("hand-made", records, conversations_per_month=1000)
    assert (summary.turns, summary.answered) == (4, 3)
    assert summary.success_rate == pytest.approx(0.75)
    assert summary.cost_usd == Decimal("0.006")
    assert summary.monthly_usd == Decimal("1.5")  # 0.006 / 4 turns * 1000
    # Answered turns only: ttft [0.5, 1.0, 0.01] -> sorted [0.01, 0.5, 1.0]
    assert summary.p50_ttft_s == pytest.approx(0.5)
    assert summary.p95_ttft_s == pytest.approx(0.5 + 0.9 * 0.5)  # rank 1.9
    assert summary.p50_total_s == pytest.approx(2.0)  # [0.01, 2, 4]; the failure's 9 s is out
    assert summary.p95_total_s == pytest.approx(2.0 + 0.9 * 2.0)
    assert summary.p50_tools_s == pytest.approx(0.3)  # the cached turn ran no tools
    assert summary.cache_share == pytest.approx(1 / 3)
    assert summary.fallback_share == pytest.approx(1 / 3)
    assert summary.strong_share == pytest.approx(2 / 3)
    assert summary.complex_to_strong == 0.0  # the one complex question got mini
    assert summary.requests_sent == 1 + 4 + 1 + 3
    assert summary.completeness is None  # no references given


def test_a_turn_without_a_first_token_time_is_left_out_of_ttft() -> None:
    records = [turn(0, total=1.0, ttft=None), turn(1, total=3.0, ttft=2.0)]
    summary = summarize("x", records)
    assert summary.p50_ttft_s == 2.0
    assert summary.p50_total_s == pytest.approx(2.0)


def test_summary_refuses_nothing_and_a_bad_month() -> None:
    with pytest.raises(ValueError, match="at least one"):
        summarize("empty", [])
    with pytest.raises(ValueError, match="conversations_per_month"):
        summarize("x", [turn(0)], conversations_per_month=0)


# --------------------------------------------------------------------------- quality proxy


def test_completeness_follows_notebook_05() -> None:
    # 7 distinct terms ("then" twice): open settings then security reset the password
    reference = "Open Settings then Security then reset the password"
    references = {"hard": reference}
    weak = turn(0, query="hard", complexity="complex", model="gpt-4o-mini",
                answer="Open Settings then Security")  # 4 of the 7 terms
    assert completeness(weak, references) == pytest.approx(4 / 7)
    strong = turn(1, query="hard", complexity="complex", model="gpt-4o-2024-08-06")
    assert completeness(strong, references) == 1.0  # a snapshot of gpt-4o is gpt-4o
    simple_on_mini = turn(2, query="easy", model="gpt-4o-mini")
    assert completeness(simple_on_mini, references) == 1.0  # the label says mini suffices
    unknown = turn(3, query="other", complexity="complex", model="gpt-4o-mini")
    assert completeness(unknown, references) is None
    assert completeness(turn(4, served="failed"), references) is None

    summary = summarize("q", [weak, strong, simple_on_mini, unknown], references=references)
    assert summary.completeness == pytest.approx((4 / 7 + 1 + 1) / 3)
    assert summary.unscored == 1


def test_strong_references_keep_the_strong_models_first_answer_per_query() -> None:
    records = [turn(0, query="a", model="gpt-4o", answer="first"),
               turn(1, query="a", model="gpt-4o", answer="second"),
               turn(2, query="b", model="gpt-4o-mini", answer="weak"),
               turn(3, query="c", served="failed")]
    assert strong_references(records) == {"a": "first"}


# --------------------------------------------------------------------------- replay


class RecordingAgent:
    """Answers every event; records how many answers ran at once, at most."""

    def __init__(self) -> None:
        self.running = 0
        self.most = 0
        self.started: list[int] = []

    async def answer(self, event: TrafficEvent, index: int = 0) -> TurnRecord:
        self.started.append(index)
        self.running += 1
        self.most = max(self.most, self.running)
        for _ in range(3):
            await asyncio.sleep(0)
        self.running -= 1
        return turn(index, query=event.query)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_replay_keeps_arrival_order_and_its_concurrency_bound(concurrency: int) -> None:
    agent = RecordingAgent()
    events = [ev(f"q{i}") for i in range(7)]
    records = asyncio.run(replay(agent, events, concurrency=concurrency))
    assert [r.index for r in records] == list(range(7))
    assert [r.event.query for r in records] == [e.query for e in events]
    assert agent.started == list(range(7)), "messages start in arrival order"
    assert agent.most == concurrency


class KeyWatchingAgent(RecordingAgent):
    """Also records, per query, whether two answers to it ever ran at once."""

    def __init__(self) -> None:
        super().__init__()
        self.running_by_query: dict[str, int] = {}
        self.overlapped: set[str] = set()

    async def answer(self, event: TrafficEvent, index: int = 0) -> TurnRecord:
        running = self.running_by_query.get(event.query, 0) + 1
        self.running_by_query[event.query] = running
        if running > 1:
            self.overlapped.add(event.query)
        try:
            return await super().answer(event, index)
        finally:
            self.running_by_query[event.query] -= 1


def test_replay_in_order_by_key_never_overlaps_identical_messages() -> None:
    queries = ["a", "a", "b", "a", "c", "b", "a"]
    events = [ev(q) for q in queries]

    unordered = KeyWatchingAgent()
    asyncio.run(replay(unordered, events, concurrency=3))
    assert "a" in unordered.overlapped  # without the key, the closed loop overlaps them

    ordered = KeyWatchingAgent()
    records = asyncio.run(replay(ordered, events, concurrency=3, in_order_by=lambda e: e.query))
    assert ordered.overlapped == set()
    assert ordered.most >= 2, "different messages still run at the same time"
    starts_of_a = [i for i in ordered.started if queries[i] == "a"]
    assert starts_of_a == [0, 1, 3, 6], "identical messages keep their arrival order"
    assert ordered.started.index(2) < ordered.started.index(1), "others may go ahead"

    one_at_a_time = KeyWatchingAgent()
    asyncio.run(replay(one_at_a_time, events, concurrency=1, in_order_by=lambda e: e.query))
    assert one_at_a_time.started == list(range(len(events)))
    assert [r.index for r in records] == list(range(len(events)))


class BrokenAgent(RecordingAgent):
    async def answer(self, event: TrafficEvent, index: int = 0) -> TurnRecord:
        if index == 2:
            raise RuntimeError("a bug in the agent")
        return await super().answer(event, index)


def test_a_bug_in_the_agent_stops_the_replay_and_leaves_nothing_running() -> None:
    with pytest.raises(RuntimeError, match="a bug in the agent"):
        run(lambda: replay(BrokenAgent(), [ev(f"q{i}") for i in range(6)], concurrency=2))


def test_replay_refuses_a_bad_concurrency() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(replay(RecordingAgent(), [ev("q")], concurrency=0))


# --------------------------------------------------------------------------- the record


def test_a_turn_record_refuses_inconsistent_fields() -> None:
    with pytest.raises(ValueError, match="answer"):
        TurnRecord(0, ev("q"), "failed", total_s=1.0, answer="but it failed", model="gpt-4o")
    with pytest.raises(ValueError, match="model"):
        TurnRecord(0, ev("q"), "model", total_s=1.0, answer="who said it?")
    with pytest.raises(ValueError, match="ttft_s"):
        TurnRecord(0, ev("q"), "model", total_s=1.0, answer="a", model="gpt-4o", ttft_s=2.0)


# --------------------------------------------------------------------------- the cache's clock


def test_each_turn_in_flight_reads_its_own_arrival_time() -> None:
    clock = ArrivalClock()
    seen: dict[str, list[float]] = {}

    async def turn_at(name: str, arrived: float) -> None:
        clock.start_turn(arrived)
        seen[name] = [clock()]
        for _ in range(3):
            await asyncio.sleep(0)  # the other turn runs, and starts, meanwhile
        seen[name].append(clock())

    async def body() -> None:
        await asyncio.gather(turn_at("early", 100.0), turn_at("late", 7_300.0))

    asyncio.run(body())
    assert seen == {"early": [100.0, 100.0], "late": [7_300.0, 7_300.0]}
    assert clock() == 7_300.0, "outside a turn: the latest arrival"


def test_streamed_first_text_is_placed_by_the_sandboxs_schedule() -> None:
    """An unstreamed answer's first text, as streaming would show it: everything before the
    answering request, then that request's planned time to first token."""
    answered = TurnRecord(0, ev("q"), "model", total_s=3.0, answer="a", model="gpt-4o",
                          ttft_s=3.0, answer_round_s=1.5, answer_id="chatcmpl-1")
    cached = TurnRecord(1, ev("q"), "cache", total_s=0.01, answer="a", model="gpt-4o",
                        ttft_s=0.01)
    unknown = dataclasses.replace(answered, index=2, answer_id="chatcmpl-elsewhere")
    replayed = Run("optimized", [answered, cached, unknown], 2, 1.0, {"chatcmpl-1": 0.4})
    placed = replayed.with_streamed_first_text()
    assert [r.ttft_s for r in placed] == [pytest.approx(1.9), 0.01, 3.0]
    assert placed[0].total_s == 3.0 and replayed.records[0].ttft_s == 3.0  # a copy


def test_a_setup_asks_its_router_once_per_message() -> None:
    class CountingRouter:
        calls = 0

        def route(self, query: str, conversation_turns: int) -> RouteDecision:
            CountingRouter.calls += 1
            return RouteDecision("gpt-4o-mini" if query == "hi" else "gpt-4o", "test")

    setup = Setup(CountingRouter(), kb_index=None, customers=None)  # type: ignore[arg-type]
    decisions = [setup.router.route(q, 1).model for q in ("hi", "hard", "hi", "hi")]
    assert decisions == ["gpt-4o-mini", "gpt-4o", "gpt-4o-mini", "gpt-4o-mini"]
    assert CountingRouter.calls == 2
