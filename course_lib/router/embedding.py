"""The lesson's "更进一步": route by embedding similarity to labelled examples.

"用 embedding 相似度判断 query 属于哪类(FAQ 类 vs 技术诊断类)": instead of a keyword list, keep a
few hundred past queries labelled simple or complex, and route a new query like the ones it is
most similar to. :class:`EmbeddingRouter` is a k-nearest-neighbours classifier with cosine
similarity:

1. embed the labelled examples once (unit vectors, so cosine similarity is a dot product);
2. for a new query, find the ``k`` most similar examples;
3. its **complex score** is the similarity-weighted share of complex examples among them
   (0: every neighbour simple, 1: every neighbour complex);
4. send it to the strong model when the score reaches ``threshold``.

The threshold is the dial between cost and quality: lower sends more to the strong model. Choose
it on training data (:func:`fit_threshold` on :meth:`EmbeddingRouter.leave_one_out_scores`), never
on the queries you report. Each decision names its evidence, e.g.
``"7 nearest: 5 complex, closest 'How do we diagnose it?' 0.71; score 0.74 >= 0.50"``, so a
surprising route can be explained from the log.

scikit-learn's ``KNeighborsClassifier(metric="cosine", weights="distance")`` is the library
equivalent; for millions of examples use an approximate index (FAISS, hnswlib) instead of
comparing with every example.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.arguments import require_fraction, require_int
from course_lib.router.decision import (
    STRONG_MODEL,
    WEAK_MODEL,
    LabelledQuery,
    RouteDecision,
    check_label,
    check_route_input,
)
from course_lib.router.features import EmbedFn, unit_rows

__all__ = ["EmbeddingRouter", "Neighbour", "fit_threshold"]

_SNIPPET_CHARS = 40


def _default_embed(texts: Sequence[str]) -> np.ndarray:
    # Imported on first use: building a router with a fake embed function (as the tests do)
    # should not need the ONNX model.
    from course_lib.embeddings import embed

    return embed(texts)


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET_CHARS else flat[: _SNIPPET_CHARS - 1] + "…"


@dataclass(frozen=True)
class Neighbour:
    """One labelled example close to the query, and how close (cosine similarity)."""

    text: str
    label: str
    similarity: float


class EmbeddingRouter:
    """k-nearest-neighbour router over labelled example queries (see the module docstring).

    ``embed`` turns a list of texts into an ``(n, d)`` array (default: all-MiniLM-L6-v2 from
    :mod:`course_lib.embeddings`); rows are scaled to unit length here, whatever it returns.
    ``example_vectors`` lets a caller pass vectors it already computed for ``texts``.
    """

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        embed: EmbedFn = _default_embed,
        k: int = 7,
        threshold: float = 0.5,
        example_vectors: np.ndarray | None = None,
        strong_model: str = STRONG_MODEL,
        weak_model: str = WEAK_MODEL,
    ) -> None:
        if isinstance(texts, str):
            raise TypeError("texts must be a list of example queries, not one string")
        self.texts = tuple(texts)
        if not self.texts:
            raise ValueError("an EmbeddingRouter needs at least one labelled example")
        for index, text in enumerate(self.texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"example {index} must be a non-empty string, got {text!r}")
        if len(labels) != len(self.texts):
            raise ValueError(f"got {len(self.texts)} texts but {len(labels)} labels")
        self.labels = tuple(labels)
        self._is_complex = np.array(
            [check_label(label, f"label {i}") for i, label in enumerate(self.labels)]
        )
        if not callable(embed):
            raise TypeError("embed must be a function from a list of texts to an array")
        self.embed = embed
        self.k = require_int("k", k, minimum=1, maximum=len(self.texts))
        self.threshold = require_fraction("threshold", threshold)
        vectors = embed(list(self.texts)) if example_vectors is None else example_vectors
        self._vectors = _checked_vectors(vectors, len(self.texts), "example vectors")
        self.strong_model = strong_model
        self.weak_model = weak_model

    @classmethod
    def from_examples(
        cls, examples: Sequence[LabelledQuery], **settings: object
    ) -> EmbeddingRouter:
        """A router trained on labelled queries (e.g. ``load_routing_queries("train")``)."""
        texts = [e.query for e in examples]
        return cls(texts, [e.label for e in examples], **settings)  # type: ignore[arg-type]

    def with_settings(self, *, k: int | None = None, threshold: float | None = None
                      ) -> EmbeddingRouter:
        """The same examples and vectors with another ``k`` or ``threshold`` (no re-embedding)."""
        return EmbeddingRouter(
            self.texts, self.labels, embed=self.embed,
            k=self.k if k is None else k,
            threshold=self.threshold if threshold is None else threshold,
            example_vectors=self._vectors,
            strong_model=self.strong_model, weak_model=self.weak_model,
        )

    # -- scoring --------------------------------------------------------------------------------

    def _query_vectors(self, queries: Sequence[str]) -> np.ndarray:
        vectors = self.embed(list(queries))
        return _checked_vectors(vectors, len(queries), "query vectors",
                                dimensions=self._vectors.shape[1])

    def _scores(self, similarities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(complex scores, indices of the k nearest examples) for rows of similarities."""
        # A stable sort keeps equally similar examples in training order: same query, same
        # neighbours, same route, on every run.
        nearest = np.argsort(-similarities, axis=1, kind="stable")[:, : self.k]
        sims = np.take_along_axis(similarities, nearest, axis=1)
        votes = self._is_complex[nearest].astype(np.float64)
        weights = np.clip(sims, 0.0, None).astype(np.float64)
        totals = weights.sum(axis=1)
        # Weighted by similarity so a near-duplicate counts more than the 7th neighbour; if no
        # neighbour is similar at all (every weight 0), fall back to a plain vote.
        weighted = np.divide((weights * votes).sum(axis=1), totals,
                             out=np.zeros_like(totals), where=totals > 0)
        scores = np.where(totals > 0, weighted, votes.mean(axis=1))
        return scores, nearest

    def complex_scores(self, queries: Sequence[str]) -> np.ndarray:
        """The complex score (0..1) of each query, embedded in one batch."""
        if isinstance(queries, str):
            raise TypeError("complex_scores takes a list of queries; use complex_score for one")
        queries = [check_route_input(q, 0)[0] for q in queries]
        if not queries:
            return np.zeros(0)
        return self._scores(self._query_vectors(queries) @ self._vectors.T)[0]

    def complex_score(self, query: str) -> float:
        """How much the ``k`` nearest examples say "complex", weighted by similarity (0..1)."""
        return float(self.complex_scores([query])[0])

    def leave_one_out_scores(self) -> np.ndarray:
        """Each example's score from the *other* examples: an honest score on the training set.

        Scoring an example against a set that contains itself finds it at similarity 1 and
        repeats its label back; leaving it out makes the training scores fit for choosing ``k``
        and the threshold without touching the test split.
        """
        if len(self.texts) <= self.k:
            raise ValueError(
                f"leave-one-out needs more than k={self.k} examples, got {len(self.texts)}"
            )
        similarities = self._vectors @ self._vectors.T
        np.fill_diagonal(similarities, -np.inf)
        return self._scores(similarities)[0]

    def neighbours(self, query: str) -> list[Neighbour]:
        """The ``k`` examples most similar to ``query``, most similar first."""
        query = check_route_input(query, 0)[0]
        similarities = self._query_vectors([query]) @ self._vectors.T
        _, nearest = self._scores(similarities)
        return [
            Neighbour(self.texts[i], self.labels[i], float(similarities[0, i]))
            for i in nearest[0]
        ]

    # -- routing --------------------------------------------------------------------------------

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        """Strong model when the complex score reaches the threshold.

        ``conversation_turns`` is checked but not used: on the course's data the number of turns
        says little about the question (notebook 05 fits it and the fit switches it off).
        """
        query, conversation_turns = check_route_input(query, conversation_turns)
        similarities = self._query_vectors([query]) @ self._vectors.T
        scores, nearest = self._scores(similarities)
        score = float(scores[0])
        n_complex = int(self._is_complex[nearest[0]].sum())
        closest = int(nearest[0, 0])
        strong = score >= self.threshold
        reason = (
            f"{self.k} nearest: {n_complex} complex, closest {_snippet(self.texts[closest])!r} "
            f"{float(similarities[0, closest]):.2f}; score {score:.2f} "
            f"{'>=' if strong else '<'} {self.threshold:.2f}"
        )
        return RouteDecision(self.strong_model if strong else self.weak_model, reason)

    def __repr__(self) -> str:
        embed_name = getattr(self.embed, "__name__", type(self.embed).__name__)
        return (f"EmbeddingRouter({len(self.texts)} examples, k={self.k}, "
                f"threshold={self.threshold:.2f}, embed={embed_name})")


