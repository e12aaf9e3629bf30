"""The cost model against figures worked out by hand, and the calculator and cost charts.

The lesson's own figures ($0.00825 a conversation, $1,237.50 a month, $0.10 for an index) are
written out as the lesson states them. Every other expected value is worked out here from the
rates in the model registry (checked against the published prices in ``tests/test_models.py``),
never computed by the code under test.
"""

from __future__ import annotations

from decimal import Decimal

import matplotlib.pyplot as plt
import pytest

from course_lib.cost_calculator import CostCalculator
from course_lib.cost_model import (
    CalculatorSettings,
    ConversationTokens,
    Traffic,
    cacheable_prefix_tokens,
    conversation_cost,
    embedding_index_cost,
    estimate,
    format_usd,
    monthly_cost,
    system_prompt_saving,
)
from course_lib.models import UnknownModelError
from course_lib.plots.breakdown import cost_breakdown_figure, stacked_cost_figure
from course_lib.pricing import price_for

LESSON = ConversationTokens(system_prompt=500, retrieved_docs=1500, user_message=100, answer=300)
LESSON_TRAFFIC = Traffic(users_per_day=1000, messages_per_user=5)
MONTH = 150_000  # conversations: 1,000 users x 5 messages x 30 days
# USD per 1M tokens, from the registry.
GPT4O = price_for("gpt-4o")
MINI = price_for("gpt-4o-mini")
M = 1_000_000


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- one conversation


def test_lesson_conversation_costs_0_00825() -> None:
    cost = conversation_cost(LESSON, "gpt-4o")
    assert LESSON.input_tokens == 2100
    assert cost.input_usd == Decimal("0.00525")
    assert cost.output_usd == Decimal("0.003")
    assert cost.total_usd == Decimal("0.00825")


def test_each_part_is_priced_at_its_rate() -> None:
    cost = conversation_cost(LESSON, "gpt-4o")
    assert cost.by_part == {
        "system_prompt": 500 * GPT4O.input / M,
        "retrieved_docs": 1500 * GPT4O.input / M,
        "user_message": 100 * GPT4O.input / M,
        "framing": Decimal("0"),
        "answer": 300 * GPT4O.output / M,
    }


def test_input_share_of_the_lesson_conversation_is_7_of_11() -> None:
    # 0.00525 / 0.00825 = 525 / 825 = 7 / 11
    assert conversation_cost(LESSON, "gpt-4o").input_share == Decimal(7) / Decimal(11)


def test_framing_tokens_are_input() -> None:
    with_framing = ConversationTokens(500, 1500, 100, 300, framing=12)
    assert with_framing.input_tokens == 2112
    assert conversation_cost(with_framing, "gpt-4o").input_usd == 2112 * GPT4O.input / M


def test_cached_prefix_is_billed_at_the_cached_input_rate() -> None:
    tokens = ConversationTokens(1100, 1500, 100, 300)
    cost = conversation_cost(tokens, "gpt-4o", cached_input_tokens=1024)
    assert cost.prefix_cache_discount == 1024 * (GPT4O.input - GPT4O.cached_input) / M
    assert cost.input_usd == (1024 * GPT4O.cached_input + 1676 * GPT4O.input) / M
    assert cost.total_usd == sum(cost.by_part.values()) - cost.prefix_cache_discount


def test_a_free_conversation_has_no_input_share() -> None:
    assert conversation_cost(ConversationTokens(0, 0, 0, 0), "gpt-4o").input_share == 0


@pytest.mark.parametrize(("shared_prefix", "cached"), [
    (0, 0), (500, 0), (1023, 0), (1024, 1024), (1151, 1024), (1152, 1152), (1500, 1408),
])
def test_cacheable_prefix_starts_at_1024_and_grows_by_128(shared_prefix, cached) -> None:
    assert cacheable_prefix_tokens(shared_prefix) == cached


# --------------------------------------------------------------------------- one month


def test_lesson_month_is_1237_50_not_1200() -> None:
    month = monthly_cost(LESSON, "gpt-4o", LESSON_TRAFFIC)
    assert LESSON_TRAFFIC.conversations_per_day == 5000
    assert month.conversations == 150_000
    assert month.total_usd == Decimal("1237.50")
    assert month.input_usd == Decimal("787.50")
    assert month.output_usd == Decimal("450.00")
    assert month.by_part()["retrieved_docs"] == Decimal("562.50")


MINI_MONTH = MONTH * (2100 * MINI.input + 300 * MINI.output) / M


def test_the_same_month_on_gpt_4o_mini() -> None:
    assert monthly_cost(LESSON, "gpt-4o-mini", LESSON_TRAFFIC).total_usd == MINI_MONTH


def test_cutting_the_system_prompt_from_500_to_200_saves_300_tokens_a_conversation() -> None:
    cut = MONTH * 300  # tokens a month
    assert system_prompt_saving(LESSON, 200, "gpt-4o", LESSON_TRAFFIC) == cut * GPT4O.input / M
    assert system_prompt_saving(LESSON, 200, "gpt-4o-mini", LESSON_TRAFFIC) == (
        cut * MINI.input / M)


