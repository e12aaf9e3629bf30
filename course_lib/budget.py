"""The budget guard: on a real endpoint, no request is sent that could take the bill past a budget.

The course sends a few hundred small requests; on a real key that is cents. But a loop with a
bug, or a model answering at length, can make it dollars, so every request the course sends to
a real endpoint is priced twice:

* **before** it is sent, at its *worst case*: the input tokens counted
  (:func:`course_lib.tokens.count_chat_tokens`) times the input price, plus the most output
  tokens it may produce (its ``max_tokens``/``max_completion_tokens``, or
  :data:`DEFAULT_OUTPUT_CAP` when it sets none) times the output price. If what was spent, plus
  what requests still in flight may spend, plus this worst case is more than the budget, the
  request is **not sent**: :class:`BudgetExceeded` says what was spent, this request's worst
  case, the budget and how to raise it;
* **after** the answer, at what it really cost: its ``usage`` (a stream's usage chunk, with
  ``stream_options={"include_usage": True}``; a stream without one is billed at its worst
  case, since nothing says what it cost). A failed request (4xx/5xx) costs nothing.

Prices are :mod:`course_lib.pricing`'s, by the name the server is sent (the model map's price
for a mapped model, :mod:`course_lib.model_map`). A model without a price is **allowed**, with
one warning per model (:class:`UnpricedModelWarning`): the guard cannot count what it cannot
price, and it does not invent a price. Give one in ``COURSE_MODELS`` (``@0/0`` for a server you
do not pay per token) and it is counted again.

The budget is ``COURSE_BUDGET_USD`` (default :data:`DEFAULT_BUDGET_USD`), read at every request,
so raising it in a running notebook takes effect at once; the spending is per process (one
kernel). The sandbox is never billed or blocked: only clients for a real endpoint have a guard.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal, InvalidOperation
from typing import Any, Literal

from course_lib import pricing, tokens
from course_lib.cost_model import format_usd
from course_lib.models import UnknownModelError
from course_lib.tracker import CostTracker

__all__ = [
    "DEFAULT_BUDGET_USD",
    "DEFAULT_OUTPUT_CAP",
    "ENV_VAR",
    "Budget",
    "BudgetExceeded",
    "RequestKind",
    "Reservation",
    "UnpricedModelWarning",
    "WorstCase",
    "budget_limit",
    "current_budget",
    "reset_budget",
    "worst_case",
]

ENV_VAR = "COURSE_BUDGET_USD"
DEFAULT_BUDGET_USD = Decimal("0.25")
# The output tokens a request without max_tokens is assumed to produce at worst. It is a
# bound the guard states, not the model's limit: an answer longer than this is billed at its
# real usage afterwards.
DEFAULT_OUTPUT_CAP = 4096

RequestKind = Literal["chat", "embeddings"]


class BudgetExceeded(RuntimeError):
    """A request was not sent: it could have taken the spending past ``COURSE_BUDGET_USD``."""


class UnpricedModelWarning(UserWarning):
    """Requests to a model without a price are sent, but the budget cannot count them."""


def budget_limit() -> Decimal:
    """``COURSE_BUDGET_USD`` as a Decimal (unset: the default); a bad value is a clear error."""
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_BUDGET_USD
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{ENV_VAR} must be a number of US dollars, got {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{ENV_VAR} must be a non-negative number of US dollars, got {raw!r}")
    return value


@dataclass(frozen=True)
class WorstCase:
    """The most one request may cost: its input tokens and the most output tokens it may
    produce (``output_bound`` says where that number comes from). ``cost_usd`` None: the
    server's model has no price."""

    model: str
    input_tokens: int
    output_tokens: int
    output_bound: str
    cost_usd: Decimal | None
    input_price: Decimal | None = None
    output_price: Decimal | None = None

    def explain(self) -> str:
        if self.cost_usd is None:
            return f"{self.model} has no price"
        # Rounded up, as every amount the guard states: a bound never looks smaller than it is.
        text = (f"{self.input_tokens:,} input tokens at "
                f"{format_usd(self.input_price or 0, round_up=True)} per 1M")
        if self.output_bound != "embeddings":
            text += (f" + {self.output_tokens:,} output tokens ({self.output_bound}) at "
                     f"{format_usd(self.output_price or 0, round_up=True)} per 1M")
        return f"{text}, on {self.model}"


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


def _chat_input_tokens(body: Mapping[str, Any], count_as: str, size: int) -> int:
    try:
        return tokens.count_chat_tokens(body.get("messages") or [], count_as,
                                        tools=body.get("tools") or None)
    except (TypeError, ValueError, KeyError):
        # A body the counter cannot read: its size in bytes bounds its tokens (a token is at
        # least one byte of text) and the server will say what is wrong with it.
        return size


def _embedding_input_tokens(body: Mapping[str, Any], count_as: str, size: int) -> int:
    value = body.get("input")
    items = [value] if isinstance(value, str) or (
        isinstance(value, list) and value and isinstance(value[0], int)) else value
    if not isinstance(items, list):
        return size
    total = 0
    for item in items:
        if isinstance(item, str):
            total += tokens.count_tokens(item, count_as)
        elif isinstance(item, list):
            total += len(item)
        else:
            return size
    return total


