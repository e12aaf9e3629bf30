"""The lesson's ``StreamChatHandler`` (implementation 7, SSE streaming), ported faithfully from Go.

The Go original, abridged::

    w.Header().Set("Content-Type", "text/event-stream")
    w.Header().Set("Access-Control-Allow-Origin", "*")
    ...
    if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
        http.Error(w, "invalid request", http.StatusBadRequest); return
    }
    tokenCh, errCh := s.llmClient.StreamGenerate(r.Context(), req.Message)
    for {
        select {
        case token, ok := <-tokenCh:
            if !ok { sendEvent(StreamEvent{Type: "done", Done: true}); return }
            sendEvent(StreamEvent{Type: "token", Content: token})
        case err := <-errCh:
            if err != nil { sendEvent(StreamEvent{Type: "error", Content: err.Error()}); return }
        case <-r.Context().Done():
            return
        }
    }

It gets the shape right (SSE headers, one JSON event per ``data:`` line, stop when the client
leaves, which cancels the model through ``r.Context()``). What it gets wrong, each shown in
notebook 09:

* **``Access-Control-Allow-Origin: *``**: any web page can call it from its visitors' browsers
  and read the answers. Worse, the handler never checks the content type, so a page can POST
  the JSON as ``text/plain``, a "simple" request that browsers send *without* asking first: no
  preflight, no chance to refuse; the model runs and the bill grows before CORS is consulted.
* **The error races the close.** ``StreamGenerate`` (not shown in the lesson; the usual shape is
  ported below) sends the error on ``errCh`` and then closes ``tokenCh`` on its way out. If the
  handler is busy writing the previous token to a slow client when both happen, its next
  ``select`` finds *both* cases ready, and Go picks one at random: half the time it reads the
  closed ``tokenCh`` and sends ``done``. A broken answer is reported as complete.
* **No usage.** The request does not ask for ``stream_options.include_usage``, so the stream
  carries no usage and cannot be billed; nothing counts the tokens either.
* Smaller ones: a missing ``message`` decodes as ``""`` and is sent to the model anyway (you pay
  for a question nobody asked); the role-only first chunk and the final chunk are relayed as
  empty ``token`` events; no heartbeat, so a proxy may close a connection waiting for a slow
  first token; and after ``200 OK`` every failure can only be an event.

The corrected endpoint is :mod:`course_lib.streaming.app`. To run Go's semantics in Python, the
port carries a minimal model of Go channels and ``select`` (:class:`GoChannel`,
:func:`go_select`): a ``select`` with several ready cases picks one uniformly at random (an
injectable ``random.Random``, so the race is reproducible), and a ``select`` that is already
waiting takes the *first* value sent to it, as Go hands a value straight to a parked receiver.
``flush_delay_s`` models a client on a slow network, for which Go's ``Flush`` blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import openai
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

__all__ = [
    "GoChannel",
    "GoContext",
    "LessonLLMClient",
    "ResponseWriter",
    "StreamChatHandler",
    "StreamEvent",
    "create_lesson_stream_app",
    "go_select",
]

T = TypeVar("T")


# -- just enough of Go's channels ---------------------------------------------------------------


class GoChannel(Generic[T]):
    """A Go channel: ``capacity`` 0 is unbuffered (a send waits for its receiver); closable."""

    def __init__(self, capacity: int = 0) -> None:
        self.capacity = capacity
        self.closed = False
        self._items: deque[tuple[T, asyncio.Future[None] | None]] = deque()
        self._space = asyncio.Event()
        self._watchers: list[asyncio.Future[GoChannel[Any]]] = []

    def ready(self) -> bool:
        """A receive would not block: a value is waiting, or the channel is closed."""
        return bool(self._items) or self.closed

    async def send(self, value: T) -> None:
        if self.closed:
            raise RuntimeError("send on closed channel")  # Go panics
        if self.capacity == 0:
            taken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._items.append((value, taken))
            self._notify()
            await taken  # unbuffered: the sender waits until a receiver has the value
            return
        while len(self._items) >= self.capacity:
            self._space.clear()
            await self._space.wait()
        self._items.append((value, None))
        self._notify()

    def close(self) -> None:
        if self.closed:
            raise RuntimeError("close of closed channel")  # Go panics
        self.closed = True
        self._notify()

    def receive_now(self, zero: Any = None) -> tuple[Any, bool]:
        """``value, ok := <-ch`` when :meth:`ready`; ``ok`` is False once closed and drained."""
        if self._items:
            value, taken = self._items.popleft()
            if taken is not None and not taken.done():
                taken.set_result(None)
            self._space.set()
            return value, True
        if self.closed:
            return zero, False
        raise RuntimeError("receive_now on a channel that is not ready")

    def _notify(self) -> None:
        watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            if not watcher.done():
                watcher.set_result(self)


async def go_select(cases: list[GoChannel[Any]], rng: random.Random) -> tuple[int, Any, bool]:
    """``select`` over receive cases: ``(index, value, ok)`` of the case taken.

    Several ready cases: one is picked uniformly at random, as Go's runtime does. None ready:
    wait, and take the first channel that becomes ready (Go hands a sent value straight to a
    parked ``select``, so later events cannot overtake it).
    """
    ready = [index for index, channel in enumerate(cases) if channel.ready()]
    if not ready:
        woken: asyncio.Future[GoChannel[Any]] = asyncio.get_running_loop().create_future()
        for channel in cases:
            channel._watchers.append(woken)
        try:
            first = await woken
        finally:
            for channel in cases:
                with contextlib.suppress(ValueError):
                    channel._watchers.remove(woken)
        ready = [cases.index(first)]
    index = ready[rng.randrange(len(ready))] if len(ready) > 1 else ready[0]
    value, ok = cases[index].receive_now()
    return index, value, ok


class GoContext:
    """``context.Context`` reduced to what the handler uses: ``Done()`` and cancellation."""

    def __init__(self) -> None:
        self.done: GoChannel[None] = GoChannel()
        self._on_cancel: list[Callable[[], None]] = []

    def cancel(self) -> None:
        if not self.done.closed:
            self.done.close()
            for callback in self._on_cancel:
                callback()

    def after_cancel(self, callback: Callable[[], None]) -> None:
        self._on_cancel.append(callback)


# -- the LLM client (StreamGenerate) ------------------------------------------------------------


class LessonLLMClient:
    """``s.llmClient``: its ``StreamGenerate`` in the shape Go code usually gives it::

        func (c *LLMClient) StreamGenerate(ctx context.Context, msg string) (
            <-chan string, <-chan error) {
            tokenCh := make(chan string)
            errCh := make(chan error, 1)
            go func() {
                defer close(tokenCh)
                stream, err := c.api.CreateChatCompletionStream(ctx, request(msg)) // no usage
                if err != nil { errCh <- err; return }
                defer stream.Close()
                for {
                    resp, err := stream.Recv()
                    if errors.Is(err, io.EOF) { return }
                    if err != nil { errCh <- err; return }
                    select {
                    case tokenCh <- resp.Choices[0].Delta.Content:
                    case <-ctx.Done(): return
                    }
                }
            }()
            return tokenCh, errCh
        }

    Cancelling ``ctx`` aborts the HTTP request to the model, as Go's client does.
    """

    def __init__(self, api: openai.AsyncOpenAI, model: str = "gpt-4o") -> None:
        self.api = api
        self.model = model

    def stream_generate(self, ctx: GoContext, message: str
                        ) -> tuple[GoChannel[str], GoChannel[Exception]]:
        token_ch: GoChannel[str] = GoChannel()
        err_ch: GoChannel[Exception] = GoChannel(capacity=1)

        async def produce() -> None:
            try:
                stream = await self.api.chat.completions.create(
                    model=self.model, messages=[{"role": "user", "content": message}],
                    stream=True)
                async with stream:
                    async for chunk in stream:
                        if chunk.choices:
                            await token_ch.send(chunk.choices[0].delta.content or "")
            except openai.APIError as err:
                await err_ch.send(err)
            finally:
                token_ch.close()  # the deferred close(tokenCh): right after the error is sent

        goroutine = asyncio.ensure_future(produce())
        ctx.after_cancel(goroutine.cancel)
        return token_ch, err_ch


# -- Go's http.ResponseWriter over ASGI ---------------------------------------------------------


class ResponseWriter:
    """Go's ``http.ResponseWriter``: headers until the first write, then a fixed status.

    The status line goes out with the first ``Write`` (or ``WriteHeader``); after that, as in
    Go, nothing can change it. ``flush_delay_s`` models a slow client: Go's ``Flush`` blocks
    until the kernel has accepted the bytes.
    """

    def __init__(self, send: Send, flush_delay_s: float = 0.0) -> None:
        self._send = send
        self.flush_delay_s = flush_delay_s
        self.headers: dict[str, str] = {}
        self.status: int | None = None

    def header(self) -> dict[str, str]:
        return self.headers

    async def write_header(self, code: int) -> None:
        if self.status is not None:
            return  # Go logs "superfluous response.WriteHeader call" and ignores it
        self.status = code
        await self._send({
            "type": "http.response.start", "status": code,
            "headers": [(k.lower().encode(), v.encode()) for k, v in self.headers.items()],
        })

    async def write(self, data: bytes) -> None:
        await self.write_header(200)
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def flush(self) -> None:
        await self.write_header(200)
        if self.flush_delay_s > 0:
            await asyncio.sleep(self.flush_delay_s)

    async def finish(self) -> None:
        await self.write_header(200)
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})


async def http_error(w: ResponseWriter, error: str, code: int) -> None:
    """Go's ``http.Error``: plain text, whatever Content-Type was set before."""
    w.headers.pop("Content-Length", None)
    w.headers["Content-Type"] = "text/plain; charset=utf-8"
    w.headers["X-Content-Type-Options"] = "nosniff"
    await w.write_header(code)
    await w.write((error + "\n").encode())


