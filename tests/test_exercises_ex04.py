"""Exercise 4's checks: the solution passes; the usual SSE client mistakes fail with a hint.

Wrong answers: a parser that trusts each read to hold whole lines, one that emits an event only
when the next one starts (so the last event is lost), a summary that calls every ended body
"done", one that times the first heartbeat instead of the first token, and one that never looks
at error events. Parsers that hand ``json.loads`` the wrong text (a comment line, the ``data:``
prefix, nothing at all after a heartbeat, half a line) raise ``JSONDecodeError``; the check says
what the text was and which of these mistakes it shows.
"""

from __future__ import annotations

import json

import pytest

from course_lib.checks import Status, run_check
from course_lib.checks.ex04_streaming import _json_mistake
from course_lib.checks.hints import mistake_hint
from tests.test_exercises_support import assert_fails, load_solution

SOLUTION = load_solution("ex04_streaming")
SolutionParser = SOLUTION["SSEParser"]


@pytest.mark.parametrize(("check_id", "name"),
                         [("ex04.q1", "SSEParser"), ("ex04.q2", "summarise_stream")])
def test_the_solution_passes(check_id: str, name: str) -> None:
    result = run_check(check_id, SOLUTION[name])
    assert result.status is Status.PASSED, result.text()


# -- q1 -----------------------------------------------------------------------------------------


class ParserTrustingEachRead:
    """Splits each piece on its own: a line cut between two reads is lost."""

    def __init__(self):
        self.data_lines = []

    def feed(self, text):
        events = []
        for line in text.replace("\r\n", "\n").split("\n"):
            if line == "" and self.data_lines:
                events.append(json.loads("\n".join(self.data_lines)))
                self.data_lines = []
            elif line.startswith("data:"):
                self.data_lines.append(line[5:].strip())
        return events


class ParserDroppingTheLastEvent:
    """Emits an event when the next data: line starts, so the last one never comes out."""

    def __init__(self):
        self.buffer, self.pending = "", None

    def feed(self, text):
        lines = (self.buffer + text).split("\n")
        self.buffer = lines.pop()
        events = []
        for line in lines:
            if line.startswith("data:"):
                if self.pending is not None:
                    events.append(json.loads(self.pending))
                self.pending = line[5:].strip()
        return events


def test_a_parser_trusting_each_read_fails_on_a_split_line() -> None:
    result = assert_fails("ex04.q1", ParserTrustingEachRead, hint_words=["mid-line"])
    assert "cut mid-line" in (result.call or "")


def test_a_parser_that_drops_the_last_event_fails() -> None:
    result = assert_fails("ex04.q1", ParserDroppingTheLastEvent, hint_words=["blank line"])
    assert result.got is not None and "feed #1 -> []" in result.got


class _LineParser:
    """Keeps the unfinished line between reads, as it should; subclasses get one thing wrong."""

    def __init__(self):
        self.buffer, self.data_lines = "", []

    def feed(self, text):
        lines = (self.buffer + text).replace("\r\n", "\n").split("\n")
        self.buffer = lines.pop()
        events = []
        for line in lines:
            events.extend(self.line(line))
        return events

    def line(self, line):
        if line == "":
            if self.data_lines:
                yield json.loads("\n".join(self.data_lines))
                self.data_lines = []
        elif line.startswith(":"):
            return
        elif line.startswith("data:"):
            self.data_lines.append(line[5:].strip())


class ParserReadingCommentsAsData(_LineParser):
    def line(self, line):
        if line == "" and self.data_lines:
            yield json.loads("\n".join(self.data_lines))
            self.data_lines = []
        elif line:
            self.data_lines.append(line.removeprefix("data:").strip())  # ": ping" too


class ParserKeepingTheFieldName(_LineParser):
    def line(self, line):
        if line.startswith("data:"):
            line = line.replace("data:", "data :", 1)  # a typo: the prefix is never stripped
            self.data_lines.append(line)
            return
        yield from super().line(line)


class ParserDecodingEveryBlankLine(_LineParser):
    def line(self, line):
        if line == "":  # also after a heartbeat, with no data collected
            yield json.loads("\n".join(self.data_lines))
            self.data_lines = []
        else:
            yield from super().line(line)


@pytest.mark.parametrize(("parser", "decoded", "hint_words"), [
    (ParserReadingCommentsAsData, "json.loads(': ping')", ["comment line"]),
    (ParserKeepingTheFieldName, "json.loads('data :", ["field name"]),
    (ParserDecodingEveryBlankLine, "json.loads('')", ["nothing at all", "heartbeat"]),
])
def test_a_parser_feeding_json_loads_the_wrong_text_is_told_which(parser, decoded: str,
                                                                  hint_words: list[str]) -> None:
    result = assert_fails("ex04.q1", parser, hint_words=hint_words)
    assert result.summary == "your parser gave json.loads something that is not one JSON value"
    assert result.got is not None and result.got.startswith(decoded), result.got
    assert "JSONDecodeError" in result.got


@pytest.mark.parametrize(("doc", "mistake"), [
    ('{"type":"tok', "json_partial"),  # a line decoded before the rest of it arrived
    ('{"type":"token","content":"Hi"}\n{"type":"done"}', "json_two_events"),
    ("ok", "json_other"),
    ("\n", "json_empty"),
])
def test_what_json_loads_was_given_names_the_mistake(doc: str, mistake: str) -> None:
    assert _json_mistake(doc) == mistake
    assert mistake_hint("ex04.q1", mistake)


def test_a_right_parser_built_the_same_way_passes() -> None:
    assert run_check("ex04.q1", _LineParser).status is Status.PASSED


# -- q2 -----------------------------------------------------------------------------------------


def _summarise(timed_chunks, *, end_is_done=False, first_chunk_is_ttft=False,
               read_errors=True):
    parser = SolutionParser()
    summary = {"text": "", "ttft_s": None, "ended": "done" if end_is_done else "truncated",
               "error": None, "usage": None}
    for at_s, text in timed_chunks:
        if first_chunk_is_ttft and summary["ttft_s"] is None:
            summary["ttft_s"] = at_s
        for event in parser.feed(text):
            if event["type"] == "token":
                if summary["ttft_s"] is None:
                    summary["ttft_s"] = at_s
                summary["text"] += event["content"]
            elif event["type"] == "done":
                summary["ended"], summary["usage"] = "done", event["usage"]
            elif event["type"] == "error" and read_errors:
                summary["ended"], summary["error"] = "error", event["message"]
    return summary


def summary_calling_every_end_done(timed_chunks):
    return _summarise(timed_chunks, end_is_done=True)


def summary_timing_the_first_heartbeat(timed_chunks):
    return _summarise(timed_chunks, first_chunk_is_ttft=True)


def summary_ignoring_errors(timed_chunks):
    return _summarise(timed_chunks, read_errors=False)


def test_calling_a_cut_stream_done_fails() -> None:
    result = assert_fails("ex04.q2", summary_calling_every_end_done,
                          hint_words=["not a done event"])
    assert result.summary.startswith("wrong ended")


def test_timing_the_heartbeat_as_the_first_token_fails() -> None:
    result = assert_fails("ex04.q2", summary_timing_the_first_heartbeat,
                          hint_words=["heartbeats"])
    assert result.expected == "ttft_s: 0.31"
    assert result.got == "ttft_s: 0.05"


def test_ignoring_error_events_fails() -> None:
    result = assert_fails("ex04.q2", summary_ignoring_errors, hint_words=["error event"])
    assert "error" in result.summary and "ended" in result.summary
