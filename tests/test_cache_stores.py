"""TTL stores: the in-memory one on a hand-moved clock, the Redis one on the real server."""

from __future__ import annotations

import time

import pytest

from course_lib.cache import (
    HOUR_S,
    CacheStoreError,
    MemoryTTLStore,
    RedisTTLStore,
    TTLPolicy,
    TTLStore,
)
from course_lib.cache.stores import fail_fast_redis
from course_lib.local_redis import closed_port, start_local_redis

pytestmark = pytest.mark.timing


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- memory store ----------------------------------------------------------------------------

def test_memory_store_expires_exactly_at_the_ttl():
    clock = FakeClock()
    store = MemoryTTLStore(10, clock=clock)
    store.set("k", b"v", 30)
    clock.now += 29.999
    assert store.get("k") == b"v"
    assert store.ttl_remaining("k") == pytest.approx(0.001)
    clock.now += 0.001
    assert store.get("k") is None
    assert store.expirations == 1


def test_memory_store_evicts_the_least_recently_used():
    """Reading a key makes it recent; the oldest unread key goes first."""
    clock = FakeClock()
    store = MemoryTTLStore(3, clock=clock)
    for key in ("a", "b", "c"):
        store.set(key, key.encode(), 60)
    assert store.get("a") == b"a"  # now b is the least recently used
    store.set("d", b"d", 60)
    assert len(store) == 3
    assert store.get("b") is None
    assert [store.get(k) for k in ("a", "c", "d")] == [b"a", b"c", b"d"]
    assert store.evictions == 1


def test_memory_store_drops_expired_entries_before_evicting_live_ones():
    clock = FakeClock()
    store = MemoryTTLStore(2, clock=clock)
    store.set("short", b"1", 1)
    store.set("long", b"2", 100)
    store.get("short")  # recent, but about to expire
    clock.now += 5
    store.set("new", b"3", 100)
    assert store.get("long") == b"2"
    assert store.get("new") == b"3"
    assert store.evictions == 0


def test_memory_store_overwrite_replaces_value_and_ttl():
    clock = FakeClock()
    store = MemoryTTLStore(10, clock=clock)
    store.set("k", b"old", 10)
    store.set("k", b"new", 100)
    clock.now += 50
    assert store.get("k") == b"new"


def test_memory_store_index_pop_returns_members_once():
    clock = FakeClock()
    store = MemoryTTLStore(10, clock=clock)
    store.add_to_index("entry:kb-1", "k1", 60)
    store.add_to_index("entry:kb-1", "k2", 10)
    assert store.pop_index("entry:kb-1") == ["k1", "k2"]
    assert store.pop_index("entry:kb-1") == []


