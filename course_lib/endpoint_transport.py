"""The seam between the course's ``openai`` clients and a real endpoint: one HTTP transport.

:func:`course_lib.llm.get_client` gives a client for a real endpoint an ``httpx2`` client whose
transport is a :class:`GuardedTransport` (or :class:`AsyncGuardedTransport`). For each request
to ``/chat/completions`` or ``/embeddings`` it

1. **maps the model** (:mod:`course_lib.model_map`): the body's ``model`` becomes the server's
   name; the response's ``model``, and that of every chunk of a stream, becomes the course's
   name again, so the course's code sees its own names;
2. **guards the budget** (:mod:`course_lib.budget`): the request's worst case is admitted
   before it is sent (or refused, and then it never leaves the process), and its usage is
   billed when the answer is complete (a stream's usage chunk, if it has one).

Any other request (``GET /models`` ...) passes unchanged. The sandbox's clients have no such
transport: the sandbox is never billed, and it serves the course's names.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

from course_lib import tokens
from course_lib.budget import Budget, RequestKind, Reservation, worst_case
from course_lib.model_map import ModelMap

__all__ = ["AsyncGuardedTransport", "Exchange", "GuardedTransport", "prepare"]

_DROPPED_RESPONSE_HEADERS = ("content-length", "content-encoding", "transfer-encoding")


def _endpoint(url: httpx2.URL) -> RequestKind | None:
    path = url.path.rstrip("/")
    if path.endswith("/chat/completions"):
        return "chat"
    if path.endswith("/embeddings"):
        return "embeddings"
    return None


class Exchange:
    """One request on its way: the names it maps between and its budget reservation."""

    def __init__(self, course_model: str, server_model: str,
                 reservation: Reservation | None) -> None:
        self.course_model = course_model
        self.server_model = server_model
        self.reservation = reservation
        self.usage: dict[str, Any] | None = None

    @property
    def mapped(self) -> bool:
        return self.server_model != self.course_model

    def _course_names(self, payload: Any) -> None:
        if isinstance(payload, dict):
            if isinstance(payload.get("model"), str) and self.mapped:
                payload["model"] = self.course_model
            if isinstance(payload.get("usage"), dict):
                self.usage = payload["usage"]

    def json_body(self, content: bytes, status: int) -> bytes:
        """A whole JSON answer with the course's model name, billed by its usage."""
        try:
            payload = json.loads(content)
        except ValueError:
            payload = None
        if status >= 400:
            self.release()
            return content
        self._course_names(payload)
        if isinstance(payload, dict) and self.mapped:
            content = json.dumps(payload, ensure_ascii=False).encode()
        self.finish()
        return content

    def sse_line(self, line: bytes) -> bytes:
        """One line of a stream: a ``data:`` chunk gets the course's model name back."""
        if not line.startswith(b"data:"):
            return line
        data = line[5:].strip()
        if not data or data == b"[DONE]":
            return line
        if not self.mapped and self.reservation is None:
            return line
        try:
            payload = json.loads(data)
        except ValueError:
            return line
        self._course_names(payload)
        if not self.mapped:
            return line
        ending = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
        return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + ending

    def finish(self) -> None:
        """The answer is complete (or abandoned): bill its usage, or its worst case."""
        if self.reservation is not None:
            self.reservation.settle(self.usage)

    def release(self) -> None:
        if self.reservation is not None:
            self.reservation.release()


def prepare(request: httpx2.Request, model_map: ModelMap, budget: Budget | None
            ) -> tuple[httpx2.Request, Exchange | None]:
    """The request as the server must get it, and its :class:`Exchange` (None: not a model
    call, sent unchanged). Raises :class:`course_lib.budget.BudgetExceeded` before sending."""
    endpoint = _endpoint(request.url)
    if endpoint is None or request.method != "POST":
        return request, None
    content = request.content
    try:
        body = json.loads(content)
    except ValueError:
        return request, None
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return request, None
    course_model = body["model"]
    server_model = model_map.server_name(course_model)
    reservation = None
    if budget is not None:
        reservation = budget.admit(worst_case(endpoint, body, model=server_model,
                                              count_as=_countable(course_model),
                                              size=len(content)))
    exchange = Exchange(course_model, server_model, reservation)
    if not exchange.mapped:
        return request, exchange
    body["model"] = server_model
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
    rewritten = httpx2.Request(request.method, request.url, headers=headers,
                               content=json.dumps(body, ensure_ascii=False).encode(),
                               extensions=request.extensions)
    return rewritten, exchange