def _checked_vectors(vectors: object, rows: int, what: str, dimensions: int | None = None
                     ) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[0] != rows:
        raise ValueError(f"{what}: expected {rows} rows of numbers, got shape {array.shape}")
    if dimensions is not None and array.shape[1] != dimensions:
        raise ValueError(
            f"{what}: {array.shape[1]} dimensions, but the examples have {dimensions}; "
            "embed queries with the function that embedded the examples"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what}: contain NaN or infinite values")
    return unit_rows(array)


def fit_threshold(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[str],
    *,
    miss_cost: float = 1.0,
    waste_cost: float = 1.0,
) -> float:
    """The threshold on complex scores that makes the cheapest mistakes on labelled data.

    Cost as in :func:`course_lib.router.rules.fit_thresholds`: ``miss_cost`` per complex query
    below the threshold, ``waste_cost`` per simple query at or above it. Candidates are the
    lowest score (everything strong) and the midpoints between consecutive distinct scores, so
    the chosen threshold sits between the examples it separates rather than on one of them.
    Ties go to the higher threshold: fewer strong-model calls.
    """
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("scores must be a non-empty list of numbers")
    if len(labels) != values.size:
        raise ValueError(f"got {values.size} scores but {len(labels)} labels")
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise ValueError("scores must be finite numbers between 0 and 1")
    for name, weight in (("miss_cost", miss_cost), ("waste_cost", waste_cost)):
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not (
            math.isfinite(weight) and weight > 0
        ):
            raise ValueError(f"{name} must be a finite number > 0, got {weight!r}")
    is_complex = np.array([check_label(label, f"label {i}") for i, label in enumerate(labels)])
    distinct = np.unique(values)
    candidates = np.concatenate([distinct[:1], (distinct[:-1] + distinct[1:]) / 2])
    best_cost, best_threshold = math.inf, float(candidates[0])
    for threshold in candidates:  # ascending: "<=" below lets a later, higher one win ties
        strong = values >= threshold
        cost = (miss_cost * np.count_nonzero(is_complex & ~strong)
                + waste_cost * np.count_nonzero(~is_complex & strong))
        if cost <= best_cost:
            best_cost, best_threshold = float(cost), float(threshold)
    return best_threshold
