"""The streaming chat endpoint: ``POST /chat/stream`` relays the model's answer as SSE events.

This is the lesson's implementation 7 (流式响应, SSE streaming), rebuilt so that every way a
stream can end is visible to the client and to the bill:

==================================== ============================================================
what happens                         what the client gets
==================================== ============================================================
bad JSON, no ``message``, a wrong     ``400`` and a JSON error in OpenAI's shape naming the
type, a body too large or too deep   field (``413`` for size), before any stream starts
                                     (:mod:`.request` parses the body, once)
not ``application/json``             ``415``: it also forces browsers to ask first (a CORS
                                     preflight), so a refused origin never reaches the model
the model fails before its first     a real HTTP error status (``429``, ``502``, ``504``): the
token                                status line has not been sent yet, so it can still say so
the model is slow to start           ``: ping`` comments every ``heartbeat_s`` seconds
tokens                               ``{"type": "token", "content": ...}`` as they arrive
the model's stream breaks mid-answer ``{"type": "error", "message": ..., "code": ...}``, then
                                     the body ends cleanly: never a silent truncation
the answer is complete               ``{"type": "done", "usage": {...}, "finish_reason": ...}``
the user closes the tab              the model's stream is cancelled; what it generated so far
                                     is billed, counted here and marked ``estimated``
==================================== ============================================================

The status line is held back until the first token or the first heartbeat, whichever comes
first. Before that moment a failure is an honest HTTP error; after it, the only place left to
report a failure is the body. That is the lesson's interview question, made precise. (A client
that leaves during that first wait is noticed when the response starts, at most ``heartbeat_s``
later; from then on a disconnect cancels the model at once.)

CORS is limited to the origins you configure. The lesson's ``Access-Control-Allow-Origin: *``
lets *any* web page drive this endpoint through its visitors' browsers and read the answers: your
LLM bill, spent for someone else, from thousands of IP addresses your rate limiter cannot tell
apart. And ``*`` cannot be combined with cookies, so the usual "fix" when login is added is to
echo back whatever ``Origin`` arrives, with credentials allowed, which lets any site chat as
your logged-in users and read their answers. Starlette's ``CORSMiddleware`` does the origin
check here; a hand-written one is the lesson's mistake waiting to happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import openai
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from course_lib import tokens
from course_lib.http_edge import ApiError, error_response, http_exception, unexpected_error
from course_lib.pricing import price_for
from course_lib.retrying import retry_after_seconds
from course_lib.streaming.billing import StreamBill, UsageRecorder, estimated_bill, exact_bill
from course_lib.streaming.events import (
    HEARTBEAT,
    DoneEvent,
    ErrorEvent,
    TokenEvent,
    encode_event,
)
from course_lib.streaming.request import MAX_BODY_BYTES, read_stream_request
from course_lib.streaming.upstream import Finished, Quiet, UpstreamStream

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "MAX_BODY_BYTES",
    "MAX_OUTCOMES",
    "StreamOutcome",
    "StreamState",
    "UpstreamFailure",
    "classify_upstream_error",
    "create_stream_app",
]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
DEFAULT_SYSTEM_PROMPT = "You are Kitewing's customer-support assistant. Answer concisely."
MAX_OUTCOMES = 1000  # the outcome log keeps the latest streams; its counters keep every one
_ORIGIN = re.compile(r"^https?://[^/\s:]+(:\d{1,5})?$")

ClientSource = openai.AsyncOpenAI | Callable[[], openai.AsyncOpenAI]


# -- what happened to each stream -------------------------------------------------------------


@dataclass
class StreamOutcome:
    """How one request to ``/chat/stream`` ended, and what it was billed."""

    status: Literal["completed", "failed", "client_disconnected", "rejected"]
    http_status: int
    model: str
    upstream_id: str | None = None
    tokens_relayed: int = 0
    heartbeats_before_first_token: int = 0
    heartbeats: int = 0
    ttft_s: float | None = None
    duration_s: float = 0.0
    error_code: str | None = None
    bill: StreamBill | None = None


@dataclass
class StreamState:
    """Settings and the outcome log shared by every request of one app.

    ``outcomes`` holds the latest :data:`MAX_OUTCOMES` streams (a ring buffer: a server that
    runs for a month must not keep a month of outcomes); ``outcomes_logged`` and
    ``outcome_counts`` (per status) count every stream since the start.
    """

    client_source: ClientSource | None
    tracker: UsageRecorder
    model: str
    heartbeat_s: float
    system_prompt: str
    extra_body: Mapping[str, Any] | None
    clock: Callable[[], float]
    outcomes: deque[StreamOutcome] = field(default_factory=lambda: deque(maxlen=MAX_OUTCOMES))
    outcomes_logged: int = 0
    outcome_counts: Counter[str] = field(default_factory=Counter)
    _client: openai.AsyncOpenAI | None = None
    _logged: threading.Condition = field(default_factory=threading.Condition)

    def client(self) -> openai.AsyncOpenAI:
        # Built lazily, inside the server's event loop: an async client's connection pool
        # belongs to the loop that first uses it.
        if self._client is None:
            source = self.client_source
            if source is None:
                from course_lib import llm

                self._client = llm.get_async_client()
            elif isinstance(source, openai.AsyncOpenAI):
                self._client = source
            else:
                self._client = source()
        return self._client

    async def aclose(self) -> None:
        """Close the model client this app built (one passed in belongs to its owner)."""
        client, self._client = self._client, None
        if client is not None and client is not self.client_source:
            await client.close()

    def messages_for(self, message: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system_prompt},
                {"role": "user", "content": message}]

    def log(self, outcome: StreamOutcome) -> None:
        with self._logged:
            self.outcomes.append(outcome)
            self.outcomes_logged += 1
            self.outcome_counts[outcome.status] += 1
            self._logged.notify_all()

    def wait_for_outcomes(self, count: int, timeout: float = 10.0) -> list[StreamOutcome]:
        """Block (another thread) until ``count`` streams have ended since the start; the
        outcomes kept, oldest first.

        A stream's outcome is logged after its upstream is closed and billed, so waiting here
        is how a test or a notebook knows the bill is final, without sleeping.
        """
        with self._logged:
            if not self._logged.wait_for(lambda: self.outcomes_logged >= count, timeout):
                raise TimeoutError(f"only {self.outcomes_logged} of {count} streams ended "
                                   f"within {timeout} s")
            return list(self.outcomes)


# -- errors from the model --------------------------------------------------------------------


@dataclass(frozen=True)
class UpstreamFailure:
    """A failure of the model's side, as an HTTP status (before the stream) or an event (after)."""

    http_status: int
    code: str
    message: str
    retry_after: str | None = None

    def response(self) -> JSONResponse:
        headers = {"retry-after": self.retry_after} if self.retry_after else None
        kind = "requests" if self.http_status == 429 else "server_error"
        return error_response(ApiError(self.http_status, self.message, type=kind,
                                       code=self.code, headers=headers))

    def event(self) -> ErrorEvent:
        return ErrorEvent(self.message, self.code)


