"""The cost tracker: exact money, refused bad input, thread safety, window projections, Redis.

The tracker is tested on three models of its own, registered for this module only (the
``TEST_MODELS`` below), so no figure here depends on a provider's price list. Expected dollar
figures are worked out by hand from those models' rates, never by the tracker or by
``course_lib.pricing``. The lesson's own Go tracker keeps its own table, in micro-dollars.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, localcontext

import openai
import pytest
from openai.types import CompletionUsage
from openai.types.completion_usage import PromptTokensDetails
from openai.types.create_embedding_response import Usage as EmbeddingUsage
from openai.types.responses import ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from course_lib import models, sandbox
from course_lib.lesson.cost_tracker import LessonCostTracker, go_int_div
from course_lib.models import ModelEntry, Prices, Simulation, Snapshot, UnknownModelError
from course_lib.redis_tracker import RedisCostTracker
from course_lib.tracker import CostTracker, from_picodollars, to_picodollars

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# Rates in USD per 1M tokens. The strong model is an alias answered as its dated snapshot.
STRONG = "test-strong"
STRONG_SNAPSHOT = "test-strong-2026-01-01"
WEAK = "test-weak"
EMBEDDING = "test-embedding"
TEST_MODELS = (
    ModelEntry(STRONG, "chat", encoding="o200k_base", context_window=128_000,
               prices=Prices(input=Decimal("3.00"), cached_input=Decimal("0.30"),
                             output=Decimal("12.00")),
               simulation=Simulation(ttft_base_s=0.4, ttft_per_prompt_token_s=0.000_1,
                                     tokens_per_second=80.0),
               points_at=STRONG_SNAPSHOT, snapshots=(Snapshot(STRONG_SNAPSHOT),)),
    ModelEntry(WEAK, "chat", encoding="o200k_base", context_window=128_000,
               prices=Prices(input=Decimal("0.20"), cached_input=Decimal("0.05"),
                             output=Decimal("0.80")),
               simulation=Simulation(ttft_base_s=0.2, ttft_per_prompt_token_s=0.000_05,
                                     tokens_per_second=140.0, answer_style="brief")),
    ModelEntry(EMBEDDING, "embedding", encoding="cl100k_base", context_window=8_192,
               prices=Prices(input=Decimal("0.04")),
               simulation=Simulation(ttft_base_s=0.06, ttft_per_prompt_token_s=0.000_002,
                                     tokens_per_second=0.0)),
)

# 2,100 in / 300 out on the strong model (the lesson's conversation size):
# 2,100 x 3.00/1M + 300 x 12.00/1M = 0.0063 + 0.0036.
CALL_INPUT_USD = Decimal("0.0063")
CALL_OUTPUT_USD = Decimal("0.0036")
CALL_USD = Decimal("0.0099")
# The same call on the weak model with 1,024 of the input tokens cached:
# 1,076 x 0.20/1M + 1,024 x 0.05/1M + 300 x 0.80/1M = 0.0002152 + 0.0000512 + 0.00024.
WEAK_CACHED_CALL_USD = Decimal("0.0005064")


@pytest.fixture(scope="module", autouse=True)
def _register_test_models():
    """The module's models are in the registry for its tests, and gone afterwards."""
    with contextlib.ExitStack() as stack:
        for entry in TEST_MODELS:
            stack.enter_context(models.registered(entry))
        yield


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# -- exact money -------------------------------------------------------------------------------


def test_a_call_costs_its_input_plus_its_output_exactly() -> None:
    """2,100 input tokens -> $0.0063 and 300 output tokens -> $0.0036, in exact Decimals."""
    tracker = CostTracker(clock=FakeClock())
    call = tracker.record_call(STRONG, 2100, 300)
    assert call.fresh_input_cost_usd == CALL_INPUT_USD
    assert call.output_cost_usd == CALL_OUTPUT_USD
    assert call.cost_usd == CALL_USD
    summary = tracker.summary()
    assert summary["total_cost_usd"] == CALL_USD
    assert isinstance(summary["total_cost_usd"], Decimal)
    assert summary["total_fresh_input_cost_usd"] == CALL_INPUT_USD
    assert summary["total_output_cost_usd"] == CALL_OUTPUT_USD
    assert (summary["total_calls"], summary["total_input_tokens"],
            summary["total_output_tokens"]) == (1, 2100, 300)


