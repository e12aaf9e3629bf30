"""A response cache for LLM answers: the lesson's ``PromptCache``, made safe to run.

The lesson's flow is "look up; on a miss call the model; store the answer". This class keeps
that flow and fixes what goes wrong around it:

* **the key** covers model, prompt, history, sampling parameters, tools, tenant and a schema
  version (:func:`course_lib.cache.keys.cache_key`), not ``query|systemPrompt|model``;
* **the model that answered** names the key an answer is stored under, so a fallback model's
  answer is never served as the primary model's;
* **a stampede** of identical misses makes one upstream call: threads and asyncio tasks in
  this process wait for the first caller (single-flight), and with ``peers=`` a Redis lock
  extends that to every process;
* **a failing store** (Redis down) is a miss plus a logged warning and a counted error, never
  an exception in the user's request; the lesson's ``_ = a.promptCache.Set(...)`` drops the
  error silently, so a dead cache looks like a run of bad luck on the bill;
* **the TTL** comes from a :class:`~course_lib.cache.policy.TTLPolicy` by content kind;
* **invalidation**: every stored answer is indexed under the knowledge-base entries it was
  grounded in, so :meth:`ResponseCache.invalidate_entry` deletes them all when an entry
  changes; with ``source_version=`` a read also rejects an answer built from an older version
  (which catches the answer that was being computed while the entry changed).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from course_lib.cache.cached_answer import CachedAnswer, CorruptCacheValueError
from course_lib.cache.keys import DEFAULT_TENANT, cache_key, cache_scope, canonical_model
from course_lib.cache.policy import TTLPolicy
from course_lib.cache.redis_single_flight import RedisSingleFlight
from course_lib.cache.single_flight import AsyncSingleFlight, SingleFlight
from course_lib.cache.stores import CacheStoreError, TTLStore

__all__ = ["CacheRequest", "CacheResult", "CacheStats", "ResponseCache"]

logger = logging.getLogger("course_lib.cache")

ServedFrom = Literal["cache", "upstream", "coalesced"]


@dataclass(frozen=True)
class CacheRequest:
    """Everything about a chat request that decides its answer (see ``cache_key``)."""

    query: str
    system_prompt: str
    model: str
    tenant: str = DEFAULT_TENANT
    history: tuple[Mapping[str, Any], ...] = ()
    tools: tuple[Mapping[str, Any], ...] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def key(self, *, model: str | None = None, namespace: str = "answer") -> str:
        """The cache key, optionally for another ``model`` (the one that actually answered)."""
        return cache_key(self.query, self.system_prompt, model or self.model,
                         tenant=self.tenant, history=self.history, tools=self.tools,
                         namespace=namespace, **self.params)

    def scope(self) -> str:
        """Everything but the query: what a semantic match must agree on."""
        return cache_scope(self.system_prompt, self.model, tenant=self.tenant,
                           history=self.history, tools=self.tools, **self.params)


@dataclass(frozen=True)
class CacheResult:
    """An answer and how it was obtained.

    ``served_from`` is ``"cache"`` (found stored), ``"upstream"`` (this call asked the model) or
    ``"coalesced"`` (another caller's identical in-flight request answered this one).
    """

    answer: CachedAnswer
    key: str
    served_from: ServedFrom

    @property
    def hit(self) -> bool:
        return self.served_from == "cache"

    @property
    def called_upstream(self) -> bool:
        return self.served_from == "upstream"


@dataclass(frozen=True)
class CacheStats:
    """Counters since the cache was created (a snapshot)."""

    hits: int = 0
    misses: int = 0
    upstream_calls: int = 0
    coalesced: int = 0
    stores: int = 0
    uncacheable: int = 0
    store_errors: int = 0
    corrupt: int = 0
    stale: int = 0
    invalidated: int = 0

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Share of lookups found in the store (0.0 before any lookup)."""
        return self.hits / self.lookups if self.lookups else 0.0


def _index_name(entry_id: str) -> str:
    return f"entry:{entry_id}"


class ResponseCache:
    """Cache answers in a :class:`~course_lib.cache.stores.TTLStore` with TTLs from ``policy``.

    ``clock`` stamps ``cached_at`` (wall-clock seconds by default; a replay passes its own).
    ``peers`` (a :class:`~course_lib.cache.redis_single_flight.RedisSingleFlight`) makes
    concurrent misses in *different processes* share one upstream call; it applies to
    :meth:`get_or_compute` (waiters look for the answer under the requested model, so when a
    fallback model answered they compute their own once the lock is released).
    ``source_version(entry_id)`` returns an entry's current version (or None if unknown); when
    given, answers grounded in an older version are treated as misses.
    """

    def __init__(
        self,
        store: TTLStore,
        policy: TTLPolicy | None = None,
        *,
        namespace: str = "answer",
        clock: Callable[[], float] = time.time,
        peers: RedisSingleFlight | None = None,
        source_version: Callable[[str], int | None] | None = None,
    ) -> None:
        if not isinstance(store, TTLStore):
            raise TypeError(f"store must be a TTLStore (get/set/delete/indexes), got "
                            f"{type(store).__name__}")
        self.store = store
        self.policy = policy or TTLPolicy.for_support_bot()
        self.namespace = namespace
        self._clock = clock
        self._peers = peers
        self._source_version = source_version
        self._flight: SingleFlight[tuple[CachedAnswer, ServedFrom]] = SingleFlight()
        self._async_flight: AsyncSingleFlight[tuple[CachedAnswer, ServedFrom]] = (
            AsyncSingleFlight())
        self._lock = threading.Lock()
        self._counts: dict[str, int] = dict.fromkeys(
            (f.name for f in dataclasses.fields(CacheStats)), 0)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _count(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._counts[name] += by

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(**self._counts)

    def key_for(self, request: CacheRequest, *, model: str | None = None) -> str:
        return request.key(model=model, namespace=self.namespace)

    def waiting(self, request: CacheRequest) -> int:
        """Threads in this process waiting for the in-flight miss of ``request``."""
        return self._flight.waiting(self.key_for(request))

    # -- reading and writing -------------------------------------------------------------------

    def _read(self, key: str) -> CachedAnswer | None:
        try:
            data = self.store.get(key)
        except CacheStoreError as exc:
            self._count("store_errors")
            logger.warning("cache read failed, treating it as a miss: %s", exc)
            return None
        if data is None:
            return None
        try:
            answer = CachedAnswer.from_json(data)
        except CorruptCacheValueError as exc:
            self._count("corrupt")
            logger.warning("dropping corrupt cache entry %s: %s", key, exc)
            self._delete_quietly(key)
            return None
        if self._is_stale(answer):
            self._count("stale")
            self._delete_quietly(key)
            return None
        return answer

    def _is_stale(self, answer: CachedAnswer) -> bool:
        if self._source_version is None:
            return False
        for entry_id, version in answer.sources.items():
            current = self._source_version(entry_id)
            if current is not None and current != version:
                return True
        return False

    def _delete_quietly(self, key: str) -> None:
        try:
            self.store.delete([key])
        except CacheStoreError as exc:
            self._count("store_errors")
            logger.warning("cache delete failed (the entry will expire by itself): %s", exc)

    def get(self, request: CacheRequest) -> CachedAnswer | None:
        """The cached answer for ``request``, or None (also when the store is unavailable)."""
        found = self._read(self.key_for(request))
        self._count("hits" if found is not None else "misses")
        return found

    def put(self, request: CacheRequest, answer: CachedAnswer) -> bool:
        """Store ``answer`` under the key of the model that gave it; False if not stored.

        Not stored: the policy says its kind is not cached, or the store failed (logged).
        """
        if not isinstance(answer, CachedAnswer):
            raise TypeError(f"answer must be a CachedAnswer, got {type(answer).__name__}")
        ttl_s = self.policy.ttl_for(answer.kind)
        if ttl_s is None:
            self._count("uncacheable")
            return False
        key = self.key_for(request, model=canonical_model(answer.model))
        try:
            self.store.set(key, answer.to_json(), ttl_s)
            for entry_id in answer.sources:
                self.store.add_to_index(_index_name(entry_id), key, ttl_s)
        except CacheStoreError as exc:
            self._count("store_errors")
            logger.warning("cache write failed, the answer was not cached: %s", exc)
            return False
        self._count("stores")
        return True

    def invalidate_entry(self, entry_id: str) -> int:
        """Delete every cached answer grounded in knowledge-base entry ``entry_id``.

        Returns how many were deleted. A store error is raised here (unlike on the request
        path): whoever changed the entry must know the cache still holds the old answers.
        """
        if not isinstance(entry_id, str) or not entry_id:
            raise ValueError(f"entry_id must be a non-empty string, got {entry_id!r}")
        keys = self.store.pop_index(_index_name(entry_id))
        deleted = self.store.delete(keys)
        self._count("invalidated", deleted)
        logger.info("invalidated %d cached answers grounded in %s", deleted, entry_id)
        return deleted

    # -- the request path ----------------------------------------------------------------------

    def _stamped(self, answer: object) -> CachedAnswer:
        if not isinstance(answer, CachedAnswer):
            raise TypeError(f"compute() must return a CachedAnswer, got {type(answer).__name__}")
        return dataclasses.replace(answer, cached_at=self._clock())

    def get_or_compute(self, request: CacheRequest, compute: Callable[[], CachedAnswer]
                       ) -> CacheResult:
        """The cached answer, or ``compute()``'s, stored; one upstream call per stampede.

        ``compute`` asks the model and returns a :class:`CachedAnswer` (its ``model`` being the
        model that answered). Its exceptions reach the caller and nothing is cached.
        """
        key = self.key_for(request)
        found = self.get(request)
        if found is not None:
            return CacheResult(found, key, "cache")

        def upstream() -> tuple[CachedAnswer, ServedFrom]:
            self._count("upstream_calls")
            answer = self._stamped(compute())
            self.put(request, answer)
            return answer, "upstream"

        def lead() -> tuple[CachedAnswer, ServedFrom]:
            # The call that just finished before we became leader may have stored it.
            again = self._read(key)
            if again is not None:
                return again, "coalesced"
            if self._peers is None:
                return upstream()
            (answer, origin), from_peer = self._peers.run(
                key, upstream, lambda: _found(self._read(key)))
            return answer, "coalesced" if from_peer else origin

        (answer, origin), shared = self._flight.do(key, lead)
        served: ServedFrom = "coalesced" if shared else origin
        if served == "coalesced":
            self._count("coalesced")
        return CacheResult(answer, key, served)

    async def aget_or_compute(
        self, request: CacheRequest, compute: Callable[[], Awaitable[CachedAnswer]]
    ) -> CacheResult:
        """:meth:`get_or_compute` for asyncio: concurrent tasks share one ``await compute()``.

        Store calls are short and made inline; with a remote Redis under heavy async load,
        a store built on ``redis.asyncio`` would keep the event loop free.
        """
        key = self.key_for(request)
        found = self.get(request)
        if found is not None:
            return CacheResult(found, key, "cache")

        async def lead() -> tuple[CachedAnswer, ServedFrom]:
            again = self._read(key)
            if again is not None:
                return again, "coalesced"
            self._count("upstream_calls")
            answer = self._stamped(await compute())
            self.put(request, answer)
            return answer, "upstream"

        (answer, origin), shared = await self._async_flight.do(key, lead)
        served: ServedFrom = "coalesced" if shared else origin
        if served == "coalesced":
            self._count("coalesced")
        return CacheResult(answer, key, served)

    def async_waiting(self, request: CacheRequest) -> int:
        """Tasks waiting for the in-flight miss of ``request`` (asyncio path)."""
        return self._async_flight.waiting(self.key_for(request))


def _found(answer: CachedAnswer | None) -> tuple[CachedAnswer, ServedFrom] | None:
    return None if answer is None else (answer, "coalesced")
