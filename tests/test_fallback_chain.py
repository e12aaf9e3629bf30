"""The fallback chain's decisions, with a scripted stand-in for the provider.

Each model answers from a script (an answer, an openai exception, or a hang that lasts until the
attempt's timeout); the clock is a fake that the stand-in moves forward by each outcome's
duration, and the chain's sleep is recorded (and moves the clock) instead of sleeping. So every
test sees exactly which requests were sent, with which timeouts, and how long the chain waited.
The same paths run against the real sandbox in ``test_fallback_sandbox.py``.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from course_lib.fallback import (
    AllLinksFailedError,
    AsyncFallbackClient,
    BreakerState,
    CallerCancelledError,
    ChainLink,
    CircuitBreaker,
    DeadlineExceededError,
    FallbackClient,
    FullJitterBackoff,
    StreamInterruptedError,
)
from tests.test_fallback_policy import FakeClock, status_error
from tests.test_retrying import ExtremeRandom

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
MESSAGES = [{"role": "user", "content": "How do I reset my password?"}]


@dataclass
class Outcome:
    """What one request to the stand-in does."""

    duration_s: float = 0.1
    error: BaseException | None = None
    hang: bool = False
    chunks: list[str] | None = None  # a stream: these pieces of text ...
    fail_after_chunks: int | None = None  # ... broken after this many chunks
    on_start: Any = None


def ok(duration_s: float = 0.1) -> Outcome:
    return Outcome(duration_s)


def fails(error: BaseException, duration_s: float = 0.05) -> Outcome:
    return Outcome(duration_s, error=error)


HANG = Outcome(hang=True)


@dataclass
class Sent:
    model: str
    timeout: float | None
    request: dict[str, Any]


def completion(model: str, prompt_tokens: int = 100, completion_tokens: int = 20
               ) -> ChatCompletion:
    return ChatCompletion.model_validate({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": f"answer from {model}"}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    })


def chunk(model: str, content: str | None, usage: bool = False) -> ChatCompletionChunk:
    choices = [] if content is None else [{"index": 0, "delta": {"content": content}}]
    data: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                            "model": model, "choices": choices}
    if usage:
        data["usage"] = {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
    return ChatCompletionChunk.model_validate(data)


class FakeStream:
    """Like ``openai.Stream``: iterating again resumes where the last loop stopped."""

    def __init__(self, model: str, outcome: Outcome) -> None:
        self.model = model
        self.outcome = outcome
        self.closed = False
        self._chunks = self._generate()

    def __iter__(self):
        # A for loop, not `yield from`: leaving one loop early must not close the chunks.
        for item in self._chunks:  # noqa: UP028
            yield item

    def _generate(self):
        yield chunk(self.model, "")  # the role chunk: no output yet
        for index, piece in enumerate(self.outcome.chunks or []):
            if self.outcome.fail_after_chunks is not None and index >= (
                self.outcome.fail_after_chunks
            ):
                raise openai.APIConnectionError(request=REQUEST)
            yield chunk(self.model, piece)
        yield chunk(self.model, None, usage=True)

    def close(self) -> None:
        self.closed = True


class ScriptedCompletions:
    """``client.chat.completions`` that answers each model from its script (default: ok)."""

    def __init__(self, clock: FakeClock, script: dict[str, list[Outcome]]) -> None:
        self.clock = clock
        self.script = {model: list(outcomes) for model, outcomes in script.items()}
        self.sent: list[Sent] = []
        self.streams: list[FakeStream] = []

    def create(self, *, model: str, timeout: float | None = None, **request: Any) -> Any:
        self.sent.append(Sent(model, timeout, request))
        queue = self.script.get(model, [])
        outcome = queue.pop(0) if queue else ok()
        if outcome.on_start is not None:
            outcome.on_start()
        if outcome.hang:
            assert timeout is not None, "an attempt without a timeout would hang forever"
            self.clock.advance(timeout)
            raise openai.APITimeoutError(request=REQUEST)
        self.clock.advance(outcome.duration_s)
        if outcome.error is not None:
            raise outcome.error
        if request.get("stream"):
            stream = FakeStream(model, outcome)
            self.streams.append(stream)
            return stream
        return completion(model)

    @property
    def models(self) -> list[str]:
        return [s.model for s in self.sent]


class AsyncScriptedCompletions(ScriptedCompletions):
    async def create(self, **kwargs: Any) -> Any:  # type: ignore[override]
        await asyncio.sleep(0)  # a real await point, so cancellation can land here
        return super().create(**kwargs)


@dataclass
class Harness:
    clock: FakeClock = field(default_factory=FakeClock)
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.clock.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def client(self, completions: ScriptedCompletions) -> Any:
        return SimpleNamespace(chat=SimpleNamespace(completions=completions), max_retries=0)

    def sync(self, chain: list[ChainLink], script: dict[str, list[Outcome]], **kwargs: Any
             ) -> tuple[FallbackClient, ScriptedCompletions]:
        completions = ScriptedCompletions(self.clock, script)
        kwargs.setdefault("backoff", FullJitterBackoff(0.5, 8.0, rng=ExtremeRandom(high=True)))
        return FallbackClient(chain, client=self.client(completions), clock=self.clock,
                              sleep=self.sleep, **kwargs), completions

    def async_(self, chain: list[ChainLink], script: dict[str, list[Outcome]], **kwargs: Any
               ) -> tuple[AsyncFallbackClient, AsyncScriptedCompletions]:
        completions = AsyncScriptedCompletions(self.clock, script)
        kwargs.setdefault("backoff", FullJitterBackoff(0.5, 8.0, rng=ExtremeRandom(high=True)))
        return AsyncFallbackClient(chain, client=self.client(completions), clock=self.clock,
                                   sleep=self.async_sleep, **kwargs), completions


PRIMARY_AND_MINI = [ChainLink("gpt-4o", max_attempts=3, attempt_timeout_s=10.0),
                    ChainLink("gpt-4o-mini", max_attempts=2, attempt_timeout_s=5.0)]


# --- retries and Retry-After ------------------------------------------------------------------

def test_retry_on_429_waits_at_least_retry_after() -> None:
    h = Harness()
    limited = status_error(429, "rate_limit_exceeded", {"retry-after": "2.5"})
    # The jitter draws 0 here, so only Retry-After can make the wait long enough.
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(limited), ok()]},
                      backoff=FullJitterBackoff(0.5, 8.0, rng=ExtremeRandom(high=False)))
    result = fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o", "gpt-4o"]
    assert len(h.slept) == 1
    assert h.slept[0] >= 2.5
    assert result.model == "gpt-4o"
    assert result.requests_sent == 2
    assert [e.status for e in result.errors] == [429]
    assert result.errors[0].retry_after_s == 2.5


def test_retry_after_ms_is_honoured_too() -> None:
    h = Harness()
    limited = status_error(429, "rate_limit_exceeded", {"retry-after-ms": "1200"})
    fb, _ = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(limited), ok()]},
                   backoff=FullJitterBackoff(0.1, 0.2, rng=ExtremeRandom(high=True)))
    fb.create(messages=MESSAGES)
    assert h.slept == [1.2]


def test_transient_errors_are_retried_with_growing_backoff_then_fall_back() -> None:
    h = Harness()
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(status_error(500))] * 3})
    result = fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o", "gpt-4o", "gpt-4o", "gpt-4o-mini"]
    # ExtremeRandom(high) draws each ceiling: base 0.5 doubled per retry; none after the last.
    assert h.slept == [0.5, 1.0]
    assert result.link == "gpt-4o-mini"
    assert result.link_index == 1
    assert result.used_fallback
    assert [a.outcome for a in result.attempts] == ["failed", "failed", "failed", "ok"]


def test_a_retry_after_beyond_the_cap_falls_back_without_waiting() -> None:
    h = Harness()
    limited = status_error(429, "rate_limit_exceeded", {"retry-after": "600"})
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(limited)]},
                      backoff=FullJitterBackoff(max_retry_after_s=30.0))
    result = fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o", "gpt-4o-mini"]
    assert h.slept == []
    assert result.model == "gpt-4o-mini"


def test_a_wait_that_does_not_fit_the_budget_falls_back_at_once() -> None:
    h = Harness()
    limited = status_error(429, "rate_limit_exceeded", {"retry-after": "8"})
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(limited)]}, total_timeout_s=5.0)
    result = fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o", "gpt-4o-mini"]
    assert h.slept == []
    assert result.latency_s <= 5.0


# --- errors that no model can fix -------------------------------------------------------------

@pytest.mark.parametrize(("status", "exception_class"), [
    (400, openai.BadRequestError), (401, openai.AuthenticationError),
    (403, openai.PermissionDeniedError), (404, openai.NotFoundError),
    (422, openai.UnprocessableEntityError),
])
def test_caller_errors_are_neither_retried_nor_fallen_back(status, exception_class) -> None:
    h = Harness()
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(status_error(status))]})
    with pytest.raises(exception_class) as raised:
        fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o"]
    assert h.slept == []
    assert any("did not retry or fall back" in note for note in raised.value.__notes__)


def test_a_bug_in_a_links_adapt_function_surfaces_unchanged() -> None:
    h = Harness()

    def broken_adapt(request: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("max_tokens")

    chain = [ChainLink("gpt-4o", adapt=broken_adapt), ChainLink("gpt-4o-mini")]
    fb, sent = h.sync(chain, {})
    with pytest.raises(KeyError):
        fb.create(messages=MESSAGES)
    assert sent.models == []


# --- context too long -------------------------------------------------------------------------

LONG_CONTEXT_CHAIN = [
    ChainLink("gpt-4o", context_window=128_000),
    ChainLink("gpt-4o-mini", context_window=128_000),
    ChainLink("long-context-model", context_window=1_000_000),
]


def test_context_too_long_skips_to_the_larger_context_link_without_retrying() -> None:
    h = Harness()
    too_long = status_error(400, "context_length_exceeded")
    fb, sent = h.sync(LONG_CONTEXT_CHAIN, {"gpt-4o": [fails(too_long)]})
    result = fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o", "long-context-model"]
    assert h.slept == []
    assert result.link == "long-context-model"
    assert result.errors[0].code == "context_length_exceeded"


def test_context_too_long_with_no_larger_link_surfaces_the_error() -> None:
    h = Harness()
    too_long = status_error(400, "context_length_exceeded")
    fb, sent = h.sync(LONG_CONTEXT_CHAIN[:2], {"gpt-4o": [fails(too_long)]})
    with pytest.raises(openai.BadRequestError) as raised:
        fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o"]
    assert any("larger context_window" in note for note in raised.value.__notes__)


# --- deadlines --------------------------------------------------------------------------------

def test_total_deadline_is_respected_across_hangs_retries_and_fallbacks() -> None:
    h = Harness()
    started = h.clock.now
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [HANG] * 3, "gpt-4o-mini": [HANG] * 2},
                      total_timeout_s=25.0)
    with pytest.raises(DeadlineExceededError) as raised:
        fb.create(messages=MESSAGES)
    assert h.clock.now - started <= 25.0
    # Each attempt got its own timeout, capped by what was left of the budget.
    timeouts = [s.timeout for s in sent.sent]
    assert timeouts[0] == 10.0
    assert all(t is not None and t <= 10.0 for t in timeouts)
    assert isinstance(raised.value, TimeoutError)
    assert raised.value.attempts


def test_a_hang_costs_one_attempt_timeout_not_the_whole_budget() -> None:
    h = Harness()
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [HANG, ok()]}, total_timeout_s=60.0)
    result = fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o", "gpt-4o"]
    assert result.errors[0].error_type == "APITimeoutError"
    assert 10.0 <= result.latency_s < 12.0  # one timeout + one backoff + one answer


def test_per_call_budget_overrides_the_client_default() -> None:
    h = Harness()
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [HANG]}, total_timeout_s=60.0)
    with pytest.raises(DeadlineExceededError):
        fb.create(messages=MESSAGES, total_timeout_s=3.0)
    assert [s.timeout for s in sent.sent] == [3.0]


# --- cancellation -----------------------------------------------------------------------------

def test_a_cancel_during_an_attempt_never_falls_back() -> None:
    h = Harness()
    cancel = threading.Event()
    overloaded = Outcome(0.05, error=status_error(503), on_start=cancel.set)
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [overloaded]},
                      circuit_breaker=lambda: CircuitBreaker(1, 10.0, 10.0, clock=h.clock))
    with pytest.raises(CallerCancelledError) as raised:
        fb.create(messages=MESSAGES, cancel=cancel)
    assert sent.models == ["gpt-4o"]
    assert h.slept == []
    assert len(raised.value.attempts) == 1


def test_an_already_cancelled_call_sends_nothing() -> None:
    h = Harness()
    cancel = threading.Event()
    cancel.set()
    fb, sent = h.sync(PRIMARY_AND_MINI, {})
    with pytest.raises(CallerCancelledError):
        fb.create(messages=MESSAGES, cancel=cancel)
    assert sent.models == []


def test_a_caller_deadline_already_passed_sends_nothing() -> None:
    h = Harness()
    fb, sent = h.sync(PRIMARY_AND_MINI, {})
    with pytest.raises(CallerCancelledError):
        fb.create(messages=MESSAGES, deadline_at=h.clock.now - 1.0)
    assert sent.models == []


def test_a_caller_deadline_passing_mid_call_stops_without_fallback() -> None:
    h = Harness()
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [HANG]})
    with pytest.raises(CallerCancelledError):
        fb.create(messages=MESSAGES, deadline_at=h.clock.now + 4.0)
    assert sent.models == ["gpt-4o"]
    assert sent.sent[0].timeout == 4.0  # the attempt got only what the caller had left


def test_async_task_cancellation_propagates_and_never_falls_back() -> None:
    h = Harness()

    async def scenario() -> tuple[list[str], CircuitBreaker]:
        entered = asyncio.Event()
        release = asyncio.Event()
        fb, sent = h.async_(PRIMARY_AND_MINI, {},
                            circuit_breaker=lambda: CircuitBreaker(1, 10.0, 10.0, clock=h.clock))

        async def never_answers(**kwargs: Any) -> Any:
            sent.sent.append(Sent(kwargs["model"], kwargs.get("timeout"), kwargs))
            entered.set()
            await release.wait()

        sent.create = never_answers  # type: ignore[method-assign]
        task = asyncio.create_task(fb.create(messages=MESSAGES))
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return sent.models, fb.breakers["gpt-4o"]

    models, breaker = asyncio.run(scenario())
    assert models == ["gpt-4o"]
    assert breaker.state is BreakerState.CLOSED  # a cancellation is not the model's failure


def test_async_cancel_event_stops_the_chain_mid_attempt() -> None:
    h = Harness()

    async def scenario() -> list[str]:
        cancel = asyncio.Event()
        fb, sent = h.async_(PRIMARY_AND_MINI, {})

        async def slow(**kwargs: Any) -> Any:
            sent.sent.append(Sent(kwargs["model"], kwargs.get("timeout"), kwargs))
            cancel.set()  # the user closes the tab while the primary is thinking
            await asyncio.Event().wait()

        sent.create = slow  # type: ignore[method-assign]
        with pytest.raises(CallerCancelledError):
            await fb.create(messages=MESSAGES, cancel=cancel)
        return sent.models

    assert asyncio.run(scenario()) == ["gpt-4o"]


# --- circuit breaker in the chain -------------------------------------------------------------

def test_an_open_breaker_skips_the_model_without_a_request_then_probes() -> None:
    h = Harness()
    fb, sent = h.sync(
        [ChainLink("gpt-4o", max_attempts=2), ChainLink("gpt-4o-mini")],
        {"gpt-4o": [fails(status_error(503))] * 2},
        circuit_breaker=lambda: CircuitBreaker(2, window_s=60.0, cool_down_s=30.0, clock=h.clock),
    )
    first = fb.create(messages=MESSAGES)
    assert first.model == "gpt-4o-mini"
    assert fb.breakers["gpt-4o"].state is BreakerState.OPEN
    second = fb.create(messages=MESSAGES)
    assert second.model == "gpt-4o-mini"
    assert [a.outcome for a in second.attempts] == ["skipped", "ok"]
    assert second.requests_sent == 1
    assert sent.models == ["gpt-4o", "gpt-4o", "gpt-4o-mini", "gpt-4o-mini"]
    h.clock.advance(30.0)
    third = fb.create(messages=MESSAGES)  # the probe goes through and succeeds
    assert third.model == "gpt-4o"
    assert fb.breakers["gpt-4o"].state is BreakerState.CLOSED


def test_caller_errors_do_not_trip_the_breaker() -> None:
    h = Harness()
    fb, _ = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(status_error(400))] * 3},
                   circuit_breaker=lambda: CircuitBreaker(1, 60.0, 30.0, clock=h.clock))
    for _ in range(3):
        with pytest.raises(openai.BadRequestError):
            fb.create(messages=MESSAGES)
    assert fb.breakers["gpt-4o"].state is BreakerState.CLOSED


def test_every_link_failing_reports_all_attempts() -> None:
    h = Harness()
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(status_error(500))] * 3,
                                         "gpt-4o-mini": [fails(status_error(502))] * 2})
    with pytest.raises(AllLinksFailedError) as raised:
        fb.create(messages=MESSAGES)
    assert len(sent.models) == 5
    assert [a.failure.status for a in raised.value.attempts] == [500] * 3 + [502] * 2
    assert isinstance(raised.value.__cause__, openai.InternalServerError)


# --- per-link requests, results, validation ---------------------------------------------------

def test_each_link_sends_its_own_model_and_adapted_request() -> None:
    h = Harness()
    chain = [ChainLink("gpt-4o", max_attempts=1),
             ChainLink("gpt-4o-mini", adapt=lambda r: {**r, "max_tokens": 50})]
    fb, sent = h.sync(chain, {"gpt-4o": [fails(status_error(503))]})
    fb.create(messages=MESSAGES, temperature=0.2)
    assert [s.model for s in sent.sent] == ["gpt-4o", "gpt-4o-mini"]
    assert "max_tokens" not in sent.sent[0].request
    assert sent.sent[1].request == {"messages": MESSAGES, "temperature": 0.2, "max_tokens": 50}


def test_result_says_who_answered_after_what_and_at_what_cost() -> None:
    h = Harness()
    fb, _ = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [fails(status_error(500), 0.25)] * 3,
                                      "gpt-4o-mini": [ok(0.4)]})
    result = fb.create(messages=MESSAGES)
    assert result.content == "answer from gpt-4o-mini"
    assert (result.link, result.model, result.requests_sent) == ("gpt-4o-mini", "gpt-4o-mini", 4)
    # 3 failures of 0.25 s, waits of 0.5 s and 1.0 s, then a 0.4 s answer.
    assert result.latency_s == pytest.approx(0.75 + 1.5 + 0.4)
    # gpt-4o-mini: 100 input tokens at $0.15/1M + 20 output tokens at $0.60/1M.
    assert result.cost_usd() == Decimal("0.000027")
    assert "gpt-4o #3: 500" in result.describe()


@pytest.mark.parametrize("key", ["model", "timeout", "stream"])
def test_the_request_may_not_carry_what_the_chain_decides(key: str) -> None:
    fb, _ = Harness().sync(PRIMARY_AND_MINI, {})
    with pytest.raises(ValueError, match=key):
        fb.create(messages=MESSAGES, **{key: "x"})


def test_an_adapt_that_sets_the_model_is_rejected() -> None:
    fb, _ = Harness().sync([ChainLink("gpt-4o", adapt=lambda r: {**r, "model": "gpt-4"})], {})
    with pytest.raises(ValueError, match="model"):
        fb.create(messages=MESSAGES)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"model": ""}, "model"), ({"model": "m", "max_attempts": 0}, "max_attempts"),
    ({"model": "m", "attempt_timeout_s": 0}, "attempt_timeout_s"),
    ({"model": "m", "context_window": -5}, "context_window"),
])
def test_chain_link_rejects_bad_settings(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChainLink(**kwargs)


def test_a_chain_needs_links() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FallbackClient([], client=object())
    with pytest.raises(TypeError, match="ChainLink"):
        FallbackClient(["gpt-4o"], client=object())  # type: ignore[list-item]


def test_sdk_retries_are_switched_off_on_the_clients_used() -> None:
    seen: list[int] = []

    class Client:
        max_retries = 2

        def with_options(self, *, max_retries: int) -> Any:
            seen.append(max_retries)
            return Harness().client(ScriptedCompletions(FakeClock(), {}))

    FallbackClient([ChainLink("gpt-4o")], client=Client()).create(messages=MESSAGES)
    assert seen == [0]


# --- async twin -------------------------------------------------------------------------------

def test_async_client_follows_the_same_rules() -> None:
    h = Harness()
    limited = status_error(429, "rate_limit_exceeded", {"retry-after": "3"})
    fb, sent = h.async_(PRIMARY_AND_MINI, {"gpt-4o": [fails(limited), fails(status_error(500)),
                                                      fails(status_error(503))]})
    result = asyncio.run(fb.create(messages=MESSAGES))
    assert sent.models == ["gpt-4o"] * 3 + ["gpt-4o-mini"]
    assert h.slept[0] >= 3.0
    assert result.model == "gpt-4o-mini"

    h2 = Harness()
    fb2, sent2 = h2.async_(PRIMARY_AND_MINI, {"gpt-4o": [fails(status_error(401))]})
    with pytest.raises(openai.AuthenticationError):
        asyncio.run(fb2.create(messages=MESSAGES))
    assert sent2.models == ["gpt-4o"]


# --- streams ----------------------------------------------------------------------------------

def test_a_stream_that_breaks_before_its_first_token_falls_back() -> None:
    h = Harness()
    broken_early = Outcome(chunks=["Click", " Forgot"], fail_after_chunks=0)
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [broken_early] * 3,
                                         "gpt-4o-mini": [Outcome(chunks=["Use", " reset"])]})
    stream = fb.stream(messages=MESSAGES)
    assert stream.link == "gpt-4o-mini"
    assert "".join(c.choices[0].delta.content for c in stream if c.choices) == "Use reset"
    assert stream.usage.completion_tokens == 3
    assert sent.models == ["gpt-4o"] * 3 + ["gpt-4o-mini"]
    assert all(s.closed for s in sent.streams[:3])  # abandoned streams are closed
    assert sent.sent[0].request["stream_options"] == {"include_usage": True}


def test_a_stream_that_breaks_after_its_first_token_surfaces_the_error() -> None:
    h = Harness()
    broken_late = Outcome(chunks=["Click", " Forgot", " password"], fail_after_chunks=2)
    fb, sent = h.sync(PRIMARY_AND_MINI, {"gpt-4o": [broken_late]})
    stream = fb.stream(messages=MESSAGES)
    received = []
    with pytest.raises(StreamInterruptedError) as raised:
        for piece in stream:
            received.append(piece)
    assert raised.value.text_received == "Click Forgot"
    assert raised.value.link == "gpt-4o"
    assert sent.models == ["gpt-4o"]  # no silent second answer


def test_async_stream_follows_the_first_token_rule() -> None:
    h = Harness()

    class AsyncFakeStream:
        def __init__(self, inner: FakeStream) -> None:
            self.inner = iter(inner)

        def __aiter__(self) -> AsyncFakeStream:
            return self

        async def __anext__(self) -> Any:
            try:
                return next(self.inner)
            except StopIteration:
                raise StopAsyncIteration from None

        async def close(self) -> None:
            pass

    async def scenario() -> tuple[str, str, list[str]]:
        fb, sent = h.async_(PRIMARY_AND_MINI, {
            "gpt-4o": [Outcome(chunks=["a"], fail_after_chunks=0),
                       Outcome(chunks=["Hel", "lo", "!"], fail_after_chunks=2)]})
        sync_create = ScriptedCompletions.create

        async def create(**kwargs: Any) -> Any:
            return AsyncFakeStream(sync_create(sent, **kwargs))

        sent.create = create  # type: ignore[method-assign]
        stream = await fb.stream(messages=MESSAGES)
        try:
            async for _ in stream:
                pass
        except StreamInterruptedError as error:
            return stream.link, error.text_received, sent.models
        raise AssertionError("the stream should have broken")

    link, text, models = asyncio.run(scenario())
    assert (link, text) == ("gpt-4o", "Hello")
    assert models == ["gpt-4o", "gpt-4o"]  # retried before the first token, not after