# -- the handler --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamEvent:
    """``type StreamEvent struct { Type, Content string; Done bool }``: no omitempty."""

    type: str
    content: str = ""
    done: bool = False

    def marshal(self) -> bytes:
        # Go's json.Marshal escapes <, > and & (and U+2028/9) for safe embedding in HTML.
        text = json.dumps({"type": self.type, "content": self.content, "done": self.done},
                          ensure_ascii=False, separators=(",", ":"))
        for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                              ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(char, escaped)
        return text.encode()


def _decode_chat_request(body: bytes) -> str:
    """``json.NewDecoder(r.Body).Decode(&req)`` into ``struct { Message string `json:"message"` }``.

    Like Go: only the first JSON value is read, keys match case-insensitively, a missing or
    ``null`` message leaves ``""``. Raises ValueError where Go's decoder returns an error.
    """
    text = body.decode("utf-8")
    value, _ = json.JSONDecoder().raw_decode(text.lstrip(" \t\r\n"))
    if value is None:
        return ""
    if not isinstance(value, dict):
        raise ValueError("json: cannot unmarshal into Go value of type ChatRequest")
    keys = [k for k in value if k == "message"] or [k for k in value if k.lower() == "message"]
    message = value[keys[-1]] if keys else None
    if message is None:
        return ""
    if not isinstance(message, str):
        raise ValueError("json: cannot unmarshal into Go struct field ChatRequest.message")
    return message


