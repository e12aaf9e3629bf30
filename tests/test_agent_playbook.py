"""course_lib.agent.levers, playbook and plots.playbook: the parts around the agents."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import matplotlib
import matplotlib.pyplot as plt
import pytest

from course_lib.agent import (
    COST_LEVERS,
    LATENCY_LEVERS,
    LEVER_NAMES,
    AgentSummary,
    LessonRange,
    Levers,
    PlaybookRow,
    format_change,
    format_playbook,
    ladder,
)
from course_lib.plots.playbook import ablation_figure, agents_figure

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


# --------------------------------------------------------------------------- levers


def test_levers_default_to_all_on_and_none_is_all_off() -> None:
    assert Levers().on == LEVER_NAMES
    assert Levers.none().on == ()
    assert Levers.none().with_on("streaming").on == ("streaming",)
    assert Levers().with_off("streaming", "fallback").on == tuple(
        name for name in LEVER_NAMES if name not in ("streaming", "fallback"))


def test_a_ladder_switches_levers_on_one_step_at_a_time() -> None:
    rungs = ladder([["compressed_prompt"], ["response_cache", "streaming"]])
    assert [name for name, _ in rungs] == [
        "naive", "+ prompt compression", "+ response cache + streaming"]
    assert [levers.on for _, levers in rungs] == [
        (), ("compressed_prompt",), ("compressed_prompt", "response_cache", "streaming")]


def test_unknown_or_repeated_levers_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown lever"):
        Levers().with_off("turbo")
    with pytest.raises(ValueError, match="twice"):
        ladder([["streaming"], ["streaming"]])
    with pytest.raises(ValueError, match="at least one"):
        ladder([[]])


# --------------------------------------------------------------------------- the lesson's tables


def test_the_lessons_tables_are_copied_with_their_ranges() -> None:
    assert [(r.strategy, r.low, r.high) for r in COST_LEVERS[:3]] == [
        ("Prompt 压缩(去冗余)", 0.10, 0.30), ("Prompt 缓存(相同 query)", 0.20, 0.60),
        ("模型路由(简单用小模型)", 0.40, 0.80)]
    assert not COST_LEVERS[3].quantitative  # batch embedding: "fewer round trips"
    assert [(r.strategy, r.low, r.high) for r in LATENCY_LEVERS] == [
        ("并发 tool 调用", 2.0, 3.0), ("流式响应 SSE", 0.8, 0.8), ("响应缓存(同 query)", 1.0, 1.0)]


def test_a_verdict_says_where_a_measurement_falls() -> None:
    routing = COST_LEVERS[2]
    assert routing.verdict(0.39) == "below"
    assert routing.verdict(0.40) == "inside" and routing.verdict(0.80) == "inside"
    assert routing.verdict(0.81) == "above"
    streaming = LATENCY_LEVERS[1]
    assert streaming.verdict(0.76) == "below"
    assert streaming.verdict(0.76, tolerance=0.05) == "inside"
    with pytest.raises(ValueError, match="qualitative"):
        COST_LEVERS[3].verdict(2.0)
    assert routing.format(0.456) == "46%" and LATENCY_LEVERS[0].format(2.17) == "2.2x"


def test_a_range_needs_both_ends_in_order() -> None:
    with pytest.raises(ValueError, match="both ends"):
        LessonRange("x", "x", "x", 0.1, None, "share", "")
    with pytest.raises(ValueError, match="above high"):
        LessonRange("x", "x", "x", 0.5, 0.1, "share", "")


def test_the_playbook_prints_every_row_and_its_reason() -> None:
    rows = [PlaybookRow(COST_LEVERS[0], "21%", "inside", "the system prompt was half fluff"),
            PlaybookRow(COST_LEVERS[1], "45%", "inside", "the trace repeats itself")]
    text = format_playbook("cost levers", rows)
    assert text.splitlines()[0] == "cost levers"
    assert "10-30%" in text and "21%" in text and "the trace repeats itself" in text
    assert "陈旧信息返回" in text


# --------------------------------------------------------------------------- plots


def summary(name: str, monthly: str, ttft: float, total: float) -> AgentSummary:
    return AgentSummary(name, 10, 9, Decimal(monthly) / 1000, Decimal(monthly), ttft,
                        ttft * 2, total, total * 2, 0.3, 0.0, 0.0, 1.0, 1.0, 0.9, 0, 10)


def test_the_ablation_figure_draws_each_rungs_bill() -> None:
    figure = ablation_figure(["naive", "+ a", "+ b"], [500.0, 400.0, 100.0])
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert heights == [500.0, 400.0, 100.0]
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts[1].endswith("-20%") and texts[2].endswith("-75%")
    with pytest.raises(ValueError, match="one monthly figure per label"):
        ablation_figure(["naive"], [1.0, 2.0])


def test_the_agents_figure_draws_latencies_in_the_given_unit() -> None:
    naive, fast = summary("naive", "556", 0.28, 0.28), summary("optimized", "102", 0.08, 0.1)
    figure = agents_figure([naive, fast], [naive, fast], time_unit=0.1, unit_label="sim s")
    money, wait, _ = figure.axes
    assert [bar.get_height() for bar in money.patches] == [556.0, 102.0]
    naive_bars = [bar.get_height() for bar in wait.patches[:4]]
    assert naive_bars == pytest.approx([2.8, 5.6, 2.8, 5.6])
    with pytest.raises(ValueError, match="time_unit"):
        agents_figure([naive], [naive], time_unit=0)


@pytest.mark.parametrize(("cut", "digits", "expected"), [
    (0.12, 0, "-12%"), (-0.01, 0, "+1%"), (0.996, 1, "-99.6%"), (1.0, 0, "-100%"),
    (0.001, 0, "0%"), (-0.0004, 1, "0.0%"), (0.0, 0, "0%"),
])
def test_a_cut_is_written_as_a_signed_change(cut: float, digits: int, expected: str) -> None:
    """One sign, from the number: a negative cut (the wait grew) is a "+", never "--"."""
    assert format_change(cut, digits=digits) == expected


def test_a_bad_digit_count_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="digits must be an integer >= 0"):
        format_change(0.1, digits=-1)
