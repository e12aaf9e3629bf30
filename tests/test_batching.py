"""course_lib.batching (the fix) and course_lib.lesson.batch_embedder (the lesson's Go, ported).

Most tests drive the embedder with a fake async client whose requests finish in an order the
test chooses (by yielding to the event loop a chosen number of times: no wall-clock sleeps),
and a fake clock that only the injected sleep moves. A few go through the real sandbox.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib import sandbox
from course_lib.batching import (
    BatchEmbedder,
    BatchEmbeddingError,
    EmbeddingInputError,
    FullJitterBackoff,
    SharedPause,
    check_inputs,
    ideal_seconds,
    index_ranges,
    plan_batches,
    predict_seconds,
    time_strategies,
)
from course_lib.lesson.batch_embedder import (
    BatchFailedError,
    LessonBatchEmbedder,
    OpenAIEmbeddingClient,
)
from course_lib.plots.throughput import (
    StrategyTiming,
    attempt_timeline_figure,
    strategy_times_figure,
)
from course_lib.sandbox.profiles import ModelProfile, profile_for

pytestmark = pytest.mark.timing

MODEL = "text-embedding-3-small"
URL = "http://127.0.0.1:9/v1/embeddings"


# --------------------------------------------------------------------------- fakes


def api_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    """The exception the openai client raises for an HTTP error status."""
    request = httpx2.Request("POST", URL)
    response = httpx2.Response(status, headers=headers or {}, request=request)
    classes = {400: openai.BadRequestError, 429: openai.RateLimitError,
               500: openai.InternalServerError, 503: openai.InternalServerError}
    return classes[status](f"HTTP {status}", response=response, body=None)


def texts(n: int) -> list[str]:
    """Texts whose vectors say where they came from: ``"text 7"`` embeds to ``[7.0, 1.0]``."""
    return [f"text {i}" for i in range(n)]


def origin(text: str) -> float:
    """Where a fake vector came from: the number in ``"text 7"``, else the first letter's code."""
    parts = text.split()
    return float(parts[1]) if len(parts) > 1 else float(ord(text[0]))


@dataclass
class FakeClock:
    """A clock that only moves when the injected sleep is awaited."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class Call:
    inputs: list[str]
    at: float
    kwargs: dict[str, Any]


class FakeEmbeddings:
    """``client.embeddings``: records calls, counts requests in flight, fails on command.

    ``yields[first_input]`` is how many times that request yields to the event loop before
    answering (so the test decides which finishes first); ``script[first_input]`` lists what
    successive attempts do: ``"ok"``, an HTTP status, or an exception to raise.
    """

    def __init__(self, clock: FakeClock | None = None, *, yields: dict[str, int] | None = None,
                 script: dict[str, list[Any]] | None = None, base64_vectors: bool = False,
                 shuffle_data: bool = True, drop_one: bool = False) -> None:
        self.clock = clock or FakeClock()
        self.yields = yields or {}
        self.script = {key: list(value) for key, value in (script or {}).items()}
        self.base64_vectors = base64_vectors
        self.shuffle_data = shuffle_data
        self.drop_one = drop_one
        self.calls: list[Call] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def create(self, *, input: list[str], model: str, **kwargs: Any) -> Any:
        assert model == MODEL
        self.calls.append(Call(list(input), self.clock(), kwargs))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(self.yields.get(input[0], 1)):
                await asyncio.sleep(0)
            plan = self.script.get(input[0])
            outcome = plan.pop(0) if plan else "ok"
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome != "ok":
                raise api_error(outcome) if isinstance(outcome, int) else outcome
            return self._response(input)
        finally:
            self.in_flight -= 1

    def _response(self, inputs: list[str]) -> Any:
        data = []
        for index, text in enumerate(inputs):
            vector = np.array([origin(text), 1.0], dtype=np.float32)
            embedding: Any = (base64.b64encode(vector.astype("<f4").tobytes()).decode()
                              if self.base64_vectors else vector.tolist())
            data.append(SimpleNamespace(index=index, embedding=embedding))
        if self.shuffle_data:  # the API's list order is not a promise; its `index` is
            random.Random(len(inputs)).shuffle(data)
        if self.drop_one:
            data = data[1:]
        return SimpleNamespace(data=data, usage=SimpleNamespace(prompt_tokens=2 * len(inputs)))

    def attempts_of(self, first_input: str) -> int:
        return sum(1 for call in self.calls if call.inputs[0] == first_input)


class FakeClient:
    max_retries = 0

    def __init__(self, embeddings: FakeEmbeddings) -> None:
        self.embeddings = embeddings


class FakeBar:
    """A progress-bar factory that remembers what it was told."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.updates: list[int] = []
        self.disable: bool | None = None
        self.closed = False

    def __call__(self, *, total: int, disable: bool, **kwargs: Any) -> FakeBar:
        self.total, self.disable = total, disable
        return self

    def update(self, n: int) -> None:
        self.updates.append(n)

    def close(self) -> None:
        self.closed = True


