"""The support agent's three tools from the lesson, doing real work on real course data.

"A query needs to search the knowledge base + look up the ticket's status + fetch the user's
profile": these are those three tools.

- :meth:`SupportTools.search_kb`: semantic search over the knowledge base with real embeddings
  (:mod:`course_lib.tools.kb_search`), top ``k`` with scores;
- :meth:`SupportTools.ticket_status` and :meth:`SupportTools.user_profile`: SQL queries against
  ``course_lib/data/support.sqlite`` (200 users, 1,000 tickets; built by
  ``course_lib/data/build_support_db.py``), opened read-only per call in a worker thread.

Their own work takes milliseconds here. What makes such tools slow in production is the network
between the agent and the services behind them, so each tool first waits out a **simulated**
network latency (:mod:`course_lib.tools.latency`), by default the lesson's 200 / 300 / 150 ms
times ``time_scale``. Every output records the simulated seconds it waited
(``simulated_latency_s``) so no printed figure passes a simulation off as a measurement.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .kb_search import KBHit, KnowledgeBaseIndex, default_kb_index
from .latency import Latency, SimulatedLatency
from .readonly_db import fetch_all
from .runner import ToolCall, tool_call

if TYPE_CHECKING:
    from .dag import ToolInputs

__all__ = [
    "LESSON_LATENCIES_MS",
    "TOOL_NAMES",
    "KBSearch",
    "SupportTools",
    "TicketStatus",
    "UserProfile",
    "support_db_path",
]

TOOL_NAMES = ("search_kb", "ticket_status", "user_profile")
# The lesson's example: "3 tool calls taking 200 ms / 300 ms / 150 ms", in the order of its
# question "search the knowledge base + check the ticket status + fetch the user's info".
LESSON_LATENCIES_MS: Mapping[str, float] = MappingProxyType(
    {"search_kb": 200, "ticket_status": 300, "user_profile": 150})
OPEN_STATUSES = ("open", "pending", "on_hold")


def support_db_path() -> Path:
    """Where the shipped support database is (a real file: SQLite cannot read from a zip)."""
    path = Path(str(resources.files("course_lib").joinpath("data", "support.sqlite")))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: build it with "
                                "python -m course_lib.data.build_support_db")
    return path


@dataclass(frozen=True)
class KBSearch:
    """What :meth:`SupportTools.search_kb` found: the query as searched, and the top hits."""

    query: str
    plan: str | None
    hits: tuple[KBHit, ...]
    simulated_latency_s: float

    def __str__(self) -> str:
        best = ", ".join(f"{hit.id} ({hit.score:.2f})" for hit in self.hits)
        return f"top {len(self.hits)} for {self.query!r}: {best}"


@dataclass(frozen=True)
class TicketStatus:
    """One row of ``tickets``, as the ticket-status tool returns it."""

    id: int
    user_id: int
    subject: str
    status: str
    priority: str
    assignee: str | None
    kb_article: str
    created_at: str
    updated_at: str
    simulated_latency_s: float

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __str__(self) -> str:
        who = self.assignee or "unassigned"
        return f"ticket #{self.id} {self.status} ({self.priority}, {who}): {self.subject}"


@dataclass(frozen=True)
class UserProfile:
    """One row of ``users``, with how many of the user's tickets are still open."""

    id: int
    name: str
    email: str
    workspace: str
    plan: str
    role: str
    locale: str
    open_tickets: int
    simulated_latency_s: float

    def __str__(self) -> str:
        return (f"user {self.id} {self.name} <{self.email}>: {self.role} of {self.workspace} "
                f"on {self.plan}, {self.open_tickets} open ticket(s)")


