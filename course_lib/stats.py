"""Percentiles, the course's one rule for them.

``p95`` of a list of latencies is the value 95% of them are at or below. With a finite sample it
falls between two measurements, and tools disagree on how to pick it; the course uses numpy's
default (linear interpolation between order statistics), which is also what vLLM's serving
benchmark uses, so a figure here reads the same as one from ``vllm bench serve``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["percentile"]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) of ``values``, linear interpolation; None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    if len(values) == 0:
        return None
    return float(np.percentile(np.asarray(values, dtype=float), q))
