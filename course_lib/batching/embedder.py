"""Embed thousands of texts: few requests, several at a time, and only failures retried.

The lesson's problem: "单条 embedding 每次一个网络往返,100 条文档 = 100 次 RTT" (one text per
request costs a network round trip each: 100 documents, 100 round trips). Its fix batches 100
texts per request, one batch after another, with a fixed 50 ms sleep between them, and loses
every vector if one batch fails. :class:`BatchEmbedder` keeps the idea and fixes the rest:

1. **Batches within both limits.** At most 2,048 inputs *and* 300,000 tokens per request (see
   :mod:`.plan`); every input is checked first, so an empty string or an input over 8,192 tokens
   is an error naming its index before anything is sent (see :mod:`.inputs`).
2. **Several batches in flight.** An ``asyncio.Semaphore`` bounds how many requests are open at
   once (``max_concurrency``): enough to hide round trips, few enough to stay inside the rate
   limit.
3. **No fixed sleeps.** Requests go out as fast as slots free up. A 429 closes a shared gate for
   the ``Retry-After`` it names, and every worker waits at that gate (see :mod:`.pause`): the
   limit belongs to the account, not to the batch that happened to hit it.
4. **Token budget before sending.** Providers also limit tokens per minute (TPM), and an
   embedding batch is mostly tokens. Given ``rate_limit`` (a
   :class:`~course_lib.algorithms.TokenWindowLimiter`, the RPM+TPM
   :class:`~course_lib.algorithms.RateLimits`, or the Redis one shared by every worker), each
   attempt first waits until its tokens fit in the window, so batches queue for budget
   instead of collecting 429s; batches are also cut so that none exceeds the window.
5. **Only failed batches are retried**, with full-jitter backoff, up to ``max_attempts`` per
   batch. Errors that cannot succeed again (400, 401, 404) are not retried at all.
6. **Nothing paid for is lost.** When batches give up, :class:`.BatchEmbeddingError` lists the
   failed input indices and keeps every other vector; :meth:`BatchEmbedder.resume` embeds only
   the missing ones.
7. **Order is preserved** whatever order the batches finish in: each vector is put back at its
   input's position, using the ``index`` the API returns with it.

Which tool when:

* One call that may fail now and then: the openai SDK's own ``max_retries`` (on by default, 2
  retries with backoff and Retry-After). Per request only: it does not share a 429 pause
  between workers and does not know about batches. When a loop like this one owns retries,
  build the client with ``max_retries=0``, or the two stack (5 attempts here x 3 there = 15
  requests for one batch); the constructor refuses a client that would do that.
* A retry policy for any coroutine: tenacity (``AsyncRetrying``, ``stop_after_attempt``,
  ``wait_random_exponential``, ``retry_if_exception``). It would replace :mod:`.retry`, not the
  batching, the ordering or the shared pause.
* Structured concurrency: ``asyncio.TaskGroup`` (used below) cancels the siblings when a task
  raises, which is "one failure loses everything" again; here each batch catches its own API
  errors, so a failed batch never cancels the others, while a bug still stops the whole run.
* Offline indexing that can wait up to 24 hours: OpenAI's Batch API (upload a JSONL file of
  requests, collect a file of results), at half the price. Nothing here is needed then; for
  anything a user is waiting on, it is the wrong tool.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
import openai
from tqdm.auto import tqdm

from course_lib import tokens
from course_lib.algorithms.token_window import TokenBudget
from course_lib.batching.inputs import check_inputs
from course_lib.batching.pause import AsyncSleep, Clock, SharedPause
from course_lib.batching.plan import Batch, plan_batches
from course_lib.batching.report import (
    BatchAttempt,
    BatchEmbeddingError,
    BatchFailure,
    BatchReport,
    EmbeddingRun,
)
from course_lib.pricing import embedding_cost_usd
from course_lib.retrying import FullJitterBackoff, is_retryable, retry_after_seconds, status_of
from course_lib.tokens import UnknownModelError

__all__ = [
    "MAX_INPUTS_PER_REQUEST",
    "MAX_INPUT_TOKENS",
    "MAX_TOKENS_PER_REQUEST",
    "AsyncEmbeddingClient",
    "BatchEmbedder",
    "MalformedResponseError",
]

# OpenAI's published limits for the embeddings endpoint.
MAX_INPUTS_PER_REQUEST = 2048
MAX_TOKENS_PER_REQUEST = 300_000
MAX_INPUT_TOKENS = 8192


class MalformedResponseError(RuntimeError):
    """The endpoint answered 200 but not with one vector per input."""


class _AsyncEmbeddings(Protocol):
    async def create(self, **kwargs: Any) -> Any: ...


class AsyncEmbeddingClient(Protocol):
    """What the embedder needs from ``openai.AsyncOpenAI``: ``await client.embeddings.create``."""

    @property
    def embeddings(self) -> _AsyncEmbeddings: ...


ProgressFactory = Callable[..., Any]


def _whole(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return value


def _outcome(error: Exception) -> str:
    status = status_of(error)
    if status is not None:
        return str(status)
    return "timeout" if isinstance(error, openai.APITimeoutError) else type(error).__name__


def _vector(item: Any) -> np.ndarray:
    embedding = item.embedding
    if isinstance(embedding, str):  # encoding_format="base64": little-endian float32
        return np.frombuffer(base64.b64decode(embedding), dtype="<f4").astype(np.float32)
    return np.asarray(embedding, dtype=np.float32)


class BatchEmbedder:
    """Embed a list of texts in batches, concurrently, retrying only what failed.

    >>> client = llm.get_async_client(max_retries=0)                # doctest: +SKIP
    >>> embedder = BatchEmbedder(client, max_concurrency=4)         # doctest: +SKIP
    >>> vectors = await embedder.embed(texts)     # (len(texts), d)  # doctest: +SKIP

    ``embed`` returns the vectors; ``embed_with_report`` also returns a :class:`.BatchReport`
    (requests, retries, tokens, cost). ``sleep`` and ``clock`` are injectable, and ``backoff``
    takes a seeded random generator, so tests check waits without waiting; ``count_tokens``
    replaces the tiktoken count (for a model the course has no tokenizer for, or for tests with
    tiny limits); ``progress_factory`` replaces ``tqdm.auto.tqdm`` (a widget in notebooks, a
    text bar elsewhere); ``request_timeout_s`` bounds each attempt (a timeout is retried).
    ``rate_limit`` (a :class:`~course_lib.algorithms.TokenBudget`, e.g.
    ``TokenWindowLimiter(1_000_000)`` for 1M tokens per minute) makes every attempt wait for
    its tokens first; it must read the same clock the injected ``sleep`` advances.
    """

    def __init__(
        self,
        client: AsyncEmbeddingClient,
        model: str = "text-embedding-3-small",
        *,
        max_inputs_per_request: int = MAX_INPUTS_PER_REQUEST,
        max_tokens_per_request: int = MAX_TOKENS_PER_REQUEST,
        max_input_tokens: int = MAX_INPUT_TOKENS,
        max_concurrency: int = 4,
        max_attempts: int = 5,
        backoff: FullJitterBackoff | None = None,
        request_timeout_s: float | None = 60.0,
        dimensions: int | None = None,
        count_tokens: Callable[[str], int] | None = None,
        rate_limit: TokenBudget | None = None,
        progress: bool = True,
        progress_factory: ProgressFactory = tqdm,
        sleep: AsyncSleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        sdk_retries = getattr(client, "max_retries", 0)
        if sdk_retries:
            raise ValueError(
                f"the client retries every request itself (max_retries={sdk_retries}); this "
                "embedder owns retries, and the two would stack. Build the client with "
                "max_retries=0 (llm.get_async_client(max_retries=0), or "
                "client.with_options(max_retries=0))."
            )
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a non-empty string, got {model!r}")
        self.client = client
        self.model = model
        self.max_inputs_per_request = _whole("max_inputs_per_request", max_inputs_per_request)
        self.max_tokens_per_request = _whole("max_tokens_per_request", max_tokens_per_request)
        self.max_input_tokens = _whole("max_input_tokens", max_input_tokens)
        if self.max_input_tokens > self.max_tokens_per_request:
            raise ValueError(
                f"max_input_tokens ({self.max_input_tokens:,}) cannot exceed "
                f"max_tokens_per_request ({self.max_tokens_per_request:,})")
        self.max_concurrency = _whole("max_concurrency", max_concurrency)
        self.max_attempts = _whole("max_attempts", max_attempts)
        self.backoff = backoff or FullJitterBackoff()
        if request_timeout_s is not None and not (
                isinstance(request_timeout_s, int | float) and 0 < request_timeout_s < math.inf):
            raise ValueError(f"request_timeout_s must be a positive number of seconds or None, "
                             f"got {request_timeout_s!r}")
        self.request_timeout_s = request_timeout_s
        self.dimensions = None if dimensions is None else _whole("dimensions", dimensions)
        self._count_tokens = count_tokens or (lambda text: tokens.count_tokens(text, model))
        if rate_limit is not None and not isinstance(rate_limit, TokenBudget):
            raise TypeError(f"rate_limit must have try_acquire(tokens), wait_seconds(tokens) "
                            f"and max_tokens (a TokenWindowLimiter, RateLimits or "
                            f"RedisTokenWindowLimiter), got {type(rate_limit).__name__}")
        self.rate_limit = rate_limit
        self.progress = progress
        self._progress_factory = progress_factory
        self._sleep = sleep
        self._clock = clock

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The embedding of every text, ``(len(texts), d)`` float32, in input order."""
        return (await self.embed_with_report(texts)).vectors

    async def embed_with_report(self, texts: Sequence[str]) -> EmbeddingRun:
        """Embed ``texts``; return the vectors and a report of what it took.

        Raises :class:`.EmbeddingInputError` (nothing sent) for empty, non-string or oversize
        inputs, and :class:`.BatchEmbeddingError` (successful vectors kept) when batches give up.
        """
        # A request larger than the token window could never be sent: cut batches to fit it.
        window = self.rate_limit.max_tokens if self.rate_limit is not None else None
        max_tokens = min(self.max_tokens_per_request, window or self.max_tokens_per_request)
        counts = check_inputs(texts, self._count_tokens,
                              max_input_tokens=min(self.max_input_tokens, max_tokens))
        batches = plan_batches(counts, max_inputs=self.max_inputs_per_request,
                               max_tokens=max_tokens)
        return await _Run(self, list(texts), batches).execute()

    async def resume(self, texts: Sequence[str], error: BatchEmbeddingError) -> EmbeddingRun:
        """Finish a run that gave up: embed only ``error.failed_indices`` and merge.

        ``texts`` must be the list the failed run was given. The returned report covers only
        the requests of this resumed run. Raises a new :class:`.BatchEmbeddingError` (indices
        in terms of ``texts``, all vectors so far kept) if some inputs fail again.
        """
        if len(texts) != len(error.vectors):
            raise ValueError(f"resume() needs the {len(error.vectors):,} texts of the failed run, "
                             f"got {len(texts):,}")
        missing = error.failed_indices
        merged = list(error.vectors)
        try:
            run = await self.embed_with_report([texts[i] for i in missing])
        except BatchEmbeddingError as again:
            for position, vector in enumerate(again.vectors):
                merged[missing[position]] = vector
            failures = tuple(
                BatchFailure(f.batch, tuple(missing[i] for i in f.indices), f.attempts, f.error)
                for f in again.failures
            )
            raise BatchEmbeddingError(merged, replace(again.report, failures=failures)) from None
        for position, vector in enumerate(run.vectors):
            merged[missing[position]] = vector
        return EmbeddingRun(np.stack(merged), run.report)  # type: ignore[arg-type]


