"""The naive support agent: the lesson's starting point, before any optimisation.

Every message goes the same way, through the real tool-calling loop
(:func:`course_lib.agent.loop.run_agent_loop`):

1. a **long, uncompressed** system prompt (the ``"verbose"`` style of
   :mod:`course_lib.agent.prompts`) and the three tools' definitions go to **gpt-4o**, always;
2. the tools the model asks for run **one after another**;
3. their results go back to gpt-4o, which answers **without streaming**: the user sees nothing
   until the whole answer exists;
4. **no cache** (the same question is paid for every time) and **no fallback**: a failed call is
   a failed turn. The client it is given must have ``max_retries=0`` so that the openai SDK's
   own retries do not quietly add a fallback lever the lesson's starting point does not have.

It is :class:`~course_lib.agent.optimized.OptimizedAgent` with every lever off, so the two
differ by the levers alone, and each round is billed the same way, from the usage the endpoint
reported, at the message's own time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import openai

from course_lib.datasets import Product
from course_lib.router import STRONG_MODEL
from course_lib.tools import SupportTools
from course_lib.tracker import CostTracker

from .customers import CustomerDirectory
from .levers import Levers
from .optimized import OptimizedAgent

__all__ = ["NaiveAgent"]


class NaiveAgent(OptimizedAgent):
    """Tools in series, a verbose prompt, gpt-4o, no streaming, no cache, no fallback."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        tools: SupportTools,
        tracker: CostTracker,
        customers: CustomerDirectory,
        *,
        model: str = STRONG_MODEL,
        product: Product | None = None,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(client, tools, tracker, customers, levers=Levers.none(),
                         time_scale=time_scale, product=product, strong_model=model,
                         name="naive", clock=clock)
