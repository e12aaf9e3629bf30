"""A typo-tolerant layer for the exact cache: "how do I reset pasword" finds "... password".

An exact-match cache misses a question with a typo in it. Edit distance (the number of
single-character edits between two strings) catches typos, but on its own it is a *spelling*
measure, not a meaning measure: "how do I export our data?" and "... import our data?" are two
edits apart, and so are "turn on" and "turn off". A bound on the whole string cannot tell them
from "pasword". So a cached question is served for a new one only when:

* both have the same words once case, spacing and punctuation are ignored, except for at most
  ``max_typos`` words;
* each differing word looks like a typo of the cached word: Latin letters, the same first
  letter (prefixes such as un-, dis-, de-, in- change meaning), within a small bounded
  :func:`~course_lib.algorithms.edit_distance` of it, and not itself a word the cache has seen
  in another question (a real word is a different question, not a typo);
* numbers and Chinese characters match exactly (a different character is a different word).

The bounded distance keeps the scan cheap: most cached questions are rejected after a few
characters. Library equivalent for the raw search: ``rapidfuzz.process.extractOne`` with a
``score_cutoff``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from course_lib.algorithms import edit_distance
from course_lib.cache.cached_answer import CachedAnswer
from course_lib.cache.policy import TTLPolicy

__all__ = ["TypoMatch", "TypoTolerantCache", "typo_distance", "words"]

_WORD = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)
_LATIN = re.compile(r"[a-z]+")


def words(text: str) -> tuple[str, ...]:
    """Case-folded words of ``text``; each Chinese character counts as a word."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return tuple(_WORD.findall(text.casefold()))


def _typo_budget(word: str) -> int:
    # One edit per three letters, at most two: "pasword" (1) and "upgrdae" (2) are typos;
    # a three-letter word tolerates one.
    return min(2, max(1, len(word) // 3))


def typo_distance(query: str, cached: str, *, max_typos: int = 1,
                  known_words: frozenset[str] = frozenset()) -> int | None:
    """Total edits if ``query`` is ``cached`` with at most ``max_typos`` misspelt words, else None.

    ``known_words``: real words (a query word found there is not a misspelling).
    """
    query_words, cached_words = words(query), words(cached)
    if len(query_words) != len(cached_words) or not query_words:
        return None
    total = typos = 0
    for q, c in zip(query_words, cached_words, strict=True):
        if q == c:
            continue
        typos += 1
        if typos > max_typos or q in known_words:
            return None
        if not (_LATIN.fullmatch(q) and _LATIN.fullmatch(c)) or q[0] != c[0]:
            return None
        distance = edit_distance(q, c, max_distance=_typo_budget(c))
        if distance is None:
            return None
        total += distance
    return total


@dataclass(frozen=True)
class TypoMatch:
    """A cached question served for a misspelt one."""

    query: str
    cached_query: str
    edits: int
    answer: CachedAnswer


class TypoTolerantCache:
    """Cached answers keyed by question, found again despite a typo.

    Keep it *behind* the exact cache (which answers the same wording for free) and pass the
    request's ``scope`` (see :func:`~course_lib.cache.cache_scope`) so a match never crosses
    models, prompts, parameters or tenants. ``policy`` gives each answer's TTL by kind (None:
    not cached); ``clock`` reads seconds.
    """

    def __init__(self, *, max_typos: int = 1, policy: TTLPolicy | None = None,
                 max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(max_typos, bool) or not isinstance(max_typos, int) or max_typos < 1:
            raise ValueError(f"max_typos must be a whole number >= 1, got {max_typos!r}")
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError(f"max_entries must be a whole number >= 1, got {max_entries!r}")
        self.max_typos = max_typos
        self.policy = policy or TTLPolicy.for_support_bot()
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # (scope, question) -> (answer, expires at), least recently used first.
        self._entries: OrderedDict[tuple[str, str], tuple[CachedAnswer, float]] = OrderedDict()
        self._word_counts: dict[str, int] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _count_words(self, question: str, delta: int) -> None:
        for word in set(words(question)):
            left = self._word_counts.get(word, 0) + delta
            if left > 0:
                self._word_counts[word] = left
            else:
                self._word_counts.pop(word, None)

    def add(self, query: str, answer: CachedAnswer, *, scope: str = "") -> bool:
        """Cache ``answer`` for ``query``; False when the policy says its kind is not cached."""
        if not isinstance(answer, CachedAnswer):
            raise TypeError(f"answer must be a CachedAnswer, got {type(answer).__name__}")
        if not words(query):
            raise ValueError("query must contain at least one word")
        ttl = self.policy.ttl_for(answer.kind)
        if ttl is None:
            return False
        with self._lock:
            key = (scope, query)
            if key in self._entries:
                self._count_words(query, -1)
            self._entries[key] = (answer, self._clock() + ttl)
            self._entries.move_to_end(key)
            self._count_words(query, +1)
            while len(self._entries) > self.max_entries:
                (_, evicted), _ = self._entries.popitem(last=False)
                self._count_words(evicted, -1)
        return True

    def lookup(self, query: str, *, scope: str = "") -> TypoMatch | None:
        """The live cached question that ``query`` misspells (fewest edits), or None."""
        now = self._clock()
        with self._lock:
            known = frozenset(self._word_counts)
            best: tuple[int, str, CachedAnswer] | None = None
            for (entry_scope, cached), (answer, expires) in self._entries.items():
                if entry_scope != scope or expires <= now:
                    continue
                edits = typo_distance(query, cached, max_typos=self.max_typos,
                                      known_words=known)
                if edits is not None and (best is None or (edits, cached) < best[:2]):
                    best = (edits, cached, answer)
            if best is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end((scope, best[1]))
        return TypoMatch(query, best[1], best[0], best[2])

    def invalidate_entry(self, entry_id: str) -> int:
        """Drop every answer grounded in knowledge-base entry ``entry_id``; returns how many."""
        with self._lock:
            doomed = [key for key, (answer, _) in self._entries.items()
                      if entry_id in answer.sources]
            for key in doomed:
                del self._entries[key]
                self._count_words(key[1], -1)
        return len(doomed)
