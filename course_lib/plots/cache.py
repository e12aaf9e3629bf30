"""Figures for notebook 04: similarity by pair kind, hit-decision curves, cache strategies, TTLs.

Every function draws data the notebook measured and returns the ``Figure``. They follow
:mod:`course_lib.plots.readable`: at most 9.4 inches wide, legends under the axes, share axes
from zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_lib.cache.threshold import HitCurvePoint
from course_lib.plots.readable import LABEL_PT, legend_below

__all__ = [
    "plot_cache_strategies",
    "plot_hit_decision_curves",
    "plot_similarity_by_pair_kind",
    "plot_ttl_hit_rates",
]

_KIND_ORDER = ("paraphrase", "different_intent", "near_opposite")


def plot_similarity_by_pair_kind(
    similarities: Sequence[float], kinds: Sequence[str], langs: Sequence[str],
    *, threshold: float | None = None,
) -> Figure:
    """One row of dots per pair kind, English pairs filled and the others hollow."""
    if not len(similarities) == len(kinds) == len(langs):
        raise ValueError("similarities, kinds and langs must have the same length")
    scores = np.asarray(similarities, dtype=float)
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    rng = np.random.default_rng(0)  # vertical jitter only, so dots do not hide each other
    for row, kind in enumerate(_KIND_ORDER):
        for english, style in ((True, {"color": "C0"}),
                               (False, {"facecolors": "none", "edgecolors": "C3"})):
            picked = [i for i, (k, lang) in enumerate(zip(kinds, langs, strict=True))
                      if k == kind and (lang == "en") == english]
            if not picked:
                continue
            ys = row + rng.uniform(-0.18, 0.18, len(picked))
            ax.scatter(scores[picked], ys, s=18, alpha=0.75,
                       label=("English" if english else "Chinese / mixed") if row == 0 else None,
                       **style)
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", linewidth=1,
                   label=f"chosen threshold {threshold:.2f}")
    ax.set_yticks(range(len(_KIND_ORDER)), [k.replace("_", " ") for k in _KIND_ORDER])
    ax.set_xlabel("cosine similarity of the two questions (all-MiniLM-L6-v2)")
    ax.set_title("Near-opposite questions score higher than paraphrases")
    ax.grid(axis="x", alpha=0.3)
    legend_below(ax)
    return fig


def plot_hit_decision_curves(
    curves: Mapping[str, Sequence[HitCurvePoint]], *, chosen: HitCurvePoint | None = None,
) -> Figure:
    """Precision (solid) and recall (dashed) of "serve a hit" against the threshold."""
    fig, ax = plt.subplots(figsize=(8, 4.4), layout="constrained")
    for index, (label, curve) in enumerate(curves.items()):
        color = f"C{index}"
        xs = [p.threshold for p in curve]
        precision = [np.nan if p.precision is None else p.precision for p in curve]
        ax.plot(xs, precision, color=color, label=f"precision, {label}")
        ax.plot(xs, [p.recall for p in curve], color=color, linestyle="--",
                label=f"recall, {label}")
    if chosen is not None:
        ax.axvline(chosen.threshold, color="k", linewidth=1,
                   label=f"chosen {chosen.threshold:.2f}: precision {chosen.precision:.2f}, "
                         f"recall {chosen.recall:.2f}")
    ax.set_xlabel("similarity threshold")
    ax.set_ylabel("share of pairs")
    ax.set_ylim(0, 1.02)
    ax.set_title("Hit decisions on the labelled pairs")
    ax.grid(alpha=0.3)
    legend_below(ax, ncol=2)
    return fig


def plot_cache_strategies(
    names: Sequence[str], hit_rates: Sequence[float], costs_usd: Sequence[float],
    wrong_answers: Sequence[int],
) -> Figure:
    """Per strategy, side by side: hit rate, the bill, and the wrong answers it served.

    The wrong answers get bars of their own: a strategy that is cheapest because it serves
    answers to questions they do not answer must look it.
    """
    if not len(names) == len(hit_rates) == len(costs_usd) == len(wrong_answers):
        raise ValueError("one value per strategy in every sequence")
    fig, (hits, bill, wrong) = plt.subplots(1, 3, figsize=(9.4, 3.8), layout="constrained")
    xs = np.arange(len(names))
    labels = [name.replace(" ", "\n", 1) for name in names]
    panels = (
        (hits, [100 * r for r in hit_rates], "#55A868", "answered from cache (%)",
         lambda v: f"{v:.0f}%"),
        (bill, list(costs_usd), "#4C72B0", "bill for the day (USD)", lambda v: f"${v:.2f}"),
        (wrong, list(wrong_answers), "#C44E52", "answers from the wrong article",
         lambda v: f"{v:,.0f}"),
    )
    for ax, values, colour, ylabel, label in panels:
        bars = ax.bar(xs, values, color=colour)
        ax.bar_label(bars, [label(v) for v in values], padding=2, fontsize=LABEL_PT)
        ax.set_xticks(xs, labels)
        ax.set_title(ylabel, fontsize=LABEL_PT + 1)
        ax.spines[["top", "right"]].set_visible(False)
        top = max(values) if max(values) > 0 else 1
        ax.set_ylim(0, top * 1.18)
    hits.set_ylim(0, 100 * 1.12)  # a share: 0 to 100%, with room for the labels
    hits.set_yticks(range(0, 101, 25))
    fig.suptitle("One day of Kitewing support traffic")
    return fig


def plot_ttl_hit_rates(ttl_labels: Sequence[str], hit_rates_by_kind: Mapping[str, Sequence[float]]
                       ) -> Figure:
    """Hit rate per content kind as the TTL grows."""
    fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
    xs = np.arange(len(ttl_labels))
    for kind, rates in hit_rates_by_kind.items():
        if len(rates) != len(ttl_labels):
            raise ValueError(f"{kind}: one hit rate per TTL")
        ax.plot(xs, [100 * r for r in rates], marker="o", label=kind)
    ax.set_xticks(xs, ttl_labels)
    ax.set_xlabel("TTL")
    ax.set_ylabel("hit rate (%)")
    ax.set_ylim(0, 100)
    ax.set_title("What a longer TTL buys, by content kind")
    ax.grid(alpha=0.3)
    legend_below(ax)
    return fig
