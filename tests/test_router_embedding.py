"""The embedding router (k nearest labelled examples) and the text features it can use."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from course_lib.router.decision import RouteDecision
from course_lib.router.embedding import EmbeddingRouter, fit_threshold
from course_lib.router.features import (
    combine_embeddings,
    hashed_term_vectors,
    memoised,
    term_features,
    unknown_piece_share,
)

# Hand-made 3-d vectors. Cosine similarities with the query (0.8, 0, 0.6), worked out by hand:
# "faq one" 0.8, "hard one" 0.6, "faq two" 0.48, "hard two" 0.48.
VECTORS = {
    "faq one": (1.0, 0.0, 0.0),
    "faq two": (0.6, 0.8, 0.0),
    "hard one": (0.0, 0.0, 1.0),
    "hard two": (0.0, 0.6, 0.8),
    "query": (0.8, 0.0, 0.6),
    "opposite": (-1.0, 0.0, 0.0),
    "scaled query": (8.0, 0.0, 6.0),  # not unit length: the router must normalise
}
TEXTS = ["faq one", "faq two", "hard one", "hard two"]
LABELS = ["simple", "simple", "complex", "complex"]


class FakeEmbed:
    """Looks vectors up in VECTORS and counts how many texts it was asked to embed."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.array([VECTORS[text] for text in texts], dtype=np.float32).reshape(-1, 3)


def router(k: int, threshold: float = 0.5, embed: FakeEmbed | None = None) -> EmbeddingRouter:
    return EmbeddingRouter(TEXTS, LABELS, embed=embed or FakeEmbed(), k=k, threshold=threshold)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, 0.0),  # only "faq one"
        (2, 0.6 / (0.8 + 0.6)),  # "faq one", "hard one"
        (3, 0.6 / (0.8 + 0.6 + 0.48)),  # the 0.48 tie goes to the earlier example, "faq two"
        (4, (0.6 + 0.48) / (0.8 + 0.6 + 0.48 + 0.48)),
    ],
)
def test_score_is_the_similarity_weighted_share_of_complex_neighbours(
    k: int, expected: float
) -> None:
    assert router(k).complex_score("query") == pytest.approx(expected, abs=1e-6)


def test_vectors_are_normalised_whatever_embed_returns() -> None:
    """A vector 10 times longer points the same way: same score."""
    assert router(3).complex_score("scaled query") == pytest.approx(
        router(3).complex_score("query"), abs=1e-6)


def test_neighbours_are_listed_most_similar_first() -> None:
    found = router(3).neighbours("query")
    assert [(n.text, n.label) for n in found] == [
        ("faq one", "simple"), ("hard one", "complex"), ("faq two", "simple")]
    assert [n.similarity for n in found] == pytest.approx([0.8, 0.6, 0.48], abs=1e-6)


def test_route_names_its_evidence() -> None:
    """The reason says how many neighbours were complex, the closest one, and the score."""
    assert router(2, threshold=0.4).route("query", 1) == RouteDecision(
        "gpt-4o", "2 nearest: 1 complex, closest 'faq one' 0.80; score 0.43 >= 0.40")
    assert router(2, threshold=0.5).route("query", 1) == RouteDecision(
        "gpt-4o-mini", "2 nearest: 1 complex, closest 'faq one' 0.80; score 0.43 < 0.50")


def test_a_score_equal_to_the_threshold_goes_to_the_strong_model() -> None:
    assert router(1, threshold=0.0).route("query", 1).model == "gpt-4o"


def test_neighbours_with_no_positive_similarity_fall_back_to_a_plain_vote() -> None:
    """"opposite" has similarity 0 with both complex examples and is negative with the simple
    ones: weights are all 0, so the two nearest vote unweighted (both complex)."""
    assert router(2).complex_score("opposite") == 1.0


def test_leave_one_out_does_not_let_an_example_vote_for_itself() -> None:
    """In-sample, every example is its own nearest neighbour; left out, "faq two" is nearest to
    "faq one" (0.6) and "hard one" to "hard two" (0.8)."""
    scores = router(1).leave_one_out_scores()
    assert scores.tolist() == [0.0, 0.0, 1.0, 1.0]
    lonely = EmbeddingRouter(["faq one", "hard one"], ["simple", "complex"], embed=FakeEmbed(), k=1)
    assert lonely.leave_one_out_scores().tolist() == [1.0, 0.0]  # each one's only other example


def test_with_settings_reuses_the_example_vectors() -> None:
    embed = FakeEmbed()
    base = router(1, embed=embed)
    other = base.with_settings(k=3, threshold=0.2)
    assert (other.k, other.threshold) == (3, 0.2)
    assert embed.calls == [TEXTS]  # the examples were embedded once, by the first router
    assert other.route("query", 1).model == "gpt-4o"


def test_routing_is_deterministic() -> None:
    r = router(3)
    assert {r.route("query", 1) for _ in range(5)} == {r.route("query", 1)}


def test_bad_input_is_an_error_that_names_it() -> None:
    r = router(3)
    with pytest.raises(ValueError, match="query is empty"):
        r.route("  ", 1)
    with pytest.raises(ValueError, match="conversation_turns"):
        r.route("query", -1)
    with pytest.raises(ValueError, match="k must be <= 4, got 5"):
        router(5)
    with pytest.raises(ValueError, match=r"threshold must be <= 1\.0, got 1\.5"):
        router(1, threshold=1.5)
    with pytest.raises(ValueError, match="4 texts but 3 labels"):
        EmbeddingRouter(TEXTS, LABELS[:3], embed=FakeEmbed())
    with pytest.raises(ValueError, match="'simple' or 'complex'"):
        EmbeddingRouter(TEXTS, ["simple", "simple", "hard", "complex"], embed=FakeEmbed(), k=1)
    with pytest.raises(ValueError, match="example 1 must be a non-empty string"):
        EmbeddingRouter(["faq one", ""], ["simple", "simple"], embed=FakeEmbed(), k=1)
    with pytest.raises(ValueError, match="at least one"):
        EmbeddingRouter([], [], embed=FakeEmbed())