def _countable(model: str) -> str:
    # A model the course's tokenizers do not know is counted with gpt-4o's: an estimate.
    try:
        tokens.encoding_for(model)
    except KeyError:
        return "gpt-4o"
    return model


def _headers(response: httpx2.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items()
            if k.lower() not in _DROPPED_RESPONSE_HEADERS]


def _lines(buffer: bytearray) -> Iterator[bytes]:
    while (end := buffer.find(b"\n")) >= 0:
        line = bytes(buffer[: end + 1])
        del buffer[: end + 1]
        yield line


class _MappedStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A streamed answer relayed line by line with the course's model names put back.

    One class serves both clients: the line mapping is shared, and only the reading
    (``iter_bytes`` or ``aiter_bytes``) differs.
    """

    def __init__(self, response: httpx2.Response, exchange: Exchange) -> None:
        self._response = response
        self._exchange = exchange
        self._buffer = bytearray()

    def _complete_lines(self, chunk: bytes) -> bytes:
        # A chunk can end mid-line: only whole lines are mapped, the rest waits for the next.
        self._buffer += chunk
        return b"".join(self._exchange.sse_line(line) for line in _lines(self._buffer))

    def _last_line(self) -> bytes:
        return self._exchange.sse_line(bytes(self._buffer)) if self._buffer else b""

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._response.iter_bytes():
            if out := self._complete_lines(chunk):
                yield out
        if out := self._last_line():
            yield out

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_bytes():
            if out := self._complete_lines(chunk):
                yield out
        if out := self._last_line():
            yield out

    def close(self) -> None:
        try:
            self._response.close()
        finally:
            self._exchange.finish()

    async def aclose(self) -> None:
        try:
            await self._response.aclose()
        finally:
            self._exchange.finish()


def _relayed(response: httpx2.Response, request: httpx2.Request,
             **body: Any) -> httpx2.Response:
    """The server's ``response`` as the client gets it, with ``body`` (content or stream)."""
    return httpx2.Response(response.status_code, headers=_headers(response),
                           extensions=response.extensions, request=request, **body)


def _streams(response: httpx2.Response) -> bool:
    return (response.status_code < 400
            and response.headers.get("content-type", "").startswith("text/event-stream"))


class GuardedTransport(httpx2.BaseTransport):
    """An ``httpx2`` transport that maps model names and guards the budget (module docstring)."""

    def __init__(self, model_map: ModelMap, budget: Budget | None,
                 inner: httpx2.BaseTransport | None = None) -> None:
        self.model_map = model_map
        self.budget = budget
        self._inner = inner or httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request, exchange = prepare(request, self.model_map, self.budget)
        if exchange is None:
            return self._inner.handle_request(request)
        try:
            response = self._inner.handle_request(request)
            if _streams(response):
                return _relayed(response, request, stream=_MappedStream(response, exchange))
            try:
                content = response.read()
            finally:
                response.close()
        except BaseException:
            exchange.release()
            raise
        return _relayed(response, request,
                        content=exchange.json_body(content, response.status_code))

    def close(self) -> None:
        self._inner.close()


class AsyncGuardedTransport(httpx2.AsyncBaseTransport):
    """The asynchronous :class:`GuardedTransport`: the same steps, awaited."""

    def __init__(self, model_map: ModelMap, budget: Budget | None,
                 inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.model_map = model_map
        self.budget = budget
        self._inner = inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request, exchange = prepare(request, self.model_map, self.budget)
        if exchange is None:
            return await self._inner.handle_async_request(request)
        try:
            response = await self._inner.handle_async_request(request)
            if _streams(response):
                return _relayed(response, request, stream=_MappedStream(response, exchange))
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except BaseException:
            exchange.release()
            raise
        return _relayed(response, request,
                        content=exchange.json_body(content, response.status_code))

    async def aclose(self) -> None:
        await self._inner.aclose()