def _positive_id(label: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{label} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{label} must be positive, got {value}")
    return value


class SupportTools:
    """The three tools, sharing one knowledge-base index, one database and their latencies.

    ``latency`` maps a tool name to its simulated network wait; tools not named get the lesson's
    latency times ``time_scale``. Pass ``latency={"ticket_status": my_latency}`` to make one tool
    slow, hang or wait on an event in a test.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        latency: Mapping[str, Latency] | None = None,
        db_path: str | os.PathLike[str] | None = None,
        kb_index: KnowledgeBaseIndex | None = None,
    ) -> None:
        latency = dict(latency or {})
        unknown = sorted(set(latency) - set(TOOL_NAMES))
        if unknown:
            raise ValueError(f"latency given for unknown tool(s) {unknown}; "
                             f"the tools are {list(TOOL_NAMES)}")
        self.latency: dict[str, Latency] = {
            name: latency.get(name) or SimulatedLatency(LESSON_LATENCIES_MS[name], time_scale)
            for name in TOOL_NAMES
        }
        self.db_path = Path(db_path) if db_path is not None else support_db_path()
        if not self.db_path.is_file():
            raise FileNotFoundError(f"no SQLite database at {self.db_path}")
        # Built now, not on the first search, so the first timed call is not an index build.
        self.kb_index = kb_index if kb_index is not None else default_kb_index()

    def turn_calls(self, message: str, ticket_id: int, user_id: int) -> list[ToolCall]:
        """The lesson's turn: search the knowledge base for ``message``, the ticket's status,
        the user's profile, as three independent calls (in that order)."""
        return [tool_call("search_kb", self.search_kb, message),
                tool_call("ticket_status", self.ticket_status, ticket_id),
                tool_call("user_profile", self.user_profile, user_id)]

    def plan_aware_graph(self, message: str, ticket_id: int, user_id: int
                         ) -> dict[str, Callable[[ToolInputs], Awaitable[Any]]]:
        """The turn as tools of a dependency graph (for :func:`course_lib.tools.run_dag` with
        ``{"search_kb": ["user_profile"]}``): the search waits for the profile and searches for
        the user's plan; the ticket lookup needs nothing."""
        return {
            "user_profile": lambda inputs: self.user_profile(user_id),
            "search_kb": lambda inputs: self.search_kb(message,
                                                       plan=inputs["user_profile"].plan),
            "ticket_status": lambda inputs: self.ticket_status(ticket_id),
        }

    async def search_kb(self, query: str, *, k: int = 3, plan: str | None = None) -> KBSearch:
        """Top ``k`` knowledge-base entries for ``query``.

        With ``plan`` (from the user's profile) the query is searched as "<query> (<plan>
        plan)": the agent's rewrite that puts the user's plan into the search, which is why
        this tool depends on the profile in notebook 08's dependency graph.
        """
        if plan is not None and (not isinstance(plan, str) or not plan.strip()):
            raise ValueError(f"plan must be a plan name or None, got {plan!r}")
        searched = query if plan is None else f"{query} ({plan} plan)"
        waited = await self.latency["search_kb"]()
        # Embedding the query is real CPU work: in a thread, so other tools keep running.
        hits = await asyncio.to_thread(self.kb_index.search, searched, k)
        return KBSearch(query=searched, plan=plan, hits=tuple(hits), simulated_latency_s=waited)

    async def ticket_status(self, ticket_id: int) -> TicketStatus:
        """The ticket's current status; LookupError naming the ticket if there is none."""
        ticket_id = _positive_id("ticket_id", ticket_id)
        waited = await self.latency["ticket_status"]()
        rows = await fetch_all(
            self.db_path,
            "SELECT id, user_id, subject, status, priority, assignee, kb_article, created_at, "
            "updated_at FROM tickets WHERE id = ?",
            (ticket_id,),
        )
        if not rows:
            raise LookupError(f"no ticket #{ticket_id}")
        return TicketStatus(**dict(rows[0]), simulated_latency_s=waited)

    async def user_profile(self, user_id: int) -> UserProfile:
        """The user's profile and open-ticket count; LookupError naming the user if unknown."""
        user_id = _positive_id("user_id", user_id)
        waited = await self.latency["user_profile"]()
        placeholders = ", ".join("?" for _ in OPEN_STATUSES)
        rows = await fetch_all(
            self.db_path,
            "SELECT u.id, u.name, u.email, u.workspace, u.plan, u.role, u.locale, "
            "(SELECT COUNT(*) FROM tickets t WHERE t.user_id = u.id "
            f"AND t.status IN ({placeholders})) AS open_tickets "
            "FROM users u WHERE u.id = ?",
            (*OPEN_STATUSES, user_id),
        )
        if not rows:
            raise LookupError(f"no user with id {user_id}")
        return UserProfile(**dict(rows[0]), simulated_latency_s=waited)
