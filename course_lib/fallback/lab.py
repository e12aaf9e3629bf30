"""Notebook 06's experiments: the lesson's client and the chain, on sandboxes that fail on purpose.

Every experiment runs on a **private sandbox** (:func:`private_sandbox`), faster than real time
by :data:`SCALE`, with faults injected by seed or by script, and counts the HTTP requests each
client really sent (:func:`counted_client`). Times are wall-clock seconds; the notebook divides
them by :data:`SCALE` to show *simulated* seconds.

Each function here is one experiment of the notebook, built only from the course's own parts:
the lesson's port (:mod:`course_lib.lesson.fallback_client`), the chain
(:mod:`course_lib.fallback`) and the measurements (:mod:`course_lib.fallback.measure`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from course_lib import sandbox
from course_lib.fallback.chain import ChainLink
from course_lib.fallback.circuit_breaker import CircuitBreaker
from course_lib.fallback.classification import classify
from course_lib.fallback.client import AsyncFallbackClient
from course_lib.fallback.failures import CallerCancelledError, Failure
from course_lib.fallback.measure import Answer, LoadSummary, replay_calls, summarize_calls
from course_lib.lesson import fallback_client as lesson
from course_lib.retrying import FullJitterBackoff

__all__ = [
    "BUDGET_S",
    "GIVE_UP_S",
    "MESSAGES",
    "SCALE",
    "Contrast",
    "FaultRun",
    "backoff",
    "bad_request",
    "compare_under_faults",
    "counted_client",
    "failure_examples",
    "hard_coded_model",
    "primary_down",
    "private_sandbox",
    "sandbox_chain",
    "secondary_hangs",
    "sim",
    "user_leaves",
]

SCALE = 0.05  # private sandboxes run 20x faster than real time
BUDGET_S = 15.0  # simulated seconds: the total deadline of one call through the chain
GIVE_UP_S = 20.0  # simulated seconds after which the sandbox answers a hung request with 504
USER = "How do I reset my password?"
MESSAGES = [{"role": "system", "content": "You are Kitewing's customer-support assistant."},
            {"role": "user", "content": USER}]


def sim(seconds: float) -> float:
    """Simulated seconds -> wall-clock seconds at the notebook's time scale."""
    return seconds * SCALE


def private_sandbox(seed: int, time_scale: float | None = None) -> sandbox.SandboxHandle:
    """A sandbox of one's own, at :data:`SCALE` unless told. A request that never answers is
    given up on after :data:`GIVE_UP_S` simulated seconds, as a gateway's idle timeout would;
    without that, the lesson's secondary would wait until the process ends."""
    scale = SCALE if time_scale is None else time_scale
    return sandbox.start(time_scale=scale, seed=seed, hang_seconds=GIVE_UP_S * scale)


def counted_client(sb: sandbox.SandboxHandle, *, asynchronous: bool = False,
                   **options: Any) -> tuple[Any, list[str]]:
    """An openai client on ``sb`` (SDK retries off unless given), and the list of models it has
    sent requests for: every HTTP request, even one the sandbox rejects before logging it.

    The count is an httpx *event hook*: a function the HTTP client calls with every request it
    is about to send, here reading the model from the request's JSON body."""
    sent: list[str] = []
    options.setdefault("max_retries", 0)

    def count(request: Any) -> None:
        sent.append(json.loads(request.content)["model"])

    async def count_async(request: Any) -> None:
        count(request)

    if asynchronous:
        http = openai.DefaultAsyncHttpxClient(event_hooks={"request": [count_async]})
        return openai.AsyncOpenAI(base_url=sb.base_url, api_key="sandbox", http_client=http,
                                  **options), sent
    http = openai.DefaultHttpxClient(event_hooks={"request": [count]})
    return openai.OpenAI(base_url=sb.base_url, api_key="sandbox", http_client=http,
                         **options), sent


