"""Checks for ``exercises/ex04_streaming`` (the lesson's task 4, 流式响应): the client side.

q1 feeds the learner's SSE parser hand-written bodies cut at awkward places (mid-line, between
the two newlines that end an event, ``\\r\\n`` line ends, comments, several ``data:`` lines)
and compares the events returned by *each* ``feed`` call with the hand-decoded payloads; when
the parser hands ``json.loads`` something that is not one JSON value, the check says what it
was given (a comment, a ``data:`` prefix, half a line, two events run together).
q2 gives the learner's summariser timed chunks and compares the text, the time to first token
and the ending (``done`` / ``error`` / ``truncated``) with values worked out by hand. Nothing here
runs :mod:`course_lib.streaming`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from course_lib.checks.expect import call_learner, expect, short_repr
from course_lib.checks.hints import mistake_hint
from course_lib.checks.registry import register
from course_lib.checks.result import CheckFailure

__all__ = ["check_sse_parser", "check_summarise_stream"]


def _data(payload: dict[str, Any]) -> str:
    return "data: " + json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


TOKEN_HI = {"type": "token", "content": "Hi"}
TOKEN_TO_RESET = {"type": "token", "content": "To reset"}
TOKEN_PASSWORD = {"type": "token", "content": " your password,"}
TOKEN_CLICK = {"type": "token", "content": " click Forgot password?"}
TOKEN_CHINESE = {"type": "token", "content": "点击忘记密码"}
USAGE = {"prompt_tokens": 31, "completion_tokens": 3, "total_tokens": 34}
DONE = {"type": "done", "usage": USAGE, "finish_reason": "stop"}
CUT = {"type": "error", "message": "the model's stream broke off", "code": "upstream_cut"}

# (what it shows, pieces fed one by one, events expected from each feed call, the mistake's key)
PARSER_CASES: tuple[tuple[str, list[str], list[list[dict]], str], ...] = (
    ("one event in one piece", [_data(TOKEN_HI) + "\n\n"], [[TOKEN_HI]], "blank_line"),
    ("two events in one piece, the last one too",
     [_data(TOKEN_TO_RESET) + "\n\n" + _data(DONE) + "\n\n"], [[TOKEN_TO_RESET, DONE]],
     "last_event"),
    ("a heartbeat comment, then an event", [": ping\n\n" + _data(TOKEN_HI) + "\n\n"],
     [[TOKEN_HI]], "comment"),
    ("an event cut mid-line across three reads",
     ["da", 'ta: {"type":"tok', 'en","content":"Hi"}\n', "\n"], [[], [], [], [TOKEN_HI]],
     "keep_partial"),
    ("the blank line arrives in the next read", [_data(TOKEN_HI) + "\n", "\n" + _data(DONE),
                                                 "\n\n"],
     [[], [TOKEN_HI], [DONE]], "blank_line"),
    ("Windows line ends (\\r\\n)", [_data(TOKEN_CHINESE) + "\r\n\r\n"], [[TOKEN_CHINESE]],
     "crlf"),
    ("one event on two data: lines", ['data: {"type":"token",\ndata: "content":"Hi"}\n\n'],
     [[TOKEN_HI]], "multi_data"),
    ("an event whose blank line never came (the stream stopped)", [_data(CUT) + "\n"], [[]],
     "incomplete"),
)


def _json_mistake(doc: str) -> str:
    """Which mistake put ``doc`` into ``json.loads``: the key of its hint."""
    text = doc.strip()
    if not text:
        return "json_empty"
    if text.startswith(":") or "\n:" in text:
        return "json_comment"
    if text.startswith("data") or "\ndata" in text:
        return "json_prefix"
    decoder = json.JSONDecoder()
    try:
        _, end = decoder.raw_decode(text)
    except json.JSONDecodeError:
        return "json_partial" if text.startswith(("{", "[", '"')) else "json_other"
    return "json_two_events" if text[end:].strip() else "json_other"


def _feed(parser: Any, piece: str, call: str) -> object:
    try:
        return call_learner(parser.feed, piece, call=call)
    except CheckFailure as failure:
        error = failure.__cause__
        if not isinstance(error, json.JSONDecodeError):
            raise
        raise CheckFailure(
            "your parser gave json.loads something that is not one JSON value", call=call,
            expected="json.loads gets the data of one complete event",
            got=f"json.loads({short_repr(error.doc, 120)}) raised JSONDecodeError: {error.msg}",
            hint=mistake_hint("ex04.q1", _json_mistake(error.doc)),
        ) from error


def _parser_story(pieces: Sequence[str]) -> str:
    return "parser = SSEParser()\n" + "\n".join(f"parser.feed({piece!r})" for piece in pieces)


@register("ex04.q1", "an SSE parser that survives any split")
def check_sse_parser(parser_class: type) -> str:
    """Events (decoded JSON) come out of the feed() call that completes them, in order."""
    for story, pieces, expected, mistake in PARSER_CASES:
        call = f"# {story}\n{_parser_story(pieces)}"
        parser = call_learner(parser_class, call="SSEParser()")
        got = []
        for piece in pieces:
            events = _feed(parser, piece, call)
            expect(isinstance(events, list), "feed() should return a list of events",
                   call=call, expected="a list (empty if no event completed)",
                   got=short_repr(events))
            got.append(events)
        if got != expected and [e for batch in got for e in batch] == [
                e for batch in expected for e in batch]:
            mistake = "wrong_feed"
        expect(got == expected, f"wrong events for {story}", call=call,
               expected="\n".join(f"feed #{i + 1} -> {short_repr(batch, 200)}"
                                  for i, batch in enumerate(expected)),
               got="\n".join(f"feed #{i + 1} -> {short_repr(batch, 200)}"
                             for i, batch in enumerate(got)),
               hint=mistake_hint("ex04.q1", mistake))
    return f"{len(PARSER_CASES)} bodies, split and joined every awkward way, parsed right"


# -- q2: what the user saw ----------------------------------------------------------------------


def _summary_case(
    story: str, chunks: list[tuple[float, str]], text: str, ttft: float | None, ended: str,
    error: str | None, usage: dict | None, mistake: str,
) -> tuple[str, list[tuple[float, str]], dict[str, Any], str]:
    return story, chunks, {"text": text, "ttft_s": ttft, "ended": ended, "error": error,
                           "usage": usage}, mistake


SUMMARY_CASES = (
    _summary_case(
        "a complete answer after two heartbeats",
        [(0.05, ": ping\n\n"), (0.10, ": ping\n\n"), (0.31, _data(TOKEN_TO_RESET) + "\n\n"),
         (0.35, _data(TOKEN_PASSWORD) + "\n\n" + _data(TOKEN_CLICK) + "\n\n"),
         (0.40, _data(DONE) + "\n\n")],
        "To reset your password, click Forgot password?", 0.31, "done", None, USAGE,
        "heartbeat_ttft"),
    _summary_case(
        "the model breaks off after two tokens",
        [(0.20, _data(TOKEN_TO_RESET) + "\n\n"), (0.26, _data(TOKEN_PASSWORD) + "\n\n"),
         (0.30, _data(CUT) + "\n\n")],
        "To reset your password,", 0.20, "error", "the model's stream broke off", None,
        "error_event"),
    _summary_case(
        "the connection drops mid-event, with neither done nor error",
        [(0.20, _data(TOKEN_TO_RESET) + "\n\n"), (0.26, 'data: {"type":"token","con')],
        "To reset", 0.20, "truncated", None, None, "truncated"),
    _summary_case(
        "the first token's blank line comes in a later read",
        [(0.12, ": ping\n\n" + _data(TOKEN_HI) + "\n"), (0.18, "\n"),
         (0.25, _data(DONE) + "\n\n")],
        "Hi", 0.18, "done", None, USAGE, "ttft_blank_line"),
    _summary_case(
        "only heartbeats, then the connection drops", [(1.0, ": ping\n\n"), (2.0, ": ping\n\n")],
        "", None, "truncated", None, None, "no_tokens"),
)


@register("ex04.q2", "what the user saw: text, time to first token, how it ended")
def check_summarise_stream(summarise_stream: Callable[[list], dict]) -> str:
    """Text, ttft_s, ended (done/error/truncated), error message and usage, per hand-made stream."""
    for story, chunks, expected, mistake in SUMMARY_CASES:
        shown = "\n".join(f"  ({at}, {text!r})," for at, text in chunks)
        call = f"# {story}\nsummarise_stream([\n{shown}\n])"
        got = call_learner(summarise_stream, list(chunks), call=call)
        expect(isinstance(got, dict), "summarise_stream should return a dict", call=call,
               expected=short_repr(expected, 300), got=short_repr(got))
        wrong = [key for key in expected if got.get(key) != expected[key]]
        if not wrong:
            continue
        hint = mistake_hint("ex04.q2", mistake)
        if "ended" in wrong and expected["ended"] == "truncated" and got.get("ended") == "done":
            hint = f"{mistake_hint('ex04.q2', 'end_is_not_done')} {hint}"
        expect(False, f"wrong {', '.join(wrong)} for {story}", call=call,
               expected="\n".join(f"{key}: {expected[key]!r}" for key in wrong),
               got="\n".join(f"{key}: {short_repr(got.get(key), 120)}" for key in wrong),
               hint=hint)
    return f"{len(SUMMARY_CASES)} streams: text, time to first token and ending all right"