def test_cached_input_is_billed_at_the_cached_rate() -> None:
    tracker = CostTracker(clock=FakeClock())
    call = tracker.record_call(WEAK, 2100, 300, cached_input_tokens=1024)
    assert call.fresh_input_cost_usd == Decimal("0.0002152")
    assert call.cached_input_cost_usd == Decimal("0.0000512")
    assert call.output_cost_usd == Decimal("0.00024")
    assert tracker.summary()["total_cost_usd"] == WEAK_CACHED_CALL_USD
    assert tracker.summary()["total_cached_input_tokens"] == 1024


def test_many_small_calls_sum_exactly_where_floats_drift() -> None:
    """A million-call day of tiny embedding costs adds up to the cent, unlike a float sum."""
    tracker = CostTracker(clock=FakeClock())
    per_call = Decimal("0.00000048")  # 12 tokens x $0.04/1M
    float_total = 0.0
    for _ in range(10_000):
        tracker.record_call(EMBEDDING, 12, 0)
        float_total += 0.00000048
    assert tracker.summary()["total_cost_usd"] == Decimal("0.0048") == 10_000 * per_call
    assert float_total != 0.0048  # what a float accumulator would have reported


def test_costs_are_exact_even_under_a_low_precision_decimal_context() -> None:
    """With 3 significant digits, 1,076 x $0.20 would round to 215; the tracker keeps 215.2."""
    tracker = CostTracker(clock=FakeClock())
    with localcontext(prec=3):
        for _ in range(1_000):
            tracker.record_call(WEAK, 2100, 300, 1024)
        summary = tracker.summary()
    assert summary["total_cost_usd"] == Decimal("0.5064")  # 1,000 x $0.0005064
    assert summary["total_fresh_input_cost_usd"] == Decimal("0.2152")


def test_per_model_breakdown_and_shares() -> None:
    tracker = CostTracker(clock=FakeClock())
    for _ in range(3):
        tracker.record_call(STRONG, 2100, 300)
    tracker.record_call(WEAK, 2100, 300, 1024)
    summary = tracker.summary()
    total = 3 * CALL_USD + WEAK_CACHED_CALL_USD  # 0.0297 + 0.0005064 = 0.0302064
    assert summary["total_cost_usd"] == Decimal("0.0302064") == total
    strong = summary["by_model"][STRONG]
    assert (strong["calls"], strong["input_tokens"], strong["output_tokens"]) == (3, 6300, 900)
    assert strong["cost_usd"] == Decimal("0.0297")
    assert strong["share_of_cost"] == pytest.approx(Decimal("0.0297") / total,
                                                            abs=Decimal("1e-20"))
    weak = summary["by_model"][WEAK]
    assert weak["cached_input_tokens"] == 1024
    assert weak["cost_usd"] == WEAK_CACHED_CALL_USD
    assert list(summary["by_model"]) == [STRONG, WEAK]  # biggest cost first
    assert sum(row["share_of_cost"] for row in summary["by_model"].values()) == pytest.approx(1)
    assert summary["avg_cost_per_call_usd"] == total / 4


def test_batch_calls_cost_half() -> None:
    tracker = CostTracker(clock=FakeClock())
    assert tracker.record_call(STRONG, 2100, 300, batch=True).cost_usd == Decimal("0.00495")


# -- refused input -----------------------------------------------------------------------------


def _nothing_changed(tracker: CostTracker, calls: int, cost: Decimal) -> bool:
    summary = tracker.summary()
    return summary["total_calls"] == calls and summary["total_cost_usd"] == cost


