"""Real sentence embeddings: shape, unit length, input order, meaning, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib.embeddings import EMBEDDING_DIM, MiniLMEmbedder, cosine_similarity, embed

TEXTS = [
    "How do I reset my password?",
    "Which plan includes SSO?",
    "I forgot my password and cannot sign in, what should I do now?",
    "ok",
    "Does Kitewing integrate with GitHub pull requests and issues?",
]


def test_unit_vectors_of_384_dimensions() -> None:
    vectors = embed(TEXTS)
    assert vectors.shape == (len(TEXTS), EMBEDDING_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_rows_follow_the_input_order_whatever_the_batching() -> None:
    # Texts are batched by length internally; each row must still be its own text's vector.
    alone = np.stack([embed([text])[0] for text in TEXTS])
    together = MiniLMEmbedder(batch_size=2).embed(TEXTS)
    assert np.allclose(together, alone, atol=1e-4)


def test_meaning_paraphrase_closer_than_unrelated() -> None:
    a, paraphrase, unrelated = embed(
        ["How do I reset my password?", "I forgot my password, how can I change it?",
         "Which Slack channels can Kitewing post to?"])
    assert cosine_similarity(a, paraphrase) > cosine_similarity(a, unrelated) + 0.3


def test_empty_list_and_bad_input() -> None:
    assert embed([]).shape == (0, EMBEDDING_DIM)
    with pytest.raises(TypeError, match="list of strings"):
        embed("a single string")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="input 1"):
        embed(["fine", 42])  # type: ignore[list-item]


def test_cosine_similarity_by_hand() -> None:
    assert cosine_similarity(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(
        2 ** -0.5)
    matrix = cosine_similarity(np.eye(2), np.array([[0.0, 2.0]]))
    assert np.allclose(matrix, [[0.0], [1.0]])
