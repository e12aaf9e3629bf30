"""How the simulated model reads tool results and answers from them.

After the model asked for tools, the client runs them and sends each result back as a
``{"role": "tool", "tool_call_id": ..., "content": ...}`` message. The next answer is written
from those results, so a learner can see the results being used:

* a ``search_kb`` result: the knowledge-base article ids it mentions (``kb-012``), in order; the
  answer is the first article's answer (in full, or brief for the weaker model);
* a ``ticket_status`` result: a JSON object with the ticket's ``id``, ``status``, ``priority``,
  ``assignee`` and ``subject`` (the fields of :class:`course_lib.tools.TicketStatus`);
* a ``user_profile`` result: a JSON object with ``plan``, ``role``, ``workspace``, ``name`` and
  ``open_tickets`` (the fields of :class:`course_lib.tools.UserProfile`).

The JSON may be the object itself or hold it somewhere inside (``{"ticket": {...}}``). A result
that is none of these, for example a tool's error message, is reported as such ("I could not
check ticket #10427: ..."), so a failing tool shows in the answer instead of being ignored.
Facts about the account come first, then the article.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from course_lib.datasets import KnowledgeBaseEntry, load_knowledge_base
from course_lib.sandbox.answers import Answer
from course_lib.sandbox.protocol import (
    AssistantMessage,
    ChatRequest,
    ToolMessage,
    UserMessage,
    message_text,
)
from course_lib.sandbox.support_tools import SEARCH_KB, TICKET_STATUS, USER_PROFILE

__all__ = ["ToolOutcome", "answer_from_tool_results", "find_record", "tool_outcomes"]

_ARTICLE_ID = re.compile(r"\bkb-\d{3}\b")
_QUOTED = 160  # how much of an unreadable result the answer quotes


@dataclass(frozen=True)
class ToolOutcome:
    """A call made since the user's last message, and the ``tool`` message that answered it."""

    name: str
    arguments: dict[str, Any]
    content: str


def last_user_index(request: ChatRequest) -> int | None:
    for index in range(len(request.messages) - 1, -1, -1):
        if isinstance(request.messages[index], UserMessage):
            return index
    return None


def tool_outcomes(request: ChatRequest) -> list[ToolOutcome]:
    """The calls made since the user's last message, each with the result it got."""
    start = last_user_index(request) or 0
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    outcomes = []
    for message in request.messages[start:]:
        if isinstance(message, AssistantMessage):
            for call in message.tool_calls or ():
                try:
                    arguments = json.loads(call.function.arguments)
                except (ValueError, RecursionError):  # arguments need not be valid JSON
                    arguments = {}
                calls[call.id] = (call.function.name,
                                  arguments if isinstance(arguments, dict) else {})
        elif isinstance(message, ToolMessage) and message.tool_call_id in calls:
            name, arguments = calls[message.tool_call_id]
            outcomes.append(ToolOutcome(name, arguments, message_text(message)))
    return outcomes


def find_record(content: str, key: str) -> dict[str, Any] | None:
    """The first JSON object in ``content`` (itself, or nested in it) that has ``key``."""
    try:
        stack = [json.loads(content)]
    except (ValueError, RecursionError):  # a result is any text, JSON or not
        return None
    while stack:
        value = stack.pop(0)
        if isinstance(value, dict):
            if key in value:
                return value
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return None


@functools.cache
def _articles() -> dict[str, KnowledgeBaseEntry]:
    return {entry.id: entry for entry in load_knowledge_base().entries}


def _quoted(content: str) -> str:
    text = " ".join(content.split())
    return text if len(text) <= _QUOTED else text[: _QUOTED - 3] + "..."


def _ticket_sentence(outcome: ToolOutcome, style: Literal["full", "brief"]) -> str:
    ticket = find_record(outcome.content, "status")
    number = outcome.arguments.get("ticket_id", "?")
    if ticket is None or "error" in ticket:
        return f"I could not check ticket #{number}: {_quoted(outcome.content)}"
    status = str(ticket["status"]).replace("_", " ")
    number = ticket.get("id", number)
    if style == "brief":
        return f"Ticket #{number} is {status}."
    assignee = ticket.get("assignee")
    who = f"assigned to {assignee}" if assignee else "not assigned to anyone yet"
    subject = f" (\"{ticket['subject']}\")" if ticket.get("subject") else ""
    priority = f", {ticket['priority']} priority" if ticket.get("priority") else ""
    return f"Ticket #{number}{subject} is {status}{priority}, {who}."


def _profile_sentence(outcome: ToolOutcome, style: Literal["full", "brief"]) -> str:
    profile = find_record(outcome.content, "plan")
    if profile is None or "error" in profile:
        return f"I could not look up your account: {_quoted(outcome.content)}"
    if style == "brief":
        return f"You are on the {profile['plan']} plan."
    who = ", ".join(str(profile[k]) for k in ("name", "workspace") if profile.get(k))
    role = f" as {profile['role']}" if profile.get("role") else ""
    open_tickets = profile.get("open_tickets")
    tickets = (f", with {open_tickets} open ticket{'' if open_tickets == 1 else 's'}"
               if isinstance(open_tickets, int) else "")
    account = f"Your account ({who})" if who else "Your account"
    return f"{account} is on the {profile['plan']} plan{role}{tickets}."


def _article_text(outcome: ToolOutcome, style: Literal["full", "brief"]) -> str:
    articles = _articles()
    found = [i for i in _ARTICLE_ID.findall(outcome.content) if i in articles]
    if not found:
        if find_record(outcome.content, "hits") is not None or outcome.content.strip() in (
                "[]", "{}"):
            return "I could not find a help-centre article about that."
        return f"I could not search the help centre just now: {_quoted(outcome.content)}"
    entry = articles[found[0]]
    return entry.answer_full if style == "full" else entry.answer_brief


def answer_from_tool_results(outcomes: Sequence[ToolOutcome], style: Literal["full", "brief"]
                             ) -> Answer:
    """The answer to write once the calls' results are in (account facts, then the article)."""
    account, articles = [], []
    entry_id = None
    for outcome in outcomes:
        if outcome.name == TICKET_STATUS:
            account.append(_ticket_sentence(outcome, style))
        elif outcome.name == USER_PROFILE:
            account.append(_profile_sentence(outcome, style))
        elif outcome.name == SEARCH_KB:
            found = [i for i in _ARTICLE_ID.findall(outcome.content) if i in _articles()]
            entry_id = entry_id or (found[0] if found else None)
            articles.append(_article_text(outcome, style))
        else:
            account.append(f"The {outcome.name} tool returned: {_quoted(outcome.content)}")
    parts = [" ".join(account)] if account else []
    parts += list(dict.fromkeys(articles))
    return Answer("\n\n".join(parts), entry_id, 1.0)