def test_unknown_model_is_refused_and_nothing_is_recorded() -> None:
    tracker = CostTracker(clock=FakeClock())
    tracker.record_call(STRONG, 2100, 300)
    with pytest.raises(UnknownModelError, match="gpt-5-turbo"):
        tracker.record_call("gpt-5-turbo", 2100, 300)
    assert _nothing_changed(tracker, 1, CALL_USD)
    assert list(tracker.summary()["by_model"]) == [STRONG]
    assert len(tracker.time_buckets()) == 1


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((STRONG, -1, 300), ValueError, "input_tokens must not be negative"),
        ((STRONG, 2100, -300), ValueError, "output_tokens must not be negative"),
        ((STRONG, 2100, 300, -5), ValueError, "cached_input_tokens must not be negative"),
        ((STRONG, 100, 300, 1024), ValueError, "cannot exceed input_tokens"),
        ((STRONG, 2100.0, 300), TypeError, "whole number of tokens"),
        ((STRONG, True, 300), TypeError, "whole number of tokens"),
        ((EMBEDDING, 100, 5), ValueError, "no output tokens"),
    ],
)
def test_bad_counts_are_refused_and_nothing_is_recorded(args, error, message) -> None:
    tracker = CostTracker(clock=FakeClock())
    with pytest.raises(error, match=message):
        tracker.record_call(*args)
    assert _nothing_changed(tracker, 0, Decimal(0))
    assert tracker.summary()["first_call_at"] is None


