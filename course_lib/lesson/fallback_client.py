"""The lesson's ``FallbackClient`` (``internal/llm/fallback_client.go``), ported faithfully.

The Go original, line for line::

    func (fc *FallbackClient) Generate(ctx context.Context, req *GenerateRequest) (...) {
        primaryCtx, cancel := context.WithTimeout(ctx, fc.timeout)  // the primary gets a timeout
        defer cancel()
        resp, err := fc.primary.Generate(primaryCtx, req)
        if err == nil {
            return resp, nil
        }
        slog.Warn("primary model failed, falling back", "error", err, "primary_model", req.Model)
        fallbackReq := *req
        fallbackReq.Model = "gpt-4o-mini"                  // downgrade to the small model
        resp, err = fc.secondary.Generate(ctx, &fallbackReq)
        if err != nil {
            return nil, fmt.Errorf("both primary and secondary models failed: %w", err)
        }
        resp.Metadata = map[string]string{"used_fallback": "true", ...}
        return resp, nil
    }

Go's ``context.Context`` is ported just far enough to keep its behaviour: cancellation and a
deadline, inherited by child contexts, reported as an *error value* (``ctx.Err()``) like any
other error. That is the root of two of the traps below.

What goes wrong (notebook 06 demonstrates each; :mod:`course_lib.fallback` is the fix):

1. **It falls back on errors that cannot succeed anywhere.** A 400 (bad parameter) or 401 (bad
   key) fails on the secondary too: twice the latency, and the error blames both models for the
   caller's bug.
2. **It falls back when the caller itself cancelled.** ``context canceled`` is just an ``err``:
   the warning "primary model failed" is logged, a fallback is counted, and the secondary is
   asked (it refuses only because its context is already done).
3. **The secondary has no deadline.** It runs under the caller's ``ctx``, not a timeout context:
   if the caller set no deadline, a hanging secondary holds the request for as long as the
   server or the HTTP client's defaults allow.
4. **The model is hard-coded.** ``"gpt-4o-mini"`` whatever the secondary is (another provider, a
   self-hosted model), and even when the primary request already *was* gpt-4o-mini: then the
   "fallback" asks the same failing model again.
5. **No retry, no memory.** One 503 blip downgrades the answer; a primary that is down is still
   tried (and waited for) on every request.
6. If its ``LLMClient`` is built on openai-python with default settings, the SDK's own two
   retries run inside each ``Generate``: retries stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

__all__ = [
    "Canceled",
    "Context",
    "ContextError",
    "DeadlineExceeded",
    "FallbackClient",
    "GenerateRequest",
    "GenerateResponse",
    "LLMClient",
    "OpenAILLMClient",
    "background",
    "with_cancel",
    "with_timeout",
]

log = logging.getLogger(__name__)


class ContextError(Exception):
    """What Go's ``ctx.Err()`` returns once a context is done."""


class Canceled(ContextError):
    def __init__(self) -> None:
        super().__init__("context canceled")


class DeadlineExceeded(ContextError):
    def __init__(self) -> None:
        super().__init__("context deadline exceeded")


class Context:
    """Go's ``context.Context``, reduced to what the lesson uses: cancel, deadline, children."""

    def __init__(self, parent: Context | None = None, deadline: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._parent = parent
        self._clock = parent._clock if parent is not None else clock
        inherited = parent.deadline() if parent is not None else None
        candidates = [d for d in (inherited, deadline) if d is not None]
        self._deadline = min(candidates) if candidates else None
        self._cancelled = asyncio.Event()
        self._children: list[Context] = []
        if parent is not None:
            parent._children.append(self)
            if parent._cancelled.is_set():
                self._cancelled.set()

    def deadline(self) -> float | None:
        """When this context expires, on its clock (None: never)."""
        return self._deadline

    def err(self) -> ContextError | None:
        """``Canceled``, ``DeadlineExceeded``, or None while the context is live."""
        if self._cancelled.is_set():
            return Canceled()
        if self._deadline is not None and self._clock() >= self._deadline:
            return DeadlineExceeded()
        return None

    async def done(self) -> None:
        """Wait until the context is cancelled or its deadline passes (Go's ``<-ctx.Done()``)."""
        remaining = None if self._deadline is None else max(0.0, self._deadline - self._clock())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cancelled.wait(), remaining)

    def _cancel(self) -> None:
        self._cancelled.set()
        for child in self._children:
            child._cancel()


