"""Choosing a semantic-cache threshold from labelled pairs, not from intuition.

Each labelled pair is a question already in the cache (``a``) and a new question (``b``), with
whether ``a``'s answer is right for ``b``. At threshold ``t`` the cache serves a hit for every
pair with similarity >= ``t``:

* **precision** = right hits / all hits: how often a served hit answers the question asked;
* **recall** = right hits / pairs that share an intent: how much of the possible saving is taken.

Raising ``t`` is supposed to trade recall for precision. It only does if wrong matches score
lower than right ones, which is exactly what the curve checks. A false hit (a wrong answer
served with full confidence) usually costs more than a miss (one more model call), so the
choice here maximises F-beta with ``beta = 0.5``, which weighs precision twice as much as
recall. Precision on pairs also depends on the mix of pairs; the traffic replay in notebook 04
measures what a threshold does on realistic traffic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["HitCurvePoint", "choose_threshold", "default_thresholds", "hit_curve"]


@dataclass(frozen=True)
class HitCurvePoint:
    """What a threshold does on a labelled set of pairs."""

    threshold: float
    hits: int
    true_hits: int
    positives: int

    @property
    def false_hits(self) -> int:
        return self.hits - self.true_hits

    @property
    def precision(self) -> float | None:
        """Right hits / hits; None when nothing is a hit (precision is undefined then)."""
        return self.true_hits / self.hits if self.hits else None

    @property
    def recall(self) -> float:
        return self.true_hits / self.positives if self.positives else 0.0

    def f_beta(self, beta: float = 0.5) -> float:
        """Weighted harmonic mean of precision and recall; beta < 1 favours precision."""
        precision = self.precision
        if precision is None or precision + self.recall == 0:
            return 0.0
        b2 = beta * beta
        return (1 + b2) * precision * self.recall / (b2 * precision + self.recall)


def default_thresholds() -> list[float]:
    """0.00, 0.01, ..., 1.00."""
    return [round(i / 100, 2) for i in range(101)]


def hit_curve(
    similarities: Sequence[float] | np.ndarray,
    same_intent: Sequence[bool] | np.ndarray,
    thresholds: Sequence[float] | None = None,
) -> list[HitCurvePoint]:
    """One :class:`HitCurvePoint` per threshold (ascending).

    A similarity of ``-inf`` never hits: use it for pairs a guard refuses.
    """
    scores = np.asarray(similarities, dtype=np.float64)
    labels = np.asarray(same_intent, dtype=bool)
    if scores.ndim != 1 or scores.shape != labels.shape:
        raise ValueError(f"need one label per similarity, got {scores.shape} and {labels.shape}")
    if scores.size == 0:
        raise ValueError("need at least one labelled pair")
    if np.isnan(scores).any():
        raise ValueError("similarities contain NaN")
    grid = sorted(default_thresholds() if thresholds is None else thresholds)
    for t in grid:
        if not math.isfinite(t):
            raise ValueError(f"thresholds must be finite, got {t!r}")
    positives = int(labels.sum())
    points = []
    for t in grid:
        hit = scores >= t
        points.append(HitCurvePoint(float(t), int(hit.sum()), int((hit & labels).sum()),
                                     positives))
    return points


def choose_threshold(curve: Sequence[HitCurvePoint], *, beta: float = 0.5) -> HitCurvePoint:
    """The point with the highest F-beta; on a tie the lower threshold (more recall)."""
    if not curve:
        raise ValueError("the curve is empty")
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta!r}")
    best = max(curve, key=lambda p: (round(p.f_beta(beta), 12), -p.threshold))
    if best.true_hits == 0:
        raise ValueError("no threshold produces a single right hit: the cache would never help")
    return best
