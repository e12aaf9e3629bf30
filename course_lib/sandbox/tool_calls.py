"""When the simulated model asks for tools, and with which arguments.

The sandbox is not a language model, so it decides by rules a reader can check, from the
conversation and the tools the request offers. For the user's latest message:

* ``search_kb(query)`` when the message asks something the Kitewing knowledge base answers; the
  query is the sentence of the message that matches the knowledge base best. It is skipped when
  that sentence asks about the customer's own records ("What is the status of my ticket?",
  "Which plan am I on?") and one of the account tools below answers it instead;
* ``ticket_status(ticket_id)`` once per ticket number the message names ("ticket #10427",
  "工单 10427", "#10427"), or, when the message is about a ticket ("my ticket", "工单") without a
  number, for the ticket the conversation names (a system message saying "latest ticket #10427");
* ``user_profile(user_id)`` for the user id the message names ("I'm user 42", "用户 42"), or,
  when the message is about the customer's own account ("my plan", "my invoice", "我的账户"),
  for the user id the conversation names.

Those are the calls the question *needs*. Calls already made and answered since the user's
message are not made again, so the loop ends: once every needed call has its ``tool`` result,
the model answers in text (:mod:`.tool_results`). ``tool_choice`` then shapes the answer the
way it shapes OpenAI's: ``"none"`` never calls; ``"auto"`` (the default) calls what is needed;
``"required"`` calls at least one tool (the needed ones, else the first offered tool); a named
function is called exactly once. ``parallel_tool_calls=False`` makes one call per answer, so
the needed calls come one round trip at a time. Only tools the simulated model knows
(:mod:`.support_tools`) are ever chosen on its own; a tool it does not know is called only when
``tool_choice`` forces it, with arguments made up from its schema (the user's sentence for a
string, the first number in the message or 0 for a number, ``false``, ``[]``, ``{}``), as a
model with nothing better to go on would guess.

Call ids are derived from the conversation, so the same request gets the same calls, and every
call of a conversation a different id.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from course_lib.sandbox.answers import MIN_MATCH_SCORE, get_retriever
from course_lib.sandbox.protocol import (
    AssistantMessage,
    ChatRequest,
    FunctionDefinition,
    NamedToolChoice,
    ToolMessage,
    message_text,
)
from course_lib.sandbox.support_tools import (
    SEARCH_KB,
    SUPPORT_TOOLS,
    TICKET_STATUS,
    USER_PROFILE,
)
from course_lib.sandbox.tool_results import find_record, last_user_index, tool_outcomes

__all__ = ["PlannedCall", "decide_tool_calls"]

_USER_ID = re.compile(
    r"\b(?:user|customer)(?:[ _-]?id)?\s*(?:number|no\.?)?\s*[:#=]?\s*#?\s*(\d{1,9})\b"
    r"|(?:用户|客户)\s*(?:ID|id|编号|号)?\s*[:：#]?\s*(\d{1,9})", re.IGNORECASE)
_TICKET_ID = re.compile(
    r"\btickets?(?:[ _-]?id)?\s*(?:number|no\.?)?\s*[:#=]?\s*#?\s*(\d{3,9})\b"
    r"|工单\s*(?:号|编号|ID|id)?\s*[:：#]?\s*#?\s*(\d{3,9})"
    r"|(?<![\w#])#(\d{3,9})\b", re.IGNORECASE)
_ABOUT_TICKET = re.compile(r"\btickets?\b|工单", re.IGNORECASE)
_ABOUT_ACCOUNT = re.compile(
    r"\bmy\s+(?:\w+\s+)?(?:account|plan|subscription|billing|bill|invoices?|payments?|refund|"
    r"workspace|role|profile|seats?)\b|\bwhich\s+plan\s+am\s+i\b|"
    r"我的(?:账户|账号|套餐|计划|订阅|账单|发票|付款|退款|工作区|角色|资料)", re.IGNORECASE)
_PLAN_LOOKUP = re.compile(r"\b(?:which|what)\s+plan\s+(?:am\s+i|are\s+we|do\s+(?:i|we)\s+have)\b"
                          r"|我(?:的|们的)?套餐是", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*|\n+")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class PlannedCall:
    """One tool call of an answer: its id, function name and JSON arguments."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class _Call:
    name: str
    arguments: tuple[tuple[str, Any], ...]

    def json(self) -> str:
        return json.dumps(dict(self.arguments), ensure_ascii=False, separators=(",", ":"))


def _ids(pattern: re.Pattern[str], text: str) -> list[int]:
    found = [int(next(g for g in match.groups() if g)) for match in pattern.finditer(text)]
    return list(dict.fromkeys(found))


def _best_sentence(question: str) -> tuple[str, Any] | None:
    """The sentence of ``question`` the knowledge base answers best, with that entry."""
    retriever = get_retriever()
    best: tuple[float, str, Any] | None = None
    sentences = [s.strip() for s in _SENTENCE_END.split(question) if s and s.strip()]
    for sentence in [*sentences, question.strip()]:
        score, entry = retriever.best(sentence)
        if entry is not None and (best is None or score > best[0]):
            best = (score, sentence, entry)
    return None if best is None or best[0] < MIN_MATCH_SCORE else (best[1], best[2])


