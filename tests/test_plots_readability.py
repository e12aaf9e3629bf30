"""The figures a learner reads at 1400 x 900 with JupyterLab's file browser open.

For each figure notebooks 01, 04, 05 and 06 draw: no legend on the data, share axes from zero,
no text under 9 pt, and no figure wider than the 968 px output area (9.4 inches at 100 dpi).
The checks (``tests/plot_checks.py``) are themselves tested on figures that break them.
"""

from __future__ import annotations

from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.cache.threshold import hit_curve
from course_lib.cost_calculator import calculator_figure
from course_lib.cost_model import CalculatorSettings, estimate
from course_lib.fallback.failures import Failure, FailureKind, LinkAttempt
from course_lib.fallback.measure import LoadSummary
from course_lib.plots import cache as cache_plots
from course_lib.plots.breakdown import stacked_cost_figure
from course_lib.plots.readable import MAX_WIDTH_IN, MIN_FONT_PT, legend_below
from course_lib.plots.reliability import attempt_timeline, backoff_spread, fallback_comparison
from course_lib.plots.routing import routing_tradeoff_figure
from course_lib.router.evaluation import report_routing, sweep_thresholds
from tests.plot_checks import legend_overlaps, small_texts

RNG = np.random.default_rng(7)


def similarity_curves() -> dict[str, list]:
    scores = RNG.uniform(0, 1, 300)
    labels = RNG.uniform(0, 1, 300) < scores  # more similar, more often the same intent
    guarded = np.where(RNG.uniform(0, 1, 300) < 0.2, -np.inf, scores)
    return {"similarity alone": hit_curve(scores, labels),
            "with guards": hit_curve(guarded, labels)}


def routing_figure() -> Figure:
    labels = ["simple", "complex"] * 40
    scores = RNG.uniform(0, 1, 80)
    sweep = sweep_thresholds("emb", scores, labels, list(np.linspace(0, 1, 21)))
    lesson = report_routing("lesson's router", labels, [i % 3 == 0 for i in range(80)])
    perfect = report_routing("perfect router", labels, [lab == "simple" for lab in labels])
    return routing_tradeoff_figure(sweep, routers=[lesson, perfect], operating_point=sweep[9])


def summaries() -> list[LoadSummary]:
    return [LoadSummary("lesson", 200, 0.92, 0.50, 2.9, 12.2, 40.0, Decimal("0.122")),
            LoadSummary("chain, fall back at once", 200, 0.87, 0.44, 3.8, 18.8, 31.0,
                        Decimal("0.106")),
            LoadSummary("chain, retry first", 200, 0.98, 0.92, 3.3, 9.0, 17.0, Decimal("0.22"))]


def latencies() -> dict[str, list[float]]:
    return {s.name: list(RNG.lognormal(1.1, 0.5, 200)) for s in summaries()}


def attempts() -> list[LinkAttempt]:
    timeout = Failure(FailureKind.RETRYABLE, "APITimeoutError", "timed out")
    overloaded = Failure(FailureKind.RETRYABLE, "InternalServerError", "overloaded", 503,
                         "overloaded")
    return [LinkAttempt("gpt-4o", "gpt-4o", 1, "failed", 0.0, 6.0, timeout, 0.4),
            LinkAttempt("gpt-4o", "gpt-4o", 2, "failed", 6.8, 2.4, overloaded, 0.8),
            LinkAttempt("gpt-4o", "gpt-4o", 3, "ok", 10.0, 1.9)]


FIGURES = {
    "01 calculator": lambda: calculator_figure(estimate(CalculatorSettings())),
    "01 where the money goes": lambda: stacked_cost_figure(
        {"lesson": {"prompt": 0.0012, "docs": 0.0037, "answer": 0.003},
         "gpt-4o-mini": {"prompt": 0.0001, "docs": 0.0002, "answer": 0.0002}},
        title="Where one conversation's money goes", as_share=True),
    "04 TTL hit rates": lambda: cache_plots.plot_ttl_hit_rates(
        ["30 s", "5 min", "1 h", "6 h", "24 h"],
        {"articles": [0.01, 0.1, 0.4, 0.67, 0.79], "troubleshooting": [0.04, 0.26, 0.63, 0.8, 0.88],
         "realtime (per user)": [0, 0, 0, 0, 0]}),
    "04 hit-decision curves": lambda: cache_plots.plot_hit_decision_curves(
        similarity_curves(), chosen=similarity_curves()["with guards"][40]),
    "04 similarity by pair kind": lambda: cache_plots.plot_similarity_by_pair_kind(
        list(RNG.uniform(-0.1, 1, 240)), ["paraphrase", "different_intent", "near_opposite"] * 80,
        ["en", "zh"] * 120, threshold=0.42),
    "04 cache strategies": lambda: cache_plots.plot_cache_strategies(
        ["no cache", "exact cache", "semantic cache"], [0.0, 0.73, 0.84], [3.67, 1.01, 0.58],
        [2, 2, 116]),
    "05 routing trade-off": routing_figure,
    "06 backoff spread": lambda: backoff_spread(
        {n: list(RNG.uniform(0, min(8, 0.5 * 2 ** (n - 1)), 400)) for n in range(1, 7)},
        {n: min(8.0, 0.5 * 2 ** (n - 1)) for n in range(1, 7)}),
    "06 one call's attempts": lambda: attempt_timeline(attempts(), unit_label="simulated s"),
    "06 clients compared": lambda: fallback_comparison(summaries(), latencies(),
                                                       unit_label="simulated s"),
    "06 clients compared, no tail": lambda: fallback_comparison(summaries()),
}


