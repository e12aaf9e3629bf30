"""A semantic cache: serve a cached answer when a *similar* question was answered before.

An exact cache misses "how do I reset my password" after "How do I reset my password?". A
semantic cache embeds each question (``course_lib.embeddings``: unit vectors, so cosine
similarity is a dot product), finds the nearest cached question, and serves its answer when the
similarity reaches a threshold.

The risk is the *false hit*: an answer served for a question it does not answer. Sentence
embeddings place "How do I upgrade my plan?" and "How do I downgrade my plan?" very close,
because they share every word but one; notebook 04 measures how close on labelled pairs. So:

* the threshold is chosen from a measured precision/recall curve
  (``course_lib.cache.threshold``), never typed in;
* optional *guards* (``course_lib.cache.guards``) veto a match where the embedding model is
  known to be blind (text it cannot read, two questions differing in a word or two);
* matches are only made within one *scope* (``CacheRequest.scope()``: same model, prompt,
  parameters, tools and tenant), like an exact key minus the query. The scope is a required
  argument of every lookup and add, with no default (see :class:`SemanticCache`).

Search is a matrix-vector product over all cached vectors: exact, and fast up to ~10^5
entries. Beyond that use an approximate index (FAISS, hnswlib, or a vector database); the
``GPTCache`` project packages this whole idea.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.cache.cached_answer import CachedAnswer
from course_lib.cache.policy import TTLPolicy

__all__ = ["Embedder", "Guard", "SemanticCache", "SemanticMatch", "first_objection"]

Embedder = Callable[[Sequence[str]], np.ndarray]
# (new query, cached query) -> why the match must not be served, or None to allow it.
Guard = Callable[[str, str], str | None]


@dataclass(frozen=True)
class SemanticMatch:
    """The nearest cached question in scope, its similarity, its answer, and any veto."""

    query: str
    cached_query: str
    similarity: float
    answer: CachedAnswer
    refused_because: str | None = None


def first_objection(query: str, cached_query: str, guards: Sequence[Guard]) -> str | None:
    """The first guard's reason not to serve ``cached_query``'s answer for ``query``, or None."""
    for guard in guards:
        reason = guard(query, cached_query)
        if reason is not None:
            return reason
    return None


def _default_embed(texts: Sequence[str]) -> np.ndarray:
    from course_lib.embeddings import embed

    return embed(texts)


def _check_threshold(threshold: float) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not (
        -1.0 <= threshold <= 1.0
    ):
        raise ValueError(f"threshold must be a cosine similarity in [-1, 1], got {threshold!r}")
    return float(threshold)


def _check_scope(scope: object) -> None:
    if not isinstance(scope, str) or not scope:
        raise ValueError(f"scope must name what a match must share (pass CacheRequest.scope(): "
                         f"model, prompt, parameters, tools and tenant), got {scope!r}")


class SemanticCache:
    """Cached answers found by the cosine similarity of their questions.

    ``threshold``: the least similarity served as a hit. ``embed``: texts -> ``(n, d)`` unit
    vectors (default: the course's all-MiniLM-L6-v2). ``guards``: vetoes checked on the nearest
    match. ``policy`` gives each answer's TTL by kind, as in the exact cache (None: not cached);
    ``clock`` reads seconds. At most ``max_entries`` questions are kept, evicting the least
    recently used.

    **Scope is explicit.** ``lookup``, ``nearest``, ``explain`` and ``add`` each take a
    required ``scope`` (pass ``CacheRequest.scope()``), and an empty one is refused. It used to
    default to ``""``: a caller who forgot it shared one pool of answers across every tenant,
    prompt and model, and got another tenant's question served as a hit. Keying scopes per
    cache *instance* instead was the alternative, and the worse one: a scope is a property of
    each request (its tenant, model, prompt, parameters), so one instance would be needed per
    combination, and reusing an instance for a second tenant would leak again without an
    error. A required argument makes the omission a ``TypeError`` at the call that forgot it.
    """

    def __init__(
        self,
        threshold: float,
        *,
        embed: Embedder | None = None,
        guards: Sequence[Guard] = (),
        policy: TTLPolicy | None = None,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a whole number >= 1, got {max_entries!r}")
        self.threshold = _check_threshold(threshold)
        self.guards = tuple(guards)
        self.policy = policy or TTLPolicy.for_support_bot()
        self.max_entries = max_entries
        self._embed = embed or _default_embed
        self._clock = clock
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None  # allocated on the first add, when d is known
        self._used = np.zeros(max_entries, dtype=bool)
        self._scope_ids = np.zeros(max_entries, dtype=np.int64)
        self._expires = np.zeros(max_entries, dtype=np.float64)
        self._last_used = np.zeros(max_entries, dtype=np.int64)
        self._queries: list[str | None] = [None] * max_entries
        self._answers: list[CachedAnswer | None] = [None] * max_entries
        self._slot_of: dict[tuple[int, str], int] = {}
        self._scopes: dict[str, int] = {}
        self._tick = 0
        self.hits = 0
        self.misses = 0
        self.refused = 0

    def __len__(self) -> int:
        with self._lock:
            return int((self._used & (self._expires > self._clock())).sum())

    def embed_query(self, query: str) -> np.ndarray:
        """The unit vector of ``query`` (pass it to lookup and add to embed only once)."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"query must be a non-empty string, got {query!r}")
        vectors = np.asarray(self._embed([query]), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != 1:
            raise ValueError(f"embed() must return one row per text, got shape {vectors.shape}")
        vector = vectors[0]
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm == 0.0:
            raise ValueError(f"the embedding of {query!r} has no direction (norm {norm})")
        return vector / norm

    def _vector(self, query: str, vector: np.ndarray | None) -> np.ndarray:
        if vector is None:
            return self.embed_query(query)
        vector = np.asarray(vector, dtype=np.float32)
        if vector.ndim != 1:
            raise ValueError(f"vector must be 1-D, got shape {vector.shape}")
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def nearest(self, query: str, *, scope: str, vector: np.ndarray | None = None
                ) -> SemanticMatch | None:
        """The most similar live cached question in ``scope``, whatever its similarity."""
        _check_scope(scope)
        vector = self._vector(query, vector)
        with self._lock:
            if self._vectors is None:
                return None
            if vector.shape[0] != self._vectors.shape[1]:
                raise ValueError(f"vector has {vector.shape[0]} dimensions, the cache holds "
                                 f"{self._vectors.shape[1]}")
            scope_id = self._scopes.get(scope)
            if scope_id is None:
                return None
            live = self._used & (self._scope_ids == scope_id) & (self._expires > self._clock())
            slots = np.flatnonzero(live)
            if slots.size == 0:
                return None
            similarities = self._vectors[slots] @ vector
            best = int(np.argmax(similarities))
            slot = int(slots[best])
            self._tick += 1
            self._last_used[slot] = self._tick
            cached_query, answer = self._queries[slot], self._answers[slot]
        assert cached_query is not None and answer is not None
        return SemanticMatch(query, cached_query, float(similarities[best]), answer)

    def lookup(self, query: str, *, scope: str, vector: np.ndarray | None = None
               ) -> SemanticMatch | None:
        """A match to serve: similarity >= threshold and no guard objects; else None."""
        match = self.nearest(query, scope=scope, vector=vector)
        refused = (match is not None and match.similarity >= self.threshold
                   and first_objection(query, match.cached_query, self.guards) is not None)
        served = match is not None and match.similarity >= self.threshold and not refused
        with self._lock:
            self.hits += served
            self.misses += not served
            self.refused += refused
        return match if served else None

    def explain(self, query: str, *, scope: str, vector: np.ndarray | None = None
                ) -> SemanticMatch | None:
        """The nearest match with the first guard's objection filled in (for teaching)."""
        match = self.nearest(query, scope=scope, vector=vector)
        if match is None:
            return None
        reason = first_objection(query, match.cached_query, self.guards)
        if reason is None:
            return match
        return SemanticMatch(match.query, match.cached_query, match.similarity, match.answer,
                             reason)

    def add(self, query: str, answer: CachedAnswer, *, scope: str,
            vector: np.ndarray | None = None) -> bool:
        """Cache ``answer`` for ``query``; False when the policy says its kind is not cached."""
        _check_scope(scope)
        if not isinstance(answer, CachedAnswer):
            raise TypeError(f"answer must be a CachedAnswer, got {type(answer).__name__}")
        ttl_s = self.policy.ttl_for(answer.kind)
        if ttl_s is None:
            return False
        vector = self._vector(query, vector)
        with self._lock:
            if self._vectors is None:
                self._vectors = np.zeros((self.max_entries, vector.shape[0]), dtype=np.float32)
            elif vector.shape[0] != self._vectors.shape[1]:
                raise ValueError(f"vector has {vector.shape[0]} dimensions, the cache holds "
                                 f"{self._vectors.shape[1]}")
            now = self._clock()
            scope_id = self._scopes.setdefault(scope, len(self._scopes))
            slot = self._slot_of.get((scope_id, query))
            if slot is None or not self._used[slot]:
                slot = self._free_slot(now)
            self._vectors[slot] = vector
            self._used[slot] = True
            self._scope_ids[slot] = scope_id
            self._expires[slot] = now + ttl_s
            self._tick += 1
            self._last_used[slot] = self._tick
            self._queries[slot], self._answers[slot] = query, answer
            self._slot_of[(scope_id, query)] = slot
        return True

    def _free_slot(self, now: float) -> int:
        free = np.flatnonzero(~self._used | (self._expires <= now))
        # Full of live entries: evict the least recently used.
        slot = int(free[0]) if free.size else int(np.argmin(self._last_used))
        self._release(slot)
        return slot

    def _release(self, slot: int) -> None:
        query = self._queries[slot]
        if query is not None:
            self._slot_of.pop((int(self._scope_ids[slot]), query), None)
        self._used[slot] = False
        self._queries[slot] = self._answers[slot] = None

    def invalidate_entry(self, entry_id: str) -> int:
        """Forget every cached answer grounded in knowledge-base entry ``entry_id``."""
        with self._lock:
            doomed = [slot for slot, answer in enumerate(self._answers)
                      if answer is not None and entry_id in answer.sources]
            for slot in doomed:
                self._release(slot)
        return len(doomed)
