"""Notebook 05's operating point as one function: the router the course chose, refitted.

Notebook 05 measured every router on held-out questions and chose an :class:`EmbeddingRouter`
over MiniLM sentence embeddings combined with hashed word and character terms (which read
Chinese), with ``k`` chosen by leave-one-out accuracy on the training split and the threshold
fitted so that a missed hard question costs twice a wasted strong call (``miss_cost=2``).
:func:`operating_router` repeats exactly that procedure on the training split, so the agent
routes with the router the course chose, not with a copy of its numbers.

The embedding function is memoised (each text embedded once, as in notebook 05).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from course_lib.router.decision import LabelledQuery
from course_lib.router.embedding import EmbeddingRouter, fit_threshold
from course_lib.router.features import combine_embeddings, hashed_term_vectors, memoised

__all__ = ["K_CANDIDATES", "MISS_COST", "leave_one_out_correct", "operating_router"]

K_CANDIDATES = (3, 5, 7, 9, 11, 15, 21)  # notebook 05's K_VALUES
MISS_COST = 2  # notebook 05's policy: a hard question answered by mini costs two wasted calls

EmbedFn = Callable[[Sequence[str]], np.ndarray]


def operating_router(
    train: Sequence[LabelledQuery],
    *,
    embed: EmbedFn | None = None,
    k_candidates: Sequence[int] = K_CANDIDATES,
    miss_cost: float = MISS_COST,
) -> EmbeddingRouter:
    """Notebook 05's chosen router, fitted on ``train`` (``load_routing_queries("train")``).

    ``embed`` defaults to the course's MiniLM model (memoised); tests pass a
    fake one. Ties in leave-one-out accuracy go to the smaller ``k``, as in notebook 05.
    """
    if not train:
        raise ValueError("operating_router needs labelled training queries")
    if embed is None:
        from course_lib.embeddings import embed as minilm

        embed = memoised(minilm)
    features = combine_embeddings(embed, hashed_term_vectors)
    correct = leave_one_out_correct(train, embed=features, k_candidates=k_candidates)
    best_k = max(correct, key=lambda k: (correct[k].mean(), -k))
    router = EmbeddingRouter.from_examples(train, embed=features, k=best_k)
    threshold = fit_threshold(router.leave_one_out_scores(), [q.label for q in train],
                              miss_cost=miss_cost)
    return router.with_settings(threshold=threshold)


def leave_one_out_correct(
    train: Sequence[LabelledQuery], *, embed: EmbedFn, k_candidates: Sequence[int] = K_CANDIDATES
) -> dict[int, np.ndarray]:
    """For each ``k``, which training queries the router gets right when each one is scored
    by the *other* training queries at the threshold 0.5 (one bool per query, in order).

    The mean of a row is the leave-one-out accuracy that chooses ``k`` without touching the
    test split; the rows split by language show where a feature set fails.
    """
    usable = [k for k in k_candidates if k < len(train)]
    if not usable:
        raise ValueError(f"no k in {tuple(k_candidates)} is smaller than the {len(train)} "
                         "training queries")
    is_complex = np.array([q.label == "complex" for q in train])
    base = EmbeddingRouter.from_examples(train, embed=embed, k=1)
    return {k: (base.with_settings(k=k).leave_one_out_scores() >= 0.5) == is_complex
            for k in usable}
