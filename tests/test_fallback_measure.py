"""Measuring clients under faults, and the figures notebook 06 draws from the measurements."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import SimpleNamespace

import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import LineCollection, PathCollection

from course_lib.fallback import Failure, FailureKind, LinkAttempt
from course_lib.fallback.measure import (
    Answer,
    CallOutcome,
    LoadSummary,
    replay_calls,
    summarize_calls,
)
from course_lib.plots import reliability


def usage(prompt: int, completion: int) -> SimpleNamespace:
    return SimpleNamespace(prompt_tokens=prompt, completion_tokens=completion,
                           prompt_tokens_details=SimpleNamespace(cached_tokens=0))


class StepClock:
    """Each reading is one second after the previous one."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_replay_turns_failures_into_outcomes_and_keeps_prompt_order() -> None:
    async def call(prompt: str) -> Answer:
        await asyncio.sleep(0)
        if prompt == "bad":
            raise RuntimeError("both primary and secondary models failed")
        return Answer("gpt-4o-mini", usage(1000, 100))

    outcomes = asyncio.run(replay_calls(call, ["a", "bad", "c"], concurrency=2))
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error == "RuntimeError: both primary and secondary models failed"
    # gpt-4o-mini: 1000 x $0.15/1M + 100 x $0.60/1M.
    assert outcomes[0].cost_usd == Decimal("0.00021")
    assert outcomes[1].cost_usd == 0


def test_replay_never_runs_more_than_the_concurrency() -> None:
    running = 0
    peak = 0

    async def call(prompt: str) -> Answer:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1
        return Answer("gpt-4o", usage(10, 1))

    asyncio.run(replay_calls(call, [str(i) for i in range(20)], concurrency=3))
    assert peak == 3


def test_replay_measures_latency_on_the_injected_clock() -> None:
    async def call(prompt: str) -> Answer:
        return Answer("gpt-4o", usage(10, 1))

    outcomes = asyncio.run(replay_calls(call, ["a"], concurrency=1, clock=StepClock()))
    assert outcomes[0].latency_s == 1.0


@pytest.mark.parametrize("concurrency", [0, -1, 1.5])
def test_replay_rejects_bad_concurrency(concurrency) -> None:
    async def call(prompt: str) -> Answer:
        raise AssertionError("never called")

    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(replay_calls(call, ["a"], concurrency=concurrency))


def test_summarize_counts_who_answered_and_percentiles() -> None:
    outcomes = [CallOutcome(True, "gpt-4o", float(s), Decimal("0.01")) for s in range(1, 9)]
    outcomes += [CallOutcome(True, "gpt-4o-mini", 9.0, Decimal("0.001")),
                 CallOutcome(False, None, 10.0, Decimal(0), "DeadlineExceededError")]
    summary = summarize_calls("chain", outcomes, primary_model="gpt-4o", requests_sent=15)
    assert summary.success_rate == 0.9
    assert summary.primary_share == 0.8
    # Latencies 1..10: the median interpolates between 5 and 6; p95 between 9 and 10.
    assert summary.p50_s == 5.5
    assert summary.p95_s == pytest.approx(9.55)
    assert summary.max_s == 10.0
    assert summary.cost_usd == Decimal("0.081")
    assert summary.requests_per_call == 1.5


def test_summarize_needs_outcomes() -> None:
    with pytest.raises(ValueError, match="at least one"):
        summarize_calls("empty", [], primary_model="gpt-4o")


# --- figures ----------------------------------------------------------------------------------

def summaries() -> list[LoadSummary]:
    return [LoadSummary("lesson", 200, 0.93, 0.55, 0.09, 0.29, 1.5, Decimal("0.13"), 290),
            LoadSummary("chain", 200, 0.995, 0.9, 0.11, 0.37, 0.6, Decimal("0.21"), 350)]


def test_comparison_figure_draws_the_measured_numbers() -> None:
    fig = reliability.fallback_comparison(summaries(), time_unit=0.05)
    axes = fig.axes
    assert len(axes) == 3
    answered = [bar.get_height() for bar in axes[0].patches]
    assert answered == pytest.approx([93.0, 99.5, 55.0, 90.0])
    latency = [bar.get_height() for bar in axes[1].patches]
    assert latency == pytest.approx([1.8, 2.2, 5.8, 7.4])  # divided by the time unit
    cost = [bar.get_height() for bar in axes[2].patches]
    assert cost == pytest.approx([0.65, 1.05])  # USD per 1,000 calls
    plt.close(fig)


def test_comparison_figure_adds_the_latency_distribution_when_given() -> None:
    fig = reliability.fallback_comparison(
        summaries(), {"lesson": [0.1, 0.2, 1.5], "chain": [0.1, 0.3, 0.6]})
    assert len(fig.axes) == 4
    lines = fig.axes[3].get_lines()
    assert list(lines[0].get_ydata()) == pytest.approx([1 / 3, 2 / 3, 1.0])
    plt.close(fig)


def test_attempt_timeline_draws_attempts_and_waits() -> None:
    failure = Failure(FailureKind.RETRYABLE, "InternalServerError", "boom", status=503)
    attempts = [LinkAttempt("gpt-4o", "gpt-4o", 1, "failed", 0.0, 0.05, failure, 0.02),
                LinkAttempt("gpt-4o", "gpt-4o", 2, "ok", 0.07, 0.1)]
    fig = reliability.attempt_timeline(attempts, time_unit=0.01)
    widths = [bar.get_width() for bar in fig.axes[0].patches]
    assert widths == pytest.approx([5.0, 2.0, 10.0])  # attempt, its wait, the answer
    texts = [t.get_text().strip() for t in fig.axes[0].texts]
    assert texts == ["503 (retryable)", "ok"]
    plt.close(fig)


def test_backoff_spread_marks_every_ceiling() -> None:
    fig = reliability.backoff_spread({1: [0.1, 0.4], 2: [0.9]}, {1: 0.5, 2: 1.0})
    collections = fig.axes[0].collections
    ceilings = [c.get_segments()[0][0][1] for c in collections if isinstance(c, LineCollection)]
    assert ceilings == [0.5, 1.0]
    plotted = [list(c.get_offsets()[:, 1]) for c in collections if isinstance(c, PathCollection)]
    assert plotted == [[0.1, 0.4], [0.5], [0.9], [1.0]]  # each attempt's draws, then its marker
    plt.close(fig)


@pytest.mark.parametrize("draw", [
    lambda: reliability.fallback_comparison([]),
    lambda: reliability.attempt_timeline([]),
    lambda: reliability.backoff_spread({}, {}),
])
def test_figures_refuse_empty_data(draw) -> None:
    with pytest.raises(ValueError):
        draw()
