"""The model's side of a relayed stream: read it piece by piece, wait with a deadline, cancel it.

An endpoint that relays a model's stream needs three things the plain ``async for chunk in
stream`` loop does not give it:

* **waiting with a deadline without losing data.** To send a heartbeat when the model is quiet,
  the endpoint waits for the next piece for at most a few seconds. ``asyncio.wait_for`` would
  *cancel* the read when the time is up, and a cancelled read of an HTTP body can lose the bytes
  it was in the middle of. So the read runs as a task that outlives the wait, and the next wait
  picks up the same task (``asyncio.wait`` with a timeout never cancels).
* **the text received so far**, to bill the stream if its usage chunk never comes.
* **cancellation that reaches the model.** :meth:`UpstreamStream.aclose` closes the ``openai``
  stream, which closes its HTTP connection; the provider sees the client leave and stops
  generating, so a user who closes the tab stops the bill from growing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import openai

__all__ = ["QUIET", "Finished", "Quiet", "UpstreamStream"]


class Quiet:
    """Nothing arrived within the deadline (the read goes on)."""


QUIET = Quiet()


@dataclass(frozen=True)
class Finished:
    """The model's stream ended normally (after its last chunk)."""


class UpstreamStream:
    """One streamed chat completion from an ``openai.AsyncOpenAI`` client, read token by token.

    ``extra_body`` goes to the request unchanged (the sandbox reads
    ``{"sandbox": {"answer_tokens": N}}`` from it). Usage is always requested: without
    ``include_usage`` a stream cannot be billed.
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.messages = [dict(m) for m in messages]
        self.accepted = False  # True once the provider answered 200 and started the stream
        self.answered_as: str | None = None  # the dated snapshot named in the chunks
        self.upstream_id: str | None = None
        self.finish_reason: str | None = None
        self.usage: Any = None
        self._client = client
        self._extra_body = dict(extra_body) if extra_body else None
        self._received: list[str] = []
        self._stream: openai.AsyncStream[Any] | None = None
        self._tokens = self._read()
        self._pending: asyncio.Task[str] | None = None
        self._closed = False

    @property
    def received_text(self) -> str:
        """The answer text received so far."""
        return "".join(self._received)

    async def _read(self) -> AsyncIterator[str]:
        self._stream = await self._client.chat.completions.create(
            model=self.model,
            messages=self.messages,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            extra_body=self._extra_body,
        )
        self.accepted = True
        async for chunk in self._stream:
            self.answered_as = chunk.model or self.answered_as
            self.upstream_id = chunk.id or self.upstream_id
            if chunk.usage is not None:
                self.usage = chunk.usage
            for choice in chunk.choices:
                if choice.finish_reason is not None:
                    self.finish_reason = choice.finish_reason
                # The first chunk carries only the role (content ""): not a token yet.
                if choice.delta.content:
                    self._received.append(choice.delta.content)
                    yield choice.delta.content

    async def next(self, timeout: float | None) -> str | Quiet | Finished:
        """The next piece of text; :data:`QUIET` if none within ``timeout`` s; or :class:`Finished`.

        Errors of the model's stream (``openai.APIError`` and its subclasses) are raised here.
        """
        if self._closed:
            raise RuntimeError("the upstream stream is closed")
        if self._pending is None:
            self._pending = asyncio.ensure_future(anext(self._tokens))
        done, _ = await asyncio.wait({self._pending}, timeout=timeout)
        if not done:
            return QUIET
        task, self._pending = self._pending, None
        try:
            return task.result()
        except StopAsyncIteration:
            return Finished()

    async def aclose(self) -> None:
        """Stop reading and close the connection to the model, so it stops generating."""
        if self._closed:
            return
        self._closed = True
        if self._pending is not None:
            self._pending.cancel()
            # The read ends either cancelled or with the error that was racing the cancel; both
            # are expected here, and neither should escape a close.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pending
        with contextlib.suppress(Exception):
            await self._tokens.aclose()
        if self._stream is not None:
            await self._stream.close()