def embedder_for(fake: FakeEmbeddings, **kwargs: Any) -> BatchEmbedder:
    options: dict[str, Any] = dict(
        model=MODEL, count_tokens=lambda text: 2, progress=False, sleep=fake.clock.sleep,
        clock=fake.clock, backoff=FullJitterBackoff(0.5, 8.0, rng=random.Random(0)))
    options.update(kwargs)
    return BatchEmbedder(FakeClient(fake), **options)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# --------------------------------------------------------------------------- inputs


def test_empty_strings_and_non_strings_are_rejected_with_their_indices_before_any_request():
    fake = FakeEmbeddings()
    batch = ["How do I reset my password?", "", "Export my data", None, ""]
    with pytest.raises(EmbeddingInputError) as raised:
        run(embedder_for(fake).embed(batch))
    assert raised.value.indices == [1, 3, 4]
    message = str(raised.value)
    assert "input 1: is an empty string" in message
    assert "input 3: is NoneType, not a string" in message
    assert fake.calls == []


def test_an_input_over_8192_tokens_is_an_error_naming_its_index():
    fake = FakeEmbeddings()
    long_text = " hello" * 9000  # " hello" is one cl100k token: 9,000 tokens
    embedder = embedder_for(fake, count_tokens=None)  # the real tiktoken count
    with pytest.raises(EmbeddingInputError) as raised:
        run(embedder.embed(["short", "also short", long_text]))
    assert raised.value.indices == [2]
    assert "input 2: has 9,000 tokens, more than the 8,192" in str(raised.value)
    assert fake.calls == []


def test_a_single_string_is_not_mistaken_for_a_list_of_characters():
    with pytest.raises(TypeError, match="wrap a single text in a list"):
        check_inputs("hello", len, max_input_tokens=10)


def test_many_bad_inputs_are_summarised_but_all_listed_on_the_error():
    with pytest.raises(EmbeddingInputError) as raised:
        check_inputs([""] * 8, len, max_input_tokens=10)
    assert raised.value.indices == list(range(8))
    assert "and 3 more" in str(raised.value)


# --------------------------------------------------------------------------- planning


def test_batches_split_by_tokens_at_hand_computed_boundaries():
    batches = plan_batches([3, 5, 2, 7, 1, 1, 4], max_inputs=3, max_tokens=8)
    assert [(b.start, b.stop, b.tokens) for b in batches] == [
        (0, 2, 8), (2, 3, 2), (3, 5, 8), (5, 7, 5)]


def test_batches_split_by_count_when_tokens_are_no_constraint():
    batches = plan_batches([1] * 7, max_inputs=3, max_tokens=300_000)
    assert [(b.start, b.stop) for b in batches] == [(0, 3), (3, 6), (6, 7)]


def test_a_batch_may_fill_the_token_limit_exactly():
    assert [(b.start, b.stop) for b in plan_batches([4, 4], max_inputs=10, max_tokens=8)] == [
        (0, 2)]


def test_an_input_larger_than_a_whole_request_is_an_error_naming_it():
    with pytest.raises(ValueError, match="input 1 has 9 tokens, more than the 8"):
        plan_batches([1, 9], max_inputs=10, max_tokens=8)