def classify_upstream_error(exc: openai.APIError, *, stream_started: bool) -> UpstreamFailure:
    """What to tell the client about ``exc``. Upstream messages are not passed on verbatim:
    they can name internal deployments or accounts."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamFailure(504, "upstream_timeout", "The model did not answer in time.")
    if isinstance(exc, openai.APIConnectionError):
        if stream_started:
            return UpstreamFailure(502, "upstream_cut",
                                   "The model's stream broke off mid-answer; the answer is "
                                   "incomplete.")
        return UpstreamFailure(502, "upstream_unreachable", "The model could not be reached.")
    if isinstance(exc, openai.RateLimitError):
        return UpstreamFailure(429, "upstream_rate_limited",
                               "The model is rate-limited; retry later.", _retry_after(exc))
    if isinstance(exc, openai.APIStatusError):
        # An overloaded model is worth retrying later (503); anything else is a bad gateway.
        status = 503 if exc.status_code == 503 else 502
        return UpstreamFailure(status, "upstream_error",
                               f"The model answered HTTP {exc.status_code}.", _retry_after(exc))
    return UpstreamFailure(502, "upstream_error", "The model's stream reported an error.")


def _retry_after(exc: openai.APIStatusError) -> str | None:
    """The model's requested wait, read by the course's one rule (``retry-after-ms`` included)
    and passed on as HTTP's whole seconds, rounded up so the client never comes back early."""
    seconds = retry_after_seconds(exc.response.headers)
    return None if seconds is None else str(math.ceil(seconds))


_INCOMPLETE = UpstreamFailure(502, "upstream_incomplete",
                              "The model's stream ended without finishing the answer.")
# A bug of ours, not the model's: still reported, never a silently dropped connection.
_INTERNAL = UpstreamFailure(500, "internal_error", "The server failed while answering.")
_log = logging.getLogger(__name__)


# -- the endpoint -----------------------------------------------------------------------------


