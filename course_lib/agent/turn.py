"""What one turn of the agent came to: the answer, where it came from, its times and its cost.

Both agents return a :class:`TurnRecord` per user message, and :mod:`course_lib.agent.replay`
summarises a list of them. The fields are the ones a user and a budget feel:

* ``ttft_s``: seconds from the message arriving to the first text on screen. Without streaming,
  the first text *is* the whole answer, so it equals ``total_s``;
* ``total_s``: seconds until the answer is complete (or the turn failed);
* ``tools_s``: the tool phase alone (None when a cached answer skipped it);
* ``model_rounds``: requests to the model that got an answer (two for a turn whose model asked
  for tools: the tool calls, then the text; ``requests_sent`` also counts failed attempts);
* ``cost_usd``: exactly what the turn was billed, from the ``usage`` the endpoint reported
  (zero for a cached answer, and for a failure: failed requests are not billed);
* ``served_from``: ``"model"``, ``"cache"`` (found stored), ``"coalesced"`` (an identical
  request in flight answered it) or ``"failed"``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from course_lib.tools import ToolResult
from course_lib.traffic import TrafficEvent

__all__ = ["ServedFrom", "TurnRecord"]

ServedFrom = Literal["model", "cache", "coalesced", "failed"]


@dataclass(frozen=True)
class TurnRecord:
    """One user message handled by an agent (see the module docstring for each figure)."""

    index: int
    event: TrafficEvent
    served_from: ServedFrom
    total_s: float
    answer: str | None = None
    model: str | None = None  # the model whose answer was shown (None: the turn failed)
    routed_model: str | None = None
    ttft_s: float | None = None
    tools_s: float | None = None
    tool_results: tuple[ToolResult, ...] = ()
    used_fallback: bool = False
    requests_sent: int = 0
    model_rounds: int = 0
    answer_round_s: float | None = None  # the request that wrote the answer, send to last byte
    answer_id: str | None = None  # that request's completion id
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    error: str | None = None

    def __post_init__(self) -> None:
        if (self.served_from == "failed") != (self.answer is None):
            raise ValueError(f"turn {self.index}: served_from={self.served_from!r} but answer "
                             f"is {'missing' if self.answer is None else 'present'}")
        if self.answer is not None and not self.model:
            raise ValueError(f"turn {self.index}: an answer needs the model that gave it")
        first_text_in_time = self.ttft_s is None or 0 <= self.ttft_s <= self.total_s
        if self.total_s < 0 or not first_text_in_time:
            raise ValueError(f"turn {self.index}: need 0 <= ttft_s <= total_s, got "
                             f"ttft_s={self.ttft_s}, total_s={self.total_s}")

    @property
    def ok(self) -> bool:
        return self.served_from != "failed"

    @property
    def called_model(self) -> bool:
        """True when this turn paid for a model call (a cached or coalesced answer did not)."""
        return self.served_from == "model"