class _Run:
    """The state of one ``embed_with_report`` call (an embedder can run several at once)."""

    def __init__(self, embedder: BatchEmbedder, texts: list[str], batches: list[Batch]) -> None:
        self.embedder = embedder
        self.texts = texts
        self.batches = batches
        self.vectors: list[np.ndarray | None] = [None] * len(texts)
        self.attempts = [0] * len(batches)
        self.failures: list[BatchFailure] = []
        self.rate_limited = 0
        self.tokens = 0
        self.timeline: list[BatchAttempt] = []
        self.budget_wait_s = 0.0
        self.slots = asyncio.Semaphore(embedder.max_concurrency)
        self.pause = SharedPause(clock=embedder._clock, sleep=embedder._sleep)
        self.started = 0.0

    def _now(self) -> float:
        return self.embedder._clock() - self.started

    async def execute(self) -> EmbeddingRun:
        embedder = self.embedder
        self.started = started = embedder._clock()
        bar = embedder._progress_factory(
            total=len(self.texts), unit="text", desc=f"embedding ({embedder.model})",
            disable=not embedder.progress)
        try:
            if self.batches:
                await self._run_all(bar)
        finally:
            bar.close()
        report = self._report(embedder._clock() - started)
        if self.failures:
            raise BatchEmbeddingError(self.vectors, report)
        width = self.vectors[0].shape[0] if self.vectors else (embedder.dimensions or 0)
        vectors = (np.stack(self.vectors) if self.vectors  # type: ignore[arg-type]
                   else np.zeros((0, width), dtype=np.float32))
        return EmbeddingRun(vectors, report)

    async def _run_all(self, bar: Any) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for batch in self.batches:
                    group.create_task(self._run_batch(batch, bar))
        except BaseExceptionGroup as raised:
            # Only bugs get here (API errors are handled per batch): re-raise the first one
            # as itself rather than wrapped in a group.
            raise raised.exceptions[0] from None

    async def _run_batch(self, batch: Batch, bar: Any) -> None:
        embedder = self.embedder
        for attempt in range(1, embedder.max_attempts + 1):
            async with self.slots:
                await self._wait_for_budget(batch)
                await self.pause.wait()  # a 429 elsewhere closes the gate for everybody
                self.attempts[batch.number] = attempt
                sent = self._now()
                try:
                    response = await self._request(batch)
                    self._store(batch, response)
                except (openai.OpenAIError, MalformedResponseError) as error:
                    failure = error
                else:
                    self._log(batch, attempt, sent, "ok")
                    bar.update(batch.size)
                    return
                self._log(batch, attempt, sent, _outcome(failure))
            rate_limited = status_of(failure) == 429
            self.rate_limited += rate_limited
            if not is_retryable(failure) or attempt == embedder.max_attempts:
                self.failures.append(BatchFailure(batch, tuple(batch.indices), attempt, failure))
                return
            if rate_limited:
                # Every worker waits out a 429 (it is the whole key's limit); a Retry-After over
                # the cap is not waited for, as the SDK does: back off without it.
                asked = retry_after_seconds(failure.response.headers)  # type: ignore[union-attr]
                wait = embedder.backoff.delay(attempt, asked)
                self.pause.pause_for(wait if wait is not None else embedder.backoff.delay(attempt))
            else:
                await embedder._sleep(embedder.backoff.delay(attempt))

    async def _wait_for_budget(self, batch: Batch) -> None:
        """Take the batch's tokens from the rate limit, sleeping until they fit."""
        budget, embedder = self.embedder.rate_limit, self.embedder
        if budget is None:
            return
        # Another worker (or process) may take the budget between the two calls: ask again.
        while not budget.try_acquire(batch.tokens):
            started = embedder._clock()
            await embedder._sleep(budget.wait_seconds(batch.tokens))
            self.budget_wait_s += embedder._clock() - started

    def _log(self, batch: Batch, attempt: int, sent: float, outcome: str) -> None:
        self.timeline.append(BatchAttempt(batch.number, attempt, sent, self._now(), outcome))

    async def _request(self, batch: Batch) -> Any:
        embedder = self.embedder
        options: dict[str, Any] = {"encoding_format": "base64"}
        if embedder.dimensions is not None:
            options["dimensions"] = embedder.dimensions
        if embedder.request_timeout_s is not None:
            options["timeout"] = embedder.request_timeout_s
        return await embedder.client.embeddings.create(
            input=self.texts[batch.start:batch.stop], model=embedder.model, **options)

    def _store(self, batch: Batch, response: Any) -> None:
        data = list(response.data)
        positions = sorted(int(item.index) for item in data)
        if positions != list(range(batch.size)):
            raise MalformedResponseError(
                f"{batch}: expected one embedding per input (indices 0-{batch.size - 1}), got "
                f"indices {positions[:10]}{'...' if len(positions) > 10 else ''}")
        # The API returns an index with each vector; trust it rather than the list's order.
        for item in data:
            self.vectors[batch.start + int(item.index)] = _vector(item)
        usage = getattr(response, "usage", None)
        self.tokens += usage.prompt_tokens if usage is not None else batch.tokens

    def _report(self, elapsed_s: float) -> BatchReport:
        model = self.embedder.model
        try:
            cost = embedding_cost_usd(model, self.tokens)
        except (UnknownModelError, ValueError):
            cost = None
        requests = sum(self.attempts)
        return BatchReport(
            model=model,
            inputs=len(self.texts),
            batches=len(self.batches),
            requests=requests,
            retries=requests - sum(1 for a in self.attempts if a),
            rate_limited=self.rate_limited,
            paused_s=self.pause.paused_s,
            tokens=self.tokens,
            cost_usd=cost,
            elapsed_s=elapsed_s,
            attempts_per_batch=tuple(self.attempts),
            failures=tuple(sorted(self.failures, key=lambda f: f.batch.number)),
            timeline=tuple(self.timeline),
            pauses=tuple((start - self.started, end - self.started)
                         for start, end in self.pause.windows),
            budget_wait_s=self.budget_wait_s,
        )