def sandbox_chain(primary: str = "gpt-4o", secondary: str = "gpt-4o-mini",
                  attempts: int = 3) -> list[ChainLink]:
    """The chain used on the sandbox: attempt timeouts of 5 simulated seconds."""
    return [ChainLink(primary, max_attempts=attempts, attempt_timeout_s=sim(5)),
            ChainLink(secondary, max_attempts=2, attempt_timeout_s=sim(5))]


def backoff() -> FullJitterBackoff:
    """Full jitter from 0.5 to 4 simulated seconds, seeded: the same waits on every run."""
    return FullJitterBackoff(base_s=sim(0.5), cap_s=sim(4), rng=random.Random(0))


def _chain(client: Any, chain: Sequence[ChainLink] | None = None,
           **options: Any) -> AsyncFallbackClient:
    return AsyncFallbackClient(chain or sandbox_chain(), client=client, backoff=backoff(),
                               total_timeout_s=sim(BUDGET_S), **options)


# -- which failures can another try fix? -------------------------------------------------------

FAULTS_TO_PRODUCE: dict[str, dict[str, Any]] = {
    "500 server error": {"extra_headers": {"X-Sandbox-Fault": "500"}},
    "503 overloaded": {"extra_headers": {"X-Sandbox-Fault": "503"}},
    "429 rate limited": {"extra_headers": {"X-Sandbox-Fault": "429"}},
    "hang, 1 s timeout": {"extra_headers": {"X-Sandbox-Fault": "hang"}, "timeout": sim(1)},
    "temperature=5": {"temperature": 5},
    "prompt + max_tokens > 128k": {"max_tokens": 128_000},
    "model 'gpt-5-imaginary'": {"model": "gpt-5-imaginary"},
}


def failure_examples() -> list[tuple[str, str, Failure]]:
    """Each failure of :data:`FAULTS_TO_PRODUCE`, produced for real by a sandbox and caught from
    the official client: (what was done, the exception's class name, its classification)."""
    rows = []
    with private_sandbox(seed=1) as sb:
        client = openai.OpenAI(base_url=sb.base_url, api_key="sandbox", max_retries=0)
        for what, options in FAULTS_TO_PRODUCE.items():
            try:
                client.chat.completions.create(**{"model": "gpt-4o", "messages": MESSAGES,
                                                  **options})
            except Exception as error:
                rows.append((what, type(error).__name__, classify(error)))
            else:
                raise AssertionError(f"the sandbox answered {what!r} instead of failing")
    return rows


# -- the lesson's traps, each beside the chain ---------------------------------------------------


@dataclass
class Contrast:
    """The same situation sent to the lesson's port and to the chain.

    ``*_sent`` lists the model of every HTTP request each one sent; ``*_wait_s`` is how long its
    caller waited (wall-clock); ``*_outcome`` is the response (the lesson's ``GenerateResponse``,
    the chain's :class:`~course_lib.fallback.outcome.FallbackResult`) or the error raised."""

    lesson_sent: list[str]
    lesson_outcome: Any
    lesson_wait_s: float
    chain_sent: list[str]
    chain_outcome: Any
    chain_wait_s: float
    lesson_log: list[str]
    lesson_calls: int
    chain: AsyncFallbackClient


class _LessonLog(logging.Handler):
    """Collects what the lesson's client logs (its ``slog.Warn``), instead of printing it."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _lesson_log() -> Iterator[_LessonLog]:
    """What the lesson's client logs, collected while the block runs instead of printed."""
    log, logger = _LessonLog(), logging.getLogger(lesson.__name__)
    logger.addHandler(log)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield log
    finally:
        logger.removeHandler(log)
        logger.propagate = propagate


async def _timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    try:
        outcome = await work
    except (RuntimeError, openai.APIError, CallerCancelledError) as error:
        outcome = error
    return outcome, time.perf_counter() - started


