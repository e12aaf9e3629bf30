"""Notebook 04's experiments: the support bot's model call, the day replay, the stampede helper.

The replay's counts are checked against oracles computed here from the trace (distinct
requests, one request per message), and the reused replies against fresh requests.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from decimal import Decimal

import numpy as np
import pytest

from course_lib import sandbox
from course_lib.cache import MemoryTTLStore, RedisTTLStore, TTLPolicy
from course_lib.cache.experiments import (
    DayResult,
    LessonRedisStore,
    ReplayClock,
    SupportModel,
    hit_timings,
    lesson_conversation_prompt,
    logged_warnings,
    memory_cache,
    replay_day,
    semantic_layer,
    stampede,
    ttl_sweep,
)
from course_lib.datasets import load_knowledge_base
from course_lib.traffic import support_traffic

KB = load_knowledge_base()
EVENTS = support_traffic(60, seed=4)
KEEP_ALL_DAY = TTLPolicy({}, default_ttl_s=10 * 24 * 3600)  # every answer, for the whole day


@pytest.fixture()
def bot(sb: sandbox.SandboxHandle) -> SupportModel:
    return SupportModel(sb.base_url, KB)


def test_the_system_prompt_is_the_lessons_long_conversation() -> None:
    """Long enough for the provider's prefix cache (1,024 tokens), built from the plans."""
    from course_lib.tokens import count_tokens

    prompt = lesson_conversation_prompt(KB)
    assert count_tokens(prompt, "gpt-4o") > 1024
    assert all(plan.name in prompt for plan in KB.product.plans)


def test_an_answer_names_the_article_it_came_from(bot: SupportModel) -> None:
    entry = next(e for e in KB if e.kind == "faq")
    answer, usage = bot.ask(entry.question)
    assert entry.id in answer.sources and answer.kind == entry.kind
    assert answer.prompt_tokens == usage.prompt_tokens > 1024


def test_a_reused_reply_is_what_the_same_request_returns_again(bot: SupportModel) -> None:
    """The memo is exact: the sandbox answers and bills a repeated request identically."""
    bot.ask("warm the provider's prefix cache")
    queries = sorted({e.query for e in EVENTS})[:8]
    reused = [bot.call(q) for q in queries]
    sent = bot.requests_sent
    assert [bot.call(q)[0] for q in queries] == [answer for answer, _ in reused]
    assert bot.requests_sent == sent  # nothing sent for the repeats
    for query, (answer, usage) in zip(queries, reused, strict=True):
        fresh_answer, fresh_usage = bot.ask(query)
        assert fresh_answer.answer == answer.answer
        assert bot.bill(fresh_usage) == bot.bill(usage)


def test_a_reply_billed_before_the_prefix_was_cached_is_not_reused() -> None:
    with sandbox.start(time_scale=0, seed=4) as fresh:
        cold_bot = SupportModel(fresh.base_url, KB)
        _, first = cold_bot.call("How do I reset my password?")
        _, second = cold_bot.call("How do I reset my password?")
        cold_bot.call("How do I reset my password?")
        assert first.prompt_tokens_details.cached_tokens == 0
        assert second.prompt_tokens_details.cached_tokens > 0
        assert cold_bot.requests_sent == len(fresh.requests) == 2


def test_without_a_cache_every_message_is_a_model_call(bot: SupportModel) -> None:
    bot.ask("warm the provider's prefix cache")
    day = replay_day("no cache", EVENTS, bot)
    assert day.upstream_calls == len(EVENTS) and day.from_cache == 0 and day.hit_rate == 0
    fresh = {query: bot.ask(query) for query in {e.query for e in EVENTS}}  # sent again
    assert day.bill == sum((bot.bill(fresh[e.query][1]) for e in EVENTS), Decimal(0))
    assert day.wrong_article == sum(e.entry_id not in fresh[e.query][0].sources
                                    for e in EVENTS)


def test_an_exact_cache_calls_the_model_once_per_distinct_request(bot: SupportModel) -> None:
    """Real-time questions are keyed per user, everything else is shared."""
    day = replay_day("exact", EVENTS, bot, exact=memory_cache(KEEP_ALL_DAY))
    distinct = {(e.query, e.user_id if e.kind == "realtime" else "public") for e in EVENTS}
    assert day.upstream_calls == len(distinct)
    assert day.from_cache == len(EVENTS) - len(distinct)
    assert sum(day.asked_by_kind.values()) == len(EVENTS)
    assert day.asked_by_kind == Counter(e.kind for e in EVENTS)
    no_cache = replay_day("no cache", EVENTS, bot)
    assert 0 < day.saved_share(no_cache) < 1
    assert "saved" in day.summary(no_cache) and "saved" not in day.summary()


