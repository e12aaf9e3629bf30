"""The tool phase of a turn: search the knowledge base, check the ticket, fetch the profile.

The lesson's scenario, "一个 query 需要同时调用 搜索知识库 + 查工单状态 + 检索用户信息": every turn
calls the three tools of :class:`course_lib.tools.SupportTools`, either one after another
(:func:`course_lib.tools.run_tools_serially`, the starting point) or all at once
(:func:`course_lib.tools.run_tools`, the lever). A tool that fails or times out does not fail the
turn: its part of the prompt says it is unavailable and the model answers from the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from course_lib.datasets import KnowledgeBaseEntry
from course_lib.tools import (
    KBHit,
    KBSearch,
    SupportTools,
    TicketStatus,
    ToolResult,
    UserProfile,
    run_tools,
    run_tools_serially,
    tool_call,
)

from .customers import Customer

__all__ = ["ARTICLES_PER_TURN", "SupportContext", "gather_context"]

ARTICLES_PER_TURN = 3  # the retrieved articles put in the prompt


@dataclass(frozen=True)
class SupportContext:
    """What the tools found for one turn, and how long the tool phase took."""

    search: KBSearch | None
    profile: UserProfile | None
    ticket: TicketStatus | None
    tool_results: tuple[ToolResult, ...]
    seconds: float

    @property
    def hits(self) -> tuple[KBHit, ...]:
        return self.search.hits if self.search is not None else ()

    @property
    def best_entry(self) -> KnowledgeBaseEntry | None:
        """The article the answer is grounded in (the best hit), if the search worked."""
        return self.hits[0].entry if self.hits else None

    @property
    def unavailable(self) -> dict[str, str]:
        """Tool name -> why it has no value, for the tools that failed."""
        return {result.name: result.reason for result in self.tool_results if not result.ok}


async def gather_context(
    tools: SupportTools,
    query: str,
    customer: Customer,
    *,
    concurrent: bool,
    timeout_per_tool: float | None = None,
    articles: int = ARTICLES_PER_TURN,
    clock: Callable[[], float] = time.perf_counter,
) -> SupportContext:
    """Run the three tools for ``query`` and ``customer``, concurrently or one by one."""
    calls = [
        tool_call("search_kb", tools.search_kb, query, k=articles),
        tool_call("ticket_status", tools.ticket_status, customer.ticket_id),
        tool_call("user_profile", tools.user_profile, customer.user_id),
    ]
    runner = run_tools if concurrent else run_tools_serially
    started = clock()
    results = await runner(calls, timeout_per_tool=timeout_per_tool, clock=clock)
    seconds = clock() - started
    values = {result.name: result.value for result in results if result.ok}
    return SupportContext(
        search=values.get("search_kb"),
        profile=values.get("user_profile"),
        ticket=values.get("ticket_status"),
        tool_results=tuple(results),
        seconds=seconds,
    )