def test_naive_timestamps_are_refused() -> None:
    naive = datetime(2026, 1, 5, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        CostTracker(clock=FakeClock()).record_call(STRONG, 1, 1, at=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        CostTracker(clock=lambda: naive).record_call(STRONG, 1, 1)
    with pytest.raises(TypeError, match="datetime"):
        CostTracker(clock=FakeClock()).record_call(STRONG, 1, 1, at=1_700_000_000)


def test_bad_tracker_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="bucket"):
        CostTracker(bucket=timedelta(milliseconds=10))
    with pytest.raises(ValueError, match="min_projection_window"):
        CostTracker(min_projection_window=timedelta(hours=-1))
    with pytest.raises(TypeError, match="clock"):
        CostTracker(clock="now")  # type: ignore[arg-type]


# -- threads -----------------------------------------------------------------------------------


THREADS = 8
CALLS_PER_THREAD = 2_000


@contextlib.contextmanager
def frequent_thread_switches():
    """Ask CPython to switch threads every microsecond, so races show up within a few calls."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def hammer(tracker: CostTracker) -> None:
    """8 threads, started together, each recording 2,000 lesson-sized calls."""
    barrier = threading.Barrier(THREADS)

    def work() -> None:
        barrier.wait()
        for _ in range(CALLS_PER_THREAD):
            tracker.record_call(STRONG, 2100, 300)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    with frequent_thread_switches():
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def test_eight_threads_lose_no_update() -> None:
    tracker = CostTracker(clock=FakeClock())
    hammer(tracker)
    summary = tracker.summary()
    calls = THREADS * CALLS_PER_THREAD  # 16,000
    assert summary["total_calls"] == calls
    assert summary["total_input_tokens"] == 33_600_000  # 16,000 x 2,100
    assert summary["total_output_tokens"] == 4_800_000  # 16,000 x 300
    assert summary["total_cost_usd"] == Decimal("158.4")  # 16,000 x $0.0099
    assert summary["by_model"][STRONG]["cost_usd"] == Decimal("158.4")
    assert tracker.time_buckets()[0].cost_usd == Decimal("158.4")


class UnlockedTracker(CostTracker):
    """The same tracker with its lock removed: what the test above must be able to catch."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lock = contextlib.nullcontext()  # type: ignore[assignment]


def test_the_thread_test_catches_a_tracker_without_a_lock() -> None:
    """Without the lock, the same load loses updates: so the test above can fail."""
    lost = []
    for _ in range(5):  # bounded: a race is likely each round, not certain
        tracker = UnlockedTracker(clock=FakeClock())
        hammer(tracker)
        lost.append(Decimal("158.4") - tracker.summary()["total_cost_usd"])
        if lost[-1] > 0:
            break
    assert any(amount > 0 for amount in lost), f"no update lost in {len(lost)} rounds"


# -- time: clock, buckets, projection ------------------------------------------------------------


def test_records_carry_the_clock_time_or_the_explicit_one() -> None:
    clock = FakeClock()
    tracker = CostTracker(clock=clock)
    assert tracker.record_call(STRONG, 1, 1).at == T0
    clock.now = T0 + timedelta(minutes=5)
    assert tracker.record_call(STRONG, 1, 1).at == T0 + timedelta(minutes=5)
    replayed = datetime(2026, 1, 4, 23, 0, tzinfo=UTC)
    assert tracker.record_call(STRONG, 1, 1, at=replayed).at == replayed
    summary = tracker.summary()
    assert summary["first_call_at"] == replayed
    assert summary["last_call_at"] == T0 + timedelta(minutes=5)


def test_projection_scales_the_observed_window_to_thirty_days() -> None:
    """$X over 2 hours is 360 x X a month (720 hours / 2)."""
    clock = FakeClock()
    tracker = CostTracker(clock=clock)
    for hour in range(3):  # 09:00, 10:00, 11:00: a two-hour window
        clock.now = T0 + timedelta(hours=hour)
        tracker.record_call(STRONG, 2100, 300)
    summary = tracker.summary()
    assert summary["window_seconds"] == 7200
    assert summary["total_cost_usd"] == Decimal("0.0297")
    assert summary["projected_monthly_usd"] == Decimal("10.692")  # 360 x $0.0297
    assert "2.0 h" in summary["projection_note"]
    assert "daily cycle" in summary["projection_note"]


def test_projection_over_a_week_is_not_the_lifetime_total_times_thirty() -> None:
    tracker = CostTracker(clock=FakeClock())
    tracker.record_call(STRONG, 2100, 300, at=T0)
    tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(days=7))
    summary = tracker.summary()
    # $0.0198 over 7 days -> 30/7 of it a month; the lesson's formula would say 30 x $0.0198.
    assert summary["projected_monthly_usd"] == pytest.approx(Decimal("0.0198") * 30 / 7,
                                                             rel=Decimal("1e-25"))
    assert "daily cycle" not in summary["projection_note"]


def test_no_projection_from_a_window_too_short() -> None:
    tracker = CostTracker(clock=FakeClock())
    empty = tracker.summary()
    assert empty["projected_monthly_usd"] is None
    assert empty["avg_cost_per_call_usd"] is None
    assert empty["window_seconds"] is None
    assert "no calls" in empty["projection_note"]
    tracker.record_call(STRONG, 2100, 300, at=T0)
    one = tracker.summary()
    assert one["projected_monthly_usd"] is None and one["window_seconds"] == 0
    tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(minutes=10))
    short = tracker.summary()
    assert short["projected_monthly_usd"] is None
    assert "too short" in short["projection_note"]


def test_the_minimum_projection_window_is_configurable() -> None:
    tracker = CostTracker(clock=FakeClock(), min_projection_window=timedelta(0))
    tracker.record_call(STRONG, 2100, 300, at=T0)
    tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(minutes=10))
    # 30 days / 10 minutes = 4,320 windows; 4,320 x $0.0198 = $85.536.
    assert tracker.summary()["projected_monthly_usd"] == Decimal("85.536")