class StreamChatHandler:
    """``func (s *Server) StreamChatHandler(w http.ResponseWriter, r *http.Request)``, as ASGI.

    ``select_rng`` decides Go's random choice between ready ``select`` cases (seed it to replay
    a race); ``flush_delay_s`` models a slow client.
    """

    def __init__(self, llm_client: LessonLLMClient, *, select_rng: random.Random | None = None,
                 flush_delay_s: float = 0.0) -> None:
        self.llm_client = llm_client
        self.select_rng = select_rng or random.Random()
        self.flush_delay_s = flush_delay_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        w = ResponseWriter(send, self.flush_delay_s)
        ctx = GoContext()
        body = await _read_body(receive)
        # Go's server cancels r.Context() when the client goes away.
        watcher = asyncio.ensure_future(_cancel_on_disconnect(receive, ctx))
        try:
            await self.serve_http(w, body, ctx)
            await w.finish()
        finally:
            ctx.cancel()  # ...and when ServeHTTP returns
            watcher.cancel()

    async def serve_http(self, w: ResponseWriter, body: bytes, ctx: GoContext) -> None:
        # 设置 SSE headers
        w.header()["Content-Type"] = "text/event-stream"
        w.header()["Cache-Control"] = "no-cache"
        w.header()["Connection"] = "keep-alive"
        w.header()["Access-Control-Allow-Origin"] = "*"

        try:
            message = _decode_chat_request(body)
        except (ValueError, UnicodeDecodeError):
            await http_error(w, "invalid request", 400)
            return

        # 发送 SSE 事件的辅助函数
        async def send_event(event: StreamEvent) -> None:
            await w.write(b"data: " + event.marshal() + b"\n\n")
            await w.flush()

        # 开始流式 LLM 调用
        token_ch, err_ch = self.llm_client.stream_generate(ctx, message)
        while True:
            index, value, ok = await go_select([token_ch, err_ch, ctx.done], self.select_rng)
            if index == 0:
                if not ok:
                    await send_event(StreamEvent(type="done", done=True))  # 流结束
                    return
                await send_event(StreamEvent(type="token", content=value))
            elif index == 1:
                if value is not None:
                    await send_event(StreamEvent(type="error", content=str(value)))
                    return
            else:
                return  # 客户端断开


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _cancel_on_disconnect(receive: Callable[[], Awaitable[Message]], ctx: GoContext
                                ) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            ctx.cancel()
            return


