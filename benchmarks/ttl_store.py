"""In-memory TTL store: ``MemoryTTLStore`` against ``cachetools.TTLCache``, per operation.

Same keys (cache keys of the course's shape), same ~300-byte values, same one-hour TTL, a store
big enough that nothing is evicted. Each repetition starts from an empty store, sets every key,
then gets every key (all hits). ``set`` and ``get`` are timed separately.

``MemoryTTLStore`` does more per call than ``TTLCache``: it validates its arguments, takes a
lock (``TTLCache`` is not thread-safe; the cachetools docs tell you to add one) and keeps the
indexes used for invalidation; both keep least-recently-used order. The goal allows it 1.5x the
peer's time for that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cachetools import TTLCache

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity, slowdown_row
from benchmarks.timing import best_of
from course_lib.cache import MemoryTTLStore

GROUP = "ttl_store"
TTL_S = 3600.0
GOAL = Goal("<=", 1.5)


def _keys(n: int) -> list[str]:
    # Shaped like course_lib.cache.cache_key output: namespace, schema version, sha256 hex.
    return [f"answer:v1:{i:064x}" for i in range(n)]


VALUE = (b'{"answer":"Open Settings > Security > Single sign-on, choose Okta and paste the '
         b'metadata URL. SSO needs the Business plan or above.","model":"gpt-4o-mini-2024-07-18",'
         b'"sources":{"kb-sso-okta":3},"kind":"faq","cached_at":1700000000.0,'
         b'"prompt_tokens":412,"completion_tokens":58}')


def _ours_set(keys: list[str]) -> Callable[[MemoryTTLStore], None]:
    def run(store: MemoryTTLStore) -> None:
        for key in keys:
            store.set(key, VALUE, TTL_S)
    return run


def _ours_get(keys: list[str]) -> Callable[[MemoryTTLStore], None]:
    def run(store: MemoryTTLStore) -> None:
        for key in keys:
            store.get(key)
    return run


def _peer_set(keys: list[str]) -> Callable[[TTLCache[str, bytes]], None]:
    def run(cache: TTLCache[str, bytes]) -> None:
        for key in keys:
            cache[key] = VALUE
    return run


def _peer_get(keys: list[str]) -> Callable[[TTLCache[str, bytes]], None]:
    def run(cache: TTLCache[str, bytes]) -> None:
        for key in keys:
            cache.get(key)
    return run


def run(config: Config) -> list[Measurement]:
    n = config.pick(20_000, 200)
    repeat = config.pick(7, 2)
    keys = _keys(n)

    def empty_store() -> MemoryTTLStore:
        return MemoryTTLStore(max_entries=2 * n)

    def empty_cache() -> TTLCache[str, bytes]:
        return TTLCache(maxsize=2 * n, ttl=TTL_S)

    def full_store() -> MemoryTTLStore:
        store = empty_store()
        _ours_set(keys)(store)
        return store

    def full_cache() -> TTLCache[str, bytes]:
        cache = empty_cache()
        _peer_set(keys)(cache)
        return cache

    # A hit must really be a hit on both sides, or the comparison is of two different things.
    if full_store().get(keys[-1]) != VALUE or full_cache().get(keys[-1]) != VALUE:
        raise AssertionError("the stores did not return the value that was set")

    cases: list[tuple[str, Callable[..., Any], Callable[[], Any], Callable[..., Any],
                      Callable[[], Any]]] = [
        ("set", _ours_set(keys), empty_store, _peer_set(keys), empty_cache),
        ("get", _ours_get(keys), full_store, _peer_get(keys), full_cache),
    ]
    rows = []
    for operation, ours_run, ours_state, peer_run, peer_state in cases:
        ours = best_of(ours_run, setup=ours_state, operations=n, repeat=repeat)
        peer = best_of(peer_run, setup=peer_state, operations=n, repeat=repeat)

        def profile(ours_run: Callable[..., Any] = ours_run,
                    ours_state: Callable[[], Any] = ours_state, op: str = operation) -> str:
            state = ours_state()
            return cprofile_text(lambda: ours_run(state),
                                 title=f"MemoryTTLStore.{op}: {n:,} calls")

        rows.append(slowdown_row(
            f"{GROUP}.{operation}", GROUP,
            f"MemoryTTLStore.{operation} vs cachetools.TTLCache, {n:,} keys",
            Quantity.timed(f"MemoryTTLStore.{operation}", ours),
            Quantity.timed(f"cachetools.TTLCache {operation}", peer),
            goal=GOAL, profile=profile,
            note="time per operation; MemoryTTLStore also validates its arguments and "
                 "takes a lock, TTLCache does neither"))
    return rows