def test_time_buckets_are_hours_with_quiet_hours_as_zero() -> None:
    tracker = CostTracker(clock=FakeClock())
    tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(minutes=10))
    tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(minutes=50))
    tracker.record_call(WEAK, 2100, 300, 1024, at=T0 + timedelta(hours=2, minutes=30))
    buckets = tracker.time_buckets()
    assert [b.start for b in buckets] == [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    assert [b.end - b.start for b in buckets] == [timedelta(hours=1)] * 3
    assert [b.calls for b in buckets] == [2, 0, 1]
    assert [b.cost_usd for b in buckets] == [Decimal("0.0198"), 0, WEAK_CACHED_CALL_USD]
    assert buckets[2].cached_input_cost_usd == Decimal("0.0000512")


def test_timestamps_in_other_zones_land_on_the_same_timeline() -> None:
    tracker = CostTracker(clock=FakeClock())
    beijing = timezone(timedelta(hours=8))
    tracker.record_call(STRONG, 1, 1, at=datetime(2026, 1, 5, 17, 30, tzinfo=beijing))
    assert tracker.time_buckets()[0].start == T0  # 17:30 in Beijing is 09:30 UTC


def test_projection_history_ends_at_the_summarys_projection() -> None:
    tracker = CostTracker(clock=FakeClock())
    for hour in (0, 1, 2, 3):
        tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(hours=hour, minutes=30))
    history = tracker.projection_history()
    assert len(history) == 4
    # End of the first hour: 30 minutes observed, below the 1-hour minimum.
    assert history[0].projected_monthly_usd is None
    assert history[0].lifetime_total_x30_usd == Decimal("0.297")  # 30 x $0.0099
    # End of the second hour: $0.0198 over 1.5 h -> 480 x $0.0198 = $9.504.
    assert history[1].projected_monthly_usd == Decimal("9.504")
    # The last point is at the last call: $0.0396 over 3 h -> 240 x $0.0396 = $9.504.
    assert history[-1].at == T0 + timedelta(hours=3, minutes=30)
    assert history[-1].projected_monthly_usd == tracker.summary()["projected_monthly_usd"]
    assert history[-1].projected_monthly_usd == Decimal("9.504")
    assert history[-1].lifetime_total_x30_usd == Decimal("1.188")


# -- usage reports -----------------------------------------------------------------------------


def test_record_usage_from_an_openai_completion_usage_with_cached_tokens() -> None:
    tracker = CostTracker(clock=FakeClock())
    usage = CompletionUsage(prompt_tokens=2100, completion_tokens=300, total_tokens=2400,
                            prompt_tokens_details=PromptTokensDetails(cached_tokens=1024))
    call = tracker.record_usage(WEAK, usage)
    assert call.cost_usd == WEAK_CACHED_CALL_USD
    assert call.cached_input_tokens == 1024


def test_record_usage_without_prompt_details() -> None:
    tracker = CostTracker(clock=FakeClock())
    usage = CompletionUsage(prompt_tokens=2100, completion_tokens=300, total_tokens=2400)
    assert tracker.record_usage(STRONG, usage).cost_usd == CALL_USD


def test_record_usage_from_an_embeddings_usage() -> None:
    tracker = CostTracker(clock=FakeClock())
    usage = EmbeddingUsage(prompt_tokens=5_000_000, total_tokens=5_000_000)
    # The lesson's index size: 10,000 documents x 500 tokens, at $0.04/1M = $0.20.
    assert tracker.record_usage(EMBEDDING, usage).cost_usd == Decimal("0.20")


def test_record_usage_from_a_responses_api_usage() -> None:
    tracker = CostTracker(clock=FakeClock())
    usage = ResponseUsage(input_tokens=2100, output_tokens=300, total_tokens=2400,
                          input_tokens_details=InputTokensDetails(cached_tokens=1024,
                                                                 cache_write_tokens=0),
                          output_tokens_details=OutputTokensDetails(reasoning_tokens=0))
    assert tracker.record_usage(WEAK, usage).cost_usd == WEAK_CACHED_CALL_USD


