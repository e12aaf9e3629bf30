"""Figures for notebook 10: the bill lever by lever, and the two agents side by side.

Both functions draw measured data handed to them and return the ``Figure``. Latencies are
divided by ``time_unit`` so a replay run at time scale 0.1 is labelled in simulated seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_lib.agent.replay import AgentSummary

__all__ = ["ablation_figure", "agents_figure"]

_NAIVE, _SAVED, _OPTIMIZED = "#e76f51", "#2a9d8f", "#264653"


def ablation_figure(labels: Sequence[str], monthly_usd: Sequence[float], *,
                    title: str = "The monthly bill, one lever at a time") -> Figure:
    """One bar per rung of an ablation ladder, each step's change written above its bar."""
    if not labels or len(labels) != len(monthly_usd):
        raise ValueError("need one monthly figure per label, and at least one")
    values = np.asarray(monthly_usd, dtype=float)
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ValueError("monthly costs must be finite and >= 0")
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    colours = [_NAIVE] + [_SAVED] * (len(values) - 2) + [_OPTIMIZED] if len(values) > 1 else [
        _NAIVE]
    ax.bar(range(len(values)), values, color=colours)
    for index, value in enumerate(values):
        text = f"${value:,.0f}"
        if index:
            before = values[index - 1]
            change = (value - before) / before if before else 0.0
            text += f"\n{change:+.0%}"
        ax.text(index, value, text, ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(values)), [label.replace(" + ", "\n+ ") for label in labels],
                  fontsize=8)
    ax.set_ylabel("USD per month (150,000 conversations)")
    ax.set_ylim(0, values.max() * 1.25 if values.max() > 0 else 1)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def agents_figure(cost: Sequence[AgentSummary], latency: Sequence[AgentSummary], *,
                  time_unit: float = 1.0, unit_label: str = "s") -> Figure:
    """Three panels, one group of bars per agent: $/month, latencies, success and quality.

    ``cost`` and ``latency`` are summaries of the same agents (matched by position), from the
    cost replay and the latency replay.
    """
    if not cost or len(cost) != len(latency):
        raise ValueError("need a cost summary and a latency summary for each agent")
    if time_unit <= 0:
        raise ValueError(f"time_unit must be > 0, got {time_unit}")
    names = [summary.name for summary in cost]
    fig, (money, wait, quality) = plt.subplots(1, 3, figsize=(12, 3.8),
                                               gridspec_kw={"width_ratios": [1, 2, 1.4]})
    colours = [_NAIVE, _OPTIMIZED, _SAVED, "#e9c46a"][: len(names)]

    monthly = [float(summary.monthly_usd) for summary in cost]
    money.bar(names, monthly, color=colours)
    for index, value in enumerate(monthly):
        money.text(index, value, f"${value:,.0f}", ha="center", va="bottom", fontsize=8)
    money.set_ylabel("USD per month")
    money.set_title("cost (150,000 conversations)")

    measures = [("p50 first text", "p50_ttft_s"), ("p95 first text", "p95_ttft_s"),
                ("p50 complete", "p50_total_s"), ("p95 complete", "p95_total_s")]
    width = 0.8 / len(latency)
    for offset, (summary, colour) in enumerate(zip(latency, colours, strict=True)):
        heights = [(getattr(summary, field) or 0.0) / time_unit for _, field in measures]
        xs = np.arange(len(measures)) + (offset - (len(latency) - 1) / 2) * width
        wait.bar(xs, heights, width, color=colour, label=summary.name)
    wait.set_xticks(range(len(measures)), [label for label, _ in measures])
    wait.set_ylabel(f"latency ({unit_label})")
    wait.set_title("what the user waits for (answered turns)")
    wait.legend(fontsize=8)

    panels = [("answered", lambda s: s.success_rate),
              ("completeness", lambda s: s.completeness),
              ("hard Qs on gpt-4o", lambda s: s.complex_to_strong)]
    for offset, (summary, colour) in enumerate(zip(cost, colours, strict=True)):
        heights = [value if (value := read(summary)) is not None else 0.0
                   for _, read in panels]
        xs = np.arange(len(panels)) + (offset - (len(cost) - 1) / 2) * width
        quality.bar(xs, heights, width, color=colour, label=summary.name)
    quality.set_xticks(range(len(panels)), [label for label, _ in panels], fontsize=8)
    quality.set_ylim(0, 1.05)
    quality.set_title("success and quality proxy")
    fig.tight_layout()
    return fig
