"""Consume a streamed answer the way a user experiences it: when did the first word appear?

:func:`stream_chat` POSTs a question to the course's ``/chat/stream`` endpoint and reads the SSE
body as it arrives, stamping every event with the time since the request was sent. Its
:class:`StreamResult` answers the questions that matter to a user and to an operator:

* ``ttft_s`` — time to the first token: when the user stops staring at a blank box;
* ``total_s`` — time until the stream ended;
* ``latency()`` — the field's names for the same timings: TTFT, TPOT, ITL and e2e
  (:mod:`course_lib.streaming.latency_metrics`), with the token count from the ``done`` event;
* ``ended`` — ``"done"``, ``"error"`` (reported in the body), ``"http_error"`` (refused before
  the stream), ``"stopped"`` (we hung up on purpose) or ``"truncated"``: the body just stopped,
  with neither ``done`` nor ``error``. A client must treat a truncation as a failure: the text
  on screen is not the whole answer.

``stop_after_tokens=N`` hangs up after N tokens, like a user closing the tab.

:func:`read_sse` is the layer underneath, for any SSE endpoint (the lesson's handler too): the
raw messages, heartbeats included, each with its arrival time. A browser cannot use
``EventSource`` here (it only sends GET); the course's web page reads the body of a ``fetch``
with a ``ReadableStream`` reader instead, the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2

from course_lib.streaming.events import (
    DoneEvent,
    ErrorEvent,
    SSEMessage,
    SSEParser,
    StreamEvent,
    TokenEvent,
    decode_event,
)
from course_lib.streaming.latency_metrics import RequestLatency, request_latency

__all__ = ["RawStream", "ReceivedEvent", "StreamResult", "read_sse", "stream_chat"]

Ending = Literal["done", "error", "http_error", "stopped", "truncated"]


@dataclass(frozen=True)
class ReceivedEvent:
    """One event or heartbeat, and when it arrived (seconds after the request was sent)."""

    at_s: float
    event: StreamEvent | None  # None for a heartbeat comment

    @property
    def kind(self) -> str:
        return "heartbeat" if self.event is None else self.event.type


@dataclass
class StreamResult:
    """Everything one streamed request showed the user, with timings."""

    status_code: int
    ended: Ending = "truncated"
    total_s: float = 0.0
    events: list[ReceivedEvent] = field(default_factory=list)
    http_error: Any = None  # the decoded JSON error body of a refused request

    @property
    def tokens(self) -> list[ReceivedEvent]:
        return [e for e in self.events if isinstance(e.event, TokenEvent)]

    @property
    def text(self) -> str:
        return "".join(e.event.content for e in self.tokens)  # type: ignore[union-attr]

    @property
    def ttft_s(self) -> float | None:
        """Seconds from sending the request to the first token (None if none came)."""
        tokens = self.tokens
        return tokens[0].at_s if tokens else None

    @property
    def token_times_s(self) -> list[float]:
        return [e.at_s for e in self.tokens]

    def latency(self, output_tokens: int | None = None) -> RequestLatency:
        """TTFT, TPOT, ITL and e2e of this stream, from the arrival of each ``token`` event.

        ``output_tokens`` defaults to the ``completion_tokens`` of the ``done`` event's usage; a
        stream that ended without one (stopped, cut, failed) needs it passed explicitly.
        """
        if output_tokens is None:
            if self.done is None:
                raise ValueError(f"the stream ended {self.ended!r}, without a 'done' event and "
                                 "its usage: pass output_tokens=")
            output_tokens = int(self.done.usage["completion_tokens"])
        return request_latency(self.token_times_s, output_tokens)

    @property
    def heartbeats_before_first_token(self) -> int:
        count = 0
        for received in self.events:
            if received.event is not None:
                break
            count += 1
        return count

    @property
    def error(self) -> ErrorEvent | None:
        found = [e.event for e in self.events if isinstance(e.event, ErrorEvent)]
        return found[0] if found else None

    @property
    def done(self) -> DoneEvent | None:
        found = [e.event for e in self.events if isinstance(e.event, DoneEvent)]
        return found[0] if found else None

    @property
    def kinds(self) -> list[str]:
        """The sequence of event kinds, e.g. ``['heartbeat', 'token', ..., 'done']``."""
        return [e.kind for e in self.events]


@dataclass
class RawStream:
    """What :func:`read_sse` saw: the status, headers and every SSE message with its time."""

    status_code: int
    headers: Mapping[str, str]
    messages: list[tuple[float, SSEMessage]] = field(default_factory=list)
    body: bytes = b""  # the body of a non-SSE answer (an error page, a JSON error)
    broken: bool = False  # the connection failed before the body ended
    total_s: float = 0.0

    def json_events(self) -> list[Any]:
        """The ``data`` of each event, decoded as JSON."""
        return [json.loads(m.data) for _, m in self.messages if m.data is not None]


async def read_sse(
    url: str,
    *,
    json_body: Any = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    on_message: Callable[[float, SSEMessage], bool] | None = None,
    timeout: float = 30.0,
    clock: Callable[[], float] = time.perf_counter,
    client: httpx2.AsyncClient | None = None,
) -> RawStream:
    """POST to ``url`` and read its SSE body, stamping each message with its arrival time.

    ``on_message(at_s, message)`` is called for every message; returning True hangs up at once
    (closing the connection, which is how a server learns the client left). ``timeout`` is the
    longest wait for *any* byte, which is why a server sends heartbeats.
    """
    async with AsyncExitStack() as stack:
        http = client or await stack.enter_async_context(
            httpx2.AsyncClient(timeout=httpx2.Timeout(timeout)))
        # The clock starts after the client exists: building one loads a TLS context (tens of
        # milliseconds), which is not part of the request a user waits for.
        started = clock()
        response = await stack.enter_async_context(http.stream(
            "POST", url, json=json_body, content=content,
            headers={"accept": "text/event-stream", **(headers or {})}))
        raw = RawStream(response.status_code, dict(response.headers))
        media_type = response.headers.get("content-type", "").partition(";")[0].strip()
        if media_type != "text/event-stream":
            raw.body = await response.aread()
            raw.total_s = clock() - started
            return raw
        parser = SSEParser()
        try:
            async for text in response.aiter_text():
                at = clock() - started
                for message in parser.feed(text):
                    raw.messages.append((at, message))
                    if on_message is not None and on_message(at, message):
                        raw.total_s = clock() - started
                        return raw
        except httpx2.TransportError:
            raw.broken = True
        raw.total_s = clock() - started
        return raw
    raise AssertionError("unreachable")  # pragma: no cover  (every path above returns)


async def stream_chat(
    base_url: str,
    message: str,
    *,
    stop_after_tokens: int | None = None,
    path: str = "/chat/stream",
    timeout: float = 30.0,
    clock: Callable[[], float] = time.perf_counter,
    client: httpx2.AsyncClient | None = None,
) -> StreamResult:
    """Ask ``message`` at ``base_url`` + ``path`` and read the streamed answer, timed."""
    if stop_after_tokens is not None and stop_after_tokens < 1:
        raise ValueError(f"stop_after_tokens must be at least 1, got {stop_after_tokens}")
    events: list[ReceivedEvent] = []
    token_count = 0

    def on_message(at: float, sse: SSEMessage) -> bool:
        nonlocal token_count
        if sse.is_comment:
            events.append(ReceivedEvent(at, None))
            return False
        event = decode_event(sse.data or "")
        events.append(ReceivedEvent(at, event))
        token_count += isinstance(event, TokenEvent)
        return stop_after_tokens is not None and token_count >= stop_after_tokens

    raw = await read_sse(base_url.rstrip("/") + path, json_body={"message": message},
                         on_message=on_message, timeout=timeout, clock=clock, client=client)
    result = StreamResult(raw.status_code, total_s=raw.total_s, events=events)
    if not raw.messages and raw.status_code != 200:
        result.ended = "http_error"
        try:
            result.http_error = json.loads(raw.body)
        except ValueError:
            result.http_error = raw.body.decode("utf-8", "replace")
    elif result.done is not None:
        result.ended = "done"
    elif result.error is not None:
        result.ended = "error"
    elif stop_after_tokens is not None and token_count >= stop_after_tokens:
        result.ended = "stopped"
    return result
