"""Response caching for LLM answers: exact keys, TTL stores, single-flight, semantic matching.

Notebook 04 builds on these, one concept per module:

``keys``                 ``cache_key(query, system_prompt, model, **params)``: canonical, exact
``cached_answer``        ``CachedAnswer``: the answer, the model that gave it, its sources
``stores``               ``MemoryTTLStore`` (LRU-bounded, injectable clock), ``RedisTTLStore``
``policy``               ``TTLPolicy``: TTL by content kind (FAQ a day, real-time data seconds)
``single_flight``        one upstream call per stampede of identical misses (threads, asyncio)
``redis_single_flight``  the same across processes, with a Redis lock (``SET NX PX``)
``response_cache``       ``ResponseCache``: all of the above, failing soft, with invalidation
``semantic``             ``SemanticCache``: nearest cached question by cosine similarity
``typo``                 ``TypoTolerantCache``: a cached question found again despite a typo
``guards``               vetoes for matches the embedding model cannot judge
``threshold``            precision/recall of hit decisions vs threshold, and the choice
``experiments``          notebook 04's experiments: the bot's model call, a day replayed
"""

from course_lib.cache.cached_answer import CachedAnswer, CorruptCacheValueError
from course_lib.cache.guards import MinimalEditGuard, UnreadableTextGuard, unknown_share
from course_lib.cache.keys import (
    KEY_SCHEMA_VERSION,
    cache_key,
    cache_scope,
    canonical_model,
    collision_probability,
    keys_for_collision_probability,
)
from course_lib.cache.policy import HOUR_S, TTLPolicy
from course_lib.cache.redis_single_flight import RedisSingleFlight
from course_lib.cache.response_cache import CacheRequest, CacheResult, CacheStats, ResponseCache
from course_lib.cache.semantic import SemanticCache, SemanticMatch, first_objection
from course_lib.cache.single_flight import AsyncSingleFlight, SingleFlight
from course_lib.cache.stores import CacheStoreError, MemoryTTLStore, RedisTTLStore, TTLStore
from course_lib.cache.threshold import HitCurvePoint, choose_threshold, hit_curve
from course_lib.cache.typo import TypoMatch, TypoTolerantCache, typo_distance

__all__ = [
    "HOUR_S",
    "KEY_SCHEMA_VERSION",
    "AsyncSingleFlight",
    "CacheRequest",
    "CacheResult",
    "CacheStats",
    "CacheStoreError",
    "CachedAnswer",
    "CorruptCacheValueError",
    "HitCurvePoint",
    "MemoryTTLStore",
    "MinimalEditGuard",
    "RedisSingleFlight",
    "RedisTTLStore",
    "ResponseCache",
    "SemanticCache",
    "SemanticMatch",
    "SingleFlight",
    "TTLPolicy",
    "TTLStore",
    "TypoMatch",
    "TypoTolerantCache",
    "UnreadableTextGuard",
    "cache_key",
    "cache_scope",
    "canonical_model",
    "choose_threshold",
    "collision_probability",
    "first_objection",
    "hit_curve",
    "keys_for_collision_probability",
    "typo_distance",
    "unknown_share",
]
