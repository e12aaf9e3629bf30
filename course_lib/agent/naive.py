"""The naive support agent: the lesson's starting point, before any optimisation.

Every message goes the same way:

1. call the three tools **one after another** (knowledge base, ticket, profile);
2. put everything in a **long, uncompressed** prompt (the ``"verbose"`` style of
   :mod:`course_lib.agent.prompts`);
3. ask **gpt-4o**, always, **without streaming**: the user sees nothing until the whole answer
   exists;
4. **no cache** (the same question is paid for every time) and **no fallback**: a failed call is
   a failed turn. The client it is given must have ``max_retries=0`` so that the openai SDK's
   own retries do not quietly add a fallback lever the lesson's starting point does not have.

Every call is billed in the :class:`~course_lib.tracker.CostTracker` from the usage the endpoint
reported, at the message's own time. :class:`course_lib.agent.optimized.OptimizedAgent` adds the
levers one at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import openai

from course_lib.datasets import Product, load_knowledge_base
from course_lib.router import STRONG_MODEL
from course_lib.tools import SupportTools
from course_lib.tracker import CostTracker
from course_lib.traffic import TrafficEvent

from .context import gather_context
from .customers import CustomerDirectory
from .prompts import build_messages
from .turn import TurnRecord

__all__ = ["NaiveAgent", "require_no_sdk_retries"]


def require_no_sdk_retries(client: Any) -> None:
    """Refuse a client that retries by itself: the agents decide what happens on a failure."""
    retries = getattr(client, "max_retries", 0)
    if retries:
        raise ValueError(
            f"the client retries failed requests itself (max_retries={retries}); build it with "
            "max_retries=0 so that retries and fallbacks are the agent's levers, measured, "
            "rather than hidden in the SDK")


class NaiveAgent:
    """Tools in series, a verbose prompt, gpt-4o, no streaming, no cache, no fallback."""

    name = "naive"

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        tools: SupportTools,
        tracker: CostTracker,
        customers: CustomerDirectory,
        *,
        model: str = STRONG_MODEL,
        product: Product | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        require_no_sdk_retries(client)
        self.client = client
        self.tools = tools
        self.tracker = tracker
        self.customers = customers
        self.model = model
        self.product = product or load_knowledge_base().product
        self._clock = clock

    async def answer(self, event: TrafficEvent, index: int = 0) -> TurnRecord:
        """Handle one user message and report what it took."""
        started = self._clock()
        customer = self.customers.for_traffic_user(event.user_id)
        context = await gather_context(self.tools, event.query, customer, concurrent=False,
                                       clock=self._clock)
        messages = build_messages(event.query, style="verbose", product=self.product,
                                  hits=context.hits, profile=context.profile,
                                  ticket=context.ticket, unavailable=context.unavailable)
        try:
            response = await self.client.chat.completions.create(
                model=self.model, messages=messages, temperature=0)  # type: ignore[arg-type]
        except openai.APIError as error:
            return TurnRecord(index, event, "failed", total_s=self._clock() - started,
                              routed_model=self.model, tools_s=context.seconds,
                              tool_results=context.tool_results, requests_sent=1,
                              error=f"{type(error).__name__}: {error}")
        total = self._clock() - started
        call = self.tracker.record_usage(response.model, response.usage, at=event.at)
        return TurnRecord(
            index, event, "model", total_s=total,
            answer=response.choices[0].message.content or "",
            model=self.model, routed_model=self.model,
            ttft_s=total,  # not streamed: the first text is the whole answer
            tools_s=context.seconds, tool_results=context.tool_results, requests_sent=1,
            prompt_tokens=call.input_tokens, cached_prompt_tokens=call.cached_input_tokens,
            completion_tokens=call.output_tokens, cost_usd=call.cost_usd,
        )
