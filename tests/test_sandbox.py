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

pytestmark = pytest.mark.timing

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
     400, "tools[0].type"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION,
                              "sandbox": {"answer_tokenz": 3}}, 400, "sandbox.answer_tokenz"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "max_tokenz": 3}, 400,
     "max_tokenz"),
    # The causes of the 500s the reliability probe found, each now a 400 naming the field.
    ("/v1/chat/completions", b"[" * 10_000 + b"]" * 10_000, 400, None),
    ("/v1/chat/completions", b'{"model": "gpt-4o", "messages": [{"role": "user", "content": '
     b'"hi"}], "max_tokens": ' + b"9" * 5000 + b"}", 400, "max_tokens"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": ["user"],
                                                              "content": "x"}]},
     400, "messages[0].role"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": {"a": 1},
                                                              "content": "x"}]},
     400, "messages[0].role"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "tools": [1]}, 400,
     "tools[0]"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "tools": [
        {"type": "function", "function": {"name": "f", "parameters": {
            "type": "object", "properties": []}}}]}, 400, "tools[0].function.parameters"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "tools": [
        {"type": "function", "function": {"name": "f", "description": 5}}]}, 400,
     "tools[0].function.description"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION, "tools": [
        {"type": "function", "function": {"name": "f", "parameters": "none"}}]}, 400,
     "tools[0].function.parameters"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_1", "type": "function", "function": "f"}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "r"}]}, 400,
     "messages[1].tool_calls[0].function"),
    ("/v1/chat/completions", b'{"model": "\\ud800", "messages": [{"role": "user", '
     b'"content": "x"}]}', 400, "model"),
    ("/v1/chat/completions", b'{"model": "gpt-4o", "messages": [{"role": "user", '
     b'"content": "x \\udfff"}]}', 400, "messages[0].content"),
    ("/v1/chat/completions", b'{"model": "gpt-4o", "messages": [{"role": "user", '
     b'"content": "x"}], "temperature": NaN}', 400, None),
    ("/v1/embeddings", b'{"model": "text-embedding-3-small", "input": ["ok", "\\ud800"]}',
     400, "input[1]"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ""}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": ["ok", ""]}, 400, "input[1]"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": []}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small"}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": 42}, 400, "input"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": [[-1, 5]]}, 400,
     "input[0][0]"),
    ("/v1/embeddings", {"model": "text-embedding-3-small", "input": [[5, 10**9]]}, 400,
     "input[0]"),
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


