"""The routing trade-off figure draws what it is given, and refuses nonsense."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from course_lib.plots.routing import routing_tradeoff_figure
from course_lib.router.evaluation import report_routing, sweep_thresholds

LABELS = ["simple", "complex", "simple", "complex"]
SWEEP = sweep_thresholds("emb", [0.1, 0.8, 0.3, 0.6], LABELS, [0.0, 0.5, 0.7, 0.9])


def test_figure_marks_the_lessons_claims_and_the_points() -> None:
    lesson = report_routing("lesson", LABELS, [True, False, False, False])
    figure = routing_tradeoff_figure(SWEEP, routers=[lesson], operating_point=SWEEP[1])
    ax = figure.axes[0]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "lesson's claim: saves 90%" in legend
    assert "lesson's table: routing saves 40%-80%" in legend
    assert any(label.startswith("chosen threshold 0.50") for label in legend)
    assert "lesson: saves 70%, 50% complete" in legend  # routers are named in the legend
    assert len(ax.texts) == 0  # not in text next to points, which crowd near 100%
    (curve,) = ax.get_lines()[1:]  # the first line is the claim's vertical line
    assert len(curve.get_xdata()) == len(SWEEP)
    plt.close(figure)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        routing_tradeoff_figure([])
    with pytest.raises(ValueError, match="lesson_band"):
        routing_tradeoff_figure(SWEEP, lesson_band=(0.8, 0.4))
    with pytest.raises(ValueError, match="lesson_claim"):
        routing_tradeoff_figure(SWEEP, lesson_claim=90)
