"""What a stream costs: exact when the provider says so, counted here when it cannot.

With ``stream_options={"include_usage": True}`` the provider ends a stream with one extra chunk
(``choices: []``) whose ``usage`` is the exact bill. The lesson's handler never asks for it, so
it cannot bill a stream at all. Even when asked, that chunk comes *last*, so three kinds of
stream never see it:

* the user closed the tab (the endpoint cancels the model, and the bill stops growing — but the
  tokens generated so far are paid for);
* the model's stream broke off mid-answer;
* a provider that ignores ``include_usage``.

For those the endpoint counts the bill itself, with the same rules the provider uses: the prompt
with :func:`course_lib.tokens.count_chat_tokens`, the answer received so far with
:func:`course_lib.tokens.count_tokens`, and marks the figure ``estimated``. It is a slight
*under*-estimate: tokens the model generated that were still in flight when the stream was
closed are billed by the provider but never seen here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from course_lib import tokens
from course_lib.pricing import cost_usd, usage_tokens

__all__ = ["StreamBill", "UsageRecorder", "estimated_bill", "exact_bill"]


class UsageRecorder(Protocol):
    """Anything that bills a call from a usage report: :class:`course_lib.tracker.CostTracker`."""

    def record_usage(self, model: str, usage: Any) -> Any: ...


@dataclass(frozen=True)
class StreamBill:
    """The tokens one stream is billed for, and whether they were reported or counted here."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    estimated: bool

    @property
    def cost_usd(self) -> Decimal:
        return cost_usd(self.model, self.prompt_tokens, self.completion_tokens,
                        self.cached_tokens)

    def usage(self) -> dict[str, Any]:
        """The bill as a usage report (the shape ``CostTracker.record_usage`` reads)."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
            "estimated": self.estimated,
        }

    def record(self, recorder: UsageRecorder) -> None:
        recorder.record_usage(self.model, self.usage())


def exact_bill(model: str, usage: Any) -> StreamBill:
    """The bill the provider reported in the stream's usage chunk."""
    return StreamBill(model, *usage_tokens(usage), estimated=False)


def estimated_bill(model: str, messages: Sequence[Mapping[str, Any]], received: str
                   ) -> StreamBill:
    """The bill counted here: the prompt as sent, plus the answer text received so far."""
    return StreamBill(
        model,
        tokens.count_chat_tokens(messages, model),
        tokens.count_tokens(received, model) if received else 0,
        0,  # which prompt tokens the provider served from its cache is only known to it
        estimated=True,
    )