def _needed_calls(request: ChatRequest, offered: dict[str, FunctionDefinition]) -> list[_Call]:
    """The calls the user's latest message needs, among the known tools offered."""
    start = last_user_index(request)
    if start is None:
        return []
    question = message_text(request.messages[start])
    context = "\n".join(message_text(m) for m in request.messages[:start]
                        if not isinstance(m, ToolMessage | AssistantMessage))
    known = {name for name, function in offered.items()
             if name in SUPPORT_TOOLS and SUPPORT_TOOLS[name].recognises(function.properties)}
    calls: list[_Call] = []

    named_users = _ids(_USER_ID, question)
    tickets: list[int] = []
    if TICKET_STATUS in known:
        # "#1234" after "user" is a user id, not a ticket number.
        tickets = [t for t in _ids(_TICKET_ID, question) if t not in named_users]
        if not tickets and _ABOUT_TICKET.search(question):
            tickets = [t for t in _ids(_TICKET_ID, context) if t not in _ids(_USER_ID, context)
                       ][-1:]
    users: list[int] = []
    if USER_PROFILE in known:
        users = named_users[:1]
        if not users and _ABOUT_ACCOUNT.search(question):
            users = _ids(_USER_ID, context)[-1:]
    if SEARCH_KB in known:
        match = _best_sentence(question)
        # A sentence that asks about the customer's own ticket or plan is answered by the
        # lookup, not by an article.
        account_lookup = match is not None and bool(tickets or users) and (
            match[1].kind == "realtime" or bool(_ABOUT_TICKET.search(match[0]))
            or bool(_PLAN_LOOKUP.search(match[0])))
        if match is not None and not account_lookup:
            arguments: dict[str, Any] = {"query": match[0]}
            plan = _known_plan(request)
            if plan is not None and "plan" in offered[SEARCH_KB].properties:
                arguments["plan"] = plan
            calls.append(_Call(SEARCH_KB, tuple(arguments.items())))
    calls += [_Call(TICKET_STATUS, (("ticket_id", ticket),)) for ticket in tickets]
    calls += [_Call(USER_PROFILE, (("user_id", user),)) for user in users]
    return calls


def _known_plan(request: ChatRequest) -> str | None:
    """The customer's plan, if a profile lookup since the user's message returned one."""
    for outcome in tool_outcomes(request):
        if outcome.name == USER_PROFILE:
            profile = find_record(outcome.content, "plan")
            if profile is not None and isinstance(profile.get("plan"), str):
                return profile["plan"]
    return None


def _guessed_call(request: ChatRequest, function: FunctionDefinition) -> _Call:
    """A call of ``function`` with arguments made up from its schema (see the module docstring)."""
    start = last_user_index(request)
    question = message_text(request.messages[start]).strip() if start is not None else ""
    numbers = _NUMBER.findall(question)
    properties = function.properties
    arguments: dict[str, Any] = {}
    for name in function.required or list(properties)[:1]:
        spec = properties.get(name) or {}
        kind = spec.get("type")
        kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
        if spec.get("enum"):
            arguments[name] = spec["enum"][0]
        elif kind in ("integer", "number"):
            arguments[name] = int(numbers[0]) if numbers else 0
        elif kind == "boolean":
            arguments[name] = False
        elif kind == "array":
            arguments[name] = []
        elif kind == "object":
            arguments[name] = {}
        else:
            arguments[name] = question
    return _Call(function.name, tuple(arguments.items()))


def _call_id(request: ChatRequest, index: int) -> str:
    conversation = json.dumps([request.model, request.message_dicts(), index],
                              ensure_ascii=False, sort_keys=True, default=str)
    return "call_" + hashlib.sha256(conversation.encode()).hexdigest()[:24]


def decide_tool_calls(request: ChatRequest) -> list[PlannedCall]:
    """The tool calls the simulated model answers ``request`` with; ``[]``: it answers in text."""
    if not request.tools or request.tool_choice == "none":
        return []
    offered = {tool.function.name: tool.function for tool in request.tools}
    # A call counts as made when a tool of that name was called with the same main argument
    # (a search repeated with the plan it has learnt since is not a new search).
    done = {(o.name, json.dumps(o.arguments.get(SUPPORT_TOOLS[o.name].argument)))
            for o in tool_outcomes(request) if o.name in SUPPORT_TOOLS}
    needed = _needed_calls(request, offered)
    remaining = [c for c in needed
                 if (c.name, json.dumps(dict(c.arguments)[SUPPORT_TOOLS[c.name].argument]))
                 not in done]
    choice = request.tool_choice
    if isinstance(choice, NamedToolChoice):
        name = choice.function.name
        calls = [next((c for c in needed if c.name == name), None)
                 or _guessed_call(request, offered[name])]
    elif choice == "required":
        calls = remaining or needed[:1] or [_guessed_call(request, request.tools[0].function)]
    else:
        calls = remaining
    if request.parallel_tool_calls is False:
        calls = calls[:1]
    return [PlannedCall(_call_id(request, index), call.name, call.json())
            for index, call in enumerate(calls)]