def test_a_500_token_prompt_is_too_short_for_the_prefix_cache() -> None:
    saving = system_prompt_saving(LESSON, 200, "gpt-4o", LESSON_TRAFFIC, prefix_cache=True)
    assert saving == MONTH * 300 * GPT4O.input / M


def test_with_a_prefix_cache_a_cut_saves_less() -> None:
    long_prompt = ConversationTokens(1500, 1500, 100, 300)
    # 3,100 input tokens: 1,408 of them cached before the cut, 1,152 of 2,800 after it.
    before = 1408 * GPT4O.cached_input + 1692 * GPT4O.input
    after = 1152 * GPT4O.cached_input + 1648 * GPT4O.input
    saving = system_prompt_saving(long_prompt, 1200, "gpt-4o", LESSON_TRAFFIC, prefix_cache=True)
    assert saving == MONTH * (before - after) / M
    without_cache = system_prompt_saving(long_prompt, 1200, "gpt-4o", LESSON_TRAFFIC)
    assert without_cache == MONTH * 300 * GPT4O.input / M
    assert 0 < saving < without_cache


def test_cutting_below_1024_tokens_loses_the_cache_and_costs_more() -> None:
    prompt = ConversationTokens(1100, 1500, 100, 300)
    before = 1024 * GPT4O.cached_input + 1676 * GPT4O.input  # 2,700 input, 1,024 cached
    after = 2400 * GPT4O.input  # 2,400 input, none cached
    saving = system_prompt_saving(prompt, 800, "gpt-4o", LESSON_TRAFFIC, prefix_cache=True)
    assert saving == MONTH * (before - after) / M < 0


def test_embedding_10k_documents_of_500_tokens_costs_ten_cents() -> None:
    assert embedding_index_cost(10_000, 500) == Decimal("0.10")
    large = price_for("text-embedding-3-large")
    assert embedding_index_cost(10_000, 500, "text-embedding-3-large") == 5 * large.input


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("arguments", "error", "match"), [
    ((-1, 5), ValueError, "users_per_day must not be negative"),
    ((1000, -5), ValueError, "messages_per_user must not be negative"),
    ((1000, 5, 0), ValueError, "days must be at least 1"),
    ((1.5, 5), TypeError, "users_per_day must be a whole number"),
    ((True, 5), TypeError, "users_per_day must be a whole number"),
    (("1000", 5), TypeError, "users_per_day must be a whole number"),
])
def test_bad_traffic_is_refused(arguments, error, match) -> None:
    with pytest.raises(error, match=match):
        Traffic(*arguments)


def test_negative_tokens_are_refused() -> None:
    with pytest.raises(ValueError, match="retrieved_docs must not be negative"):
        ConversationTokens(500, -1, 100, 300)


def test_unknown_model_is_an_error_that_names_it() -> None:
    with pytest.raises(UnknownModelError, match="gpt-5-turbo"):
        conversation_cost(LESSON, "gpt-5-turbo")
    with pytest.raises(UnknownModelError, match="gpt-5-turbo"):
        monthly_cost(LESSON, "gpt-5-turbo", LESSON_TRAFFIC)


def test_an_embedding_model_cannot_answer_a_conversation() -> None:
    with pytest.raises(ValueError, match="embedding model"):
        conversation_cost(LESSON, "text-embedding-3-small")


def test_cached_tokens_cannot_exceed_the_input() -> None:
    with pytest.raises(ValueError, match="cannot exceed input_tokens"):
        conversation_cost(LESSON, "gpt-4o", cached_input_tokens=2101)


def test_a_longer_shorter_prompt_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than the current system prompt"):
        system_prompt_saving(LESSON, 600, "gpt-4o", LESSON_TRAFFIC)


def test_traffic_must_be_a_traffic() -> None:
    with pytest.raises(TypeError, match="traffic must be a Traffic"):
        monthly_cost(LESSON, "gpt-4o", 150_000)  # type: ignore[arg-type]


@pytest.mark.parametrize(("amount", "text"), [
    (Decimal("1237.5"), "$1,237.50"),
    (Decimal("0.00825"), "$0.00825"),
    (Decimal("0.10"), "$0.10"),
    (Decimal("0.00000015"), "$0.00000015"),
    (Decimal("-79.5"), "-$79.50"),
    (Decimal("0"), "$0.00"),
    (0.003, "$0.003"),
])
def test_format_usd(amount, text) -> None:
    assert format_usd(amount) == text


@pytest.mark.parametrize(("amount", "nearest", "up"), [
    # A bound (the budget guard's worst case) is rounded up, never down to look smaller.
    (Decimal("0.0000123451"), "$0.0000123451", "$0.0000123451"),
    (Decimal("0.00001234561"), "$0.0000123456", "$0.0000123457"),
    (Decimal("1.231"), "$1.23", "$1.24"),
    (Decimal("0.15"), "$0.15", "$0.15"),
    (Decimal("0.00000001"), "$0.00000001", "$0.00000001"),
    (Decimal("-0.00001234561"), "-$0.0000123456", "-$0.0000123457"),
])
def test_format_usd_rounds_a_bound_up(amount, nearest, up) -> None:
    assert format_usd(amount) == nearest
    assert format_usd(amount, round_up=True) == up


