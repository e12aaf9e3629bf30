"""What a fallback call reports: who answered, after what, and how long it took.

The lesson's client marks a fallback answer with ``Metadata{"used_fallback": "true"}`` and
drops everything else. To operate a chain you need more: which model answered (quality and
price differ), how many requests it took (each failed one still costs latency, and rate-limit
quota), which errors were seen (a dashboard of 429s vs 503s tells you whether to buy quota or
change provider), and the total latency the user felt.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

from course_lib.fallback.failures import Failure, LinkAttempt
from course_lib.pricing import usage_cost_usd

__all__ = ["FallbackResult"]

ResponseT = TypeVar("ResponseT")


@dataclass(frozen=True)
class FallbackResult(Generic[ResponseT]):
    """The answer, and how the chain got it."""

    response: ResponseT
    link: str
    model: str
    link_index: int
    attempts: tuple[LinkAttempt, ...]
    latency_s: float

    @property
    def used_fallback(self) -> bool:
        """True when a link other than the first one answered."""
        return self.link_index > 0

    @property
    def requests_sent(self) -> int:
        """Requests that reached a provider (skipped links sent none)."""
        return sum(1 for a in self.attempts if a.outcome != "skipped")

    @property
    def errors(self) -> tuple[Failure, ...]:
        return tuple(a.failure for a in self.attempts if a.failure is not None)

    @property
    def content(self) -> str | None:
        """The answer text of a chat completion."""
        return self.response.choices[0].message.content  # type: ignore[attr-defined]

    def cost_usd(self) -> Decimal:
        """What the answering request costs.

        Requests that ended in an error status are not billed; one that *we* timed out may
        still be, if the provider finished it anyway, and no client can see that charge.
        """
        return usage_cost_usd(self.model, getattr(self.response, "usage", None))

    def describe(self) -> str:
        who = self.link if self.link == self.model else f"{self.link} ({self.model})"
        lines = [f"answered by {who} after {self.requests_sent} request(s) "
                 f"in {self.latency_s * 1000:.0f} ms"]
        lines += [f"  {a.describe()}" for a in self.attempts]
        return "\n".join(lines)
