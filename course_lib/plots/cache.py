"""Figures for notebook 04: similarity by pair kind, hit-decision curves, cache strategies, TTLs.

Every function draws data the notebook measured and returns the ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_lib.cache.threshold import ThresholdPoint

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
    fig, ax = plt.subplots(figsize=(8, 3.2))
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
        ax.axvline(threshold, color="k", linestyle="--", linewidth=1)
        ax.text(threshold, -0.45, f" chosen threshold {threshold:.2f}", fontsize=8,
                va="bottom")
    ax.set_yticks(range(len(_KIND_ORDER)), [k.replace("_", " ") for k in _KIND_ORDER])
    ax.set_xlabel("cosine similarity of the two questions (all-MiniLM-L6-v2)")
    ax.set_title("Near-opposite questions score higher than paraphrases")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_hit_decision_curves(
    curves: Mapping[str, Sequence[ThresholdPoint]], *, chosen: ThresholdPoint | None = None,
) -> Figure:
    """Precision (solid) and recall (dashed) of "serve a hit" against the threshold."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    for index, (label, curve) in enumerate(curves.items()):
        color = f"C{index}"
        xs = [p.threshold for p in curve]
        precision = [np.nan if p.precision is None else p.precision for p in curve]
        ax.plot(xs, precision, color=color, label=f"precision, {label}")
        ax.plot(xs, [p.recall for p in curve], color=color, linestyle="--",
                label=f"recall, {label}")
    if chosen is not None:
        ax.axvline(chosen.threshold, color="k", linewidth=1)
        ax.annotate(f"chosen {chosen.threshold:.2f}\nP {chosen.precision:.2f}, "
                    f"R {chosen.recall:.2f}", (chosen.threshold, 0.05), xytext=(6, 0),
                    textcoords="offset points", fontsize=8)
    ax.set_xlabel("similarity threshold")
    ax.set_ylabel("share")
    ax.set_ylim(0, 1.02)
    ax.set_title("Hit decisions on the labelled pairs")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_cache_strategies(
    names: Sequence[str], hit_rates: Sequence[float], costs_usd: Sequence[float],
    wrong_answers: Sequence[int],
) -> Figure:
    """Hit rate and bill per strategy, with the wrong answers each one served."""
    if not len(names) == len(hit_rates) == len(costs_usd) == len(wrong_answers):
        raise ValueError("one value per strategy in every sequence")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    xs = np.arange(len(names))
    left.bar(xs, [100 * r for r in hit_rates], color="C2")
    left.set_xticks(xs, names)
    left.set_ylabel("requests answered from cache (%)")
    left.set_ylim(0, 100)
    right.bar(xs, costs_usd, color="C0")
    right.set_xticks(xs, names)
    right.set_ylabel("bill for the trace (USD)")
    for x, cost, wrong in zip(xs, costs_usd, wrong_answers, strict=True):
        right.annotate(f"${cost:.2f}\n{wrong} wrong", (x, cost), ha="center",
                       xytext=(0, 3), textcoords="offset points", fontsize=8)
    right.set_ylim(0, max(costs_usd) * 1.3 if max(costs_usd) > 0 else 1)
    fig.suptitle("One day of Kitewing support traffic")
    fig.tight_layout()
    return fig


def plot_ttl_hit_rates(ttl_labels: Sequence[str], hit_rates_by_kind: Mapping[str, Sequence[float]]
                       ) -> Figure:
    """Hit rate per content kind as the TTL grows."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
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
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
