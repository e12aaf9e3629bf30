"""The lesson's Go ``CostTracker`` (``internal/metrics/cost_tracker.go``), ported faithfully.

Kept to show what goes wrong; :class:`course_lib.tracker.CostTracker` is the fix. Every line
below does what the Go code does, including:

1. **Constants 1,000x too small.** ``GPT4oInputCostPerToken = 2500`` is commented "$2.50 / 1M
   tokens → 2500 micro-USD / 1M", but $2.50 is 2,500,000 micro-USD. A 2,100-in / 300-out
   gpt-4o call records ``2100*2500/1_000_000 + 300*10000/1_000_000 = 5 + 3 = 8`` micro-USD
   ($0.000008) instead of $0.00825.
2. **Integer division truncates each call.** Go's ``int64 / int64`` drops the remainder per call,
   so the 0.25 micro-USD above is lost, and a small call (a gpt-4o-mini answer, an embedding)
   rounds to $0 — even after the constants are fixed, an embedding of a short query costs less
   than one micro-USD and is recorded as nothing.
3. **Unknown models cost $0, silently.** The ``switch`` has no ``default``: ``gpt-4o-2024-08-06``
   (the name the API puts in ``response.model``), ``text-embedding-3-small`` or next year's model
   are counted as calls with no cost.
4. **"estimated_monthly" ignores time.** ``avgCost * calls * 30`` is ``totalCost * 30``: the
   lifetime total times 30, whether the tracker has run for two hours or two weeks.
5. **Four atomics are not one record.** Each counter is updated atomically, but not together:
   a ``Summary`` running between ``callCount.Add(1)`` and ``totalCostMicroUSD.Add(cost)`` sees the
   call without its cost.

Go's ``atomic.Int64`` is modelled by :class:`AtomicInt64` (a lock per counter: atomic adds and
loads, nothing more), and Go's truncating division by :func:`go_int_div`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from course_lib.pricing import price_for
from course_lib.tokens import UnknownModelError
from course_lib.tracker import CostTracker

__all__ = [
    "GPT4O_INPUT_COST_PER_TOKEN",
    "GPT4O_MINI_INPUT_COST",
    "GPT4O_MINI_OUTPUT_COST",
    "GPT4O_OUTPUT_COST_PER_TOKEN",
    "AtomicInt64",
    "LessonCostTracker",
    "go_int_div",
    "micro_usd_with_fixed_constants",
    "side_by_side",
]

logger = logging.getLogger(__name__)

# 以 GPT-4o 为基准(单位:微美元,避免浮点累计误差) — "GPT-4o as the baseline (in micro-USD,
# to avoid floating-point accumulation error)". The units are wrong by 1,000x; see above.
GPT4O_INPUT_COST_PER_TOKEN = 2500  # $2.50 / 1M tokens → 2500 micro-USD / 1M → 2.5 micro-USD / 1K
GPT4O_OUTPUT_COST_PER_TOKEN = 10000  # $10.00 / 1M tokens
GPT4O_MINI_INPUT_COST = 150  # $0.15 / 1M tokens
GPT4O_MINI_OUTPUT_COST = 600  # $0.60 / 1M tokens


def go_int_div(numerator: int, denominator: int) -> int:
    """Go's integer division: truncates toward zero (Python's ``//`` floors toward -inf)."""
    quotient = abs(numerator) // abs(denominator)
    return quotient if (numerator >= 0) == (denominator > 0) else -quotient


class AtomicInt64:
    """Go's ``sync/atomic.Int64``: ``add`` and ``load`` are each atomic, and that is all."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def add(self, delta: int) -> int:
        with self._lock:
            self._value += delta
            return self._value

    def load(self) -> int:
        with self._lock:
            return self._value


class LessonCostTracker:
    """``type CostTracker struct`` with ``RecordCall`` and ``Summary``, as the lesson wrote them."""

    def __init__(self) -> None:
        self.total_input_tokens = AtomicInt64()
        self.total_output_tokens = AtomicInt64()
        self.total_cost_micro_usd = AtomicInt64()
        self.call_count = AtomicInt64()

    def record_call(self, model: str, input_tokens: int, output_tokens: int) -> None:
        """``func (ct *CostTracker) RecordCall(model string, inputTokens, outputTokens int)``."""
        self.total_input_tokens.add(input_tokens)
        self.total_output_tokens.add(output_tokens)
        self.call_count.add(1)

        cost = 0
        if model == "gpt-4o":
            cost = (go_int_div(input_tokens * GPT4O_INPUT_COST_PER_TOKEN, 1_000_000)
                    + go_int_div(output_tokens * GPT4O_OUTPUT_COST_PER_TOKEN, 1_000_000))
        elif model == "gpt-4o-mini":
            cost = (go_int_div(input_tokens * GPT4O_MINI_INPUT_COST, 1_000_000)
                    + go_int_div(output_tokens * GPT4O_MINI_OUTPUT_COST, 1_000_000))
        # No default branch in the Go switch: any other model costs 0, silently.
        self.total_cost_micro_usd.add(cost)

        logger.info("llm call recorded", extra={
            "model": model,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost_usd": cost / 1_000_000,
        })

    def summary(self) -> dict[str, Any]:
        """``func (ct *CostTracker) Summary() map[string]any``, float64 and all."""
        calls = self.call_count.load()
        total_cost = self.total_cost_micro_usd.load()
        avg_cost = 0.0
        if calls > 0:
            avg_cost = float(total_cost) / float(calls) / 1_000_000
        return {
            "total_calls": calls,
            "total_input_tokens": self.total_input_tokens.load(),
            "total_output_tokens": self.total_output_tokens.load(),
            "total_cost_usd": float(total_cost) / 1_000_000,
            "avg_cost_per_call": avg_cost,
            "estimated_monthly": avg_cost * float(calls) * 30,  # 简单外推 (a simple extrapolation)
        }


def micro_usd_with_fixed_constants(model: str, input_tokens: int, output_tokens: int) -> int:
    """What ``RecordCall`` would record with its constants fixed: the price table's USD per 1M
    tokens written in micro-dollars (2.50 -> 2,500,000), still integer micro-dollars per call,
    still truncated by Go's division."""
    price = price_for(model)
    per_input, per_output = int(price.input * 1_000_000), int(price.output * 1_000_000)
    return (go_int_div(input_tokens * per_input, 1_000_000)
            + go_int_div(output_tokens * per_output, 1_000_000))


def side_by_side(calls: Iterable[tuple[str, int, int]]
                 ) -> dict[str, tuple[float, Decimal | None]]:
    """Each ``(model, input_tokens, output_tokens)`` call recorded alone by both trackers:
    model -> (the lesson's ``total_cost_usd``, :class:`~course_lib.tracker.CostTracker`'s cost,
    or None where it refuses a model it cannot price)."""
    rows: dict[str, tuple[float, Decimal | None]] = {}
    for model, input_tokens, output_tokens in calls:
        port = LessonCostTracker()
        port.record_call(model, input_tokens, output_tokens)
        try:
            ours: Decimal | None = CostTracker().record_call(
                model, input_tokens, output_tokens).cost_usd
        except UnknownModelError:
            ours = None
        rows[model] = (port.summary()["total_cost_usd"], ours)
    return rows