def test_memory_store_index_outlives_its_longest_member():
    """A short TTL added later does not shorten the index."""
    clock = FakeClock()
    store = MemoryTTLStore(10, clock=clock)
    store.add_to_index("i", "k1", 100)
    store.add_to_index("i", "k2", 1)
    clock.now += 99
    assert store.pop_index("i") == ["k1", "k2"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.set("k", b"v", 0), "ttl_s"),
    (lambda s: s.set("k", b"v", float("inf")), "ttl_s"),
    (lambda s: s.set("", b"v", 1), "key is empty"),
    (lambda s: s.set("k", "text", 1), "bytes"),
    (lambda s: s.get(None), "key must be a str"),
])
def test_memory_store_rejects_bad_input(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(MemoryTTLStore(10))


def test_memory_store_needs_a_positive_size():
    with pytest.raises(ValueError, match="max_entries"):
        MemoryTTLStore(0)


@pytest.mark.redis
def test_both_stores_satisfy_the_protocol(redis_client):
    assert isinstance(MemoryTTLStore(1), TTLStore)
    assert isinstance(RedisTTLStore(redis_client), TTLStore)


# -- TTL policy ------------------------------------------------------------------------------

def test_support_policy_follows_content_kind():
    policy = TTLPolicy.for_support_bot()
    assert policy.ttl_for("faq") == policy.ttl_for("howto") == policy.ttl_for("policy") == 86400
    assert policy.ttl_for("troubleshooting") == 3600
    assert policy.ttl_for("realtime") == 30
    assert policy.ttl_for("something-new") is None
    assert policy.ttl_for(None) is None
    assert not policy.cacheable(None)
    assert policy.max_ttl_s == 24 * HOUR_S


def test_realtime_can_be_excluded_entirely():
    policy = TTLPolicy.for_support_bot(realtime_ttl_s=None)
    assert not policy.cacheable("realtime")
    assert policy.cacheable("faq")


def test_default_ttl_covers_unknown_kinds():
    policy = TTLPolicy({"faq": 100}, default_ttl_s=5)
    assert policy.ttl_for("other") == 5
    assert policy.ttl_for(None) == 5


@pytest.mark.parametrize("ttl", [0, -1, float("nan"), float("inf")])
def test_policy_rejects_non_positive_ttls(ttl):
    with pytest.raises(ValueError, match="positive"):
        TTLPolicy({"faq": ttl})


# -- Redis store -----------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_store_get_set_delete(redis_client):
    store = RedisTTLStore(redis_client, prefix="t:")
    assert store.get("k") is None
    store.set("k", b"\x00binary\xff", 60)
    assert store.get("k") == b"\x00binary\xff"
    assert 0 < redis_client.pttl("t:k") <= 60_000
    assert store.delete(["k", "missing"]) == 1
    assert store.get("k") is None


@pytest.mark.redis
def test_redis_store_lets_redis_expire_keys(redis_client):
    """SET ... PX: Redis owns the clock, so we poll until the key is gone."""
    store = RedisTTLStore(redis_client, prefix="t:")
    store.set("short", b"v", 0.05)
    store.set("long", b"v", 60)
    deadline = time.monotonic() + 5
    while store.get("short") is not None:
        assert time.monotonic() < deadline, "Redis never expired a 50 ms key"
        time.sleep(0.01)
    assert store.get("long") == b"v"


@pytest.mark.redis
def test_redis_store_prefixes_isolate_caches(redis_client):
    one = RedisTTLStore(redis_client, prefix="app-one:")
    two = RedisTTLStore(redis_client, prefix="app-two:")
    one.set("k", b"1", 60)
    assert two.get("k") is None
    two.set("k", b"2", 60)
    assert one.get("k") == b"1"
    assert sorted(redis_client.keys("*")) == [b"app-one:k", b"app-two:k"]


@pytest.mark.redis
def test_redis_store_index_round_trip(redis_client):
    store = RedisTTLStore(redis_client, prefix="t:")
    store.add_to_index("entry:kb-1", "k1", 60)
    store.add_to_index("entry:kb-1", "k2", 1)
    assert 59_000 < redis_client.pttl("t:index:entry:kb-1") <= 60_000
    assert store.pop_index("entry:kb-1") == ["k1", "k2"]
    assert store.pop_index("entry:kb-1") == []


@pytest.mark.redis
def test_redis_store_works_with_decoded_responses(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = RedisTTLStore(client, prefix="decoded:")
    store.set("k", "é".encode(), 60)
    assert store.get("k") == "é".encode()
    store.add_to_index("i", "k", 60)
    assert store.pop_index("i") == ["k"]
    client.close()


@pytest.mark.redis
def test_redis_store_errors_become_cache_store_errors():
    client = fail_fast_redis(f"redis://127.0.0.1:{closed_port()}/0")
    store = RedisTTLStore(client)
    with pytest.raises(CacheStoreError, match="Redis GET failed"):
        store.get("k")
    with pytest.raises(CacheStoreError, match="Redis SET failed"):
        store.set("k", b"v", 1)


@pytest.mark.redis
def test_redis_store_needs_a_prefix(redis_client):
    with pytest.raises(ValueError, match="prefix"):
        RedisTTLStore(redis_client, prefix="")


@pytest.mark.redis
def test_local_redis_server_starts_and_stops():
    """The notebook's throw-away server answers, then is gone with its directory."""
    from pathlib import Path


    with start_local_redis() as server:
        client = server.client()
        assert client.ping()
        client.close()
    assert server.process.poll() is not None
    assert not Path(server.workdir).exists()
    server.stop()  # idempotent
