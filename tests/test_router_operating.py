"""operating_router: notebook 05's choice of router, refitted by one function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from course_lib.router import AlwaysModel, leave_one_out_correct, operating_router


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


def test_leave_one_out_never_lets_an_example_vote_for_itself() -> None:
    # Three "x" (complex) and one lone "y" (simple) that sits among the x's: with itself left
    # out, the y's neighbours are all complex, so it is scored wrong at every k; every x is
    # right (its other neighbours are complex too).
    train = [Labelled("x0", 1, "complex"), Labelled("x1", 1, "complex"),
             Labelled("x2", 1, "complex"), Labelled("y0", 1, "simple")]

    def embed(texts: Sequence[str]) -> np.ndarray:
        # The x's close together, the y farther off (but still nearest to the x's).
        return np.array([[1.0, 0.5] if t.startswith("y") else [1.0, 0.01 * i]
                         for i, t in enumerate(texts)])

    correct = leave_one_out_correct(train, embed=embed, k_candidates=(1, 3, 5))
    assert list(correct) == [1, 3]  # k=5 is not smaller than the 4 examples
    for k in (1, 3):
        assert correct[k].tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="smaller than the 4 training queries"):
        leave_one_out_correct(train, embed=embed, k_candidates=(4, 9))


def test_always_model_is_the_never_route_baseline() -> None:
    decision = AlwaysModel("gpt-4o-mini").route("Why do webhooks time out?", 7)
    assert (decision.model, decision.reason) == ("gpt-4o-mini", "always gpt-4o-mini")
    with pytest.raises((TypeError, ValueError)):
        AlwaysModel("gpt-4o").route("", 1)
