"""A notebook's request plan: how many requests it will send the endpoint, and their price.

A learner with a real key should know what a notebook costs **before** running it. Each
notebook that calls the endpoint lists the requests it is about to send, and the plan prices
them the way the budget guard will (:func:`course_lib.budget.worst_case`): the input tokens
counted, plus the most output tokens each request may produce (its ``max_tokens``, or the
guard's cap when it sets none), at the list prices of :mod:`course_lib.pricing`::

    plan = RequestPlan()
    plan.chat("gpt-4o-mini", messages, max_tokens=300, times=20)
    plan.embeddings("text-embedding-3-small", texts)
    print(plan)
    # 21 requests to the endpoint, at most $0.0041 at list prices: 20 chat to gpt-4o-mini, ...
    ...  # the notebook's requests
    assert plan.sent == plan.requests, plan.mismatch()

A plan must be true, so it also counts what was sent: :attr:`RequestPlan.sent` is how many
requests the configured endpoint has answered since the plan was made (:func:`requests_sent`).
Requests to a private sandbox (``sandbox.start(...)``) go elsewhere: they are not counted, and
never billed.

The figure is an upper bound (answers are usually shorter than their cap). It is priced by the
course's model names, which are OpenAI's: behind a model map the server's own price, if the
map gives one, is what the budget guard counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from course_lib import budget, llm
from course_lib.budget import RequestKind, WorstCase, worst_case
from course_lib.cost_model import format_usd

__all__ = ["PlannedRequest", "RequestPlan", "requests_sent"]


def requests_sent() -> int:
    """How many requests this process has had answered by the configured endpoint.

    On the course sandbox, the sandbox's own record of the requests it served; on a real
    endpoint, the budget guard's count of the requests it let through and settled.
    """
    if llm.using_sandbox():
        # A sandbox not started yet has served nothing: counting must not start it.
        served = llm.started_sandbox()
        return 0 if served is None else len(served.requests)
    guard = budget.current_budget()
    return guard.tracker.summary()["total_calls"] + guard.unpriced_requests


@dataclass(frozen=True)
class PlannedRequest:
    """One kind of request a notebook sends, ``times`` times, with its worst case."""

    kind: RequestKind
    worst: WorstCase
    times: int

    @property
    def worst_usd(self) -> Decimal | None:
        return None if self.worst.cost_usd is None else self.worst.cost_usd * self.times


class RequestPlan:
    """The requests a notebook will send, priced at their worst case before any is sent."""

    def __init__(self, *, count_sent: Callable[[], int] = requests_sent) -> None:
        self._planned: list[PlannedRequest] = []
        self._count_sent = count_sent
        self._sent_before = count_sent()

    @property
    def sent(self) -> int:
        """Requests the endpoint has answered since this plan was made."""
        return self._count_sent() - self._sent_before

    def mismatch(self) -> str:
        """Why :attr:`sent` and :attr:`requests` differ (for an ``assert``'s message)."""
        return (f"the plan counts {self.requests} requests but {self.sent} were sent since it "
                "was made; run the notebook again from the plan's cell")

    def chat(self, model: str, messages: Sequence[Mapping[str, Any]], *,
             max_tokens: int | None = None, tools: Sequence[Mapping[str, Any]] | None = None,
             times: int = 1) -> RequestPlan:
        """Plan ``times`` chat completions of ``messages`` to ``model``."""
        body: dict[str, Any] = {"model": model, "messages": list(messages)}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if tools:
            body["tools"] = list(tools)
        return self._add("chat", body, model, times)

    def embeddings(self, model: str, inputs: Iterable[str], *, times: int = 1) -> RequestPlan:
        """Plan ``times`` embedding requests, each embedding every text of ``inputs``."""
        return self._add("embeddings", {"model": model, "input": list(inputs)}, model, times)

    def _add(self, kind: RequestKind, body: dict[str, Any], model: str,
             times: int) -> RequestPlan:
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise ValueError(f"times must be a whole number of requests >= 0, got {times!r}")
        size = len(json.dumps(body, ensure_ascii=False).encode())
        worst = worst_case(kind, body, model=model, count_as=model, size=size)
        self._planned.append(PlannedRequest(kind, worst, times))
        return self

    @property
    def requests(self) -> int:
        """How many requests the plan sends."""
        return sum(item.times for item in self._planned)

    @property
    def worst_usd(self) -> Decimal | None:
        """The most the plan can cost at list prices; None if a model in it has no price."""
        costs = [item.worst_usd for item in self._planned]
        return None if any(cost is None for cost in costs) else sum(costs, Decimal(0))

    def lines(self) -> list[str]:
        """One line per model and kind: how many requests, and their worst case."""
        groups: dict[tuple[str, str], list[PlannedRequest]] = {}
        for item in self._planned:
            groups.setdefault((item.kind, item.worst.model), []).append(item)
        out = []
        for (kind, model), items in groups.items():
            count = sum(item.times for item in items)
            costs = [item.worst_usd for item in items]
            price = ("no price" if any(c is None for c in costs)
                     else f"at most {format_usd(sum(costs, Decimal(0)), round_up=True)}")
            out.append(f"  {count:>4} {kind} to {model}: {price}")
        return out

    def __str__(self) -> str:
        total = self.worst_usd
        price = ("a model in it has no price" if total is None
                 else f"at most {format_usd(total, round_up=True)} at list prices")
        noun = "request" if self.requests == 1 else "requests"
        head = f"{self.requests:,} {noun} to the endpoint, {price} (free on the sandbox):"
        return "\n".join([head, *self.lines()])
