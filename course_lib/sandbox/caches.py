"""What the sandbox remembers between requests, each within a fixed amount of memory.

* :class:`PrefixCache`: recently seen prompts, as token ids, to report ``cached_tokens`` the way
  the provider's prefix cache does. Bounded by the **total number of tokens** it holds (a
  count of prompts would not do: one gpt-4.1 prompt can be a million tokens);
* :class:`EmbeddingMemo`: the vectors of recently embedded texts, so that a corpus sent three
  ways costs the sandbox's CPU once. It keeps a 32-byte digest of each text, not the text, and
  is bounded by the **bytes** its vectors take.

Both forget the least recently stored (or used) entries first, and both are thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
from cachetools import LRUCache

from course_lib.pricing import PREFIX_CACHE_INCREMENT, PREFIX_CACHE_MIN_TOKENS

__all__ = [
    "PREFIX_CACHE_TTL_S",
    "EmbeddingMemo",
    "PrefixCache",
]

# How long a seen prompt start stays cached (the provider's rule on sizes lives in pricing).
PREFIX_CACHE_TTL_S = 300.0


class PrefixCache:
    """Prompts seen in the last ``ttl_s`` seconds, at most ``max_tokens`` tokens in all
    (4 bytes each: 4 million tokens are 16 MB)."""

    def __init__(self, max_tokens: int = 4_000_000, ttl_s: float = PREFIX_CACHE_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_tokens = max_tokens
        self.ttl_s = ttl_s
        self._clock = clock
        self._recent: deque[tuple[float, str, np.ndarray]] = deque()
        self._tokens = 0
        self._lock = threading.Lock()

    @property
    def tokens(self) -> int:
        """How many tokens the cache holds now."""
        return self._tokens

    def lookup_and_store(self, model: str, prompt: Sequence[int]) -> int:
        """Tokens of ``prompt`` served from the cache (0, or a multiple of 128 from 1,024), and
        remember ``prompt`` for the requests that follow."""
        if len(prompt) < PREFIX_CACHE_MIN_TOKENS:
            return 0
        # A prompt longer than the whole budget is remembered by its start: prefixes are all
        # that is ever compared.
        current = np.asarray(prompt[: self.max_tokens], dtype=np.int32)
        now = self._clock()
        best = 0
        with self._lock:
            while self._recent and now - self._recent[0][0] > self.ttl_s:
                self._forget_oldest()
            for _, seen_model, seen in self._recent:
                if seen_model != model:
                    continue
                n = min(len(seen), len(current))
                differs = np.flatnonzero(seen[:n] != current[:n])
                best = max(best, int(differs[0]) if differs.size else n)
            while self._recent and self._tokens + len(current) > self.max_tokens:
                self._forget_oldest()
            self._recent.append((now, model, current))
            self._tokens += len(current)
        if best < PREFIX_CACHE_MIN_TOKENS:
            return 0
        return best // PREFIX_CACHE_INCREMENT * PREFIX_CACHE_INCREMENT

    def _forget_oldest(self) -> None:
        self._tokens -= len(self._recent.popleft()[2])


class EmbeddingMemo:
    """Vectors of recently embedded texts, so repeated texts cost the sandbox no CPU.

    The vectors are the model's own (the same text always embeds the same way); only the
    sandbox's work is saved. That keeps its CPU out of latency experiments that send the same
    corpus several ways: what they measure is the simulated round trip, as with a real API,
    whose own compute happens on its side of the wire. ``max_bytes`` bounds the memory (32 MB
    hold about 20,000 of the 384-dimension vectors).
    """

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._vectors: LRUCache[bytes, np.ndarray] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda vector: vector.nbytes + 32)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    @property
    def bytes(self) -> int:
        return int(self._vectors.currsize)

    def embed(self, texts: list[str], embed_fn: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        keys = [hashlib.sha256(text.encode()).digest() for text in texts]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for key in keys:
                vector = self._vectors.get(key)
                if vector is not None:
                    found[key] = vector
        missing = list(dict.fromkeys((k, t) for k, t in zip(keys, texts, strict=True)
                                     if k not in found))
        if missing:
            fresh = embed_fn([text for _, text in missing])
            with self._lock:
                for (key, _), vector in zip(missing, fresh, strict=True):
                    found[key] = vector
                    self._vectors[key] = vector
        return np.stack([found[key] for key in keys])
