"""What the simulated models say: answers grounded in the Kitewing knowledge base.

The sandbox is not a language model. It finds the knowledge-base entry closest to the user's
last message (TF-IDF over words, and over character pairs for Chinese, which has no spaces) and
answers with it. The stronger profile (gpt-4o family) gives the entry's full answer, the weaker
one (gpt-4o-mini family) the brief answer, so routing and fallback lessons see a real quality
difference. Same question, same answer: deterministic, so caches have something real to hit.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from course_lib.datasets import KnowledgeBaseEntry, load_knowledge_base

__all__ = ["Answer", "KnowledgeBaseRetriever", "compose_answer", "get_retriever"]

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_STOPWORDS = frozenset((
    "a", "an", "the", "is", "are", "was", "were", "be", "to", "of", "in", "on", "for", "and",
    "or", "how", "do", "does", "did", "i", "my", "me", "we", "our", "you", "your", "it",
    "its", "can", "could", "should", "would", "what", "which", "when", "where", "why", "with",
    "from", "this", "that", "there", "as", "at", "by", "so", "if", "not", "no", "please",
    "hi", "hello", "thanks", "thank",
))
# Below this similarity the question is not about anything in the knowledge base.
MIN_MATCH_SCORE = 0.12

NO_MATCH_ANSWER = (
    "I could not find that in the Kitewing help centre. I am the course sandbox's simulated "
    "support model, so I only know the Kitewing knowledge base; try asking about plans, billing, "
    "permissions, the API, integrations or troubleshooting."
)


def _terms(text: str) -> list[str]:
    lowered = text.lower()
    terms = [w for w in _WORD.findall(lowered) if w not in _STOPWORDS]
    for run in _CJK.findall(lowered):
        terms.extend(run)  # single characters carry meaning in Chinese
        terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return terms


@dataclass(frozen=True)
class Answer:
    """An answer and where it came from (``entry_id`` None: nothing matched)."""

    text: str
    entry_id: str | None
    score: float


class KnowledgeBaseRetriever:
    """TF-IDF retrieval over each entry's question, paraphrases and keywords."""

    def __init__(self, entries: tuple[KnowledgeBaseEntry, ...] | list[KnowledgeBaseEntry]) -> None:
        self.entries = list(entries)
        documents = [
            _terms(" ".join([e.question, *e.paraphrases, *e.keywords])) for e in self.entries
        ]
        document_frequency: Counter[str] = Counter()
        for terms in documents:
            document_frequency.update(set(terms))
        n = len(documents)
        self._idf = {t: math.log((1 + n) / (1 + df)) + 1.0 for t, df in document_frequency.items()}
        self._vectors = [self._vector(terms) for terms in documents]

    def _vector(self, terms: list[str]) -> dict[str, float]:
        counts = Counter(terms)
        vector = {t: (1 + math.log(c)) * self._idf.get(t, 0.0) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {t: v / norm for t, v in vector.items() if v}

    def ranked(self, query: str) -> list[tuple[float, KnowledgeBaseEntry]]:
        """Entries by similarity to ``query``, best first (ties keep knowledge-base order)."""
        query_vector = self._vector(_terms(query))
        scores = [
            (sum(w * doc.get(t, 0.0) for t, w in query_vector.items()), index)
            for index, doc in enumerate(self._vectors)
        ]
        scores.sort(key=lambda pair: (-pair[0], pair[1]))
        return [(score, self.entries[index]) for score, index in scores]

    def best(self, query: str) -> tuple[float, KnowledgeBaseEntry | None]:
        score, entry = self.ranked(query)[0]
        return (score, entry) if score >= MIN_MATCH_SCORE else (score, None)


@functools.cache
def get_retriever() -> KnowledgeBaseRetriever:
    return KnowledgeBaseRetriever(load_knowledge_base().entries)


def compose_answer(query: str, style: Literal["full", "brief"]) -> Answer:
    """The simulated model's answer to ``query`` in the given style."""
    score, entry = get_retriever().best(query)
    if entry is None:
        return Answer(NO_MATCH_ANSWER, None, score)
    text = entry.answer_full if style == "full" else entry.answer_brief
    return Answer(text, entry.id, score)


def related_answers(query: str, style: Literal["full", "brief"], skip: str | None) -> list[str]:
    """Further answers, nearest in the knowledge graph first: used to lengthen an answer on request.

    A breadth-first walk over the articles' "related" links (:mod:`course_lib.knowledge_graph`)
    from ``skip``, the article that answered; when nothing matched (``skip`` is None), from the
    article most similar to ``query``, which is then included. Deterministic: links keep their
    order, and the walk covers every article the graph connects to the start.
    """
    from course_lib.knowledge_graph import default_graph

    graph = default_graph()
    start = skip if skip is not None else get_retriever().ranked(query)[0][1].id
    return [
        entry.answer_full if style == "full" else entry.answer_brief
        for entry in (graph.entry(found) for found, _ in graph.bfs(start))
        if entry.id != skip
    ]
