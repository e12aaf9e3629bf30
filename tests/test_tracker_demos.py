"""The harness notebook 03 runs its experiments with: races, the support bot, the table."""

from datetime import timedelta
from decimal import Decimal

import openai
import pytest

from course_lib import sandbox
from course_lib.lesson.cost_tracker import micro_usd_with_fixed_constants, side_by_side
from course_lib.support_bot import EMBEDDING_MODEL, SupportBot
from course_lib.tracker import CostTracker, summary_table
from course_lib.tracker_races import race_redis_processes, record_concurrently
from course_lib.traffic import support_traffic

CALL = ("gpt-4o", 2100, 300)
ONE_CALL = Decimal("0.00825")  # 2,100 x $2.50/1M + 300 x $10/1M, by hand


def test_record_concurrently_sends_every_call_to_a_locked_tracker():
    tracker = CostTracker()
    record_concurrently(tracker, CALL, threads=4, calls_per_thread=250)
    summary = tracker.summary()
    assert summary["total_calls"] == 1_000
    assert summary["total_cost_usd"] == 1_000 * ONE_CALL


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_record_concurrently_refuses_a_count_that_is_not_positive(bad):
    with pytest.raises(ValueError, match="threads must be a positive whole number"):
        record_concurrently(CostTracker(), CALL, threads=bad)


@pytest.mark.redis
def test_two_processes_add_up_in_redis_and_the_naive_total_cannot_exceed_it(redis_url):
    race = race_redis_processes(redis_url, CALL, processes=2, calls_per_process=50,
                                prefix="costs:race-test")
    assert race.shared["total_calls"] == 100
    assert race.shared["total_cost_usd"] == 100 * ONE_CALL
    assert 0 < race.naive_usd <= 100 * ONE_CALL  # lost updates only ever lose


def test_fixed_constants_still_truncate_each_call():
    # $2.50 and $10 per 1M in micro-dollars: 5,250 + 3,000; gpt-4o-mini 315 + 180;
    # 12 tokens at $0.02 per 1M is 0.24 micro-dollars, truncated to 0.
    assert micro_usd_with_fixed_constants("gpt-4o", 2100, 300) == 8_250
    assert micro_usd_with_fixed_constants("gpt-4o-mini", 2100, 300) == 495
    assert micro_usd_with_fixed_constants("text-embedding-3-small", 12, 0) == 0


def test_side_by_side_shows_the_lesson_undercounting_and_the_course_refusing():
    rows = side_by_side([CALL, ("gpt-4o-2024-08-06", 2100, 300), ("o3-mini", 10, 10)])
    assert rows["gpt-4o"] == (8e-06, ONE_CALL)  # 5 + 3 micro-dollars in the lesson's units
    assert rows["gpt-4o-2024-08-06"] == (0.0, ONE_CALL)
    assert rows["o3-mini"] == (0.0, None)


def test_the_support_bot_records_an_index_and_two_requests_per_question():
    events = support_traffic(6, seed=1, duration=timedelta(hours=1))
    tracker = CostTracker()
    with sandbox.start(time_scale=0, seed=1) as private:
        client = openai.OpenAI(base_url=private.base_url, api_key="sandbox", max_retries=0)
        bot = SupportBot.index(client, tracker, lambda event: "gpt-4o-mini", at=events[0].at)
        bot.replay(events, tracker, client)
        served = private.requests
    assert tracker.summary()["total_calls"] == 1 + 2 * len(events) == len(served)
    assert [model for model, _, _ in bot.calls] == [EMBEDDING_MODEL, "gpt-4o-mini"] * 6
    chats = [r for r in served if r.endpoint == "chat.completions"]
    assert len(chats) == 6, [r.endpoint for r in served]
    assert [r.prompt_tokens for r in chats] == [tokens for model, tokens, _ in bot.calls
                                                if model == "gpt-4o-mini"]
    assert "Kitewing" in bot.system_prompt


def test_summary_table_has_a_row_per_model_and_says_why_there_is_no_projection():
    tracker = CostTracker()
    tracker.record_call(*CALL)
    tracker.record_call("gpt-4o-mini", 100, 10)
    table = summary_table(tracker.summary())
    lines = table.splitlines()
    assert lines[1].startswith("gpt-4o ") and lines[2].startswith("gpt-4o-mini ")
    assert lines[3].startswith("total") and "$   0.008271" in lines[3]  # 0.00825 + 0.000021
    assert "projected : none (the observed window" in table
