"""operating_router: notebook 05's choice of router, refitted by one function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from course_lib.router import operating_router


@dataclass(frozen=True)
class Labelled:
    query: str
    turns: int
    label: str


def test_the_operating_router_learns_separable_examples() -> None:
    # "x..." questions are complex, "y..." simple; the fake embedding separates them perfectly,
    # so every k is right on every example and the smallest k wins the tie.
    train = [Labelled(f"x{i}", 1, "complex") for i in range(12)] + [
        Labelled(f"y{i}", 1, "simple") for i in range(12)]

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.array([[1.0, 0.01 * i] if t.startswith("x") else [0.01 * i, 1.0]
                         for i, t in enumerate(texts)])

    router = operating_router(train, embed=embed, k_candidates=(3, 5, 7))
    assert router.k == 3
    assert router.route("x-new", 1).model == "gpt-4o"
    assert router.route("y-new", 1).model == "gpt-4o-mini"
    with pytest.raises(ValueError, match="training queries"):
        operating_router([], embed=embed)
