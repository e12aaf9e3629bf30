"""Streams and fallbacks: a stream can fall back only until its first token reaches the caller.

The lesson's interview question puts it well: once a stream has sent ``200 OK`` and its first
token, the HTTP status cannot change any more. The same holds one level up. Before the first
token, a failed stream is like any failed request: retry it, or fall back to the next link,
and the user never knows. After it, the user has read half a sentence from one model; switching
silently would splice another model's answer onto it (or repeat its beginning). So:

* the chain opens the stream and reads until the first chunk that carries output (text, a tool
  call or a refusal); failures up to that point go through the ordinary retry/fallback rules,
  and chunks read so far are held back;
* from then on the stream is *committed*: a failure raises :class:`StreamInterruptedError`
  with the text received, and the caller decides (show an error event, offer to regenerate).

``FallbackClient.stream(...)`` returns only once the stream is committed, so the caller knows
which model is answering before showing anything. The time to first token is measured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from course_lib.fallback.failures import LinkAttempt, StreamInterruptedError
from course_lib.pricing import usage_cost_usd

__all__ = ["AsyncFallbackStream", "FallbackStream", "carries_output"]


def carries_output(chunk: Any) -> bool:
    """Does this chunk show the user something (text, a tool call, a refusal)?"""
    for choice in getattr(chunk, "choices", None) or ():
        delta = getattr(choice, "delta", None)
        if delta is not None and (delta.content or delta.tool_calls or
                                  getattr(delta, "refusal", None)):
            return True
    return False


class _CommittedStream:
    """Bookkeeping shared by the sync and async streams."""

    def __init__(
        self,
        *,
        buffered: Sequence[Any],
        link: str,
        model: str,
        link_index: int,
        attempts: Sequence[LinkAttempt],
        started_at: float,
        clock: Callable[[], float],
        on_broken: Callable[[], None],
    ) -> None:
        self.link = link
        self.model = model
        self.link_index = link_index
        self.attempts = tuple(attempts)
        self._buffered = list(buffered)
        self._started_at = started_at
        self._clock = clock
        self._on_broken = on_broken
        self.time_to_first_token_s = clock() - started_at
        self.latency_s: float | None = None
        self.usage: Any = None
        self._pieces: list[str] = []

    @property
    def used_fallback(self) -> bool:
        return self.link_index > 0

    @property
    def text(self) -> str:
        """The answer text received so far."""
        return "".join(self._pieces)

    def cost_usd(self) -> Decimal:
        """The exact price of the streamed answer (needs ``include_usage``, which the chain
        sets unless the request says otherwise)."""
        return usage_cost_usd(self.model, self.usage)

    def _seen(self, chunk: Any) -> Any:
        for choice in getattr(chunk, "choices", None) or ():
            if choice.delta is not None and choice.delta.content:
                self._pieces.append(choice.delta.content)
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        return chunk

    def _finished(self) -> None:
        self.latency_s = self._clock() - self._started_at

    def _interrupted(self, error: BaseException) -> StreamInterruptedError:
        self._on_broken()
        self._finished()
        return StreamInterruptedError(
            f"the stream from {self.link} failed after its first token "
            f"({len(self.text)} characters sent to the caller); not falling back: "
            f"{type(error).__name__}: {error}",
            self.attempts, link=self.link, model=self.model, text_received=self.text,
        )


class FallbackStream(_CommittedStream):
    """A committed stream (sync): iterate it for the chunks; it never falls back any more."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stream = stream

    def __iter__(self) -> Iterator[Any]:
        while self._buffered:
            yield self._seen(self._buffered.pop(0))
        try:
            for chunk in self._stream:
                yield self._seen(chunk)
        except Exception as error:
            raise self._interrupted(error) from error
        self._finished()

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> FallbackStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncFallbackStream(_CommittedStream):
    """A committed stream (async): ``async for`` the chunks; it never falls back any more."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[Any]:
        while self._buffered:
            yield self._seen(self._buffered.pop(0))
        try:
            async for chunk in self._stream:
                yield self._seen(chunk)
        except Exception as error:
            raise self._interrupted(error) from error
        self._finished()

    async def close(self) -> None:
        await self._stream.close()

    async def __aenter__(self) -> AsyncFallbackStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
