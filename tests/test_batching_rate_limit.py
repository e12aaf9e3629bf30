"""BatchEmbedder with a token budget: batches wait for tokens-per-minute instead of hitting 429s.

The fake provider here enforces a TPM itself (a brute-force log of what it accepted) and answers
429 with Retry-After when a request would go over. The event loop runs on virtual time: its
clock jumps straight to the next timer, so a minute of waiting takes no wall-clock time and the
embedder's real ``asyncio.sleep`` and concurrency are what is tested.
"""

from __future__ import annotations

import asyncio
import math
import selectors
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import Any

import numpy as np
import openai
import pytest

from course_lib.algorithms import RateLimits, RedisTokenWindowLimiter, TokenWindowLimiter
from course_lib.batching import BatchEmbedder, EmbeddingInputError
from tests.test_batching import api_error, origin, texts

pytestmark = pytest.mark.timing

MODEL = "text-embedding-3-small"
TOKENS_PER_TEXT = 100


class _NoWaitSelector(selectors.DefaultSelector):
    """A selector that never blocks: a wait for the next timer moves virtual time instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> Any:
        if timeout is not None and timeout > 0:
            self._loop.advance(timeout)
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """asyncio with a clock that jumps to the next scheduled timer when nothing else can run."""

    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_NoWaitSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def run_virtual(body: Callable[[VirtualTimeLoop], Coroutine[Any, Any, Any]]) -> Any:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(body(loop))
    finally:
        loop.close()


class TPMProvider:
    """``client.embeddings`` of a provider with a tokens-per-minute limit (and an RPM one)."""

    max_retries = 0

    def __init__(self, loop: VirtualTimeLoop, tpm: int, rpm: int = 1_000_000) -> None:
        self.loop, self.tpm, self.rpm = loop, tpm, rpm
        self.accepted: list[tuple[float, int]] = []  # (time, tokens) of every accepted request
        self.refused = 0
        self.embeddings = self

    def _in_last_minute(self, now: float) -> list[tuple[float, int]]:
        return [(t, n) for t, n in self.accepted if now - 60.0 < t <= now]

    async def create(self, *, input: list[str], model: str, **kwargs: Any) -> Any:
        now, tokens = self.loop.time(), TOKENS_PER_TEXT * len(input)
        await asyncio.sleep(0.1)  # the round trip
        recent = self._in_last_minute(now)
        if sum(n for _, n in recent) + tokens > self.tpm or len(recent) + 1 > self.rpm:
            self.refused += 1
            wait = min(t for t, _ in recent) + 60.0 - now
            raise api_error(429, {"retry-after": f"{math.ceil(wait)}"})
        self.accepted.append((now, tokens))
        data = [SimpleNamespace(index=i, embedding=[origin(text), 1.0])
                for i, text in enumerate(input)]
        return SimpleNamespace(data=data, usage=SimpleNamespace(prompt_tokens=tokens))

    def busiest_minute(self) -> int:
        return max(sum(n for _, n in self._in_last_minute(t)) for t, _ in self.accepted)


def embedder(provider: TPMProvider, loop: VirtualTimeLoop, **kwargs: Any) -> BatchEmbedder:
    options: dict[str, Any] = {"max_inputs_per_request": 2, "max_concurrency": 4,
                               "count_tokens": lambda text: TOKENS_PER_TEXT, "progress": False,
                               "clock": loop.time}
    return BatchEmbedder(provider, MODEL, **(options | kwargs))


def test_without_a_budget_the_batches_collect_429s():
    """Six batches of 200 tokens against 500 tokens per minute: the provider refuses some."""
    async def body(loop: VirtualTimeLoop) -> tuple[Any, TPMProvider]:
        provider = TPMProvider(loop, tpm=500)
        return await embedder(provider, loop, max_attempts=10).embed_with_report(texts(12)), \
            provider

    run, provider = run_virtual(body)
    assert provider.refused > 0
    assert run.report.rate_limited == provider.refused
    assert run.report.requests > 6


@pytest.mark.parametrize("budget", ["tpm", "rpm+tpm"])
def test_with_a_token_window_every_batch_waits_for_budget_and_none_is_refused(budget):
    """The same six batches with a 500-tokens-per-minute window in front: two per minute go
    out (400 tokens; a third would make 600), none is refused, every vector is kept."""
    async def body(loop: VirtualTimeLoop) -> tuple[Any, TPMProvider]:
        provider = TPMProvider(loop, tpm=500)
        limit = (TokenWindowLimiter(500, 60.0, clock=loop.time) if budget == "tpm" else
                 RateLimits.per_minute(rpm=100, tpm=500, clock=loop.time))
        return await embedder(provider, loop, rate_limit=limit).embed_with_report(texts(12)), \
            provider

    run, provider = run_virtual(body)
    assert provider.refused == 0 and run.report.rate_limited == 0
    assert run.report.requests == 6
    assert sorted(round(record.start_s, 6) for record in run.report.timeline) == [
        0.0, 0.0, 60.0, 60.0, 120.0, 120.0]
    # Batches 2 and 3 wait from 0 s; 4 and 5 get a slot when 0 and 1 return (0.1 s round trip).
    assert run.report.budget_wait_s == pytest.approx(60 + 60 + 119.9 + 119.9)
    assert "waited for token budget: 359.80 s" in run.report.summary()
    assert provider.busiest_minute() == 400
    assert [v[0] for v in run.vectors] == [float(i) for i in range(12)]


def test_the_request_limit_binds_when_it_is_the_tighter_one():
    async def body(loop: VirtualTimeLoop) -> Any:
        provider = TPMProvider(loop, tpm=1_000_000, rpm=3)
        limit = RateLimits.per_minute(rpm=3, tpm=1_000_000, clock=loop.time)
        return await embedder(provider, loop, rate_limit=limit).embed_with_report(texts(12))

    run = run_virtual(body)
    assert run.report.rate_limited == 0
    assert sorted(round(r.start_s, 6) for r in run.report.timeline) == [0, 0, 0, 60, 60, 60]


def test_batches_are_cut_to_fit_the_window_and_an_input_that_cannot_fit_is_named():
    async def body(loop: VirtualTimeLoop) -> Any:
        provider = TPMProvider(loop, tpm=300)
        limit = TokenWindowLimiter(300, 60.0, clock=loop.time)
        return await embedder(provider, loop, rate_limit=limit,
                              max_inputs_per_request=10).embed_with_report(texts(7))

    run = run_virtual(body)
    assert run.report.batches == 3  # 3 + 3 + 1 inputs: 300 tokens at most per request
    assert run.report.rate_limited == 0

    tiny = TokenWindowLimiter(50, 60.0)
    with pytest.raises(EmbeddingInputError, match="input 0: has 100 tokens, more than the 50"):
        asyncio.run(BatchEmbedder(SimpleNamespace(embeddings=None), MODEL, rate_limit=tiny,
                                  count_tokens=lambda text: 100, progress=False).embed(["x"]))


def test_a_rate_limit_without_the_budget_methods_is_refused():
    with pytest.raises(TypeError, match="rate_limit must have try_acquire"):
        BatchEmbedder(SimpleNamespace(embeddings=None), MODEL, rate_limit=object())


@pytest.mark.redis
def test_two_embedders_sharing_a_redis_window_stay_within_it_together(redis_client):
    """Two runs at once (two workers, one account): 12 batches, one shared 600-token window."""
    async def body(loop: VirtualTimeLoop) -> TPMProvider:
        provider = TPMProvider(loop, tpm=600)
        shared = [RedisTokenWindowLimiter(redis_client, "tpm:embedder", 600, 60.0,
                                          clock=lambda: 1_700_000_000.0 + loop.time())
                  for _ in range(2)]
        await asyncio.gather(*(embedder(provider, loop, rate_limit=limit).embed(texts(12))
                               for limit in shared))
        return provider

    provider = run_virtual(body)
    assert provider.refused == 0
    assert len(provider.accepted) == 12
    assert provider.busiest_minute() == 600


# --------------------------------------------------------------------------- the sandbox


class RecordingWindow(TokenWindowLimiter):
    """A token window that remembers every grant, to check it afterwards."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.grants: list[tuple[float, int]] = []

    def try_acquire(self, tokens: int) -> bool:
        granted = super().try_acquire(tokens)
        if granted:
            self.grants.append((self._clock(), tokens))
        return granted


def test_on_the_sandbox_the_budget_counts_the_tokens_the_api_bills(sb):
    """Real client, real tiktoken counts: the tokens taken from the window are exactly the
    tokens the sandbox reported as usage, and no 0.3 s window held more than its 60."""
    sb.clear_requests()
    inputs = [f"How do I export project {i} to CSV?" for i in range(8)]
    window = RecordingWindow(60, 0.3)
    client = openai.AsyncOpenAI(base_url=sb.base_url, api_key="test", max_retries=0)
    embedder_ = BatchEmbedder(client, MODEL, max_inputs_per_request=2, progress=False,
                              rate_limit=window)
    result = asyncio.run(embedder_.embed_with_report(inputs))
    billed = sum(r.prompt_tokens for r in sb.requests if r.endpoint == "embeddings")
    assert sum(tokens for _, tokens in window.grants) == billed == result.report.tokens
    for at, _ in window.grants:
        assert sum(n for t, n in window.grants if at - 0.3 < t <= at) <= 60
    assert result.report.budget_wait_s > 0
    from course_lib.embeddings import embed

    assert np.allclose(result.vectors, embed(inputs), atol=1e-5)