@given(st.lists(st.integers(0, 50), max_size=60), st.integers(1, 6), st.integers(50, 120))
def test_any_plan_covers_every_input_once_in_order_within_both_limits(counts, max_inputs,
                                                                      max_tokens):
    batches = plan_batches(counts, max_inputs=max_inputs, max_tokens=max_tokens)
    covered = [i for batch in batches for i in batch.indices]
    assert covered == list(range(len(counts)))
    for batch in batches:
        assert 1 <= batch.size <= max_inputs
        assert batch.tokens == sum(counts[batch.start:batch.stop]) <= max_tokens
    # Greedy: a batch ends only when the next input would break a limit.
    for left, right in itertools.pairwise(batches):
        assert left.size == max_inputs or left.tokens + counts[right.start] > max_tokens


def test_the_embedder_sends_the_token_split_batches():
    fake = FakeEmbeddings()
    sizes = {"a": 3, "b": 5, "c": 2, "d": 7, "e": 1, "f": 1, "g": 4}
    embedder = embedder_for(fake, count_tokens=sizes.__getitem__, max_inputs_per_request=3,
                            max_tokens_per_request=8, max_input_tokens=8, max_concurrency=1)
    run(embedder.embed_with_report(list("abcdefg")))
    assert [call.inputs for call in fake.calls] == [["a", "b"], ["c"], ["d", "e"], ["f", "g"]]


# --------------------------------------------------------------------------- order, concurrency


def test_order_is_preserved_when_batches_finish_in_a_shuffled_order():
    inputs = texts(40)
    finish_order = list(range(8))
    random.Random(3).shuffle(finish_order)
    # Batch k yields (its rank in the shuffled finish order) times: it finishes in that order.
    yields = {f"text {5 * k}": 1 + 3 * rank for rank, k in enumerate(finish_order)}
    fake = FakeEmbeddings(yields=yields)
    result = run(embedder_for(fake, max_inputs_per_request=5, max_concurrency=8)
                 .embed_with_report(inputs))
    assert result.vectors.shape == (40, 2)
    assert result.vectors[:, 0].tolist() == [float(i) for i in range(40)]
    completion = [record.batch for record in result.report.timeline]
    assert completion != sorted(completion)  # the test really did shuffle completions


def test_base64_vectors_are_decoded_in_order():
    fake = FakeEmbeddings(base64_vectors=True)
    vectors = run(embedder_for(fake, max_inputs_per_request=4).embed(texts(10)))
    assert vectors[:, 0].tolist() == [float(i) for i in range(10)]
    assert all(call.kwargs["encoding_format"] == "base64" for call in fake.calls)


@pytest.mark.parametrize("limit", [1, 3, 4])
def test_the_concurrency_bound_is_never_exceeded_and_is_reached(limit):
    fake = FakeEmbeddings(yields={f"text {k}": 5 for k in range(12)})
    run(embedder_for(fake, max_inputs_per_request=1, max_concurrency=limit).embed(texts(12)))
    assert fake.max_in_flight == limit


def test_an_empty_list_sends_nothing():
    fake = FakeEmbeddings()
    result = run(embedder_for(fake).embed_with_report([]))
    assert result.vectors.shape[0] == 0
    assert fake.calls == [] and result.report.requests == 0


# --------------------------------------------------------------------------- failures, retries


def test_only_the_failed_batches_are_retried():
    fake = FakeEmbeddings(script={"text 10": [500, "ok"], "text 25": [503, 500, "ok"]})
    result = run(embedder_for(fake, max_inputs_per_request=5).embed_with_report(texts(40)))
    attempts = Counter(call.inputs[0] for call in fake.calls)
    assert attempts == {f"text {5 * k}": 1 for k in range(8)} | {"text 10": 2, "text 25": 3}
    assert result.report.requests == 11 and result.report.retries == 3
    assert result.report.attempts_per_batch == (1, 1, 2, 1, 1, 3, 1, 1)
    assert result.vectors[:, 0].tolist() == [float(i) for i in range(40)]