def test_record_usage_from_a_plain_dict() -> None:
    tracker = CostTracker(clock=FakeClock())
    logged = {"prompt_tokens": 2100, "completion_tokens": 300, "total_tokens": 2400,
              "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0}}
    assert tracker.record_usage(WEAK, logged).cost_usd == WEAK_CACHED_CALL_USD
    no_details = {"prompt_tokens": 2100, "completion_tokens": 300}
    assert tracker.record_usage(STRONG, no_details).cost_usd == CALL_USD


def test_missing_or_foreign_usage_is_refused() -> None:
    tracker = CostTracker(clock=FakeClock())
    with pytest.raises(ValueError, match="include_usage"):
        tracker.record_usage(STRONG, None)
    with pytest.raises(TypeError, match="not a usage report"):
        tracker.record_usage(STRONG, {"tokens": 12})
    with pytest.raises(UnknownModelError):
        tracker.record_usage("llama3", {"prompt_tokens": 10, "completion_tokens": 2})
    assert tracker.summary()["total_calls"] == 0


@pytest.fixture(scope="module")
def client():
    with sandbox.start(time_scale=0, seed=7) as sb:
        yield openai.OpenAI(base_url=sb.base_url, api_key="sandbox", max_retries=0)


def test_record_response_bills_the_snapshot_that_answered(client) -> None:
    tracker = CostTracker(clock=FakeClock())
    response = client.chat.completions.create(
        model=STRONG, messages=[{"role": "user", "content": "How much does Kitewing cost?"}])
    call = tracker.record_response(response)
    assert call.model == response.model == STRONG_SNAPSHOT
    usage = response.usage
    expected = (Decimal(usage.prompt_tokens) * Decimal("3.00")
                + Decimal(usage.completion_tokens) * Decimal("12.00")) / 1_000_000
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert tracker.summary()["total_cost_usd"] == expected


def test_a_stream_is_billed_from_its_final_usage_chunk(client) -> None:
    tracker = CostTracker(clock=FakeClock())
    messages = [{"role": "user", "content": "How do I reset my password?"}]
    chunks = list(client.chat.completions.create(
        model=WEAK, messages=messages, stream=True,
        stream_options={"include_usage": True}))
    tracker.record_usage(chunks[-1].model, chunks[-1].usage)
    usage = chunks[-1].usage
    expected = (Decimal(usage.prompt_tokens) * Decimal("0.20")
                + Decimal(usage.completion_tokens) * Decimal("0.80")) / 1_000_000
    assert tracker.summary()["total_cost_usd"] == expected
    without = list(client.chat.completions.create(model=WEAK, messages=messages,
                                                  stream=True))
    with pytest.raises(ValueError, match="include_usage"):
        tracker.record_usage(without[-1].model, without[-1].usage)


def test_record_response_of_an_embeddings_call(client) -> None:
    tracker = CostTracker(clock=FakeClock())
    response = client.embeddings.create(model=EMBEDDING,
                                        input=["reset password", "cancel my plan"])
    call = tracker.record_response(response)
    assert call.output_tokens == 0
    assert call.cost_usd == Decimal(response.usage.prompt_tokens) * Decimal("0.04") / 1_000_000


# -- pico-dollars ------------------------------------------------------------------------------


def test_picodollars_round_trip_and_refuse_finer_amounts() -> None:
    assert to_picodollars(Decimal("0.00825")) == 8_250_000_000
    assert to_picodollars(Decimal("0.000000025")) == 25_000  # batch weak cached input, 1 token
    assert from_picodollars(8_250_000_000) == Decimal("0.00825")
    assert str(from_picodollars(300 * 10**12)) == "300"
    assert to_picodollars(Decimal("-2E-11")) == -20
    with pytest.raises(ValueError, match="pico-dollars"):
        to_picodollars(Decimal("1E-13"))
    with pytest.raises(TypeError):
        to_picodollars(0.00825)  # type: ignore[arg-type]


# -- the lesson's Go tracker, ported -----------------------------------------------------------


def test_lesson_port_records_8_micro_dollars_for_the_lessons_conversation() -> None:
    """2100*2500/1e6 = 5.25 -> 5 and 300*10000/1e6 = 3: $0.000008 instead of $0.00825."""
    lesson = LessonCostTracker()
    lesson.record_call("gpt-4o", 2100, 300)
    summary = lesson.summary()
    assert lesson.total_cost_micro_usd.load() == 8
    assert summary["total_cost_usd"] == 0.000008
    assert summary["total_calls"] == 1
    assert (summary["total_input_tokens"], summary["total_output_tokens"]) == (2100, 300)


def test_lesson_port_rounds_a_small_call_to_zero() -> None:
    """gpt-4o-mini: 2100*150/1e6 = 0.315 -> 0 and 300*600/1e6 = 0.18 -> 0."""
    lesson = LessonCostTracker()
    lesson.record_call("gpt-4o-mini", 2100, 300)
    assert lesson.summary()["total_cost_usd"] == 0.0
    assert lesson.summary()["total_calls"] == 1


def test_lesson_port_counts_unknown_models_as_free() -> None:
    lesson = LessonCostTracker()
    lesson.record_call("gpt-4o-2024-08-06", 2100, 300)  # what response.model says
    lesson.record_call("text-embedding-3-small", 5_000_000, 0)
    assert lesson.summary()["total_calls"] == 2
    assert lesson.summary()["total_cost_usd"] == 0.0


def test_lesson_port_estimates_a_month_as_the_lifetime_total_times_30() -> None:
    lesson = LessonCostTracker()
    for _ in range(4):
        lesson.record_call("gpt-4o", 2100, 300)  # 4 x 8 = 32 micro-USD, whenever they happened
    summary = lesson.summary()
    assert summary["avg_cost_per_call"] == 0.000008
    assert summary["estimated_monthly"] == pytest.approx(0.00096)  # 32e-6 x 30


def test_go_integer_division_truncates_toward_zero() -> None:
    assert go_int_div(7, 2) == 3
    assert go_int_div(-7, 2) == -3  # Python's -7 // 2 is -4
    assert go_int_div(7, -2) == -3
    assert go_int_div(5_250_000, 1_000_000) == 5


# -- Redis: one total for many processes -------------------------------------------------------


@pytest.mark.redis
def test_redis_tracker_matches_the_hand_computed_figures(redis_client) -> None:
    tracker = RedisCostTracker(redis_client, "costs:test", clock=FakeClock())
    for hour in range(3):
        tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(hours=hour))
    tracker.record_call(WEAK, 2100, 300, 1024, at=T0 + timedelta(minutes=30))
    summary = tracker.summary()
    assert summary["total_calls"] == 4
    assert summary["total_cost_usd"] == Decimal("0.0302064")
    assert summary["by_model"][STRONG]["cost_usd"] == Decimal("0.0297")
    assert summary["by_model"][WEAK]["cached_input_cost_usd"] == Decimal("0.0000512")
    assert summary["window_seconds"] == 7200
    assert summary["projected_monthly_usd"] == Decimal("10.874304")  # 360 x $0.0302064
    assert [b.calls for b in tracker.time_buckets()] == [2, 1, 1]