def test_oversized_body_is_413_and_closes_the_connection(http) -> None:
    huge = json.dumps({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "x" * (5 * 1024 * 1024)}]})
    response = http.post("/v1/chat/completions", content=huge,
                         headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert response.headers["connection"] == "close"  # the rest of the body was never read


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
def test_json_routes_require_a_json_content_type(http, content_type) -> None:
    headers = {"content-type": content_type} if content_type else {}
    for path, body in (("/v1/chat/completions", {"model": "gpt-4o", "messages": QUESTION}),
                       ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x"})):
        response = http.post(path, content=json.dumps(body).encode(), headers=headers)
        assert response.status_code == 415
        shown = content_type or "none"
        assert response.json()["error"]["message"] == (
            f"Unsupported content type: '{shown}'. This API method only accepts "
            f"'application/json' requests, but you specified the header 'Content-Type: "
            f"{shown}'. Please try again with a supported content type.")


@pytest.mark.parametrize(("body", "param", "code", "message"), [
    ({"model": "gpt-4o"}, "messages", "missing_required_parameter",
     "Missing required parameter: 'messages'."),
    ({"model": "gpt-4o", "messages": []}, "messages", "empty_array",
     "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
     "empty array instead."),
    ({"model": "gpt-4o", "messages": [{"role": "boss", "content": "x"}]}, "messages[0].role",
     "invalid_value", "Invalid value: 'boss'. Supported values are: 'system', 'assistant', "
     "'user', 'function', 'tool', and 'developer'."),
    ({"model": "gpt-4o", "messages": QUESTION, "max_tokens": "9"}, "max_tokens", "invalid_type",
     "Invalid type for 'max_tokens': expected an integer, but got a string instead."),
    ({"model": "gpt-4o", "messages": QUESTION, "max_tokens": 0}, "max_tokens",
     "integer_below_min_value", "Invalid 'max_tokens': integer below minimum value. Expected a "
     "value >= 1, but got 0 instead."),
    ({"model": "gpt-4o", "messages": QUESTION, "temperature": 5}, "temperature",
     "decimal_above_max_value", "Invalid 'temperature': decimal above maximum value. Expected a "
     "value <= 2, but got 5 instead."),
    ({"model": "gpt-4o", "messages": QUESTION, "bogus": 1}, "bogus", "unknown_parameter",
     "Unrecognized request argument supplied: bogus"),
    ({"model": "gpt-9", "messages": QUESTION}, "model", "model_not_found",
     "The model `gpt-9` does not exist or you do not have access to it."),
])
def test_errors_use_openais_wording(http, body, param, code, message) -> None:
    response = http.post("/v1/chat/completions", json=body)
    error = response.json()["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"].startswith(message)


def test_internal_errors_show_no_internals_and_close_the_connection(sb, http, monkeypatch,
                                                                     caplog) -> None:
    from course_lib.sandbox import chat

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(chat, "decide_tool_calls", broken)
    response = http.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": QUESTION})
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert response.json()["error"] == {
        "message": "The server had an error while processing your request.",
        "type": "server_error", "param": None, "code": "internal_error"}
    assert "secret internal detail" in caplog.text  # in the server's log, not the answer
    monkeypatch.undo()
    assert http.get("/v1/models").status_code == 200  # a new connection, and it answers


def test_simulated_5xx_faults_close_their_connection(sb, http) -> None:
    for kind in ("500", "503"):
        sb.faults.script(kind)
        response = http.post("/v1/chat/completions", json={"model": "gpt-4o",
                                                           "messages": QUESTION})
        assert response.status_code == int(kind)
        assert response.headers["connection"] == "close"
        assert http.get("/v1/models").status_code == 200


@pytest.mark.parametrize(("query", "param", "says"), [
    ("last=abc", "last", "expected an integer, but got a string"),
    ("last=1e3", "last", "expected an integer"),
    ("last=-5", "last", "integer below minimum value"),
    ("last=" + "9" * 5000, "last", "Invalid 'last'"),
])
def test_stats_query_is_checked(http, query, param, says) -> None:
    response = http.get(f"/sandbox/stats?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert says in response.json()["error"]["message"]


def test_stats_returns_the_last_records(client, http) -> None:
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert len(http.get("/sandbox/stats?last=2").json()["records"]) == 2
    assert http.get("/sandbox/stats?last=0").json()["records"] == []


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
    with pytest.raises(ValueError, match="after"):
        injector.script("500", after=-1)


def test_a_scripted_fault_can_wait_for_requests_to_pass_first() -> None:
    injector = FaultInjector()
    injector.script("500", count=2, model="m", after=2)
    kinds = [getattr(injector.decide("m"), "kind", None) for _ in range(5)]
    assert kinds == [None, None, "500", "500", None]


def test_fault_rates_are_limited_across_calls_not_only_within_one() -> None:
    """Two calls of r503=0.6 would fail 120% of requests: the second is refused, the first kept."""
    injector = FaultInjector()
    injector.set_rates("gpt-4o", r503=0.6)
    with pytest.raises(ValueError, match=r"for 'gpt-4o' would add up to 1.2, more than 1"):
        injector.set_rates("gpt-4o", r503=0.6)
    with pytest.raises(ValueError, match=r"for 'gpt-4o' would add up to 1.1"):
        injector.set_rates(None, r500=0.5)  # every model, gpt-4o included
    injector.set_rates("gpt-4o-mini", r503=0.6)  # another model's share is its own
    injector.set_rates(None, r500=0.4)  # 1.0 for both: allowed
    decisions = [injector.decide("gpt-4o") for _ in range(300)]
    assert all(decision is not None for decision in decisions)  # the first rule still stands
    injector.clear()
    injector.set_rates("gpt-4o", r503=0.6)  # clear() starts the totals over


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


# --- bounded memory -----------------------------------------------------------------------


def test_prefix_cache_is_bounded_by_total_tokens_not_by_prompts() -> None:
    from course_lib.sandbox.caches import PrefixCache

    cache = PrefixCache(max_tokens=10_000, clock=lambda: 0.0)
    shared = list(range(3000))
    assert cache.lookup_and_store("gpt-4o", [*shared, 1]) == 0
    # The same 3,000-token start: served from cache in steps of 128.
    assert cache.lookup_and_store("gpt-4o", [*shared, 2]) == 3000 // 128 * 128
    assert cache.lookup_and_store("gpt-4o-mini", [*shared, 3]) == 0  # per model
    for other in range(10):
        cache.lookup_and_store("gpt-4o", [50_000 + other] * 2500)
        assert cache.tokens <= 10_000
    assert cache.lookup_and_store("gpt-4o", [*shared, 4]) == 0  # evicted, oldest first
    # A prompt longer than the whole budget is kept by its start, within the budget.
    cache.lookup_and_store("gpt-4.1", list(range(25_000)))
    assert cache.tokens <= 10_000
    assert cache.lookup_and_store("gpt-4.1", list(range(25_000))) == 9984


def test_prefix_cache_forgets_prompts_after_its_ttl() -> None:
    from course_lib.sandbox.caches import PrefixCache

    now = [0.0]
    cache = PrefixCache(ttl_s=300, clock=lambda: now[0])
    prompt = list(range(2000))
    cache.lookup_and_store("gpt-4o", prompt)
    now[0] = 299.0
    assert cache.lookup_and_store("gpt-4o", prompt) == 1920
    now[0] = 700.0
    assert cache.lookup_and_store("gpt-4o", prompt) == 0
    assert cache.tokens == 2000  # the expired ones are gone, the new one is kept


def test_embedding_memo_is_bounded_in_bytes_and_keeps_no_texts() -> None:
    from course_lib.sandbox.caches import EmbeddingMemo

    calls: list[list[str]] = []

    def embed(texts):
        calls.append(list(texts))
        return np.ones((len(texts), 384), dtype=np.float32)

    memo = EmbeddingMemo(max_bytes=100 * (384 * 4 + 32))
    texts = [f"text number {i} " * 200 for i in range(250)]
    memo.embed(texts, embed)
    assert len(memo) == 100 and memo.bytes <= 100 * (384 * 4 + 32)
    assert not any(isinstance(key, str) for key in memo._vectors)  # digests, not the texts
    calls.clear()
    memo.embed(texts[-100:], embed)  # the most recent ones are still there
    assert calls == []
    memo.embed(texts[:1], embed)
    assert calls == [texts[:1]]


def test_sandboxes_given_one_memo_embed_a_text_once_between_them(monkeypatch) -> None:
    from course_lib import embeddings
    from course_lib.sandbox.caches import EmbeddingMemo

    calls: list[list[str]] = []
    real = embeddings.embed
    monkeypatch.setattr(embeddings, "embed", lambda texts: calls.append(list(texts)) or real(texts))
    memo = EmbeddingMemo()
    vectors = []
    for _ in range(2):
        with sandbox.start(time_scale=0, embedding_memo=memo) as handle, openai.OpenAI(
                base_url=handle.base_url, api_key="test", max_retries=0) as client:
            vectors.append(client.embeddings.create(
                model="text-embedding-3-small", input=["shared memo test"],
                encoding_format="float").data[0].embedding)
    assert calls == [["shared memo test"]] and vectors[0] == vectors[1] and len(memo) == 1
