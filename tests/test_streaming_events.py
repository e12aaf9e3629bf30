"""The SSE wire format: encoding the course's events, parsing bodies split anywhere."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.streaming.events import (
    HEARTBEAT,
    DoneEvent,
    ErrorEvent,
    SSEMessage,
    SSEParser,
    TokenEvent,
    decode_event,
    encode_event,
)

BODY = (
    ": ping\n\n"
    'data: {"type":"token","content":"Hi"}\n\n'
    "event: custom\r\ndata: line one\r\ndata: line two\r\n\r\n"
    ": ping\r\r"
    'data: {"type":"done","usage":{"prompt_tokens":3},"finish_reason":"stop"}\n\n'
)
EXPECTED = [
    SSEMessage(comment="ping"),
    SSEMessage(data='{"type":"token","content":"Hi"}'),
    SSEMessage(data="line one\nline two", event="custom"),
    SSEMessage(comment="ping"),
    SSEMessage(data='{"type":"done","usage":{"prompt_tokens":3},"finish_reason":"stop"}'),
]


def parse_all(pieces: list[str]) -> list[SSEMessage]:
    parser = SSEParser()
    messages = [m for piece in pieces for m in parser.feed(piece)]
    return messages + list(parser.close())


def test_parser_reads_events_comments_and_all_three_line_endings() -> None:
    assert parse_all([BODY]) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(BODY)), max_size=12))
def test_parser_gives_the_same_messages_however_the_body_is_split(cuts: list[int]) -> None:
    """Network reads split a body anywhere, including between a CR and its LF."""
    points = [0, *sorted(cuts), len(BODY)]
    pieces = [BODY[a:b] for a, b in itertools.pairwise(points)]
    assert parse_all(pieces) == EXPECTED


def test_parser_drops_an_event_whose_blank_line_never_came() -> None:
    assert parse_all(['data: {"type":"token","content":"cut off"}\n']) == []


def test_heartbeat_is_a_comment() -> None:
    assert parse_all([HEARTBEAT.decode()]) == [SSEMessage(comment="ping")]


@pytest.mark.parametrize("event", [
    TokenEvent("two\nlines and 中文 and \"quotes\""),
    ErrorEvent("the model's stream broke off", "upstream_cut"),
    DoneEvent({"prompt_tokens": 31, "completion_tokens": 5, "estimated": False}, "stop"),
])
def test_events_round_trip_through_one_data_line(event) -> None:
    wire = encode_event(event)
    assert wire.startswith(b"data: ") and wire.endswith(b"\n\n")
    assert wire.count(b"\n") == 2  # a newline inside the payload must not split the event
    (message,) = parse_all([wire.decode()])
    assert decode_event(message.data) == event


def test_event_payloads_match_the_documented_shapes() -> None:
    assert json.loads(encode_event(TokenEvent("a"))[6:]) == {"type": "token", "content": "a"}
    assert json.loads(encode_event(ErrorEvent("m", "c"))[6:]) == {
        "type": "error", "message": "m", "code": "c"}
    assert json.loads(encode_event(DoneEvent({"x": 1}, "length"))[6:]) == {
        "type": "done", "usage": {"x": 1}, "finish_reason": "length"}


@pytest.mark.parametrize(("data", "problem"), [
    ("not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    ('{"type": "token"}', "'content'"),
    ('{"type": "error", "message": "m"}', "'code'"),
    ('{"type": "thinking", "content": "x"}', "unknown event type 'thinking'"),
])
def test_malformed_events_are_refused_with_the_problem_named(data: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_event(data)
