"""Semantic search over Kitewing's knowledge base: the "search the knowledge base" tool's engine.

Every entry is indexed under its canonical question and each of its paraphrases, embedded once
with :mod:`course_lib.embeddings` (real all-MiniLM-L6-v2 vectors). A query is embedded the same
way; an entry's score is its best cosine similarity over its phrasings, and the top ``k`` entries
come back with their scores. Indexing the ways people *ask* rather than the answers matches a
short user question best, and the paraphrases include Chinese ones, so "Slack 通知收不到了" finds
the Slack article.

At this size (76 entries, ~380 vectors) a matrix product is exact and takes microseconds; a
vector database (FAISS, pgvector, Qdrant) earns its keep at hundreds of thousands of vectors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.datasets import KnowledgeBase, KnowledgeBaseEntry, load_knowledge_base

__all__ = ["KBHit", "KnowledgeBaseIndex", "default_kb_index"]

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class KBHit:
    """One search result: the entry, how similar its closest phrasing is, and that phrasing."""

    entry: KnowledgeBaseEntry
    score: float
    matched: str

    @property
    def id(self) -> str:
        return self.entry.id


class KnowledgeBaseIndex:
    """Embeddings of every phrasing of every entry, searched by cosine similarity."""

    def __init__(self, kb: KnowledgeBase, embed: Embed | None = None) -> None:
        if embed is None:
            from course_lib.embeddings import embed as embed_texts

            embed = embed_texts
        self.kb = kb
        self._embed = embed
        self._texts: list[str] = []
        owners: list[int] = []
        for position, entry in enumerate(kb.entries):
            for text in entry.all_questions:
                self._texts.append(text)
                owners.append(position)
        self._owner = np.asarray(owners)
        self._vectors = np.asarray(embed(self._texts), dtype=np.float32)
        if self._vectors.shape[0] != len(self._texts):
            raise ValueError(f"embed returned {self._vectors.shape[0]} vectors for "
                             f"{len(self._texts)} texts")

    def __len__(self) -> int:
        return len(self._texts)

    def search(self, query: str, k: int = 3) -> list[KBHit]:
        """The ``k`` best entries for ``query``, best first (ties keep knowledge-base order)."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"query must be a non-empty string, got {query!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        similarities = self._vectors @ np.asarray(self._embed([query]), dtype=np.float32)[0]
        best = np.full(len(self.kb.entries), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._owner, similarities)
        # A stable sort on -score keeps equal scores in knowledge-base order: deterministic.
        top = np.argsort(-best, kind="stable")[:k]
        hits = []
        for position in top:
            mine = np.flatnonzero(self._owner == position)
            closest = mine[np.argmax(similarities[mine])]
            hits.append(KBHit(self.kb.entries[position], float(best[position]),
                              self._texts[closest]))
        return hits


@functools.cache
def default_kb_index() -> KnowledgeBaseIndex:
    """The shipped knowledge base, indexed once per process (about a second of embedding)."""
    return KnowledgeBaseIndex(load_knowledge_base())