@pytest.mark.redis
def test_redis_tracker_refuses_what_the_in_memory_one_refuses(redis_client) -> None:
    tracker = RedisCostTracker(redis_client, "costs:test", clock=FakeClock())
    with pytest.raises(UnknownModelError):
        tracker.record_call("gpt-5-turbo", 1, 1)
    with pytest.raises(ValueError, match="negative"):
        tracker.record_call(STRONG, -1, 1)
    assert redis_client.keys("costs:test*") == []
    assert tracker.summary()["total_calls"] == 0


@pytest.mark.redis
def test_redis_tracker_keeps_prefixes_apart_and_resets(redis_url, redis_client) -> None:
    import redis

    decoded = redis.Redis.from_url(redis_url, decode_responses=True)
    support = RedisCostTracker(decoded, "costs:support", clock=FakeClock())
    sales = RedisCostTracker(redis_client, "costs:sales", clock=FakeClock())
    support.record_call(STRONG, 2100, 300)
    sales.record_call(WEAK, 2100, 300, 1024)
    assert support.summary()["total_cost_usd"] == CALL_USD
    assert sales.summary()["total_cost_usd"] == WEAK_CACHED_CALL_USD
    support.reset()
    assert support.summary()["total_calls"] == 0
    assert sales.summary()["total_calls"] == 1
    decoded.close()