def test_the_replay_clock_makes_answers_expire(bot: SupportModel) -> None:
    """With a one-second TTL only messages within a second of each other can hit."""
    day = replay_day("1 s", EVENTS, bot, exact=memory_cache(TTLPolicy({}, default_ttl_s=1)))
    assert day.from_cache < replay_day("all day", EVENTS, bot,
                                       exact=memory_cache(KEEP_ALL_DAY)).from_cache


def test_a_longer_ttl_never_catches_fewer_repeats(bot: SupportModel) -> None:
    groups = {"articles": ("faq", "howto", "policy"), "realtime": ("realtime",)}
    rates = ttl_sweep(EVENTS, bot, [30, 3600, 86_400], groups)
    assert set(rates) == set(groups)
    for series in rates.values():
        assert len(series) == 3 and series == sorted(series)


def test_a_semantic_layer_at_threshold_minus_one_answers_every_miss_but_the_first(
        bot: SupportModel) -> None:
    """Every question "similar" to every other: one model call per scope, then only hits."""
    vectors = {e.query: np.eye(1, 384, dtype=np.float32)[0] for e in EVENTS}
    day = replay_day("semantic", EVENTS, bot, vectors=vectors,
                     semantic=semantic_layer(-1.0, policy=KEEP_ALL_DAY))
    scopes = {e.user_id if e.kind == "realtime" else "public" for e in EVENTS}
    assert day.upstream_calls == len(scopes)
    assert day.semantic_hits == day.from_cache == len(EVENTS) - len(scopes)
    assert 0 < day.semantic_wrong <= day.wrong_article
    assert "semantic hits" in day.summary()


def test_a_semantic_layer_needs_vectors(bot: SupportModel) -> None:
    with pytest.raises(ValueError, match="vectors"):
        replay_day("semantic", EVENTS, bot, semantic=semantic_layer(0.9))


def test_a_hit_rate_of_kinds_never_asked_is_an_error() -> None:
    with pytest.raises(ValueError, match="no message of kinds"):
        DayResult("empty").hit_rate_of(["faq"])


def test_a_replay_can_share_its_clock() -> None:
    clock = ReplayClock()
    assert clock() == 0.0
    clock.now = 5.0
    assert clock() == 5.0


def test_stampede_callers_really_overlap() -> None:
    """Each caller waits until all are inside: only possible if they run at the same time."""
    inside, lock, everyone = [0], threading.Lock(), threading.Event()

    def answer_once() -> int:
        with lock:
            inside[0] += 1
            if inside[0] == 8:
                everyone.set()
        return everyone.wait(timeout=5)

    assert stampede(8, answer_once) == [True] * 8
    with pytest.raises(ValueError, match="callers"):
        stampede(0, answer_once)


def test_the_lessons_agent_caches_by_query_only(bot: SupportModel) -> None:
    agent = bot.lesson_agent()
    first, second = agent.answer("How do I reset my password?"), agent.answer(
        "How do I reset my password?")
    assert not first.from_cache and second.from_cache and bot.requests_sent == 1


def test_the_lessons_store_over_redis(redis_client) -> None:  # type: ignore[no-untyped-def]
    store = LessonRedisStore(redis_client)
    store.set("k", b"v", 60)
    assert store.get("k") == b"v" and 0 < redis_client.pttl("k") <= 60_000
    store.delete("k")
    assert store.get("k") is None


def test_hit_timings_reads_each_store(redis_client, bot: SupportModel) -> None:  # type: ignore[no-untyped-def]
    answer, _ = bot.call("How do I reset my password?")
    timings = hit_timings(bot.request("How do I reset my password?"), answer,
                          {"memory": MemoryTTLStore(10), "Redis": RedisTTLStore(redis_client)})
    assert set(timings) == {"store read", "cache hit"}
    assert all(set(row) == {"memory", "Redis"} and min(row.values()) > 0
               for row in timings.values())


def test_logged_warnings_collects_and_then_lets_go() -> None:
    with logged_warnings("course_lib.cache.test") as lines:
        logging.getLogger("course_lib.cache.test").warning("store down: %s", "refused")
    logging.getLogger("course_lib.cache.test").warning("after the block")
    assert lines == ["store down: refused"]