def test_a_request_that_cannot_succeed_is_not_retried():
    fake = FakeEmbeddings(script={"text 5": [400]})
    with pytest.raises(BatchEmbeddingError) as raised:
        run(embedder_for(fake, max_inputs_per_request=5).embed(texts(15)))
    assert fake.attempts_of("text 5") == 1
    assert raised.value.failed_indices == list(range(5, 10))
    assert raised.value.failures[0].status == 400


def test_giving_up_lists_the_failed_indices_and_keeps_every_successful_vector():
    fake = FakeEmbeddings(script={"text 4": [500] * 10})
    embedder = embedder_for(fake, max_inputs_per_request=2, max_attempts=3)
    with pytest.raises(BatchEmbeddingError) as raised:
        run(embedder.embed(texts(8)))
    error = raised.value
    assert error.failed_indices == [4, 5]
    assert "inputs 4-5 (HTTP 500 after 3 attempts)" in str(error)
    assert fake.attempts_of("text 4") == 3
    assert error.vectors[4] is None and error.vectors[5] is None
    kept = [i for i, vector in enumerate(error.vectors) if vector is not None]
    assert kept == [0, 1, 2, 3, 6, 7]
    assert [error.vectors[i][0] for i in kept] == [0.0, 1.0, 2.0, 3.0, 6.0, 7.0]
    assert error.report.tokens == 12  # the fake bills 2 tokens per input: 6 inputs succeeded


def test_resume_embeds_only_the_missing_inputs_and_merges_in_order():
    fake = FakeEmbeddings(script={"text 4": [500, 500]})
    embedder = embedder_for(fake, max_inputs_per_request=2, max_attempts=2)
    inputs = texts(8)
    with pytest.raises(BatchEmbeddingError) as raised:
        run(embedder.embed(inputs))
    calls_before = len(fake.calls)
    resumed = run(embedder.resume(inputs, raised.value))
    assert [call.inputs for call in fake.calls[calls_before:]] == [["text 4", "text 5"]]
    assert resumed.vectors[:, 0].tolist() == [float(i) for i in range(8)]
    assert resumed.report.requests == 1


def test_resume_that_fails_again_reports_indices_of_the_original_list():
    fake = FakeEmbeddings(script={"text 2": [500] * 10, "text 6": [500, 500]})
    embedder = embedder_for(fake, max_inputs_per_request=2, max_attempts=2)
    inputs = texts(8)
    with pytest.raises(BatchEmbeddingError) as first:
        run(embedder.embed(inputs))
    assert first.value.failed_indices == [2, 3, 6, 7]
    with pytest.raises(BatchEmbeddingError) as second:
        run(embedder.resume(inputs, first.value))
    assert second.value.failed_indices == [2, 3]
    assert second.value.vectors[6][0] == 6.0 and second.value.vectors[7][0] == 7.0


def test_a_response_without_one_vector_per_input_fails_its_batch():
    fake = FakeEmbeddings(drop_one=True)
    with pytest.raises(BatchEmbeddingError, match="MalformedResponseError"):
        run(embedder_for(fake, max_inputs_per_request=3).embed(texts(3)))
    assert len(fake.calls) == 1


def test_retry_after_is_honoured_by_every_worker():
    clock = FakeClock()
    rate_limited = api_error(429, {"retry-after-ms": "1500"})
    fake = FakeEmbeddings(clock, script={"text 0": [rate_limited, "ok"]},
                          yields={"text 1": 10})
    embedder = embedder_for(fake, max_inputs_per_request=1, max_concurrency=2)
    result = run(embedder.embed_with_report(texts(6)))
    assert max(clock.sleeps) >= 1.5
    first_429 = next(i for i, call in enumerate(fake.calls) if call.inputs[0] == "text 0")
    # "text 1" was already in flight; every request sent after the 429 waited for the pause.
    later = [call for call in fake.calls[first_429 + 1:] if call.inputs[0] != "text 1"]
    assert later and all(call.at >= 1.5 for call in later)
    assert result.report.rate_limited == 1
    assert result.report.paused_s == pytest.approx(1.5)
    assert result.report.pauses == ((0.0, 1.5),)


