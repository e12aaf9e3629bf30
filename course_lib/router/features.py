"""Text features for the embedding router, and why an English model needs help with Chinese.

all-MiniLM-L6-v2 (:mod:`course_lib.embeddings`) was trained on English. Its word-piece vocabulary
knows only some Chinese characters; the rest become ``[UNK]``, the "unknown" piece, and every
``[UNK]`` looks the same to the model. :func:`unknown_piece_share` measures how much of a text
the model cannot see. Two Chinese questions full of ``[UNK]`` look alike whatever they ask, so
similarities between Chinese queries come out high and say little.

:func:`hashed_term_vectors` is a feature that sees Chinese: a bag of Latin-script words, Chinese
characters and pairs of adjacent Chinese characters (Chinese has no spaces, and a two-character
pair is often a word: 报错, 部署, 权限), hashed into a fixed number of buckets. It is the
keyword idea of the lesson's router, learned from examples instead of listed by hand.
:func:`combine_embeddings` puts both side by side, so a cosine similarity of the combined vectors
is the average of the two similarities.

In production, scikit-learn's ``HashingVectorizer`` / ``TfidfVectorizer(analyzer="char")`` builds
such features, and a multilingual embedding model (``paraphrase-multilingual-MiniLM-L12-v2``,
OpenAI's ``text-embedding-3-small``) understands Chinese directly.
"""

from __future__ import annotations

import functools
import re
import threading
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from course_lib.router.rules import normalise_text

__all__ = [
    "EmbedFn",
    "combine_embeddings",
    "hashed_term_vectors",
    "memoised",
    "term_features",
    "unit_rows",
    "unknown_piece_share",
]

EmbedFn = Callable[[Sequence[str]], np.ndarray]

HASHED_DIMENSIONS = 4096
_LATIN_WORD = re.compile(r"[0-9a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+")
_MARKERS = frozenset({"[CLS]", "[SEP]", "[PAD]"})
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _text_list(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("pass a list of texts; wrap a single text in a list")
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {index} is {type(text).__name__}, not str")
    return texts


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (an all-zero row stays zero): cosine becomes a dot product."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def term_features(text: str) -> list[str]:
    """The terms :func:`hashed_term_vectors` counts: Latin words, Chinese characters and pairs.

    >>> term_features("API 报错了")
    ['api', '报', '错', '了', '报错', '错了']
    """
    normalised = normalise_text(text)
    terms = _LATIN_WORD.findall(normalised)
    for run in _CJK_RUN.findall(normalised):
        terms.extend(run)
        terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def hashed_term_vectors(texts: Sequence[str], *, dimensions: int = HASHED_DIMENSIONS) -> np.ndarray:
    """Unit vectors of term counts, each term hashed into one of ``dimensions`` buckets.

    The hash is CRC-32, not Python's ``hash()``, which is salted differently in every process and
    would give a different vector for the same text tomorrow. Two terms may share a bucket; with
    4,096 buckets and a few hundred distinct terms that is rare and only blurs a similarity.
    A text with no terms at all ("???") gets the zero vector: similar to nothing.
    """
    texts = _text_list(texts)
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
        raise ValueError(f"dimensions must be a whole number >= 1, got {dimensions!r}")
    counts = np.zeros((len(texts), dimensions), dtype=np.float32)
    for row, text in enumerate(texts):
        for term in term_features(text):
            counts[row, zlib.crc32(term.encode("utf-8")) % dimensions] += 1.0
    return unit_rows(counts)


def combine_embeddings(*embedders: EmbedFn) -> EmbedFn:
    """One embedding function that concatenates the (unit-length) outputs of several.

    Each part is scaled by ``1/sqrt(len(embedders))``, so the result has length 1 and the cosine
    similarity of two combined vectors is the mean of the parts' cosine similarities.
    """
    if not embedders:
        raise ValueError("combine_embeddings needs at least one embedding function")
    for index, embedder in enumerate(embedders):
        if not callable(embedder):
            raise TypeError(f"embedder {index} is not callable")
    scale = np.float32(1.0 / np.sqrt(len(embedders)))

    def combined(texts: Sequence[str]) -> np.ndarray:
        texts = _text_list(texts)
        parts = [unit_rows(embedder(texts)) for embedder in embedders]
        return np.concatenate(parts, axis=1) * scale

    names = " + ".join(getattr(e, "__name__", type(e).__name__) for e in embedders)
    combined.__name__ = f"combined({names})"
    return combined


def memoised(embed: EmbedFn) -> EmbedFn:
    """``embed`` that remembers each text's vector, so comparing routers embeds every text once.

    The same idea as the response cache of notebook 04, for embeddings. Thread-safe; unbounded,
    so use it for a fixed data set, not for live traffic.
    """
    cache: dict[str, np.ndarray] = {}
    lock = threading.Lock()

    @functools.wraps(embed)
    def cached(texts: Sequence[str]) -> np.ndarray:
        texts = _text_list(texts)
        with lock:
            missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if missing:
            vectors = np.asarray(embed(missing))
            with lock:
                cache.update(zip(missing, vectors, strict=True))
        with lock:
            rows = [cache[text] for text in texts]
        if not rows:
            return np.asarray(embed([]))
        return np.stack(rows)

    return cached


@functools.cache
def _minilm_tokenizer():  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    from course_lib.embeddings import model_files

    tokenizer = Tokenizer.from_file(str(model_files()[1]))
    # Count every piece of the whole text: no padding to the batch's longest, no truncation.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def unknown_piece_share(texts: Sequence[str]) -> float:
    """Share of the word pieces of ``texts`` that all-MiniLM-L6-v2 sees as ``[UNK]`` (unknown).

    The markers ``[CLS]`` and ``[SEP]`` that wrap every text are not counted.
    """
    texts = _text_list(texts)
    pieces = unknown = 0
    for encoding in _minilm_tokenizer().encode_batch(texts):
        tokens = [token for token in encoding.tokens if token not in _MARKERS]
        pieces += len(tokens)
        unknown += sum(token == "[UNK]" for token in tokens)
    if pieces == 0:
        raise ValueError("the texts have no word pieces to count")
    return unknown / pieces
