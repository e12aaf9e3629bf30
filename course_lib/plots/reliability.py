"""Figures for notebook 06: backoff spread, one call's attempts, and clients compared under faults.

Every function draws measured data handed to it and returns the ``Figure``; times are divided
by ``time_unit`` so a notebook running the sandbox at time scale 0.02 can label its axes in
simulated seconds (``time_unit=0.02``) and the bars read like the real thing. They follow
:mod:`course_lib.plots.readable`: at most 9.4 inches wide (the clients' comparison is a 2 x 2
grid, not a row of four that the notebook would shrink to unreadable text), legends under the
axes, shares from zero.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course_lib.fallback.failures import LinkAttempt
from course_lib.fallback.measure import LoadSummary
from course_lib.plots.readable import LABEL_PT, legend_below

__all__ = ["attempt_timeline", "backoff_spread", "fallback_comparison"]

_OUTCOME_COLOURS = {"ok": "#2a9d8f", "failed": "#e76f51", "skipped": "#adb5bd"}
_WAIT_COLOUR = "#f4a261"


def backoff_spread(draws: Mapping[int, Sequence[float]], ceilings: Mapping[int, float],
                   *, title: str = "Full-jitter backoff: where retries land") -> Figure:
    """The waits sampled after each failed attempt ``n`` (dots, keyed by ``n`` from 1) under
    their ceiling ``min(cap, base * 2**(n - 1))`` (line), next to where every client would retry
    without jitter (crosses)."""
    if not draws:
        raise ValueError("backoff_spread needs draws for at least one attempt number")
    fig, ax = plt.subplots(figsize=(8, 4.4), layout="constrained")
    rng = np.random.default_rng(0)  # horizontal jitter of the dots, for legibility only
    for attempt, values in sorted(draws.items()):
        xs = attempt + rng.uniform(-0.25, 0.25, size=len(values))
        ax.scatter(xs, values, s=4, alpha=0.25, color="#457b9d")
        ax.hlines(ceilings[attempt], attempt - 0.35, attempt + 0.35, color="black",
                  linewidth=1.5)
        ax.scatter([attempt], [ceilings[attempt]], marker="x", s=60, color="#e63946", zorder=3)
    ax.set_xticks(sorted(draws))
    ax.set_xlabel("failed attempt")
    ax.set_ylabel("wait before the next attempt (s)")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    legend_below(ax, [
        Patch(color="#457b9d", label="full jitter: uniform in [0, ceiling]"),
        Patch(color="black", label="ceiling"),
        Patch(color="#e63946", label="no jitter: everyone at the ceiling"),
    ], ncol=2)
    return fig


def attempt_timeline(attempts: Sequence[LinkAttempt], *, time_unit: float = 1.0,
                     unit_label: str = "s", title: str = "One call through the chain"
                     ) -> Figure:
    """A Gantt chart of one call: each attempt as a bar (green ok, red failed, grey skipped)
    with its failure written next to it, and the backoff waits between attempts."""
    if not attempts:
        raise ValueError("attempt_timeline needs at least one attempt")
    if time_unit <= 0:
        raise ValueError(f"time_unit must be > 0, got {time_unit}")
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(attempts) + 2.2), layout="constrained")
    for row, attempt in enumerate(attempts):
        start, width = attempt.started_s / time_unit, attempt.duration_s / time_unit
        wait = attempt.waited_after_s / time_unit
        ax.barh(row, max(width, 1e-3), left=start, color=_OUTCOME_COLOURS[attempt.outcome])
        if wait:
            ax.barh(row, wait, left=start + width, color=_WAIT_COLOUR, alpha=0.6, hatch="//")
        label = attempt.failure.describe() if attempt.failure else attempt.outcome
        ax.text(start + width + wait, row, f"  {label}", va="center", fontsize=LABEL_PT)
    ax.set_yticks(range(len(attempts)), [f"{a.link} #{a.attempt}" for a in attempts])
    ax.invert_yaxis()
    ax.set_xlabel(f"time since the call started ({unit_label})")
    ax.set_title(title)
    ax.margins(x=0.35)
    legend_below(ax, [Patch(color=c, label=k) for k, c in _OUTCOME_COLOURS.items()]
                 + [Patch(color=_WAIT_COLOUR, alpha=0.6, label="backoff wait")], ncol=4)
    return fig


def fallback_comparison(summaries: Sequence[LoadSummary],
                        latencies: Mapping[str, Sequence[float]] | None = None, *,
                        time_unit: float = 1.0, unit_label: str = "s") -> Figure:
    """Clients side by side: answered at all / by the primary, p50 and p95 latency, cost per
    1,000 calls, and (given ``latencies`` per summary name) the latency distribution."""
    if not summaries:
        raise ValueError("fallback_comparison needs at least one LoadSummary")
    # Two rows of two with the latency distribution; one row of three without it.
    rows, columns, size = (2, 2, (9.4, 8.2)) if latencies else (1, 3, (9.4, 4.6))
    fig, grid = plt.subplots(rows, columns, figsize=size, layout="constrained")
    axes = list(grid.flat)
    names = [s.name for s in summaries]
    x = np.arange(len(summaries))
    tick_labels = [textwrap.fill(name, 16 if latencies else 10) for name in names]

    ax = axes[0]
    answered = ax.bar(x - 0.2, [s.success_rate * 100 for s in summaries], 0.4,
                      label="answered", color="#2a9d8f")
    primary = ax.bar(x + 0.2, [s.primary_share * 100 for s in summaries], 0.4,
                     label="answered by the primary", color="#264653")
    for bars in (answered, primary):
        ax.bar_label(bars, fmt="%.0f", padding=2, fontsize=LABEL_PT - 1)
    ax.set_ylim(0, 112)  # a share: from 0, with room for the labels over a 100% bar
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("% of calls")
    ax.set_title("Who answered")

    ax = axes[1]
    ax.bar(x - 0.2, [s.p50_s / time_unit for s in summaries], 0.4, label="p50",
           color="#8ecae6")
    ax.bar(x + 0.2, [s.p95_s / time_unit for s in summaries], 0.4, label="p95",
           color="#219ebc")
    ax.set_ylabel(f"latency ({unit_label})")
    ax.set_title("Latency the user felt")

    ax = axes[2]
    costs = ax.bar(x, [float(s.cost_usd) * 1000 / s.calls for s in summaries], 0.5,
                   color="#e9c46a")
    ax.bar_label(costs, fmt="$%.2f", padding=2, fontsize=LABEL_PT - 1)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.1)
    ax.set_ylabel("USD per 1,000 calls")
    ax.set_title("Cost (exact, from usage)")

    for ax in axes[:3]:
        ax.set_xticks(x, tick_labels)
        ax.spines[["top", "right"]].set_visible(False)

    if latencies:
        ax = axes[3]
        for name in names:
            values = np.sort(np.asarray(latencies[name], dtype=float)) / time_unit
            ax.plot(values, np.arange(1, len(values) + 1) / len(values), label=name)
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"latency ({unit_label}, log scale)")
        ax.set_ylabel("share of calls at most this slow")
        ax.set_title("The tail")
        ax.grid(alpha=0.3)
        legend_below(ax, ncol=1)
    wide = latencies is not None  # a 3-inch panel has room for one legend column only
    legend_below(axes[0], ncol=2 if wide else 1)
    legend_below(axes[1], ncol=2)
    return fig