def test_a_retry_after_over_the_cap_is_not_waited_for_the_embedder_backs_off():
    """A 429 asking for an hour: the SDK's rule, backoff instead (base 0.5 s for attempt 1)."""
    clock = FakeClock()
    fake = FakeEmbeddings(clock, script={"text 0": [api_error(429, {"retry-after": "3600"}),
                                                    "ok"]})
    result = run(embedder_for(fake, max_inputs_per_request=1).embed_with_report(texts(1)))
    assert result.report.rate_limited == 1
    assert 0.0 <= result.report.paused_s <= 0.5
    assert max(clock.sleeps, default=0.0) <= 0.5


def test_server_errors_back_off_with_full_jitter():
    clock = FakeClock()
    fake = FakeEmbeddings(clock, script={"text 0": [500, 500, 500, "ok"]})
    run(embedder_for(fake, max_inputs_per_request=1, max_concurrency=1).embed(texts(1)))
    assert len(clock.sleeps) == 3
    for attempt, waited in enumerate(clock.sleeps, start=1):
        assert 0 <= waited <= 0.5 * 2 ** (attempt - 1)


def test_the_progress_bar_counts_every_text_once():
    bar = FakeBar()
    fake = FakeEmbeddings(script={"text 6": [500, "ok"]})
    embedder = embedder_for(fake, max_inputs_per_request=4, progress=True, progress_factory=bar)
    run(embedder.embed(texts(10)))
    assert bar.total == 10 and bar.disable is False
    assert sorted(bar.updates) == [2, 4, 4] and bar.closed


def test_the_progress_bar_can_be_disabled():
    bar = FakeBar()
    run(embedder_for(FakeEmbeddings(), progress=False, progress_factory=bar).embed(texts(3)))
    assert bar.disable is True


def test_a_client_that_retries_by_itself_is_refused():
    client = openai.AsyncOpenAI(api_key="test", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="max_retries=0"):
        BatchEmbedder(client)
    BatchEmbedder(client.with_options(max_retries=0))


def test_report_counts_tokens_and_cost():
    fake = FakeEmbeddings()
    report = run(embedder_for(fake, max_inputs_per_request=4).embed_with_report(texts(10))).report
    assert (report.inputs, report.batches, report.requests, report.retries) == (10, 3, 3, 0)
    assert report.tokens == 20
    assert str(report.cost_usd) == "4E-7"  # 20 tokens at $0.02 per 1M


# --------------------------------------------------------------------------- retry helpers


def test_a_shared_pause_is_extended_not_shortened_and_overlaps_count_once():
    clock = FakeClock()
    pause = SharedPause(clock=clock, sleep=clock.sleep)
    pause.pause_for(2.0)
    clock.now = 1.0
    pause.pause_for(2.0)  # until 3
    pause.pause_for(0.5)  # would end at 1.5: no effect
    assert pause.remaining() == 2.0
    clock.now = 5.0
    pause.pause_for(1.0)
    assert pause.paused_s == 4.0
    assert pause.windows == [(0.0, 3.0), (5.0, 6.0)]
    assert run(pause.wait()) == 1.0 and clock.now == 6.0


def test_index_ranges_are_compact():
    assert index_ranges([9, 0, 1, 2, 7, 10]) == "0-2, 7, 9-10"
    assert index_ranges([]) == ""


# --------------------------------------------------------------------------- ideal times


def test_ideal_time_of_waits_alone_is_rounds_times_latency():
    waits = [0.06] * 11
    assert ideal_seconds(waits, concurrency=1) == pytest.approx(0.66)
    assert ideal_seconds(waits, concurrency=4) == pytest.approx(0.18)  # 3 rounds


