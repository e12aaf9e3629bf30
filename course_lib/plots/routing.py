"""The routing trade-off: how much a router saves against how complete its answers stay.

The lesson claims routing saves 90% of the cost (实现3) and, in its table of cost levers, 40-80%
(模型路由: 40-80%, 精度轻微下降). This figure puts measured routers on one chart: the saving
against always using the strong model on the x axis, the quality proxy (answer completeness,
:mod:`course_lib.router.evaluation`) on the y axis, the embedding router's threshold sweep as a
curve, and both of the lesson's figures as marks. Everything drawn is passed in, already measured.
Completeness is a share, so its axis runs from 0 to 100%: a router at 80% then sits a fifth of
the way down from a perfect one, not at the bottom of the chart.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib.plots.readable import legend_below
from course_lib.router.evaluation import RoutingReport, SweepPoint

__all__ = ["routing_tradeoff_figure"]

CURVE_COLOUR = "#4C72B0"
CLAIM_COLOUR = "#C44E52"
BAND_COLOUR = "#DD8452"
POINT_COLOUR = "#55A868"
ROUTER_MARKERS = ("o", "s", "D", "^", "v", "P")


def _share(name: str, value: float) -> float:
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1, got {value}")
    return value


def routing_tradeoff_figure(
    sweep: Sequence[SweepPoint],
    *,
    routers: Sequence[RoutingReport] = (),
    operating_point: SweepPoint | None = None,
    lesson_claim: float = 0.90,
    lesson_band: tuple[float, float] = (0.40, 0.80),
    title: str = "Routing: money saved against answer completeness (test split)",
    ax: Axes | None = None,
) -> Figure:
    """Saving (x) against completeness (y): the sweep as a curve, routers as marked points.

    ``operating_point`` is drawn as a star with its threshold. ``lesson_claim`` is drawn as a
    vertical line and ``lesson_band`` as a shaded band. The figure is made with pyplot, so a
    notebook shows it at the end of the cell.
    """
    if not sweep:
        raise ValueError("sweep must hold at least one SweepPoint")
    lesson_claim = _share("lesson_claim", lesson_claim)
    low, high = (_share("lesson_band", value) for value in lesson_band)
    if low > high:
        raise ValueError(f"lesson_band must be (low, high), got {lesson_band}")
    if ax is None:
        figure, ax = plt.subplots(figsize=(8.5, 5.8), layout="constrained")
    else:
        figure = ax.figure  # type: ignore[assignment]

    ax.axvspan(low * 100, high * 100, color=BAND_COLOUR, alpha=0.15,
               label=f"lesson's table: routing saves {low:.0%}-{high:.0%}")
    ax.axvline(lesson_claim * 100, color=CLAIM_COLOUR, linestyle="--",
               label=f"lesson's claim: saves {lesson_claim:.0%}")

    ordered = sorted(sweep, key=lambda point: point.report.saving)
    ax.plot([p.report.saving * 100 for p in ordered],
            [p.report.completeness * 100 for p in ordered],
            marker=".", color=CURVE_COLOUR, label="embedding router, threshold swept")

    # Routers are told apart by marker in the legend: text next to points that sit close
    # together (they all crowd near 100% completeness) would be written over each other.
    for report, marker in zip(routers, itertools.cycle(ROUTER_MARKERS)):
        x, y = report.saving * 100, report.completeness * 100
        ax.scatter([x], [y], color="black", marker=marker, s=40, zorder=3,
                   label=f"{report.name}: saves {report.saving:.0%}, "
                         f"{report.completeness:.0%} complete")

    if operating_point is not None:
        report = operating_point.report
        x, y = report.saving * 100, report.completeness * 100
        label = f"chosen threshold {operating_point.threshold:.2f}: saves {report.saving:.0%}"
        ax.scatter([x], [y], marker="*", s=260, color=POINT_COLOUR, edgecolor="black", zorder=4,
                   label=label)

    ax.set_ylim(0, 101.5)
    ax.set_yticks(range(0, 101, 20))
    ax.set_xlim(-2, 100)
    ax.set_xlabel("saving against always using the strong model (%)")
    ax.set_ylabel("answer completeness, quality proxy (%)")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(alpha=0.3)
    legend_below(ax, ncol=2)
    return figure
