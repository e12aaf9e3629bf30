"""RedisTTLStore against a Redis that is hung, not dead: after one timeout it is skipped.

Two real hung servers: a socket that accepts connections and reads everything but never
answers (so the test can see that a skipped call sent nothing), and a real redis-server stopped
with SIGSTOP (so the probe after the skip finds it back once it is continued). The breaker's
clock is injected; only the timeouts themselves take real time, and timing claims are ratios
against the timeout measured in the same test.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from course_lib.cache import CachedAnswer, CacheRequest, CacheStoreError, ResponseCache
from course_lib.cache.stores import (
    RedisTTLStore,
    StoreBreaker,
    StoreSkippedError,
    fail_fast_redis,
)
from course_lib.local_redis import closed_port, start_local_redis

pytestmark = [pytest.mark.redis, pytest.mark.timing]
TIMEOUT_S = 0.1


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SilentServer:
    """Accepts connections on 127.0.0.1 and reads what arrives; never writes a byte."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.bytes_received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    if key.fileobj is self._listener:
                        conn, _ = self._listener.accept()
                        self.connections += 1
                        selector.register(conn, selectors.EVENT_READ)
                    else:
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            selector.unregister(key.fileobj)
                            key.fileobj.close()  # type: ignore[union-attr]
                        self.bytes_received += len(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()


@pytest.fixture()
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def timed(call) -> tuple[float, BaseException | None]:
    started = time.perf_counter()
    try:
        call()
    except CacheStoreError as error:
        return time.perf_counter() - started, error
    return time.perf_counter() - started, None


def test_after_one_timeout_the_hung_store_is_skipped_without_sending_anything(silent):
    clock = FakeClock()
    store = RedisTTLStore(fail_fast_redis(f"redis://127.0.0.1:{silent.port}/0",
                                          timeout_s=TIMEOUT_S), clock=clock)
    first_s, error = timed(lambda: store.get("k"))
    assert isinstance(error, CacheStoreError) and not isinstance(error, StoreSkippedError)
    assert "Redis GET failed" in str(error) and first_s >= TIMEOUT_S
    sent = silent.bytes_received
    assert sent > 0  # the GET did reach the hung server

    skipped_s = 0.0
    calls = [lambda: store.get("k"), lambda: store.set("k", b"v", 60),
             lambda: store.add_to_index("i", "k", 60), lambda: store.delete(["k"]),
             lambda: store.pop_index("i")] * 4
    for step, call in enumerate(calls):
        clock.now = 100.0 + 4.9 * step / len(calls)
        seconds, error = timed(call)
        assert isinstance(error, StoreSkippedError), error
        skipped_s += seconds
    assert "skipped for 5 s after a timeout" in str(error)
    assert silent.bytes_received == sent, "a skipped call must not touch the network"
    assert store.breaker.skipped == len(calls) and store.breaker.skipping
    # 20 skipped calls together cost less than half the one timeout each of them avoided.
    assert skipped_s < first_s / 2

    clock.now = 105.0  # the skip is over: one call probes, finds it still hung, skips again
    probe_s, error = timed(lambda: store.get("k"))
    assert not isinstance(error, StoreSkippedError) and probe_s >= TIMEOUT_S
    assert silent.bytes_received > sent
    clock.now = 109.9
    assert isinstance(timed(lambda: store.get("k"))[1], StoreSkippedError)
    assert store.breaker.times_opened == 1  # one long outage, re-opened by each failed probe


def test_a_dead_store_is_not_skipped_its_errors_are_fast_already():
    store = RedisTTLStore(fail_fast_redis(f"redis://127.0.0.1:{closed_port()}/0"),
                          clock=FakeClock())
    for _ in range(3):
        with pytest.raises(CacheStoreError, match="Redis GET failed") as raised:
            store.get("k")
        assert not isinstance(raised.value, StoreSkippedError)
    assert not store.breaker.skipping


def test_while_one_call_probes_the_others_are_still_skipped():
    clock = FakeClock()
    breaker = StoreBreaker(5.0, clock=clock)
    breaker.timed_out()
    clock.now += 5.0
    breaker.before("GET")  # the probe
    with pytest.raises(StoreSkippedError, match="another call is probing it"):
        breaker.before("GET")
    breaker.answered()
    breaker.before("GET")
    assert not breaker.skipping


def test_the_skip_must_be_a_positive_time():
    with pytest.raises(ValueError, match="skip_for_s must be a positive, finite number"):
        StoreBreaker(0)


def request(query: str) -> CacheRequest:
    return CacheRequest(query, "You are Kitewing's support assistant.", "gpt-4o")


def answer() -> CachedAnswer:
    return CachedAnswer("Use the reset link.", "gpt-4o", {"kb-012": 1}, "howto")


def test_a_paused_redis_costs_one_timeout_then_nothing_and_is_used_again_once_it_resumes():
    """A real redis-server, SIGSTOPped: without the skip every miss pays three timeouts (read,
    re-read under single-flight, write); with it the first pays one and the rest none. After
    SIGCONT and the skip period, the probe finds it and the cache stores answers again."""
    clock = FakeClock()
    with start_local_redis() as server:
        never_skip = ResponseCache(RedisTTLStore(
            fail_fast_redis(server.url, timeout_s=TIMEOUT_S), prefix="a:", skip_for_s=None))
        skipping_store = RedisTTLStore(fail_fast_redis(server.url, timeout_s=TIMEOUT_S),
                                       prefix="b:", clock=clock)
        skipping = ResponseCache(skipping_store)
        assert skipping.get_or_compute(request("warm-up"), answer).served_from == "upstream"
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            without = [timed(lambda i=i: never_skip.get_or_compute(request(f"q{i}"), answer))[0]
                       for i in range(3)]
            with_skip = [timed(lambda i=i: skipping.get_or_compute(request(f"q{i}"), answer))[0]
                         for i in range(5)]
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        assert min(without) >= 3 * TIMEOUT_S
        assert TIMEOUT_S <= with_skip[0] < min(without)
        assert sum(with_skip[1:]) < TIMEOUT_S  # four requests together: less than one timeout
        assert skipping.stats.upstream_calls == 6  # every request still answered
        clock.now += 5.0  # Redis is back; the next call probes and finds it
        result = skipping.get_or_compute(request("after"), answer)
        assert result.served_from == "upstream" and not skipping_store.breaker.skipping
        assert skipping.get_or_compute(request("after"), answer).served_from == "cache"
