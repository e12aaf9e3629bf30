"""One picture of the run: every goal as a bar of how far past (or short of) it the ratio is.

Goals point both ways ("at most 1.5x the peer's time", "at least 50x faster"), so each bar shows
the *margin*: measured over required for "at least" goals, required over measured for "at most"
goals. Above 1 the goal is met; the x axis is logarithmic so 2x past and 2x short look alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never open a window

import matplotlib.pyplot as plt

from benchmarks.report import format_ratio
from benchmarks.results import Measurement

__all__ = ["ratio_chart"]

MET, NOT_MET = "#2e7d32", "#c62828"


def ratio_chart(rows: Sequence[Measurement], path: Path, *, title: str) -> Path | None:
    """Write the chart of every row with a goal to ``path``; None when no row has one."""
    judged = [row for row in rows if row.met is not None]
    if not judged:
        return None
    margins = [row.goal.margin(row.ratio) for row in judged]  # type: ignore[union-attr, arg-type]
    figure, axes = plt.subplots(figsize=(10, 0.45 * len(judged) + 1.6))
    positions = range(len(judged))[::-1]
    axes.barh(list(positions), margins, color=[MET if row.met else NOT_MET for row in judged],
              height=0.6)
    axes.set_xscale("log")
    axes.axvline(1.0, color="black", linewidth=1)
    axes.set_yticks(list(positions), [row.title for row in judged], fontsize=8)
    axes.set_xlabel("margin over the goal (> 1: met, < 1: not met), log scale")
    axes.set_title(title, fontsize=10)
    low, high = min(*margins, 1.0), max(*margins, 1.0)
    axes.set_xlim(low / 3, high * 8)  # room for the labels right of the bars
    for position, row, margin in zip(positions, judged, margins, strict=True):
        label = f"{format_ratio(row.ratio)} {row.ratio_kind}, goal {row.goal.describe()}"  # type: ignore[union-attr, arg-type]
        axes.text(max(margin, 1.0) * 1.1, position, label, va="center", fontsize=7)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