CHILD = textwrap.dedent(
    """
    import pickle
    import sys
    from datetime import UTC, datetime, timedelta

    import redis

    from course_lib import models
    from course_lib.redis_tracker import RedisCostTracker

    url, prefix, name, hour, count, test_models = sys.argv[1:7]
    strong, weak, _ = [models.register(e) for e in pickle.loads(bytes.fromhex(test_models))]
    client = redis.Redis.from_url(url)
    tracker = RedisCostTracker(client, prefix)
    at = datetime(2026, 1, 5, int(hour), tzinfo=UTC)
    client.rpush(prefix + ":ready", name)
    if client.blpop([prefix + ":go"], timeout=30) is None:
        sys.exit("never told to go")
    for i in range(int(count)):
        tracker.record_call(strong.name, 2100, 300, at=at + timedelta(seconds=i))
        tracker.record_call(weak.name, 2100, 300, 1024, at=at + timedelta(seconds=i))
    """
)


@pytest.mark.redis
def test_two_processes_share_one_exact_total(redis_client, redis_url) -> None:
    """Two OS processes add 2 x 400 calls each at the same time; not a pico-dollar is lost."""
    prefix, count = "costs:shared", 400
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, redis_url, prefix, name, hour, str(count),
                          pickle.dumps(TEST_MODELS).hex()],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, hour in (("first", "9"), ("second", "13"))
    ]
    try:
        for _ in children:  # both are connected and waiting: start them together
            assert redis_client.blpop([f"{prefix}:ready"], timeout=60) is not None
        redis_client.rpush(f"{prefix}:go", "go", "go")
        for child in children:
            _, stderr = child.communicate(timeout=120)
            assert child.returncode == 0, stderr
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    summary = RedisCostTracker(redis_client, prefix).summary()
    assert summary["total_calls"] == 4 * count  # 1,600
    # Each process: 400 x ($0.0099 + $0.0005064) = 400 x $0.0104064 = $4.16256.
    assert summary["total_cost_usd"] == Decimal("8.32512")
    assert summary["by_model"][STRONG]["cost_usd"] == Decimal("7.92")  # 800 x $0.0099
    assert summary["by_model"][WEAK]["cached_input_tokens"] == 800 * 1024
    assert summary["first_call_at"] == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert summary["last_call_at"] == datetime(2026, 1, 5, 13, 6, 39, tzinfo=UTC)  # 13:00 + 399 s


# -- the dashboard -----------------------------------------------------------------------------


def test_render_dashboard_writes_a_png_and_refuses_an_empty_tracker(tmp_path) -> None:
    import matplotlib.pyplot as plt

    from course_lib.plots.cost import render_dashboard

    tracker = CostTracker(clock=FakeClock())
    with pytest.raises(ValueError, match="no calls"):
        render_dashboard(tracker, tmp_path / "empty.png")
    for hour in range(5):
        tracker.record_call(STRONG, 2100, 300, at=T0 + timedelta(hours=hour))
        tracker.record_call(WEAK, 2100, 300, 1024, at=T0 + timedelta(hours=hour))
    path = tmp_path / "nested" / "dashboard.png"
    figure = render_dashboard(tracker, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(figure.axes) == 4
    assert "$0.052" in figure.get_suptitle()  # 5 x $0.0104064 = $0.052032
    with pytest.raises(ValueError, match=r"\.png"):
        render_dashboard(tracker, tmp_path / "dashboard.svg")
    plt.close("all")
