"""The sandbox through the official openai client, over real HTTP, with strict validation."""

from __future__ import annotations

import itertools
import json
import math
import socket
import subprocess
import sys
import time

import httpx2
import numpy as np
import openai
import pytest

from course_lib import sandbox, tokens
from course_lib.datasets import load_knowledge_base
from course_lib.sandbox.faults import FaultInjector

QUESTION = [{"role": "system", "content": "You are Kitewing's support assistant."},
            {"role": "user", "content": "How do I reset my password?"}]


@pytest.fixture(scope="module")
def sb():
    with sandbox.start(time_scale=0, seed=7) as handle:
        yield handle


@pytest.fixture()
def client(sb):
    sb.faults.clear()
    with openai.OpenAI(base_url=sb.base_url, api_key="test", max_retries=0,
                       _strict_response_validation=True) as c:
        yield c


@pytest.fixture()
def http(sb):
    with httpx2.Client(base_url=sb.url, timeout=10) as c:
        yield c


def wait_for(condition, timeout: float = 5.0) -> bool:
    """Poll until ``condition()`` holds: waiting for an event, not timing it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- chat completions ---------------------------------------------------------------------


def test_chat_completion_reports_exact_usage(client) -> None:
    response = client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    answer = response.choices[0].message.content
    assert answer and "password" in answer.lower()
    assert response.model == "gpt-4o-2024-08-06"  # the alias answers as its dated snapshot
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.prompt_tokens == tokens.count_chat_tokens(QUESTION, "gpt-4o")
    assert response.usage.completion_tokens == tokens.count_tokens(answer, "gpt-4o")
    assert response.usage.total_tokens == (response.usage.prompt_tokens
                                           + response.usage.completion_tokens)


def test_answers_are_deterministic_and_grounded_in_the_knowledge_base(client) -> None:
    kb = load_knowledge_base()
    first = client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    second = client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.choices[0].message.content in {e.answer_full for e in kb.entries}


def test_stronger_model_answers_more_completely(client) -> None:
    kb = load_knowledge_base()
    longer = 0
    sample = kb.entries[:12]
    for entry in sample:
        messages = [{"role": "user", "content": entry.question}]
        strong = client.chat.completions.create(model="gpt-4o", messages=messages)
        weak = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        assert strong.choices[0].message.content == entry.answer_full
        assert weak.choices[0].message.content == entry.answer_brief
        longer += strong.usage.completion_tokens > weak.usage.completion_tokens
    assert longer == len(sample)


def test_unmatched_question_says_it_is_a_simulator(client) -> None:
    response = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "zxqv wibble frobnicate"}])
    assert "simulated" in response.choices[0].message.content


def test_max_tokens_truncates_with_finish_reason_length(client) -> None:
    response = client.chat.completions.create(model="gpt-4o", messages=QUESTION, max_tokens=5)
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 5


def test_answer_tokens_option_gives_a_long_answer_of_exact_length(client) -> None:
    response = client.chat.completions.create(
        model="gpt-4o", messages=QUESTION, extra_body={"sandbox": {"answer_tokens": 300}})
    assert response.usage.completion_tokens == 300


def test_stream_with_usage_ends_with_usage_chunk(client) -> None:
    full = client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    stream = client.chat.completions.create(
        model="gpt-4o", messages=QUESTION, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == full.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == full.usage.completion_tokens
    assert chunks[-1].usage.prompt_tokens == full.usage.prompt_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage(client) -> None:
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION,
                                                 stream=True))
    assert all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)


def test_stream_wire_format_ends_with_done(http) -> None:
    response = http.post("/v1/chat/completions", json={
        "model": "gpt-4o-mini", "messages": QUESTION, "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block]
    assert all(block.startswith("data: ") for block in events)
    assert events[-1] == "data: [DONE]"
    for block in events[:-1]:
        assert json.loads(block.removeprefix("data: "))["object"] == "chat.completion.chunk"


def test_chinese_answer_streams_whole_characters(client) -> None:
    kb = load_knowledge_base()
    question = next(p for e in kb.entries for p in e.paraphrases if any(
        "\u4e00" <= ch <= "\u9fff" for ch in p))
    messages = [{"role": "user", "content": question}]
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=messages, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert "\ufffd" not in text
    assert text == client.chat.completions.create(
        model="gpt-4o", messages=messages).choices[0].message.content


def test_prefix_cache_reports_cached_tokens_like_the_provider(client) -> None:
    long_system = "Kitewing policy handbook. " + "Rule: be precise and kind. " * 300
    ask = [{"role": "system", "content": long_system}]
    first = client.chat.completions.create(
        model="gpt-4o", messages=[*ask, {"role": "user", "content": "How do I export data?"}])
    second = client.chat.completions.create(
        model="gpt-4o", messages=[*ask, {"role": "user", "content": "How do I add a member?"}])
    assert first.usage.prompt_tokens > 1024
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached >= 1024 and cached % 128 == 0
    assert cached <= second.usage.prompt_tokens
    short = client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert short.usage.prompt_tokens_details.cached_tokens == 0


# --- embeddings ---------------------------------------------------------------------------


def test_embeddings_base64_default_and_float_agree(sb, client, http) -> None:
    texts = ["How do I reset my password?", "What does the Team plan cost?"]
    # The client asks for base64 by default and decodes it after parsing; its strict mode
    # validates before decoding (and would reject OpenAI's own base64 answers too), so the
    # base64 path is checked with a default client and the float path strictly.
    with openai.OpenAI(base_url=sb.base_url, api_key="t", max_retries=0) as default_client:
        default = default_client.embeddings.create(model="text-embedding-3-small", input=texts)
    as_float = client.embeddings.create(model="text-embedding-3-small", input=texts,
                                        encoding_format="float")
    a = np.array([d.embedding for d in default.data])
    b = np.array([d.embedding for d in as_float.data])
    assert a.shape == (2, 384)
    assert np.allclose(a, b, atol=1e-6)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-4)
    assert default.usage.prompt_tokens == sum(
        tokens.count_tokens(t, "text-embedding-3-small") for t in texts)
    raw = http.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": texts[0],
                                            "encoding_format": "base64"}).json()
    assert isinstance(raw["data"][0]["embedding"], str)


def test_paraphrases_embed_closer_than_unrelated_questions(client) -> None:
    texts = ["How do I reset my password?", "I forgot my password, how can I change it?",
             "Which Slack channels can Kitewing post to?"]
    vectors = np.array([d.embedding for d in client.embeddings.create(
        model="text-embedding-3-small", input=texts, encoding_format="float").data])
    paraphrase = float(vectors[0] @ vectors[1])
    unrelated = float(vectors[0] @ vectors[2])
    assert paraphrase > unrelated + 0.3


def test_embedding_dimensions_shortens_and_renormalises(client) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input="hello",
                                      dimensions=64, encoding_format="float")
    vector = np.array(result.data[0].embedding)
    assert vector.shape == (64,)
    assert math.isclose(float(np.linalg.norm(vector)), 1.0, abs_tol=1e-4)


def test_embeddings_accept_token_arrays(client) -> None:
    ids = tokens.encoding_for("text-embedding-3-small").encode("reset my password")
    by_ids = client.embeddings.create(model="text-embedding-3-small", input=[ids],
                                      encoding_format="float")
    by_text = client.embeddings.create(model="text-embedding-3-small", input="reset my password",
                                       encoding_format="float")
    assert np.allclose(by_ids.data[0].embedding, by_text.data[0].embedding, atol=1e-6)


def test_models_endpoint_lists_what_the_sandbox_serves(client) -> None:
    models = {m.id: m for m in client.models.list()}
    assert {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"} <= set(models)
    assert all(m.owned_by == "course-sandbox" for m in models.values())
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"


def test_every_response_says_it_is_a_simulator(http) -> None:
    assert "simulator" in http.get("/v1/models").headers["x-simulator"]


# --- malformed requests: always 4xx JSON in OpenAI's error shape, never a crash -------------


BAD_REQUESTS = [
    ("/v1/chat/completions", b"{not json", 400, None),
    ("/v1/chat/completions", b"[1, 2]", 400, None),
    ("/v1/chat/completions", b"", 400, None),
    ("/v1/chat/completions", {"model": "gpt-4o"}, 400, "messages"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": []}, 400, "messages"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": "hi"}, 400, "messages"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "boss", "content": "x"}]},
     400, "messages[0].role"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user"}]}, 400,
     "messages[0].content"),
    ("/v1/chat/completions", {"messages": QUESTION}, 400, "model"),
    ("/v1/chat/completions", {"model": "gpt-9", "messages": QUESTION}, 404, "model"),
    ("/v1/chat/completions", {"model": "text-embedding-3-small", "messages": QUESTION}, 400,
     "model"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "max_tokens": 0}, 400,
     "max_tokens"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "max_tokens": "9"}, 400,
     "max_tokens"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "temperature": 5}, 400,
     "temperature"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "n": 2}, 400, "n"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION,
                              "stream_options": {"include_usage": True}}, 400, "stream_options"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "stream": "yes"}, 400,
     "stream"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "tools": [{"x": 1}]},
     400, "tools"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION,
                              "sandbox": {"answer_tokenz": 3}}, 400, "sandbox"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ""}, 400, "input[0]"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["ok", ""]}, 400, "input[1]"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": []}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small"}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": 42}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": [[-1, 5]]}, 400, "input[0]"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a"] * 2049}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x",
                        "encoding_format": "int8"}, 400, "encoding_format"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x", "dimensions": 1536},
     400, "dimensions"),
    ("/v1/embeddings", {"model": "gpt-4o", "input": "x"}, 400, "model"),
    ("/v1/embeddings", {"model": "nope", "input": "x"}, 404, "model"),
]


@pytest.mark.parametrize(("path", "body", "status", "param"), BAD_REQUESTS)
def test_malformed_requests_get_4xx_json(http, path, body, status, param) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = http.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"] and isinstance(error["type"], str)
    assert error["param"] == param
    # The server is still answering after every bad request.
    assert http.get("/v1/models").status_code == 200


def test_an_input_over_8192_tokens_is_named_by_index(http) -> None:
    response = http.post("/v1/embeddings", json={
        "model": "text-embedding-3-small", "input": ["short", "word " * 9000]})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input[1]"
    assert "8192" in response.json()["error"]["message"]


def test_oversized_body_is_413(http) -> None:
    huge = json.dumps({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "x" * (5 * 1024 * 1024)}]})
    response = http.post("/v1/chat/completions", content=huge)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_unknown_route_and_wrong_method_are_json(http) -> None:
    missing = http.get("/v1/nothing-here")
    assert missing.status_code == 404 and "Unknown URL" in missing.json()["error"]["message"]
    wrong = http.get("/v1/chat/completions")
    assert wrong.status_code == 405 and "not allowed" in wrong.json()["error"]["message"]


def test_openai_client_raises_typed_errors(client) -> None:
    with pytest.raises(openai.NotFoundError, match="gpt-9"):
        client.chat.completions.create(model="gpt-9", messages=QUESTION)
    with pytest.raises(openai.BadRequestError, match="empty string"):
        client.embeddings.create(model="text-embedding-3-small", input=[""])


# --- faults -------------------------------------------------------------------------------


def test_scripted_429_then_client_retries_honouring_retry_after() -> None:
    with sandbox.start(time_scale=1.0, retry_after_s=0.2) as sb:
        sb.faults.script("429", count=2, model="gpt-4o-mini")
        with openai.OpenAI(base_url=sb.base_url, api_key="t", max_retries=2,
                           _strict_response_validation=True) as c:
            raw = c.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                              messages=QUESTION)
        assert raw.parse().choices[0].message.content
        attempts = [r for r in sb.requests if r.model == "gpt-4o-mini"]
        assert [r.status for r in attempts] == [429, 429, 200]
        # The client waited at least Retry-After (0.2 s) before each retry.
        gaps = [b.started_at - a.started_at for a, b in itertools.pairwise(attempts)]
        assert all(gap >= 0.2 * 0.95 for gap in gaps), gaps
        sb.faults.script("429", model="gpt-4o-mini")
        with (openai.OpenAI(base_url=sb.base_url, api_key="t", max_retries=0) as c,
              pytest.raises(openai.RateLimitError) as info):
            c.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
        assert float(info.value.response.headers["retry-after"]) == pytest.approx(0.2)
        assert info.value.response.headers["retry-after-ms"] == "200"


@pytest.mark.parametrize(("kind", "error"), [
    ("500", openai.InternalServerError), ("503", openai.InternalServerError),
])
def test_server_errors(client, sb, kind, error) -> None:
    sb.faults.script(kind)
    with pytest.raises(error) as info:
        client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert info.value.status_code == int(kind)
    assert client.chat.completions.create(model="gpt-4o", messages=QUESTION).choices


def test_per_request_fault_header(client) -> None:
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=QUESTION,
                                       extra_headers={"X-Sandbox-Fault": "429"})
    with pytest.raises(openai.BadRequestError, match="X-Sandbox-Fault"):
        client.chat.completions.create(model="gpt-4o", messages=QUESTION,
                                       extra_headers={"X-Sandbox-Fault": "explode"})


def test_hang_times_out_the_client(sb) -> None:
    sb.faults.script("hang", model="gpt-4o")
    with (openai.OpenAI(base_url=sb.base_url, api_key="t", max_retries=0, timeout=0.3) as c,
          pytest.raises(openai.APITimeoutError)):
        c.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert wait_for(lambda: sb.requests[-1].cancelled)


def test_stream_cut_mid_answer_raises_in_the_client(client, sb) -> None:
    sb.faults.script("cut", model="gpt-4o")
    received: list[str] = []
    with pytest.raises((openai.APIError, httpx2.HTTPError)):
        for chunk in client.chat.completions.create(model="gpt-4o", messages=QUESTION,
                                                    stream=True):
            received.append(chunk.choices[0].delta.content or "")
    # Some of the answer arrived, and then it stopped: no finish_reason, no [DONE].
    assert 0 < len([r for r in received if r]) <= 5


def test_fault_rates_are_seeded_and_reproducible() -> None:
    def sequence(seed: int) -> list[str | None]:
        injector = FaultInjector(seed=seed)
        injector.set_rates("gpt-4o", r503=0.3, r429=0.1)
        decisions = [injector.decide("gpt-4o") for _ in range(400)]
        assert injector.decide("gpt-4o-mini") is None  # other models are untouched
        return [d.kind if d else None for d in decisions]

    first, again, other = sequence(1), sequence(1), sequence(2)
    assert first == again and first != other
    assert 0.24 < first.count("503") / 400 < 0.36
    assert 0.06 < first.count("429") / 400 < 0.14


def test_fault_configuration_errors() -> None:
    injector = FaultInjector()
    with pytest.raises(ValueError, match="r418"):
        injector.set_rates(r418=0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        injector.set_rates(r500=1.5)
    with pytest.raises(ValueError, match="more than 1"):
        injector.set_rates(r500=0.6, r503=0.6)
    with pytest.raises(ValueError, match="count"):
        injector.script("500", count=0)


# --- latency, disconnects, binding --------------------------------------------------------


def test_latency_model_ttft_grows_with_prompt_and_cache_discounts_it() -> None:
    import random

    profile = sandbox.MODEL_PROFILES["gpt-4o"]
    short = profile.time_to_first_token(100, 0, random.Random(1))
    long = profile.time_to_first_token(20_000, 0, random.Random(1))
    cached = profile.time_to_first_token(20_000, 18_000, random.Random(1))
    assert long > 3 * short
    assert short < cached < long
    mini = sandbox.MODEL_PROFILES["gpt-4o-mini"]
    assert mini.tokens_per_second > profile.tokens_per_second


def test_time_scale_scales_measured_latency() -> None:
    def timed(scale: float) -> float:
        with sandbox.start(time_scale=scale) as sb, openai.OpenAI(
                base_url=sb.base_url, api_key="t", max_retries=0) as c:
            c.models.list()  # connect first
            start = time.perf_counter()
            c.chat.completions.create(model="gpt-4o", messages=QUESTION,
                                      extra_body={"sandbox": {"answer_tokens": 40}})
            return time.perf_counter() - start

    slow, fast = timed(0.5), timed(0.05)
    # gpt-4o: ~0.4 s TTFT + 40 tokens at 80/s = ~0.9 s of model time; scales 10x apart.
    assert slow / fast > 4


def test_disconnect_stops_generation(sb) -> None:
    sb.time_scale = 1.0
    try:
        with openai.OpenAI(base_url=sb.base_url, api_key="t", max_retries=0) as c:
            stream = c.chat.completions.create(
                model="gpt-4o-mini", messages=QUESTION, stream=True,
                extra_body={"sandbox": {"answer_tokens": 400}})
            for index, _ in enumerate(stream):
                if index == 5:
                    break
            stream.close()
        record = sb.requests[-1]
        assert wait_for(lambda: record.cancelled)
        generated = record.completion_tokens
        time.sleep(0.3)  # had it kept generating, ~40 more tokens would appear in this time
        assert record.completion_tokens == generated < 50
        assert record.planned_completion_tokens == 400
    finally:
        sb.time_scale = 0


def test_binds_loopback_only(sb) -> None:
    assert sb.base_url.startswith("http://127.0.0.1:")
    assert sb._server.socket.getsockname()[0] == "127.0.0.1"


def test_bad_time_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        sandbox.start(time_scale=-1)


def test_standalone_module_serves_on_the_given_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_lib.sandbox", "--port", str(port), "--time-scale", "0"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert f"127.0.0.1:{port}/v1" in proc.stdout.readline()
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="t") as c:
            assert c.chat.completions.create(model="gpt-4o-mini",
                                             messages=QUESTION).choices[0].message.content
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_embedding_memo_embeds_each_distinct_text_once(client, sb, monkeypatch) -> None:
    from course_lib import embeddings

    calls: list[list[str]] = []
    real = embeddings.embed

    def counting_embed(texts):
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(embeddings, "embed", counting_embed)
    texts = ["memo test: first", "memo test: second", "memo test: first"]
    first = client.embeddings.create(model="text-embedding-3-small", input=texts,
                                     encoding_format="float")
    again = client.embeddings.create(model="text-embedding-3-small", input=texts[:2],
                                     encoding_format="float")
    assert calls == [["memo test: first", "memo test: second"]]
    assert first.data[0].embedding == first.data[2].embedding == again.data[0].embedding
    assert first.usage.prompt_tokens == sum(
        tokens.count_tokens(t, "text-embedding-3-small") for t in texts)


def test_each_model_has_its_own_context_window(client) -> None:
    long = [{"role": "system", "content": "Audit log: a member changed a setting. " * 17_000},
            {"role": "user", "content": "How do I export data?"}]
    assert tokens.count_chat_tokens(long, "gpt-4o") > 128_000
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=long)
    assert info.value.code == "context_length_exceeded"
    response = client.chat.completions.create(model="gpt-4.1", messages=long)
    assert response.model == "gpt-4.1-2025-04-14"
    assert response.usage.prompt_tokens == tokens.count_chat_tokens(long, "gpt-4.1")