# --------------------------------------------------------------------------- the calculator


def test_estimate_defaults_to_the_lesson() -> None:
    assert estimate(CalculatorSettings()).total_usd == Decimal("1237.50")
    assert estimate(CalculatorSettings(model="gpt-4o-mini")).total_usd == MINI_MONTH


def test_calculator_renders_the_lesson_once_when_built() -> None:
    calculator = CostCalculator.build()
    assert calculator.latest.total_usd == Decimal("1237.50")
    assert "$1,237.50" in calculator.summary.value
    assert "150,000" in calculator.summary.value


def test_moving_a_slider_or_the_model_recomputes() -> None:
    calculator = CostCalculator.build()
    calculator.controls["users_per_day"].value = 2000
    assert calculator.latest.total_usd == Decimal("2475.00")
    assert "$2,475.00" in calculator.summary.value
    calculator.controls["model"].value = "gpt-4o-mini"
    assert calculator.latest.total_usd == 2 * MINI_MONTH
    calculator.controls["system_prompt_tokens"].value = 200
    assert calculator.latest.total_usd == 2 * MONTH * (1800 * MINI.input + 300 * MINI.output) / M


def test_calculator_keeps_its_starting_settings_that_have_no_slider() -> None:
    calculator = CostCalculator.build(CalculatorSettings(days=31, messages_per_user=0))
    assert calculator.latest.conversations == 0
    calculator.controls["messages_per_user"].value = 2
    assert calculator.latest.conversations == 1000 * 2 * 31
    assert calculator.settings == CalculatorSettings(days=31, messages_per_user=2)


def test_calculator_leaves_no_figure_open() -> None:
    before = set(plt.get_fignums())
    calculator = CostCalculator.build()
    calculator.controls["answer_tokens"].value = 600
    assert set(plt.get_fignums()) == before


def test_calculator_refuses_bad_starting_settings() -> None:
    with pytest.raises(ValueError, match="not among"):
        CostCalculator.build(CalculatorSettings(model="gpt-5-turbo"))
    with pytest.raises(ValueError, match="users_per_day must not be negative"):
        CostCalculator.build(CalculatorSettings(users_per_day=-1))


# --------------------------------------------------------------------------- cost charts


def bar_widths(figure) -> list[float]:
    return [patch.get_width() for patch in figure.axes[0].patches]


def test_breakdown_figure_draws_one_bar_per_part_with_its_cost() -> None:
    costs = {"system prompt": Decimal("187.50"), "docs": Decimal("562.50"),
             "answer": Decimal("450")}
    figure = cost_breakdown_figure(costs, title="a month", output_parts=["answer"])
    ax = figure.axes[0]
    assert bar_widths(figure) == [187.5, 562.5, 450.0]
    assert [label.get_text() for label in ax.get_yticklabels()] == list(costs)
    texts = [text.get_text() for text in ax.texts]
    assert any("$562.50" in text and "(47%)" in text for text in texts)  # 562.5 / 1,200
    colours = [patch.get_facecolor() for patch in ax.patches]
    assert colours[0] == colours[1] != colours[2]


def test_stacked_figure_scales_rows_to_shares() -> None:
    rows = {"lesson": {"input": Decimal("0.00525"), "output": Decimal("0.003")},
            "sample": {"input": 0.001, "output": 0.003}}
    figure = stacked_cost_figure(rows, title="where the money goes", as_share=True)
    widths = bar_widths(figure)
    assert widths == pytest.approx([100 * 7 / 11, 100 * 4 / 11, 25.0, 75.0])
    lefts = [patch.get_x() for patch in figure.axes[0].patches]
    assert lefts == pytest.approx([0, 100 * 7 / 11, 0, 25.0])
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert "  $0.00825" in texts and "  $0.004" in texts


def test_stacked_figure_in_dollars_keeps_part_colours_across_rows() -> None:
    rows = {"a": {"input": 2.0, "output": 1.0}, "b": {"output": 4.0}}
    figure = stacked_cost_figure(rows, title="t")
    patches = figure.axes[0].patches
    assert bar_widths(figure) == [2.0, 1.0, 4.0]
    assert patches[1].get_facecolor() == patches[2].get_facecolor()


@pytest.mark.parametrize("costs", [{}, {"a": -1.0}, {"a": float("nan")}])
def test_breakdown_figure_refuses_bad_costs(costs) -> None:
    with pytest.raises(ValueError):
        cost_breakdown_figure(costs, title="t")


def test_breakdown_output_parts_must_exist() -> None:
    with pytest.raises(ValueError, match="not in costs"):
        cost_breakdown_figure({"a": 1.0}, title="t", output_parts=["answer"])


def test_the_cost_model_is_pure_arithmetic_with_no_widget_or_plotting_import() -> None:
    """A fresh interpreter imports it without ipywidgets, IPython or matplotlib."""
    import subprocess
    import sys

    code = ("import sys, course_lib.cost_model\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'ipywidgets', 'IPython', 'matplotlib'}))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert shown == "[]"