def test_ideal_time_gives_each_wait_to_the_first_free_slot():
    # Slots free at 3 s and 1 s after the first two; the third wait (1 s) takes the second slot.
    assert ideal_seconds([3.0, 1.0, 1.0, 1.0], concurrency=2) == 3.0
    assert ideal_seconds([], concurrency=3) == 0.0
    with pytest.raises(ValueError, match="concurrency"):
        ideal_seconds([1.0], concurrency=0)
    with pytest.raises(ValueError, match="wait"):
        ideal_seconds([-1.0])


# --------------------------------------------------------------------------- the real sandbox


@pytest.fixture(scope="module")
def sb():
    with sandbox.start(time_scale=0, seed=11, retry_after_s=0.25) as handle:
        yield handle


def sandbox_client(handle: sandbox.SandboxHandle) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=handle.base_url, api_key="test", max_retries=0)


def test_on_the_sandbox_only_failed_batches_are_sent_again(sb):
    sb.faults.clear()
    sb.clear_requests()
    sb.faults.set_rates(MODEL, r500=0.3)
    # One input per batch, the k-th one k+1 words long: each batch has its own token count,
    # so the sandbox's records say which batch every request was.
    inputs = [" ".join(["refund"] * (k + 1)) for k in range(12)]
    embedder = BatchEmbedder(sandbox_client(sb), max_inputs_per_request=1, progress=False,
                             max_attempts=8, backoff=FullJitterBackoff(0.0, 0.0))
    result = asyncio.run(embedder.embed_with_report(inputs))
    sb.faults.clear()
    records = [r for r in sb.requests if r.endpoint == "embeddings"]
    seen = Counter(record.prompt_tokens for record in records)
    assert [seen[k + 1] for k in range(12)] == list(result.report.attempts_per_batch)
    assert sum(1 for r in records if r.status == 500) == result.report.retries > 0
    assert all(Counter(r.prompt_tokens for r in records if r.status == 200)[k + 1] == 1
               for k in range(12))
    from course_lib.embeddings import embed

    assert np.allclose(result.vectors, embed(inputs), atol=1e-5)


def test_on_the_sandbox_a_429_pause_lasts_the_retry_after_it_names(sb):
    sb.faults.clear()
    sb.time_scale = 1.0  # the sandbox scales Retry-After by its time scale
    try:
        sb.faults.script("429", count=1, model=MODEL)
        clock = FakeClock(now=time.monotonic())
        embedder = BatchEmbedder(sandbox_client(sb), max_inputs_per_request=1, progress=False,
                                 sleep=clock.sleep, clock=clock, max_concurrency=1)
        asyncio.run(embedder.embed(["How do I export my data?"]))
    finally:
        sb.time_scale = 0.0
    assert clock.sleeps and clock.sleeps[0] >= 0.25


# --------------------------------------------------------------------------- the lesson's port