class _SSEResponse(StreamingResponse):
    """A streaming response that always ends its relay, however the client left.

    Starlette cancels the body generator when the client disconnects (ASGI spec < 2.4) but, on
    servers that report a disconnect as a failed ``send`` instead, simply stops iterating it, and
    a client that leaves before the first byte may stop it before it ever started. Closing the
    relay here cancels the model and bills in every case, right away.
    """

    def __init__(self, relay: _Relay, first: str | Quiet | Finished) -> None:
        super().__init__(
            relay.events(first),
            media_type="text/event-stream",
            headers={
                "cache-control": "no-cache",
                # nginx buffers proxied responses by default, which would hold every token back
                # until the buffer fills; this header turns that off for this response.
                "x-accel-buffering": "no",
            },
        )
        self.relay = relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self.body_iterator.aclose()  # type: ignore[attr-defined]
                if not self.relay.ended:
                    self.relay.outcome.status = "client_disconnected"
                await self.relay.close()


class _Relay:
    """One request's stream: from the model's pieces to SSE bytes, with its outcome and bill."""

    def __init__(self, state: StreamState, upstream: UpstreamStream, started: float) -> None:
        self.state = state
        self.upstream = upstream
        self.started = started
        self.outcome = StreamOutcome("completed", 200, state.model)
        self.ended = False  # the body ended with its done or error event
        self._billed = False
        self._logged = False

    def bill(self, *, exact: bool) -> StreamBill | None:
        """Bill once: the provider's usage when ``exact`` and present, else counted here."""
        if self._billed or not self.upstream.accepted:
            return self.outcome.bill  # a request the model refused is not billed
        self._billed = True
        model = self.upstream.answered_as or self.state.model
        usage = self.upstream.usage
        bill = (exact_bill(model, usage) if exact and usage is not None
                else estimated_bill(model, self.upstream.messages, self.upstream.received_text))
        bill.record(self.state.tracker)
        self.outcome.bill = bill
        return bill

    async def close(self) -> None:
        """Cancel the model's stream (if still open), bill, and log the outcome. Idempotent."""
        with anyio.CancelScope(shield=True):  # a disconnect cancels us; cleanup must still run
            await self.upstream.aclose()
        self.bill(exact=False)
        self.outcome.upstream_id = self.upstream.upstream_id
        self.outcome.duration_s = self.state.clock() - self.started
        if not self._logged:
            self._logged = True
            self.state.log(self.outcome)

    def fail(self, failure: UpstreamFailure, http_status: int) -> None:
        self.outcome.status = "failed"
        self.outcome.http_status = http_status
        self.outcome.error_code = failure.code

    def on_piece(self, piece: str | Quiet) -> bytes:
        if isinstance(piece, Quiet):
            self.outcome.heartbeats += 1
            if self.outcome.ttft_s is None:
                self.outcome.heartbeats_before_first_token += 1
            return HEARTBEAT
        if self.outcome.ttft_s is None:
            self.outcome.ttft_s = self.state.clock() - self.started
        self.outcome.tokens_relayed += 1
        return encode_event(TokenEvent(piece))

    async def events(self, first: str | Quiet | Finished) -> AsyncIterator[bytes]:
        piece = first
        try:
            try:
                while not isinstance(piece, Finished):
                    yield self.on_piece(piece)
                    piece = await self.upstream.next(self.state.heartbeat_s)
                if self.upstream.finish_reason is None:
                    raise _Incomplete
            except openai.APIError as exc:
                failure = classify_upstream_error(exc, stream_started=self.upstream.accepted)
                self.fail(failure, 200)
                yield encode_event(failure.event())
                self.ended = True
                return
            except _Incomplete:
                self.fail(_INCOMPLETE, 200)
                yield encode_event(_INCOMPLETE.event())
                self.ended = True
                return
            except Exception:
                _log.exception("streaming relay failed mid-stream")
                self.fail(_INTERNAL, 200)
                yield encode_event(_INTERNAL.event())
                self.ended = True
                return
            bill = self.bill(exact=True)
            assert bill is not None  # a stream that finished was accepted
            yield encode_event(DoneEvent({**bill.usage(), "cost_usd": str(bill.cost_usd)},
                                         self.upstream.finish_reason))
            self.ended = True
        except (asyncio.CancelledError, GeneratorExit):
            self.outcome.status = "client_disconnected"
            raise
        finally:
            await self.close()


class _Incomplete(Exception):
    """The model's stream ended with no finish_reason: a truncation, not an answer."""


