"""Endings the sandbox cannot produce: a model stream that stops politely but unfinished, a bug.

A scripted stand-in for ``openai.AsyncOpenAI`` feeds the real endpoint (served by uvicorn);
everything else is the production path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from course_lib import tokens
from course_lib.streaming import start_stream_server, stream_chat
from course_lib.streaming.server import StreamServerHandle
from course_lib.tracker import CostTracker

MODEL = "gpt-4o"


def chunk(content: str | None = None, finish: str | None = None) -> SimpleNamespace:
    choice = SimpleNamespace(delta=SimpleNamespace(content=content), finish_reason=finish)
    return SimpleNamespace(id="chatcmpl-scripted", model=MODEL, usage=None, choices=[choice])


class ScriptedStream:
    """Yields the scripted chunks, then raises ``then`` if given, else ends."""

    def __init__(self, chunks: list[SimpleNamespace], then: Exception | None) -> None:
        self.chunks, self.then, self.closed = chunks, then, False

    def __aiter__(self) -> AsyncIterator[SimpleNamespace]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SimpleNamespace]:
        for item in self.chunks:
            yield item
        if self.then is not None:
            raise self.then

    async def close(self) -> None:
        self.closed = True


class ScriptedClient:
    """Just enough of ``AsyncOpenAI`` for the relay: ``chat.completions.create`` and ``close``."""

    def __init__(self, chunks: list[SimpleNamespace], then: Exception | None = None,
                 fail_on_create: Exception | None = None) -> None:
        self.streams: list[ScriptedStream] = []
        self.requests: list[dict[str, Any]] = []

        async def create(**request: Any) -> ScriptedStream:
            self.requests.append(request)
            if fail_on_create is not None:
                raise fail_on_create
            self.streams.append(ScriptedStream(chunks, then))
            return self.streams[-1]

        self.chat = SimpleNamespace(completions=SimpleNamespace(create=create))

    async def close(self) -> None:
        pass


@contextmanager
def server_for(client: ScriptedClient) -> Iterator[tuple[StreamServerHandle, CostTracker]]:
    tracker = CostTracker()
    with start_stream_server(client=lambda: client, tracker=tracker, model=MODEL,
                             heartbeat_s=5.0) as server:
        yield server, tracker


def ask(server: StreamServerHandle):
    return asyncio.run(stream_chat(server.url, "How do I reset my password?"))


def test_a_stream_that_ends_without_finish_reason_is_an_error_not_done() -> None:
    client = ScriptedClient([chunk("Click "), chunk("Forgot")])
    with server_for(client) as (server, tracker):
        result = ask(server)
        (outcome,) = server.state.wait_for_outcomes(1)
    assert result.kinds == ["token", "token", "error"]
    assert result.error.code == "upstream_incomplete"
    assert outcome.bill.estimated
    assert outcome.bill.completion_tokens == tokens.count_tokens("Click Forgot", MODEL)
    assert tracker.summary()["total_output_tokens"] == outcome.bill.completion_tokens
    assert client.streams[0].closed


def test_an_empty_unfinished_stream_is_refused_with_a_status() -> None:
    with server_for(ScriptedClient([chunk("")])) as (server, _):
        result = ask(server)
    assert result.status_code == 502
    assert result.http_error["error"]["code"] == "upstream_incomplete"


def test_finished_without_usage_is_done_with_an_estimated_bill() -> None:
    """A provider that ignores include_usage: the answer is complete, the bill is counted here."""
    client = ScriptedClient([chunk("Click Forgot password?"), chunk(None, finish="stop")])
    with server_for(client) as (server, tracker):
        result = ask(server)
    assert result.ended == "done"
    assert result.done.usage["estimated"] is True
    assert result.done.usage["completion_tokens"] == tokens.count_tokens(
        "Click Forgot password?", MODEL)
    assert client.requests[0]["stream_options"] == {"include_usage": True}
    assert tracker.summary()["total_calls"] == 1


def test_a_bug_before_the_stream_is_a_500_with_a_json_error() -> None:
    with server_for(ScriptedClient([], fail_on_create=RuntimeError("boom"))) as (server, tracker):
        result = ask(server)
    assert result.status_code == 500
    assert result.http_error["error"]["code"] == "internal_error"
    assert result.http_error["error"]["type"] == "server_error"
    assert "boom" not in str(result.http_error)  # internals stay in the server's log
    assert tracker.summary()["total_calls"] == 0


def test_a_bug_mid_stream_is_an_error_event(caplog: pytest.LogCaptureFixture) -> None:
    client = ScriptedClient([chunk("Click ")], then=KeyError("choices"))
    with server_for(client) as (server, _):
        result = ask(server)
    assert result.kinds == ["token", "error"]
    assert result.error.code == "internal_error"
    assert "failed mid-stream" in caplog.text