class ListClient:
    """The Go ``EmbeddingClient`` interface, answering from memory and failing on command."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def embed_batch(self, batch: list[str]) -> list[list[float]]:
        self.calls.append(list(batch))
        if len(self.calls) == self.fail_on_call:
            raise api_error(500)
        return [[origin(text)] for text in batch]


def test_the_port_splits_by_count_only_and_sleeps_a_fixed_delay_between_batches():
    client, slept = ListClient(), []
    result = LessonBatchEmbedder(client, sleep=slept.append).embed_batch(texts(250))
    assert [len(call) for call in client.calls] == [100, 100, 50]
    assert slept == [0.05, 0.05]
    assert [vector[0] for vector in result] == [float(i) for i in range(250)]


def test_the_port_loses_everything_when_one_batch_fails():
    client = ListClient(fail_on_call=3)
    with pytest.raises(BatchFailedError, match=r"batch 3/5 failed") as raised:
        LessonBatchEmbedder(client, sleep=lambda s: None).embed_batch(texts(500))
    assert raised.value.batch_num == 3 and len(client.calls) == 3
    assert not hasattr(raised.value, "vectors")  # the 200 vectors already paid for are gone


def test_the_port_returns_none_for_no_input():
    assert LessonBatchEmbedder(ListClient()).embed_batch([]) is None


def test_the_port_sends_an_over_limit_batch_and_an_empty_string_to_the_api(sb):
    sb.faults.clear()
    with openai.OpenAI(base_url=sb.base_url, api_key="test", max_retries=0) as client:
        port = LessonBatchEmbedder(OpenAIEmbeddingClient(client, MODEL), sleep=lambda s: None)
        with pytest.raises(BatchFailedError) as empty:
            port.embed_batch(["How do I reset my password?", ""])
        assert isinstance(empty.value.__cause__, openai.BadRequestError)
        assert "input[1]" in str(empty.value)
        long_doc = "Kitewing " * 4000  # 8,000 tokens: 100 of them are 800,000 tokens
        with pytest.raises(BatchFailedError, match="maximum is 300000 tokens per request"):
            port.embed_batch([long_doc] * 100)


# --------------------------------------------------------------------------- predictions


def test_predict_seconds_follows_the_latency_model():
    profile = ModelProfile("m", "embedding", "m", ttft_base_s=0.06,
                           ttft_per_prompt_token_s=0.000_002, tokens_per_second=0.0,
                           jitter=0.0, context_window=8192)
    batches = plan_batches([1000, 500], max_inputs=1, max_tokens=300_000)
    # (60 ms + 2 ms) and (60 ms + 1 ms), halved by the time scale, one after the other.
    assert predict_seconds(batches, profile, time_scale=0.5) == pytest.approx(0.0615)
    # Two slots: both wait at once, the longer one ends last.
    assert predict_seconds(batches, profile, time_scale=0.5, concurrency=2) == pytest.approx(0.031)


def test_time_strategies_counts_requests_and_never_beats_its_own_waits():
    sentences = [f"support question number {n}?" for n in range(40)]
    strategies = {"one per request": (1, 1), "20 per request, 2 in flight": (20, 2)}
    with sandbox.start(time_scale=0, seed=3) as handle:
        timings = run(time_strategies(handle, MODEL, sentences, strategies, time_scale=0.02,
                                      repeats=3))
        sent = len(handle.requests)
    one, batched = timings
    assert [t.name for t in timings] == list(strategies)
    assert (one.requests, batched.requests) == (40, 2)
    # One warm-up request of all 40, the baseline once, the batched strategy three times.
    assert sent == 1 + 40 + 3 * 2
    profile = profile_for(MODEL)
    # 40 waits of about 60 ms at time scale 0.02 (the sandbox's jitter is within a few %).
    assert one.ideal_s == pytest.approx(40 * 0.06 * 0.02, rel=3 * profile.jitter)
    # One after the other, a run cannot end before the sum of its waits.
    assert one.measured_s >= one.ideal_s
    assert one.texts == batched.texts == 40 and batched.report.requests == 2
    assert handle.time_scale == 0.02
    with pytest.raises(ValueError, match="repeats"):
        run(time_strategies(handle, MODEL, sentences, strategies, time_scale=0.02, repeats=0))


# --------------------------------------------------------------------------- figures


def test_the_strategy_figure_draws_two_bars_per_strategy():
    timings = [StrategyTiming("one", 10.0, 6.0, requests=1000, texts=1000),
               StrategyTiming("batched", 2.0, 0.07, requests=10, texts=1000)]
    figure = strategy_times_figure(timings)
    try:
        assert len(figure.axes[0].patches) == 4
    finally:
        plt.close(figure)
    with pytest.raises(ValueError, match="positive number of seconds"):
        StrategyTiming("broken", 0.0, 1.0, requests=1, texts=1)


def test_the_timeline_draws_every_attempt_and_shades_pauses():
    clock = FakeClock()
    fake = FakeEmbeddings(clock, script={"text 0": [api_error(429, {"retry-after": "1"}), "ok"]})
    report = run(embedder_for(fake, max_inputs_per_request=2).embed_with_report(texts(6))).report
    figure = attempt_timeline_figure({"run": report})
    try:
        bars = [p for p in figure.axes[0].patches if abs(p.get_height() - 0.7) < 1e-9]
        assert len(bars) == len(report.timeline) == 4
        assert len(report.pauses) == 1
    finally:
        plt.close(figure)