def worst_case(endpoint: RequestKind, body: Mapping[str, Any], *, model: str, count_as: str,
               size: int) -> WorstCase:
    """The worst case of one request ``body`` to ``model`` (the name the server is sent),
    its tokens counted with ``count_as``'s tokenizer; ``size`` is the body's length in bytes."""
    if endpoint == "embeddings":
        input_tokens = _embedding_input_tokens(body, count_as, size)
        output_tokens, bound = 0, "embeddings"
    else:
        input_tokens = _chat_input_tokens(body, count_as, size)
        choices = _positive_int(body.get("n")) or 1
        for name in ("max_completion_tokens", "max_tokens"):
            limit = _positive_int(body.get(name))
            if limit is not None:
                output_tokens, bound = limit * choices, name
                break
        else:
            output_tokens = DEFAULT_OUTPUT_CAP * choices
            bound = f"no max_tokens: the guard's cap of {DEFAULT_OUTPUT_CAP:,}"
        if choices > 1:
            bound += f", x{choices} choices"
    try:
        price = pricing.price_for(model)
    except UnknownModelError:
        return WorstCase(model, input_tokens, output_tokens, bound, None)
    cost = pricing.cost_usd(model, input_tokens, output_tokens)
    return WorstCase(model, input_tokens, output_tokens, bound, cost, price.input, price.output)


class Reservation:
    """One admitted request: its worst case is held until :meth:`settle` or :meth:`release`."""

    def __init__(self, budget: Budget, worst: WorstCase) -> None:
        self._budget = budget
        self.worst = worst
        self._open = True

    def settle(self, usage: Mapping[str, Any] | None) -> None:
        """Bill the request: its usage report, or its worst case when there is none."""
        self._budget._settle(self, usage)

    def release(self) -> None:
        """The request cost nothing (it failed, or never reached the server)."""
        self._budget._release(self)


class Budget:
    """What this process has spent on a real endpoint, and the gate each request passes.

    ``limit_usd`` None reads ``COURSE_BUDGET_USD`` at every request. Spending is recorded in a
    :class:`course_lib.tracker.CostTracker` (:attr:`tracker`), by the server's model name.
    """

    def __init__(self, limit_usd: Decimal | None = None) -> None:
        self._limit = limit_usd
        self.tracker = CostTracker()
        self._lock = threading.Lock()
        self._reserved = Decimal(0)
        self._warned: set[str] = set()
        self.unpriced_requests = 0

    @property
    def limit_usd(self) -> Decimal:
        return budget_limit() if self._limit is None else self._limit

    @property
    def spent_usd(self) -> Decimal:
        return self.tracker.summary()["total_cost_usd"]

    @property
    def reserved_usd(self) -> Decimal:
        with self._lock:
            return self._reserved

    def admit(self, worst: WorstCase) -> Reservation:
        """Let the request go (holding its worst case), or raise :class:`BudgetExceeded`."""
        if worst.cost_usd is None:
            self._warn_unpriced(worst.model)
            with self._lock:
                self.unpriced_requests += 1
            return Reservation(self, worst)
        limit = self.limit_usd
        with self._lock:
            spent = self.spent_usd
            if spent + self._reserved + worst.cost_usd > limit:
                raise BudgetExceeded(self._refusal(worst, spent, self._reserved, limit))
            self._reserved += worst.cost_usd
        return Reservation(self, worst)

    def _refusal(self, worst: WorstCase, spent: Decimal, reserved: Decimal, limit: Decimal
                 ) -> str:
        assert worst.cost_usd is not None
        needed = spent + reserved + worst.cost_usd
        suggestion = max(limit * 2, needed).quantize(Decimal("0.01"), rounding=ROUND_UP)
        in_flight = (f" (+ {format_usd(reserved, round_up=True)} held by requests in flight)"
                     if reserved else "")
        return (f"Budget guard: this request was not sent. Its worst case is "
                f"{format_usd(worst.cost_usd, round_up=True)} ({worst.explain()}); "
                f"{format_usd(spent, round_up=True)} spent so far{in_flight}; together that is "
                f"more than the budget of {format_usd(limit, round_up=True)} ({ENV_VAR}). To go "
                "on, raise the budget, e.g. "
                f"{ENV_VAR}={suggestion} in the environment, or "
                f'os.environ["{ENV_VAR}"] = "{suggestion}" in the notebook, and run the cell '
                "again.")

    def _warn_unpriced(self, model: str) -> None:
        with self._lock:
            if model in self._warned:
                return
            self._warned.add(model)
        warnings.warn(
            f"{model} has no price, so the budget guard cannot count what its requests cost: "
            f"they are sent, and not added to the {ENV_VAR} budget. Give it a price in "
            f"COURSE_MODELS: ...={model}@INPUT/OUTPUT in USD per 1M tokens (@INPUT for an "
            "embedding model; @0/0 for a server you do not pay per token).",
            UnpricedModelWarning, stacklevel=3)

    def _settle(self, reservation: Reservation, usage: Mapping[str, Any] | None) -> None:
        worst = reservation.worst
        with self._lock:
            if not reservation._open:
                return
            reservation._open = False
            if worst.cost_usd is None:
                return
            self._reserved -= worst.cost_usd
            if usage is not None:
                self.tracker.record_usage(worst.model, usage)
            else:
                self.tracker.record_call(worst.model, worst.input_tokens, worst.output_tokens)

    def _release(self, reservation: Reservation) -> None:
        with self._lock:
            if reservation._open and reservation.worst.cost_usd is not None:
                self._reserved -= reservation.worst.cost_usd
            reservation._open = False


_current: Budget | None = None
_current_lock = threading.Lock()


def current_budget() -> Budget:
    """The budget of this process (one kernel), created on first use."""
    global _current
    with _current_lock:
        if _current is None:
            _current = Budget()
        return _current


def reset_budget() -> Budget:
    """Forget what this process spent (a test, or a new course run in the same kernel)."""
    global _current
    with _current_lock:
        _current = Budget()
        return _current