async def _contrast(sb: sandbox.SandboxHandle, request: lesson.GenerateRequest,
                    chain_call: Callable[[AsyncFallbackClient], Any], *,
                    ctx: lesson.Context | None = None,
                    between: Callable[[], None] | None = None,
                    chain_options: Mapping[str, Any] | None = None,
                    chain: Sequence[ChainLink] | None = None) -> Contrast:
    client, sent = counted_client(sb, asynchronous=True)
    adapter = lesson.OpenAILLMClient(client)
    port = lesson.FallbackClient(adapter, adapter, timeout=sim(20))
    with _lesson_log() as log:
        lesson_outcome, lesson_wait = await _timed(
            port.generate(ctx or lesson.background(), request))
    lesson_sent, sent[:] = list(sent), []
    if between is not None:
        between()
    fallback = _chain(client, chain, **(chain_options or {}))
    chain_outcome, chain_wait = await _timed(chain_call(fallback))
    await client.close()
    return Contrast(lesson_sent, lesson_outcome, lesson_wait, list(sent), chain_outcome,
                    chain_wait, log.messages, adapter.calls, fallback)


async def bad_request() -> Contrast:
    """Trap 1: ``temperature=5`` is a 400 for every model; the lesson asks the secondary too."""
    with private_sandbox(seed=2) as sb:
        return await _contrast(
            sb, lesson.GenerateRequest("gpt-4o", MESSAGES, extra={"temperature": 5}),
            lambda chain: chain.create(messages=MESSAGES, temperature=5))


async def user_leaves(after_s: float = 2.0) -> Contrast:
    """Trap 2: the primary hangs and the user leaves after ``after_s`` simulated seconds."""
    with private_sandbox(seed=3) as sb:
        sb.faults.script("hang", count=2, model="gpt-4o")  # the primary is slow today
        ctx, leave = lesson.with_cancel(lesson.background())
        asyncio.get_running_loop().call_later(sim(after_s), leave)
        user_left = asyncio.Event()

        def start_clock() -> None:
            asyncio.get_running_loop().call_later(sim(after_s), user_left.set)

        return await _contrast(
            sb, lesson.GenerateRequest("gpt-4o", MESSAGES),
            lambda chain: chain.create(messages=MESSAGES, cancel=user_left),
            ctx=ctx, between=start_clock,
            chain_options={"circuit_breaker": lambda: CircuitBreaker(failure_threshold=1)})


async def hard_coded_model() -> Contrast:
    """Trap 3: the router chose gpt-4o-mini, and gpt-4o-mini is down."""
    with private_sandbox(seed=4) as sb:
        sb.faults.set_rates("gpt-4o-mini", r503=1.0)
        return await _contrast(
            sb, lesson.GenerateRequest("gpt-4o-mini", MESSAGES),
            lambda chain: chain.create(messages=MESSAGES),
            chain=sandbox_chain("gpt-4o-mini", "gpt-4o"))


async def secondary_hangs() -> Contrast:
    """Trap 4: the primary answers 503 and the secondary hangs. The chain meets three 503s (so
    that it falls back too) and the same hang."""
    with private_sandbox(seed=5) as sb:
        sb.faults.script("503", count=1, model="gpt-4o")
        sb.faults.script("hang", count=1, model="gpt-4o-mini")

        def for_the_chain() -> None:
            sb.faults.clear()
            sb.faults.script("503", count=3, model="gpt-4o")
            sb.faults.script("hang", count=1, model="gpt-4o-mini")

        return await _contrast(sb, lesson.GenerateRequest("gpt-4o", MESSAGES),
                               lambda chain: chain.create(messages=MESSAGES),
                               between=for_the_chain)


# -- many calls under faults ---------------------------------------------------------------------


@dataclass(frozen=True)
class FaultRun:
    """One client's run of many calls: the summary, each call's latency, and how many of its
    requests to a hung model were held until the sandbox gave up (a count: a sleep of
    :data:`GIVE_UP_S` in the sandbox, which a busy machine can only make longer)."""

    summary: LoadSummary
    latencies_s: list[float]
    held_to_give_up: int
    hung_requests: int
    primary_requests: int