@pytest.fixture(params=list(FIGURES), ids=list(FIGURES))
def figure(request: pytest.FixtureRequest):
    drawn = FIGURES[request.param]()
    yield drawn
    plt.close(drawn)


def test_no_legend_sits_on_the_data(figure: Figure) -> None:
    assert legend_overlaps(figure) == []


def test_no_text_is_too_small_to_read(figure: Figure) -> None:
    assert small_texts(figure, MIN_FONT_PT) == []


def test_the_figure_fits_the_output_area_without_being_shrunk(figure: Figure) -> None:
    assert figure.get_size_inches()[0] <= MAX_WIDTH_IN


def share_axes(figure: Figure) -> list:
    """Axes whose y axis is a share: a percentage, or a share of something."""
    return [ax for ax in figure.axes if ax.get_visible() and any(
        word in (ax.get_ylabel() + " " + ax.get_title()).lower()
        for word in ("%", "share", "hit rate"))]


@pytest.mark.parametrize("name", ["04 TTL hit rates", "04 hit-decision curves",
                                  "04 cache strategies", "05 routing trade-off",
                                  "06 clients compared"])
def test_every_share_axis_starts_at_zero(name: str) -> None:
    figure = FIGURES[name]()
    shares = share_axes(figure)
    assert shares, f"{name}: no share axis found"
    for ax in shares:
        assert ax.get_ylim()[0] == 0, f"{name}: {ax.get_ylabel() or ax.get_title()!r} starts " \
                                      f"at {ax.get_ylim()[0]}"
    plt.close(figure)


def test_the_semantic_caches_wrong_answers_are_bars() -> None:
    """04 cell 44: 116 wrong answers must be a bar as tall as the chart, not a caption."""
    figure = FIGURES["04 cache strategies"]()
    wrong = next(ax for ax in figure.axes if "wrong" in ax.get_title())
    assert [bar.get_height() for bar in wrong.patches] == [2, 2, 116]
    assert wrong.get_ylim()[0] == 0
    plt.close(figure)


# --------------------------------------------------------------------------- the checks


def test_the_overlap_check_sees_a_legend_placed_on_lines_bars_and_markers() -> None:
    figure, (lines, bars, dots) = plt.subplots(1, 3, figsize=(9, 3))
    lines.plot([0, 1], [0, 1], label="rising")
    lines.legend(loc="center")  # the line passes through the centre
    bars.bar([0, 1], [5, 5], label="tall")
    bars.legend(loc="upper left")
    dots.scatter([0.5], [0.5], s=400, label="one dot")
    dots.set_xlim(0, 1)
    dots.set_ylim(0, 1)
    dots.legend(loc="center")
    problems = legend_overlaps(figure)
    assert any("line 'rising'" in p for p in problems)
    assert any("patch" in p for p in problems)
    assert any("marker of 'one dot'" in p for p in problems)
    plt.close(figure)


def test_legend_below_clears_the_tick_labels_and_the_data() -> None:
    figure, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    ax.plot([0, 1], [0, 1], label="rising")
    ax.set_xlabel("a long axis label that the legend must not cover")
    legend = legend_below(ax)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    assert legend_overlaps(figure) == []
    assert legend.get_window_extent(renderer).y1 <= ax.xaxis.label.get_window_extent(
        renderer).y0
    plt.close(figure)


def test_the_font_check_sees_small_text() -> None:
    figure, ax = plt.subplots()
    ax.text(0.5, 0.5, "tiny", fontsize=6)
    assert small_texts(figure, MIN_FONT_PT) == ["'tiny' at 6 pt"]
    plt.close(figure)