def create_lesson_stream_app(
    api: openai.AsyncOpenAI | Callable[[], openai.AsyncOpenAI],
    *,
    model: str = "gpt-4o",
    select_rng: random.Random | None = None,
    flush_delay_s: float = 0.0,
) -> Starlette:
    """The ported handler at ``/chat/stream`` (any method, as ``http.HandleFunc`` registers it).

    ``api`` is an ``openai.AsyncOpenAI`` or a function returning one (called on first use,
    inside the server's event loop).
    """
    endpoint = _LazyHandler(api, model, select_rng, flush_delay_s)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.aclose()  # in the server's loop, before it stops

    return Starlette(routes=[Route("/chat/stream", endpoint)], lifespan=lifespan)


class _LazyHandler:
    """An ASGI endpoint that builds the handler on first use, in the server's event loop."""

    def __init__(self, api: openai.AsyncOpenAI | Callable[[], openai.AsyncOpenAI], model: str,
                 select_rng: random.Random | None, flush_delay_s: float) -> None:
        self._api, self._model = api, model
        self._select_rng, self._flush_delay_s = select_rng, flush_delay_s
        self.handler: StreamChatHandler | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.handler is None:
            api = self._api if isinstance(self._api, openai.AsyncOpenAI) else self._api()
            self.handler = StreamChatHandler(LessonLLMClient(api, self._model),
                                             select_rng=self._select_rng,
                                             flush_delay_s=self._flush_delay_s)
        await self.handler(scope, receive, send)

    async def aclose(self) -> None:
        """Close the client built from a factory (one passed in belongs to its owner)."""
        if self.handler is not None and self.handler.llm_client.api is not self._api:
            await self.handler.llm_client.api.close()
