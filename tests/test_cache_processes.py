"""Single-flight across OS processes: a Redis lock (SET NX PX) lets one process compute.

Two processes ask for the same missing answer at the same time. The computing process's
"model call" finishes only once the other process has reported that it is waiting for it, so
the overlap is guaranteed rather than hoped for; the test then counts upstream calls in Redis.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from course_lib.cache import RedisSingleFlight

pytestmark = [pytest.mark.redis, pytest.mark.timing]

WORKER = textwrap.dedent("""
    import json, sys, time
    import redis
    from course_lib.cache import (CachedAnswer, CacheRequest, RedisSingleFlight, RedisTTLStore,
                                  ResponseCache)

    url = sys.argv[1]
    client = redis.Redis.from_url(url)
    peers = RedisSingleFlight(client, prefix="proc:lock:", lock_ttl_s=30,
                              on_wait=lambda key: client.incr("test:waiters"))
    cache = ResponseCache(RedisTTLStore(client, prefix="proc:"), peers=peers)

    def wait_for(key, at_least):
        deadline = time.monotonic() + 30
        while int(client.get(key) or 0) < at_least:
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out waiting for {key}")
            time.sleep(0.002)

    def model():
        client.incr("test:upstream")
        wait_for("test:waiters", 1)   # the other process is waiting for this very call
        return CachedAnswer("one answer for both", "gpt-4o", {"kb-012": 1}, "howto")

    client.incr("test:ready")
    wait_for("test:ready", 2)         # start together
    request = CacheRequest("How do I reset my password?", "system", "gpt-4o")
    result = cache.get_or_compute(request, model)
    print(json.dumps({"served_from": result.served_from, "answer": result.answer.answer}))
""")


def test_two_processes_share_one_upstream_call(redis_client, redis_url):
    processes = [
        subprocess.Popen([sys.executable, "-c", WORKER, redis_url], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    assert int(redis_client.get("test:upstream")) == 1
    assert sorted(o["served_from"] for o in outputs) == ["coalesced", "upstream"]
    assert {o["answer"] for o in outputs} == {"one answer for both"}
    assert not redis_client.keys("proc:lock:*")  # the lock was released


def test_lock_is_released_even_when_compute_fails(redis_client):
    flight = RedisSingleFlight(redis_client, prefix="fail:lock:")

    def broken() -> str:
        raise RuntimeError("model down")

    with pytest.raises(RuntimeError):
        flight.run("k", broken, lambda: None)
    assert not redis_client.exists("fail:lock:k")
    assert flight.run("k", lambda: "fine", lambda: None) == ("fine", False)


def test_a_waiter_computes_when_the_holder_never_delivers(redis_client):
    """A crashed holder's lock expires (PX); the waiter then takes over, once."""
    redis_client.set("stuck:lock:k", "someone-else", px=50)
    waits = []
    flight = RedisSingleFlight(redis_client, prefix="stuck:lock:", lock_ttl_s=5,
                               on_wait=waits.append)
    assert flight.run("k", lambda: "computed here", lambda: None) == ("computed here", False)
    assert waits == ["k"]


def test_a_waiter_gives_up_waiting_after_its_timeout(redis_client):
    redis_client.set("slow:lock:k", "someone-else", px=60_000)
    flight = RedisSingleFlight(redis_client, prefix="slow:lock:", wait_timeout_s=0.05)
    assert flight.run("k", lambda: "computed here", lambda: None) == ("computed here", False)


def test_the_holders_value_is_picked_up_by_a_waiter(redis_client):
    redis_client.set("peer:lock:k", "someone-else", px=60_000)
    flight = RedisSingleFlight(redis_client, prefix="peer:lock:")
    assert flight.run("k", lambda: "not me", lambda: "from the peer") == ("from the peer", True)
