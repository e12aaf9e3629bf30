"""Time a chat completion the way a user feels it: first text, and all text.

Without streaming, the user sees nothing until the whole answer exists, so the time to the
first text *is* the total time. With streaming, the first text arrives after the model's time
to first token (reading the prompt), and the rest follows at the model's generation speed::

    streamed:      |--ttft--|tok tok tok tok tok ... tok|
    not streamed:  |--ttft--|.......generating.........|ALL

So the share of the wait that streaming removes from the *first* text is

    1 - ttft / (ttft + answer_tokens / tokens_per_second)

which grows with the length of the answer: nothing for a one-word reply, most of the wait for
a long one. The lesson's "首字延迟↓80%" (first-token latency down 80%) is one point on that
curve, not a constant.

Each :class:`CompletionTiming` also reports the field's names for the same measurement
(``.latency``: TTFT, TPOT, ITL and e2e, by :mod:`course_lib.streaming.latency_metrics`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai

from course_lib.streaming.latency_metrics import RequestLatency, request_latency

__all__ = ["CompletionTiming", "time_completion", "ttft_reduction"]


@dataclass(frozen=True)
class CompletionTiming:
    """When the first and the last text of one completion reached the caller."""

    streamed: bool
    total_s: float  # until the call returned (a stream: after its usage chunk and [DONE])
    token_times_s: tuple[float, ...]  # arrival of each piece of text (one entry if not streamed)
    completion_tokens: int
    text: str

    @property
    def ttft_s(self) -> float:
        """The first visible text; equals ``total_s`` without streaming."""
        return self.token_times_s[0]

    @property
    def latency(self) -> RequestLatency:
        """TTFT, TPOT, ITL and e2e of this call (see :mod:`~course_lib.streaming.latency_metrics`).

        Not streamed, the whole answer is one arrival: TTFT = e2e, and TPOT is 0.
        """
        return request_latency(self.token_times_s, self.completion_tokens)


def ttft_reduction(ttft_s: float, total_s: float) -> float:
    """The share of the wait for the first text that streaming removes (0.8 = "↓80%")."""
    if not 0 < ttft_s <= total_s:
        raise ValueError(f"need 0 < ttft_s <= total_s, got ttft_s={ttft_s}, total_s={total_s}")
    return 1 - ttft_s / total_s


def time_completion(
    client: openai.OpenAI,
    *,
    stream: bool,
    clock: Callable[[], float] = time.perf_counter,
    **create_kwargs: Any,
) -> CompletionTiming:
    """Run one chat completion through the official client and time what the caller sees.

    ``create_kwargs`` go to ``client.chat.completions.create`` (``model``, ``messages``,
    ``extra_body`` ...). Streamed calls ask for usage, so the completion is counted exactly.
    """
    started = clock()
    if not stream:
        response = client.chat.completions.create(stream=False, **create_kwargs)
        total = clock() - started
        text = response.choices[0].message.content or ""
        tokens = response.usage.completion_tokens if response.usage else 0
        return CompletionTiming(False, total, (total,), tokens, text)
    times: list[float] = []
    pieces: list[str] = []
    tokens = 0
    with client.chat.completions.create(stream=True, stream_options={"include_usage": True},
                                        **create_kwargs) as chunks:
        for chunk in chunks:
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens
            for choice in chunk.choices:
                if choice.delta.content:
                    times.append(clock() - started)
                    pieces.append(choice.delta.content)
    total = clock() - started
    if not times:
        raise ValueError("the streamed completion carried no text to time")
    return CompletionTiming(True, total, tuple(times), tokens, "".join(pieces))
