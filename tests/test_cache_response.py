"""ResponseCache: stampedes, failing stores, TTL by kind, invalidation, the answering model.

Memory-store behaviour runs on a hand-moved clock; the same behaviour is checked on the real
Redis server where Redis is what the test is about.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from course_lib.cache import (
    CachedAnswer,
    CacheRequest,
    CacheStoreError,
    MemoryTTLStore,
    RedisTTLStore,
    ResponseCache,
    TTLPolicy,
)
from course_lib.cache.stores import fail_fast_redis
from course_lib.lesson.prompt_cache import LessonAgent, MapTTLStore, PromptCache, Response
from course_lib.local_redis import closed_port

pytestmark = pytest.mark.timing

SYSTEM = "You are Kitewing's support assistant."
CALLERS = 50


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Upstream:
    """A stand-in model that counts its calls (thread-safe)."""

    def __init__(self, model: str = "gpt-4o", kind: str = "faq",
                 sources: dict[str, int] | None = None) -> None:
        self.model, self.kind = model, kind
        self.sources = {"kb-001": 1} if sources is None else sources
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> CachedAnswer:
        with self._lock:
            self.calls += 1
            n = self.calls
        return CachedAnswer(f"answer #{n}", self.model, self.sources, self.kind)


def request(query: str = "How do I reset my password?", **kwargs) -> CacheRequest:
    return CacheRequest(query, SYSTEM, kwargs.pop("model", "gpt-4o"), **kwargs)


def memory_cache(clock: FakeClock | None = None, **kwargs) -> ResponseCache:
    clock = clock or FakeClock()
    return ResponseCache(MemoryTTLStore(1000, clock=clock), clock=clock, **kwargs)


def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


# -- basics ----------------------------------------------------------------------------------

def test_miss_then_hit():
    cache, upstream = memory_cache(), Upstream()
    first = cache.get_or_compute(request(), upstream)
    second = cache.get_or_compute(request(), upstream)
    assert (first.served_from, second.served_from) == ("upstream", "cache")
    assert second.answer.answer == first.answer.answer == "answer #1"
    assert upstream.calls == 1
    assert cache.stats.hits == 1 and cache.stats.misses == 1 and cache.stats.hit_rate == 0.5


def test_cached_at_comes_from_the_injected_clock():
    clock = FakeClock(1234.5)
    cache = memory_cache(clock)
    assert cache.get_or_compute(request(), Upstream()).answer.cached_at == 1234.5


def test_a_failed_call_is_not_cached():
    cache = memory_cache()

    def broken() -> CachedAnswer:
        raise TimeoutError("model timed out")

    with pytest.raises(TimeoutError):
        cache.get_or_compute(request(), broken)
    assert cache.get_or_compute(request(), Upstream()).served_from == "upstream"


def test_compute_must_return_a_cached_answer():
    with pytest.raises(TypeError, match="CachedAnswer"):
        memory_cache().get_or_compute(request(), lambda: "plain text")  # type: ignore[arg-type]


# -- stampede --------------------------------------------------------------------------------

def test_stampede_of_fifty_threads_makes_one_upstream_call():
    cache, upstream = memory_cache(), Upstream()
    req = request()

    def slow_model() -> CachedAnswer:
        wait_until(lambda: cache.waiting(req) == CALLERS - 1)
        return upstream()

    with ThreadPoolExecutor(CALLERS) as pool:
        results = list(pool.map(lambda _: cache.get_or_compute(req, slow_model), range(CALLERS)))
    assert upstream.calls == 1
    assert sorted(r.served_from for r in results) == ["coalesced"] * 49 + ["upstream"]
    assert {r.answer.answer for r in results} == {"answer #1"}
    assert cache.stats.upstream_calls == 1 and cache.stats.coalesced == 49
    assert cache.get_or_compute(req, upstream).hit


def test_the_lesson_agent_stampedes():
    """Without single-flight all 50 callers are inside the model call at once: the barrier
    only opens when 50 calls are in flight together."""
    barrier = threading.Barrier(CALLERS, timeout=10)
    calls = []

    def call_llm(query: str) -> Response:
        calls.append(query)
        barrier.wait()
        return Response("answer", ["kb-001"], model="gpt-4o")

    agent = LessonAgent(PromptCache(MapTTLStore(), 3600), call_llm, SYSTEM, "gpt-4o")
    with ThreadPoolExecutor(CALLERS) as pool:
        list(pool.map(lambda _: agent.answer("How do I reset my password?"), range(CALLERS)))
    assert len(calls) == CALLERS


def test_stampede_of_fifty_tasks_makes_one_upstream_call():
    async def scenario() -> tuple[list[str], int]:
        cache, upstream = memory_cache(), Upstream()
        req = request()

        async def slow_model() -> CachedAnswer:
            while cache.async_waiting(req) < CALLERS - 1:
                await asyncio.sleep(0)
            return upstream()

        results = await asyncio.gather(
            *(cache.aget_or_compute(req, slow_model) for _ in range(CALLERS)))
        again = await cache.aget_or_compute(req, slow_model)
        return [r.served_from for r in results] + [again.served_from], upstream.calls

    served, calls = asyncio.run(scenario())
    assert calls == 1
    assert sorted(served[:-1]) == ["coalesced"] * 49 + ["upstream"]
    assert served[-1] == "cache"


# -- failing stores --------------------------------------------------------------------------

class BrokenStore(MemoryTTLStore):
    """A store whose backend is down."""

    def get(self, key):
        raise CacheStoreError("Redis GET failed: connection refused")

    def set(self, key, value, ttl_s):
        raise CacheStoreError("Redis SET failed: connection refused")


def test_a_broken_store_degrades_to_a_miss_with_a_warning(caplog):
    cache, upstream = ResponseCache(BrokenStore(10)), Upstream()
    with caplog.at_level(logging.WARNING, logger="course_lib.cache"):
        first = cache.get_or_compute(request(), upstream)
        second = cache.get_or_compute(request(), upstream)
    assert first.answer.answer == "answer #1" and second.answer.answer == "answer #2"
    assert upstream.calls == 2
    assert cache.stats.store_errors >= 4  # a read and a write per request, at least
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("treating it as a miss" in m for m in messages)
    assert any("not cached" in m for m in messages)


@pytest.mark.redis
def test_redis_down_degrades_to_a_miss_with_a_warning(caplog):
    client = fail_fast_redis(f"redis://127.0.0.1:{closed_port()}/0")
    cache, upstream = ResponseCache(RedisTTLStore(client)), Upstream()
    with caplog.at_level(logging.WARNING, logger="course_lib.cache"):
        result = cache.get_or_compute(request(), upstream)
    assert result.served_from == "upstream" and result.answer.answer == "answer #1"
    assert cache.stats.store_errors == 3  # first read, leader's re-read, write
    assert sum("Connection refused" in r.getMessage() or "connecting" in r.getMessage()
               for r in caplog.records) >= 1


def test_a_corrupt_value_is_a_miss_and_is_removed(caplog):
    store = MemoryTTLStore(10)
    cache = ResponseCache(store)
    store.set(cache.key_for(request()), b"{not json", 60)
    with caplog.at_level(logging.WARNING, logger="course_lib.cache"):
        result = cache.get_or_compute(request(), Upstream())
    assert result.called_upstream
    assert cache.stats.corrupt == 1
    assert "corrupt" in caplog.text


# -- TTL by kind -----------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "alive_at", "gone_at"), [
    ("faq", 86_399.0, 86_400.0),
    ("troubleshooting", 3_599.0, 3_600.0),
    ("realtime", 29.0, 30.0),
])
def test_ttl_follows_the_content_kind(kind, alive_at, gone_at):
    clock = FakeClock(0.0)
    cache, upstream = memory_cache(clock), Upstream(kind=kind)
    cache.get_or_compute(request(), upstream)
    clock.now = alive_at
    assert cache.get_or_compute(request(), upstream).hit
    clock.now = gone_at
    assert cache.get_or_compute(request(), upstream).called_upstream


def test_an_uncacheable_kind_is_never_stored():
    cache = memory_cache(policy=TTLPolicy.for_support_bot(realtime_ttl_s=None))
    upstream = Upstream(kind="realtime")
    cache.get_or_compute(request(), upstream)
    assert cache.get_or_compute(request(), upstream).called_upstream
    assert cache.stats.uncacheable == 2 and cache.stats.stores == 0


# -- the model that answered -----------------------------------------------------------------

def test_a_fallback_answer_is_stored_under_the_fallback_model():
    """A gpt-4o-mini answer (the fallback) is never served to a gpt-4o request."""
    cache = memory_cache()
    cache.get_or_compute(request(model="gpt-4o"), Upstream(model="gpt-4o-mini"))
    assert cache.get(request(model="gpt-4o")) is None
    served = cache.get(request(model="gpt-4o-mini"))
    assert served is not None and served.model == "gpt-4o-mini"


def test_a_snapshot_answer_serves_its_alias():
    """The API reports gpt-4o answers as gpt-4o-2024-08-06; that is still a gpt-4o answer."""
    cache = memory_cache()
    cache.get_or_compute(request(model="gpt-4o"), Upstream(model="gpt-4o-2024-08-06"))
    assert cache.get(request(model="gpt-4o")) is not None


def test_tenants_do_not_share_answers():
    cache = memory_cache()
    cache.get_or_compute(request("What is my ticket status?", tenant="user-1"),
                         Upstream(kind="realtime"))
    assert cache.get(request("What is my ticket status?", tenant="user-2")) is None


# -- invalidation ----------------------------------------------------------------------------

def _fill(cache: ResponseCache) -> None:
    for query in ("How do I upgrade?", "upgrade my plan", "Upgrade to Business"):
        cache.get_or_compute(request(query), Upstream(sources={"kb-002": 1}))
    cache.get_or_compute(request("Can I get a refund?"), Upstream(sources={"kb-004": 1}))
    cache.get_or_compute(request("Plans and refunds"),
                         Upstream(sources={"kb-002": 1, "kb-004": 1}))


def _check_invalidation(cache: ResponseCache) -> None:
    _fill(cache)
    assert cache.invalidate_entry("kb-002") == 4
    for query in ("How do I upgrade?", "upgrade my plan", "Upgrade to Business",
                  "Plans and refunds"):
        assert cache.get(request(query)) is None
    assert cache.get(request("Can I get a refund?")) is not None
    assert cache.invalidate_entry("kb-002") == 0
    assert cache.stats.invalidated == 4


def test_invalidate_entry_removes_every_answer_grounded_in_it():
    _check_invalidation(memory_cache())


@pytest.mark.redis
def test_invalidate_entry_on_redis(redis_client):
    _check_invalidation(ResponseCache(RedisTTLStore(redis_client, prefix="inv:")))


def test_an_answer_from_an_older_version_is_stale():
    """The version check catches an answer stored after (or despite) an invalidation."""
    versions = {"kb-002": 1}
    cache = memory_cache(source_version=versions.get)
    cache.get_or_compute(request(), Upstream(sources={"kb-002": 1}))
    assert cache.get(request()) is not None
    versions["kb-002"] = 2
    assert cache.get(request()) is None
    assert cache.stats.stale == 1


def test_invalidation_surfaces_store_errors():
    class NoIndex(MemoryTTLStore):
        def pop_index(self, index):
            raise CacheStoreError("Redis index pop failed")

    with pytest.raises(CacheStoreError):
        ResponseCache(NoIndex(10)).invalidate_entry("kb-002")
    with pytest.raises(ValueError, match="entry_id"):
        memory_cache().invalidate_entry("")


# -- the lesson's swallowed errors -----------------------------------------------------------

class FailingLessonStore(MapTTLStore):
    def get(self, key):
        raise ConnectionError("redis down")

    def set(self, key, value, ttl_s):
        raise ConnectionError("redis down")


def test_the_lesson_swallows_store_errors_without_a_trace(caplog):
    """Same degradation, but nothing is logged or counted: a dead cache is invisible."""
    calls = []
    agent = LessonAgent(PromptCache(FailingLessonStore(), 3600),
                        lambda q: calls.append(q) or Response("answer", []), SYSTEM, "gpt-4o")
    with caplog.at_level(logging.DEBUG):
        agent.answer("q")
        agent.answer("q")
    assert len(calls) == 2
    assert caplog.records == []


def test_the_lesson_stores_under_the_requested_model():
    store = MapTTLStore()
    agent = LessonAgent(PromptCache(store, 3600),
                        lambda q: Response("mini's answer", [], model="gpt-4o-mini"),
                        SYSTEM, "gpt-4o")
    agent.answer("q")
    assert agent.answer("q").model == "gpt-4o"  # served as a gpt-4o answer
