"""The Kitewing support tools, as the simulated model knows them.

The lesson's agent has three tools ("搜索知识库 + 查工单状态 + 检索用户信息"), implemented for real
in :class:`course_lib.tools.SupportTools`. A model can only call a tool that the request offers
in ``tools``, described by a JSON Schema; :data:`SUPPORT_TOOL_DEFINITIONS` are those
descriptions for the three tools, ready to send::

    client.chat.completions.create(model="gpt-4o", messages=..., tools=SUPPORT_TOOL_DEFINITIONS)

The sandbox's simulated model recognises a tool by its name *and* the argument it needs: a tool
offered as ``ticket_status`` whose schema has no ``ticket_id`` property is, to it, a tool it does
not know, and it never calls one of those on its own (``tool_choice="auto"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "SEARCH_KB",
    "SUPPORT_TOOLS",
    "SUPPORT_TOOL_DEFINITIONS",
    "TICKET_STATUS",
    "USER_PROFILE",
    "SupportToolSpec",
]

SEARCH_KB, TICKET_STATUS, USER_PROFILE = "search_kb", "ticket_status", "user_profile"
PLANS = ("Free", "Team", "Business", "Enterprise")


@dataclass(frozen=True)
class SupportToolSpec:
    """A tool the simulated model knows: its name, the argument it fills from the conversation
    and that argument's JSON type."""

    name: str
    argument: str
    argument_type: Literal["string", "integer"]

    def recognises(self, properties: dict[str, Any]) -> bool:
        """Whether an offered schema's ``properties`` are this tool's (its argument, typed so)."""
        spec = properties.get(self.argument)
        kind = spec.get("type") if isinstance(spec, dict) else None
        return kind == self.argument_type or (isinstance(kind, list) and self.argument_type in kind)


SUPPORT_TOOLS: MappingProxyType[str, SupportToolSpec] = MappingProxyType({
    SEARCH_KB: SupportToolSpec(SEARCH_KB, "query", "string"),
    TICKET_STATUS: SupportToolSpec(TICKET_STATUS, "ticket_id", "integer"),
    USER_PROFILE: SupportToolSpec(USER_PROFILE, "user_id", "integer"),
})

SUPPORT_TOOL_DEFINITIONS: tuple[dict[str, Any], ...] = (
    {
        "type": "function",
        "function": {
            "name": SEARCH_KB,
            "description": "Search Kitewing's help-centre knowledge base for the articles that "
                           "answer a support question.",
            "parameters": {
                "type": "object",
                "properties": {
                    "query": {"type": "string",
                              "description": "The question to search for, in the customer's "
                                             "words."},
                    "k": {"type": "integer",
                          "description": "How many articles to return (default 3)."},
                    "plan": {"type": "string", "enum": list(PLANS),
                             "description": "The customer's plan, when known, to find the "
                                            "articles for that plan."},
                },
                "required": ["query"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": TICKET_STATUS,
            "description": "Look up a support ticket: its status, priority, assignee and "
                           "subject.",
            "parameters": {
                "type": "object",
                "properties": {
                    "ticket_id": {"type": "integer",
                                  "description": "The ticket number, e.g. 10427 for ticket "
                                                 "#10427."},
                },
                "required": ["ticket_id"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": USER_PROFILE,
            "description": "Fetch a customer's profile: plan, role, workspace and how many of "
                           "their tickets are open.",
            "parameters": {
                "type": "object",
                "properties": {
                    "user_id": {"type": "integer", "description": "The customer's user id."},
                },
                "required": ["user_id"],
                "additionalProperties": False,
            },
        },
    },
)