def background() -> Context:
    """Go's ``context.Background()``: never cancelled, no deadline."""
    return Context()


def with_cancel(parent: Context) -> tuple[Context, Callable[[], None]]:
    """Go's ``context.WithCancel``."""
    child = Context(parent)
    return child, child._cancel


def with_timeout(parent: Context, seconds: float) -> tuple[Context, Callable[[], None]]:
    """Go's ``context.WithTimeout``."""
    child = Context(parent, deadline=parent._clock() + seconds)
    return child, child._cancel


@dataclass
class GenerateRequest:
    """The lesson's ``GenerateRequest`` (its fields are not shown; these are the ones used)."""

    model: str
    messages: list[dict[str, Any]]
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerateResponse:
    content: str
    model: str
    usage: Any = None
    metadata: dict[str, str] | None = None


class LLMClient(Protocol):
    """The lesson's ``LLMClient`` interface: ``Generate(ctx, req) (*GenerateResponse, error)``;
    in Python an error is raised instead of returned."""

    async def generate(self, ctx: Context, req: GenerateRequest) -> GenerateResponse: ...


class OpenAILLMClient:
    """An ``LLMClient`` over ``openai.AsyncOpenAI``, honouring ``ctx`` the way Go's net/http
    does: a done context fails before anything is sent, and ends a request in flight.

    ``calls`` counts ``generate`` calls (including those refused for a done context).
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0

    async def generate(self, ctx: Context, req: GenerateRequest) -> GenerateResponse:
        self.calls += 1
        if (err := ctx.err()) is not None:
            raise err
        extra = dict(req.extra)
        if req.max_tokens is not None:
            extra["max_tokens"] = req.max_tokens
        request = asyncio.ensure_future(self._client.chat.completions.create(
            model=req.model, messages=req.messages, **extra))
        ctx_done = asyncio.ensure_future(ctx.done())
        try:
            await asyncio.wait({request, ctx_done}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ctx_done.cancel()
            if not request.done():
                request.cancel()
                with contextlib.suppress(BaseException):
                    await request
        if request.cancelled():
            raise ctx.err() or Canceled()
        response = request.result()
        return GenerateResponse(response.choices[0].message.content or "", req.model,
                                response.usage)


class FallbackClient:
    """``NewFallbackClient(primary, secondary, timeout)``: the lesson's code, bugs included."""

    def __init__(self, primary: LLMClient, secondary: LLMClient, timeout: float) -> None:
        self.primary = primary
        self.secondary = secondary
        self.timeout = timeout

    async def generate(self, ctx: Context, req: GenerateRequest) -> GenerateResponse:
        # Give the primary a context with a timeout.
        primary_ctx, cancel = with_timeout(ctx, self.timeout)
        try:
            try:
                return await self.primary.generate(primary_ctx, req)
            except Exception as err:
                # The primary failed: log it and switch.
                log.warning("primary model failed, falling back error=%r primary_model=%s",
                            str(err), req.model)
            # Switch to the backup model, under the caller's ctx: no timeout of its own.
            fallback_req = replace(req)
            fallback_req.model = "gpt-4o-mini"  # downgrade to the small model
            try:
                resp = await self.secondary.generate(ctx, fallback_req)
            except Exception as err:
                raise RuntimeError(f"both primary and secondary models failed: {err}") from err
            resp.metadata = {"used_fallback": "true", "reason": "primary model unavailable"}
            return resp
        finally:
            cancel()  # Go's `defer cancel()`
