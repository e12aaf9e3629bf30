"""The wire format of a streamed answer: server-sent events, and the three events the course sends.

An SSE body is plain text. Each *event* is a block of ``field: value`` lines ended by a blank
line; ``data:`` lines carry the payload, and a line starting with ``:`` is a *comment* that every
client ignores. The course's endpoint sends exactly three kinds of event, each one JSON object
on one ``data:`` line::

    data: {"type": "token", "content": "To reset"}

    data: {"type": "error", "message": "the model's stream broke off", "code": "upstream_cut"}

    data: {"type": "done", "usage": {"prompt_tokens": 31, ...}, "finish_reason": "stop"}

plus a comment, ``: ping``, sent while nothing else is: proxies and load balancers close a
connection that stays silent too long, and a model can think for many seconds before its first
token.

Every stream ends with exactly one ``done`` or ``error``. That is the point of the lesson's
interview question: once the status line ``200 OK`` and the first token are on the wire, the
status code can no longer say that something went wrong, so the body must. A stream that simply
stops, with neither, is a *truncation*, and a client must treat it as a failure too.

:class:`SSEParser` is hand-written here because it teaches the format and because it keeps the
comments (the course wants to *see* its heartbeats). The library equivalent for ordinary use is
``httpx2``'s ``AsyncClient.sse(...)`` (derived from the ``httpx-sse`` package), which drops them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "HEARTBEAT",
    "DoneEvent",
    "ErrorEvent",
    "SSEMessage",
    "SSEParser",
    "StreamEvent",
    "TokenEvent",
    "decode_event",
    "encode_event",
]

# A comment line: ignored by every SSE client, but it is traffic, so idle timeouts reset.
HEARTBEAT = b": ping\n\n"


@dataclass(frozen=True)
class TokenEvent:
    """A piece of the answer, as it arrives from the model."""

    content: str
    type: Literal["token"] = field(default="token", init=False)

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "content": self.content}


@dataclass(frozen=True)
class ErrorEvent:
    """The stream failed after it started: the only way to say so once 200 OK is sent."""

    message: str
    code: str
    type: Literal["error"] = field(default="error", init=False)

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "code": self.code}


@dataclass(frozen=True)
class DoneEvent:
    """The answer is complete; ``usage`` says what it cost (``estimated`` when counted here)."""

    usage: Mapping[str, Any]
    finish_reason: str
    type: Literal["done"] = field(default="done", init=False)

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "usage": dict(self.usage), "finish_reason": self.finish_reason}


StreamEvent = TokenEvent | ErrorEvent | DoneEvent


def encode_event(event: StreamEvent) -> bytes:
    """One event as SSE bytes: a single ``data:`` line and the blank line that ends it.

    ``json.dumps`` never emits a raw newline (it escapes them inside strings), so one line is
    always enough; a newline in the payload would otherwise split the event.
    """
    data = json.dumps(event.payload(), ensure_ascii=False, separators=(",", ":"))
    return b"data: " + data.encode("utf-8") + b"\n\n"


def _require(payload: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = payload.get(name)
    if not isinstance(value, kind):
        raise ValueError(f"a {payload.get('type')!r} event needs {name!r} of type "
                         f"{getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def decode_event(data: str) -> StreamEvent:
    """Parse the ``data`` of one event back into a :data:`StreamEvent`; clear error if malformed."""
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise ValueError(f"event data is not JSON ({exc.msg}): {data[:80]!r}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"event data must be a JSON object, got {data[:80]!r}")
    kind = payload.get("type")
    if kind == "token":
        return TokenEvent(_require(payload, "content", str))
    if kind == "error":
        return ErrorEvent(_require(payload, "message", str), _require(payload, "code", str))
    if kind == "done":
        return DoneEvent(_require(payload, "usage", dict), _require(payload, "finish_reason", str))
    raise ValueError(f"unknown event type {kind!r}; expected 'token', 'error' or 'done'")


@dataclass(frozen=True)
class SSEMessage:
    """One thing read off an SSE body: an event (``data``) or a comment (``comment``)."""

    data: str | None = None
    event: str = "message"
    comment: str | None = None

    @property
    def is_comment(self) -> bool:
        return self.comment is not None


class SSEParser:
    """Turns SSE text, fed in arbitrary pieces, into :class:`SSEMessage` objects.

    Network reads split the body anywhere (mid-line, mid-character for a bytes decoder), so the
    parser keeps the unfinished line between calls. Lines end in ``\\n``, ``\\r\\n`` or ``\\r``
    (the SSE specification allows all three).
    """

    def __init__(self) -> None:
        self._partial = ""
        self._data: list[str] = []
        self._event = ""
        self._pending_cr = False

    def feed(self, text: str) -> Iterator[SSEMessage]:
        """Parse ``text`` and yield every message it completes."""
        if not text:
            return
        if self._pending_cr:
            # A "\r" ended the last piece; if this one starts with "\n" they are one line end.
            text = text.removeprefix("\n")
            self._pending_cr = False
        if text.endswith("\r"):
            self._pending_cr = True
        lines = (self._partial + text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._partial = lines.pop()
        for line in lines:
            message = self._line(line)
            if message is not None:
                yield message

    def close(self) -> Iterator[SSEMessage]:
        """End of body: an event without its final blank line is incomplete and is dropped."""
        self._partial, self._data, self._event = "", [], ""
        return iter(())

    def _line(self, line: str) -> SSEMessage | None:
        if not line:  # a blank line dispatches the event collected so far
            if not self._data:
                self._event = ""
                return None
            message = SSEMessage(data="\n".join(self._data), event=self._event or "message")
            self._data, self._event = [], ""
            return message
        if line.startswith(":"):
            return SSEMessage(comment=line[1:].removeprefix(" "))
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        # "id" and "retry" matter to EventSource's reconnection, which a POST cannot use.
        return None
