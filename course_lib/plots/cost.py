"""The cost dashboard (the lesson's task 1, "成本仪表盘"): four panels from one cost tracker.

* **cost by model** — which model the money goes to, with each one's share;
* **what each model's dollars pay for** — fresh input, cached input and output tokens;
* **cost per hour** — the day's shape, which decides when a budget alarm should fire;
* **projected month** — the window projection and the lesson's ``avg × calls × 30`` as the
  traffic came in, hour by hour.

Everything drawn comes from the tracker (``summary()``, ``time_buckets()``,
``projection_history()``); nothing is computed here. Call :func:`render_dashboard` again after
more traffic to refresh the PNG. A live service would send the same numbers to Grafana (through
Prometheus or OpenTelemetry) instead of drawing a PNG; the panels are the same.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_lib.plots.breakdown import INPUT_COLOUR, OUTPUT_COLOUR, dollars
from course_lib.tracker import CostSummary, CostTrackerBase, ProjectionPoint, TimeBucket

__all__ = ["CACHED_INPUT_COLOUR", "cost_dashboard_figure", "render_dashboard"]

CACHED_INPUT_COLOUR = "#A6BDDB"  # the input colour, paler: the same tokens at a discount
MODEL_COLOUR = "#55A868"
WINDOW_COLOUR = "#4C72B0"
LESSON_COLOUR = "#C44E52"


def _parts(item: object) -> tuple[float, float, float]:
    """(fresh input, cached input, output) cost of a model breakdown or a time bucket."""
    if isinstance(item, TimeBucket):
        return (float(item.fresh_input_cost_usd), float(item.cached_input_cost_usd),
                float(item.output_cost_usd))
    assert isinstance(item, dict)
    return (float(item["fresh_input_cost_usd"]), float(item["cached_input_cost_usd"]),
            float(item["output_cost_usd"]))


def _by_model(ax: Axes, summary: CostSummary) -> None:
    models = list(summary["by_model"])
    costs = [float(summary["by_model"][m]["cost_usd"]) for m in models]
    bars = ax.barh(range(len(models)), costs, color=MODEL_COLOUR)
    ax.set_yticks(range(len(models)), models)
    ax.invert_yaxis()
    for bar, model in zip(bars, models, strict=True):
        row = summary["by_model"][model]
        share = row["share_of_cost"]
        label = f" {dollars(float(row['cost_usd']))}"
        if share is not None:
            label += f" ({share:.0%})" if share >= Decimal("0.01") else " (<1%)"
        label += f", {row['calls']:,} calls"
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, label, va="center",
                fontsize=8, parse_math=False)
    ax.set_xlim(0, max(costs) * 1.6 if max(costs) > 0 else 1)
    ax.set_xlabel("USD")
    ax.set_title("Cost by model")


def _by_token_kind(ax: Axes, summary: CostSummary) -> None:
    models = list(summary["by_model"])
    parts = [_parts(summary["by_model"][m]) for m in models]
    left = [0.0] * len(models)
    kinds = (("fresh input", INPUT_COLOUR, summary["total_fresh_input_cost_usd"]),
             ("cached input", CACHED_INPUT_COLOUR, summary["total_cached_input_cost_usd"]),
             ("output", OUTPUT_COLOUR, summary["total_output_cost_usd"]))
    for position, (kind, colour, total) in enumerate(kinds):
        widths = [p[position] for p in parts]
        ax.barh(range(len(models)), widths, left=left, color=colour,
                label=f"{kind}: {dollars(float(total))}")
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(range(len(models)), models)
    ax.invert_yaxis()
    ax.set_xlabel("USD")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("What each model's dollars pay for")


def _per_bucket(ax: Axes, buckets: list[TimeBucket]) -> None:
    positions = range(len(buckets))
    bottom = [0.0] * len(buckets)
    for position, colour in enumerate((INPUT_COLOUR, CACHED_INPUT_COLOUR, OUTPUT_COLOUR)):
        heights = [_parts(b)[position] for b in buckets]
        ax.bar(positions, heights, bottom=bottom, color=colour, width=0.85)
        bottom = [a + b for a, b in zip(bottom, heights, strict=True)]
    one_day = len({b.start.date() for b in buckets}) == 1
    labels = [b.start.strftime("%H" if one_day else "%a %H") for b in buckets]
    step = max(1, -(-len(buckets) // (12 if one_day else 8)))  # at most 12 (or 8 longer) labels
    ax.set_xticks(list(positions)[::step], labels[::step], fontsize=8)
    width_h = (buckets[0].end - buckets[0].start).total_seconds() / 3600
    ax.set_xlabel(f"{'hour of the day' if one_day else 'day and hour'} (UTC), "
                  f"{width_h:g} h per bar")
    ax.set_ylabel("USD")
    ax.set_title("Cost per hour")


def _projection(ax: Axes, summary: CostSummary, history: list[ProjectionPoint]) -> None:
    first = summary["first_call_at"]
    assert first is not None
    hours = [(p.at - first).total_seconds() / 3600 for p in history]
    windowed = [(h, float(p.projected_monthly_usd)) for h, p in zip(hours, history, strict=True)
                if p.projected_monthly_usd is not None]
    if windowed:
        ax.plot(*zip(*windowed, strict=True), color=WINDOW_COLOUR, marker="o", markersize=3,
                label="cost per second so far × 30 days")
    ax.plot(hours, [float(p.lifetime_total_x30_usd) for p in history], color=LESSON_COLOUR,
            linestyle="--", label="lesson: total so far × 30")
    final = summary["projected_monthly_usd"]
    if final is not None:
        ax.axhline(float(final), color=WINDOW_COLOUR, linewidth=0.8, linestyle=":",
                   label=f"projected month now: {dollars(float(final))}")
    ax.set_xlabel("hours of traffic observed")
    ax.set_ylabel("USD per month")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Projected month, as the traffic came in")


def cost_dashboard_figure(tracker: CostTrackerBase, *, title: str = "LLM cost dashboard"
                          ) -> Figure:
    """The four-panel dashboard of everything ``tracker`` has recorded."""
    summary = tracker.summary()
    if summary["total_calls"] == 0:
        raise ValueError("the tracker has recorded no calls yet: nothing to draw")
    buckets = tracker.time_buckets()
    history = tracker.projection_history()
    figure, axes = plt.subplots(2, 2, figsize=(13, 8.5), layout="constrained")
    _by_model(axes[0][0], summary)
    _by_token_kind(axes[0][1], summary)
    _per_bucket(axes[1][0], buckets)
    _projection(axes[1][1], summary, history)
    window = summary["window_seconds"] or 0.0
    projected = summary["projected_monthly_usd"]
    figure.suptitle(
        f"{title}: {summary['total_calls']:,} calls, {dollars(float(summary['total_cost_usd']))} "
        f"over {window / 3600:.1f} h; projected month "
        f"{dollars(float(projected)) if projected is not None else 'n/a (window too short)'}",
        fontsize=12,
        parse_math=False,  # "$" is a price here, not the start of a TeX formula
    )
    return figure


def render_dashboard(tracker: CostTrackerBase, path: str | Path, *,
                     title: str = "LLM cost dashboard") -> Figure:
    """Draw the dashboard, save it as a PNG at ``path`` (folders created), return the figure.

    Call it again after more traffic to refresh the file.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"the dashboard is saved as PNG: path must end in .png, got {path}")
    figure = cost_dashboard_figure(tracker, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return figure