def test_embed_output_is_checked() -> None:
    """Wrong shapes, other dimensions and NaN are caught where they enter."""
    with pytest.raises(ValueError, match="expected 4 rows"):
        EmbeddingRouter(TEXTS, LABELS, embed=lambda texts: np.ones((3, 3)), k=1)
    with pytest.raises(ValueError, match="NaN"):
        EmbeddingRouter(TEXTS, LABELS, embed=lambda texts: np.full((4, 3), np.nan), k=1)
    r = EmbeddingRouter(TEXTS, LABELS, embed=FakeEmbed(), k=1,
                        example_vectors=np.eye(4, 5, dtype=np.float32))
    with pytest.raises(ValueError, match="3 dimensions, but the examples have 5"):
        r.route("query", 1)


# -- threshold fitting ----------------------------------------------------------------------------


def test_fit_threshold_separates_the_classes_at_a_midpoint() -> None:
    """Scores 0.1, 0.4 (simple), 0.6, 0.9 (complex): 0.5 makes no mistake."""
    assert fit_threshold([0.1, 0.4, 0.6, 0.9], ["simple", "simple", "complex", "complex"]) == (
        pytest.approx(0.5))


def test_fit_threshold_ties_go_up_and_costs_move_it_down() -> None:
    """Labels s, c, s, c on scores 0.1, 0.4, 0.6, 0.9: thresholds 0.25 (one waste) and 0.75
    (one miss) tie at cost 1 and the higher one wins; a miss costing 2 makes 0.25 cheaper."""
    scores, labels = [0.1, 0.4, 0.6, 0.9], ["simple", "complex", "simple", "complex"]
    assert fit_threshold(scores, labels) == pytest.approx(0.75)
    assert fit_threshold(scores, labels, miss_cost=2) == pytest.approx(0.25)


def test_fit_threshold_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="2 scores but 1 labels"):
        fit_threshold([0.1, 0.2], ["simple"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        fit_threshold([1.5], ["simple"])
    with pytest.raises(ValueError, match="waste_cost"):
        fit_threshold([0.5], ["simple"], waste_cost=-1)


# -- features -------------------------------------------------------------------------------------


def test_term_features_are_words_chinese_characters_and_pairs() -> None:
    assert term_features("The API 报错了!") == ["the", "api", "报", "错", "了", "报错", "错了"]


def test_hashed_term_vectors_are_unit_length_and_reproducible() -> None:
    """Same text, same vector in any process (CRC-32, not the salted hash()); no terms, zero."""
    vectors = hashed_term_vectors(["API 报错", "API 报错", "???"])
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0, 0.0], abs=1e-6)
    assert np.array_equal(vectors[0], vectors[1])
    # terms {api, 报, 错, 报错} and {api, 报} share 2: cosine 2 / (sqrt(4) sqrt(2))
    a, b = hashed_term_vectors(["API 报错", "api 报"])
    assert float(a @ b) == pytest.approx(2 / np.sqrt(4 * 2), abs=1e-6)


def test_combined_embedding_cosine_is_the_mean_of_the_parts() -> None:
    def first(texts: Sequence[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if t == "a" else [0.0, 1.0] for t in texts])

    def second(texts: Sequence[str]) -> np.ndarray:
        return np.array([[1.0, 0.0, 0.0]] * len(texts))

    combined = combine_embeddings(first, second)
    a, b = combined(["a", "b"])
    assert float(a @ b) == pytest.approx((0.0 + 1.0) / 2)
    assert np.linalg.norm(a) == pytest.approx(1.0)


def test_memoised_embeds_each_distinct_text_once() -> None:
    inner = FakeEmbed()
    cached = memoised(inner)
    first = cached(["faq one", "query", "faq one"])
    second = cached(["query", "hard one"])
    assert inner.calls == [["faq one", "query"], ["hard one"]]
    assert np.array_equal(first[1], second[0])


def test_minilm_cannot_see_most_chinese_characters() -> None:
    """An English word-piece vocabulary: Chinese becomes [UNK] often, English never here."""
    assert unknown_piece_share(["How do I connect Slack?"]) == 0.0
    assert unknown_piece_share(["怎么连接 Slack?"]) > 0.3


# -- real embeddings ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_router() -> EmbeddingRouter:
    from course_lib.datasets import load_routing_queries
    from course_lib.embeddings import embed

    return EmbeddingRouter.from_examples(
        load_routing_queries("train"), embed=combine_embeddings(embed, hashed_term_vectors), k=15)


@pytest.mark.parametrize(
    ("query", "model"),
    [
        ("How much does the Business plan cost per user?", "gpt-4o-mini"),
        ("Can I change my profile picture?", "gpt-4o-mini"),
        ("我们的 webhook 签名校验失败,轮换密钥之后一半请求被拒绝,应该怎么排查?", "gpt-4o"),
        ("After upgrading our self-hosted cluster the pods crash-loop and the migration lock is "
         "held. How do we recover without losing data?", "gpt-4o"),
    ],
)
def test_real_embeddings_route_clear_cases(
    trained_router: EmbeddingRouter, query: str, model: str
) -> None:
    """Trained on the shipped train split, clear FAQ and clear diagnosis questions go right."""
    assert trained_router.route(query, 1).model == model