def _lesson_caller(client: Any) -> Callable[[str], Any]:
    adapter = lesson.OpenAILLMClient(client)
    port = lesson.FallbackClient(adapter, adapter, timeout=sim(5))

    async def call(prompt: str) -> Answer:
        request = lesson.GenerateRequest("gpt-4o", [{"role": "user", "content": prompt}])
        response = await port.generate(lesson.background(), request)
        return Answer(response.model, response.usage)

    return call


def _chain_caller(primary_attempts: int, breaker: Callable[[], CircuitBreaker] | None = None
                  ) -> Callable[[Any], Callable[[str], Any]]:
    def make(client: Any) -> Callable[[str], Any]:
        fallback = _chain(client, sandbox_chain(attempts=primary_attempts),
                          circuit_breaker=breaker)

        async def call(prompt: str) -> Answer:
            result = await fallback.create(messages=[{"role": "user", "content": prompt}])
            return Answer(result.model, result.response.usage)

        return call

    return make


async def _run(name: str, make_call: Callable[[Any], Callable[[str], Any]],
               prompts: Sequence[str], fault_rates: Mapping[str, Mapping[str, float]], *,
               seed: int = 11, in_flight: int = 8) -> FaultRun:
    with private_sandbox(seed=seed) as sb:
        for model, rates in fault_rates.items():
            sb.faults.set_rates(model, **rates)
        async with openai.AsyncOpenAI(base_url=sb.base_url, api_key="sandbox",
                                      max_retries=0) as client:
            with _lesson_log():
                outcomes = await replay_calls(make_call(client), prompts, concurrency=in_flight)
        records = sb.requests
    hung = [r for r in records if r.fault == "hang"]
    return FaultRun(
        summarize_calls(name, outcomes, primary_model="gpt-4o", requests_sent=len(records)),
        [o.latency_s for o in outcomes],
        held_to_give_up=sum(r.duration_s >= sim(GIVE_UP_S) for r in hung),
        hung_requests=len(hung),
        primary_requests=sum(r.model == "gpt-4o" for r in records),
    )


async def compare_under_faults(prompts: Sequence[str],
                               fault_rates: Mapping[str, Mapping[str, float]], *,
                               in_flight: int = 4) -> list[FaultRun]:
    """The lesson's client, the chain falling back at once, and the chain retrying first, each
    on a fresh sandbox with the same seed and ``fault_rates`` (so the *n*-th request to each
    model fails the same way for all three), ``in_flight`` calls at a time each.

    The three run at the same time: whatever slows this machine down slows all three alike."""
    clients = {"lesson": _lesson_caller, "chain, fall back at once": _chain_caller(1),
               "chain, retry first": _chain_caller(3)}
    return list(await asyncio.gather(*(_run(name, make, prompts, fault_rates,
                                            in_flight=in_flight)
                                       for name, make in clients.items())))


async def primary_down(prompts: Sequence[str], *, breaker_failures: int | None,
                       in_flight: int = 8) -> FaultRun:
    """gpt-4o answers 503 to everything; the chain retries it three times, with a breaker per
    model that opens after ``breaker_failures`` failures in 30 simulated seconds (cool-down 10),
    or with none (``None``)."""
    breaker: Callable[[], CircuitBreaker] | None = None
    if breaker_failures is not None:
        CircuitBreaker(breaker_failures)  # a bad threshold fails here, not inside every call
        breaker = functools.partial(CircuitBreaker, breaker_failures, window_s=sim(30),
                                    cool_down_s=sim(10))
    name = "no breaker" if breaker is None else "with breaker"
    return await _run(name, _chain_caller(3, breaker), prompts, {"gpt-4o": {"r503": 1.0}},
                      in_flight=in_flight)

