"""The lesson's ``internal/cache/prompt_cache.go`` and its use in ``Agent.Answer``, ported as is.

Kept faithful, bugs included, so notebook 04 can run it beside the fix
(``course_lib.cache``). What is wrong with it:

* ``cache_key`` joins ``query|systemPrompt|model`` with a separator that may occur inside the
  fields: ``("a|b", "c")`` and ``("a", "b|c")`` are the same key;
* sampling parameters, tools, conversation history and the tenant are not in the key, so an
  answer made for one user, temperature or tool set is served to every other;
* the SHA-256 is cut to 16 hex digits (64 bits): harmless at this scale, but a choice made for
  no reason (``course_lib.cache.collision_probability`` puts a number on it);
* ``get`` turns a store error into a miss with no log or metric, and ``Answer`` discards the
  error from ``set`` (``_ = a.promptCache.Set(...)``): when Redis is down the cache silently
  stops working and the bill doubles;
* ``Answer`` stores the answer under the *requested* model (``Model: a.model``), whatever model
  actually answered;
* nothing stops a stampede: N concurrent identical misses make N model calls;
* one TTL for everything, and no way to find the keys of a changed document.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["CachedResponse", "LessonAgent", "MapTTLStore", "PromptCache", "Response", "TTLStore"]


@dataclass
class CachedResponse:
    """``type CachedResponse struct`` (JSON field names as in the Go tags)."""

    answer: str
    sources: list[str]
    model: str
    cached_at: str
    tokens_used: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


class TTLStore(Protocol):
    """``type TTLStore interface``: "可以是 Redis 或内存 map" (Redis or an in-memory map)."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    def delete(self, key: str) -> None: ...


class MapTTLStore:
    """The in-memory map the lesson mentions: a dict of (value, expiry), unbounded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._data.get(key)
        if found is None or self._clock() >= found[1]:
            return None
        return found[0]

    def set(self, key: str, value: bytes, ttl_s: float) -> None:
        with self._lock:
            self._data[key] = (value, self._clock() + ttl_s)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class PromptCache:
    """``type PromptCache struct { store TTLStore; ttl time.Duration }``."""

    def __init__(self, store: TTLStore, ttl_s: float) -> None:
        self.store = store
        self.ttl_s = ttl_s

    def cache_key(self, query: str, system_prompt: str, model: str) -> str:
        """``CacheKey``: sha256(query | "|" | systemPrompt | "|" | model), 16 hex digits."""
        h = hashlib.sha256()
        h.update(query.encode())
        h.update(b"|")
        h.update(system_prompt.encode())
        h.update(b"|")
        h.update(model.encode())
        return "prompt:" + h.hexdigest()[:16]

    def get(self, key: str) -> tuple[CachedResponse | None, bool]:
        """``Get``: any store error or undecodable value is silently a miss."""
        try:
            data = self.store.get(key)
        except Exception:  # Go: if err != nil || data == nil { return nil, false }
            return None, False
        if data is None:
            return None, False
        try:
            return CachedResponse(**json.loads(data)), True
        except (ValueError, TypeError):
            return None, False

    def set(self, key: str, resp: CachedResponse) -> None:
        """``Set``: marshal and store with the one TTL; store errors are returned (raised)."""
        data = json.dumps(asdict(resp)).encode()
        self.store.set(key, data, self.ttl_s)


@dataclass
class Response:
    """The agent's reply (``Response`` in the Go snippet)."""

    answer: str
    sources: list[str]
    from_cache: bool = False
    model: str = ""


class LessonAgent:
    """``Agent.Answer``: look up, call the LLM on a miss, store the answer (``_ = Set(...)``).

    ``call_llm(query) -> Response`` stands for ``a.callLLM``; ``cache_hits`` for
    ``a.metrics.RecordCacheHit()``.
    """

    def __init__(self, prompt_cache: PromptCache, call_llm: Callable[[str], Response],
                 system_prompt: str, model: str) -> None:
        self.prompt_cache = prompt_cache
        self.call_llm = call_llm
        self.system_prompt = system_prompt
        self.model = model
        self.cache_hits = 0
        self._lock = threading.Lock()

    def answer(self, query: str) -> Response:
        cache_key = self.prompt_cache.cache_key(query, self.system_prompt, self.model)
        # 1. 先查缓存 (look in the cache first)
        cached, hit = self.prompt_cache.get(cache_key)
        if hit and cached is not None:
            with self._lock:
                self.cache_hits += 1
            return Response(cached.answer, cached.sources, from_cache=True, model=cached.model)
        # 2. 没有缓存,正常调用 LLM (no cache: call the LLM)
        resp = self.call_llm(query)
        # 3. 写入缓存 (store it) -- the error is discarded, and Model is the requested model.
        with contextlib.suppress(Exception):  # _ = a.promptCache.Set(...)
            self.prompt_cache.set(cache_key, CachedResponse(
                answer=resp.answer,
                sources=resp.sources,
                model=self.model,
                cached_at=datetime.now(UTC).isoformat(),
            ))
        return resp
