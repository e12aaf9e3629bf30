"""Property: no malformed request reaches a 5xx, on either server, and both keep answering.

Hypothesis starts from a valid chat, embeddings or relay request and breaks it at one place,
chosen among *every* node of the request (the body, each field, each message, each tool call,
each tool's schema ...): the value is replaced by a wrong type (null, booleans, 5,000-digit
integers, infinities, lone surrogates, deep nesting, arrays, objects), a field is removed, an
unknown one is added, or the serialised body is cut short. Each case goes over real HTTP on one
kept-alive connection; the answer must be below 500 and, when refused, an OpenAI-shaped JSON
error with no internals in it; and the server must still answer afterwards.

The number of cases tried is printed (run with ``-s`` to see it) and asserted.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_lib import sandbox
from course_lib.sandbox.support_tools import SUPPORT_TOOL_DEFINITIONS
from course_lib.streaming import start_stream_server
from course_lib.tracker import CostTracker

CASES_PER_ENDPOINT = 250
TRIED: dict[str, int] = {}

CALL = {"id": "call_abc", "type": "function",
        "function": {"name": "ticket_status", "arguments": '{"ticket_id": 10427}'}}
CHAT = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are Kitewing's support assistant."},
        {"role": "user", "content": [{"type": "text", "text": "Status of ticket 10427?"}],
         "name": "ana"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_abc", "content": '{"status": "open"}'},
    ],
    "tools": [copy.deepcopy(SUPPORT_TOOL_DEFINITIONS[1])],
    "tool_choice": {"type": "function", "function": {"name": "ticket_status"}},
    "parallel_tool_calls": True,
    "max_tokens": 20,
    "temperature": 0.5,
    "stream": True,
    "stream_options": {"include_usage": True},
    "stop": ["\n\n"],
    "sandbox": {"answer_tokens": 10},
}
EMBEDDINGS = {"model": "text-embedding-3-small", "input": ["reset my password", "slack"],
              "encoding_format": "float", "dimensions": 64}
TOKEN_EMBEDDINGS = {"model": "text-embedding-3-small", "input": [[1, 2, 3], [4, 5]]}
RELAY = {"message": "How do I reset my password?"}


def paths(value: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every node of a JSON value, the root included."""
    yield where
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*where, index))


def replaced(value: Any, where: tuple[Any, ...], new: Any) -> Any:
    if not where:
        return new
    value = copy.deepcopy(value)
    parent = value
    for step in where[:-1]:
        parent = parent[step]
    parent[where[-1]] = new
    return value


def removed(value: Any, where: tuple[Any, ...]) -> Any:
    value = copy.deepcopy(value)
    parent = value
    for step in where[:-1]:
        parent = parent[step]
    del parent[where[-1]]
    return value


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


LONE_SURROGATES = st.sampled_from(["\ud800", "ok \udfff", "\udc00\udc00", "a\ud83d"])
WRONG = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    # Integers too long for Python's int(): a placeholder, written out as digits in the body.
    st.integers(min_value=20, max_value=6000).map(lambda n: f"@@digits:{n}@@"),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), LONE_SURROGATES,
    # JSON inside a string (tool-call arguments, tool results), nested past any decoder.
    st.integers(min_value=1, max_value=20_000).map(lambda n: "[" * n + "]" * n),
    st.builds(nested, st.integers(min_value=1, max_value=800)),  # json.dumps stops near 1,000
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)),
                    max_size=3),
)


@st.composite
def broken(draw: st.DrawFn, template: dict[str, Any]) -> tuple[bytes, str | None]:
    """A body broken at one node of ``template``, and the Content-Type it is sent with."""
    where = draw(st.sampled_from(list(paths(template))))
    how = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add", "cut"]))
    if how == "remove" and where:
        body: Any = removed(template, where)
    elif how == "add":
        target = draw(st.sampled_from([p for p in paths(template)
                                       if isinstance(_at(template, p), dict)]))
        body = replaced(template, target, {**_at(template, target),
                                            draw(st.text(min_size=1, max_size=8)): draw(WRONG)})
    else:
        body = replaced(template, where, draw(WRONG))
    raw = json.dumps(body).encode()  # allow_nan: NaN and Infinity literals are sent too
    raw = re.sub(rb'"@@digits:(\d+)@@"', lambda m: b"9" * int(m.group(1)), raw)
    if how == "cut":
        raw = raw[: draw(st.integers(min_value=0, max_value=max(0, len(raw) - 1)))]
    content_type = draw(st.sampled_from(["application/json"] * 8 + [
        "application/json; charset=utf-8", "text/plain", None]))
    return raw, content_type


def _at(value: Any, where: tuple[Any, ...]) -> Any:
    for step in where:
        value = value[step]
    return value


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.SandboxHandle]:
    with sandbox.start(time_scale=0, seed=5) as handle:
        yield handle


@pytest.fixture(scope="module")
def relay(sb: sandbox.SandboxHandle):
    with start_stream_server(
        client=lambda: openai.AsyncOpenAI(base_url=sb.base_url, api_key="t", max_retries=0),
        tracker=CostTracker(), heartbeat_s=5.0,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=30) as client:  # one client: kept-alive connections are reused
        yield client


def check(http: httpx2.Client, url: str, raw: bytes, content_type: str | None,
          alive_url: str, name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1
    headers = {"content-type": content_type} if content_type else {}
    response = http.post(url, content=raw, headers=headers)
    assert response.status_code < 500, (raw[:300], response.text[:500])
    if content_type is None or content_type == "text/plain":
        assert response.status_code == 415
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert isinstance(error["message"], str) and error["message"]
        for internal in ("Traceback", "Error(", "Exception", "line "):
            assert internal not in error["message"] or "JSON body" in error["message"], error
    assert http.get(alive_url).status_code < 500  # and the server still answers


FUZZ = settings(max_examples=CASES_PER_ENDPOINT, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(case=broken(CHAT))
def test_chat_requests(sb, http, case) -> None:
    check(http, sb.base_url + "/chat/completions", *case, sb.base_url + "/models", "chat")


@FUZZ
@given(case=st.one_of(broken(EMBEDDINGS), broken(TOKEN_EMBEDDINGS)))
def test_embedding_requests(sb, http, case) -> None:
    check(http, sb.base_url + "/embeddings", *case, sb.base_url + "/models", "embeddings")


@FUZZ
@given(case=broken(RELAY))
def test_relay_requests(relay, http, case) -> None:
    check(http, relay.url + "/chat/stream", *case, relay.url + "/stream.css", "relay")


def test_every_endpoint_was_tried_in_full() -> None:
    if not TRIED:
        pytest.skip("counts the cases of the tests above; run the whole module")
    print(f"\nmalformed cases tried: {TRIED} ({sum(TRIED.values())} in all)")
    assert dict.fromkeys(("chat", "embeddings", "relay"), CASES_PER_ENDPOINT) == TRIED