async def chat_stream(request: Request) -> Response:
    state: StreamState = request.app.state.stream
    started = state.clock()
    try:
        message = (await read_stream_request(request)).message
    except ApiError as exc:
        state.log(StreamOutcome("rejected", exc.status, state.model, error_code=exc.code,
                                duration_s=state.clock() - started))
        return error_response(exc)

    upstream = UpstreamStream(state.client(), state.model, state.messages_for(message),
                              extra_body=state.extra_body)
    relay = _Relay(state, upstream, started)
    # Hold the status line back until the first token or the first heartbeat: until then, a
    # failure can still be reported as what it is, an HTTP error.
    try:
        first = await upstream.next(state.heartbeat_s)
        if isinstance(first, Finished) and upstream.finish_reason is None:
            raise _Incomplete
    except (openai.APIError, _Incomplete) as exc:
        failure = (_INCOMPLETE if isinstance(exc, _Incomplete)
                   else classify_upstream_error(exc, stream_started=upstream.accepted))
        relay.fail(failure, failure.http_status)
        await relay.close()
        return failure.response()
    except Exception:
        _log.exception("streaming relay failed before the stream started")
        relay.fail(_INTERNAL, _INTERNAL.http_status)
        await relay.close()
        return _INTERNAL.response()
    except BaseException:
        relay.outcome.status = "client_disconnected"
        await relay.close()
        raise
    return _SSEResponse(relay, first)


# -- the page ---------------------------------------------------------------------------------


def _static(name: str, media_type: str) -> Callable[[Request], Any]:
    path = STATIC_DIR / name

    async def serve(request: Request) -> Response:
        return FileResponse(path, media_type=media_type, headers={"cache-control": "no-cache"})

    return serve


# -- the app ----------------------------------------------------------------------------------


def _checked_origins(allowed_origins: Sequence[str]) -> list[str]:
    if isinstance(allowed_origins, str):
        raise TypeError("allowed_origins must be a list of origins, not one string")
    origins = list(allowed_origins)
    for origin in origins:
        if origin == "*":
            raise ValueError(
                "allowed_origins must not contain '*': any web page could then spend your LLM "
                "budget through its visitors' browsers and read the answers. List the origins "
                "of your own front ends, e.g. ['https://support.example.com']."
            )
        if not isinstance(origin, str) or not _ORIGIN.match(origin):
            raise ValueError(
                f"{origin!r} is not an origin: write scheme://host[:port] with no path or "
                "trailing slash (a browser sends 'https://app.example.com', which "
                "'https://app.example.com/' never matches)"
            )
    return origins


def create_stream_app(
    client: ClientSource | None = None,
    tracker: UsageRecorder | None = None,
    *,
    allowed_origins: Sequence[str] = (),
    model: str = "gpt-4o",
    heartbeat_s: float = 15.0,
    system_prompt: str = DEFAULT_SYSTEM_PROMPT,
    extra_body: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The streaming endpoint and its page as an ASGI app (serve it with ``start_stream_server``).

    ``client`` is an ``openai.AsyncOpenAI`` used only by this app, or a function returning one
    (called once, inside the server's event loop); by default ``course_lib.llm``'s client.
    ``tracker`` bills every stream (a fresh ``CostTracker`` by default; it is
    ``app.state.stream.tracker``). ``allowed_origins`` are the other web origins whose pages may
    call the endpoint (the app's own page needs none). ``heartbeat_s`` is the longest silence
    before a ``: ping``. ``extra_body`` is passed to every model request.
    """
    price_for(model)  # an unknown model fails here, not on the first bill
    tokens.encoding_for(model)
    if not heartbeat_s > 0:
        raise ValueError(f"heartbeat_s must be a positive number of seconds, got {heartbeat_s!r}")
    if tracker is None:
        from course_lib.tracker import CostTracker

        tracker = CostTracker()
    if not callable(getattr(tracker, "record_usage", None)):
        raise TypeError(f"tracker must have a record_usage(model, usage) method, got {tracker!r}")
    if client is not None and not (isinstance(client, openai.AsyncOpenAI) or callable(client)):
        raise TypeError("client must be an openai.AsyncOpenAI or a function returning one, got "
                        f"{type(client).__name__}")
    origins = _checked_origins(allowed_origins)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # Closed in the server's own loop, before it stops: a client left for the garbage
        # collector would try to close its connections on a loop that no longer runs.
        await app.state.stream.aclose()

    app = Starlette(
        lifespan=lifespan,
        routes=[
            Route("/", _static("stream.html", "text/html"), methods=["GET"]),
            Route("/stream.js", _static("stream.js", "text/javascript"), methods=["GET"]),
            Route("/stream.css", _static("stream.css", "text/css"), methods=["GET"]),
            Route("/chat/stream", chat_stream, methods=["POST"]),
        ],
        middleware=[Middleware(CORSMiddleware, allow_origins=origins, allow_methods=["POST"],
                               allow_headers=["content-type"], max_age=600)],
        exception_handlers={HTTPException: http_exception, Exception: unexpected_error},
    )
    app.state.stream = StreamState(client, tracker, model, float(heartbeat_s), system_prompt,
                                   extra_body, clock)
    return app
