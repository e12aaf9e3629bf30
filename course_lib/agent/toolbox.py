"""The tools a model may call, by name: what the request offers, and the code that answers.

A tool-calling model sees only descriptions (``tools`` in the request, a JSON Schema each) and
answers with names and JSON arguments. Something must turn ``search_kb({"query": ...})`` into a
real call and the call's value back into the text of a ``role: "tool"`` message. A
:class:`Toolbox` is that mapping, checked when it is built: every offered definition has an
implementation and every implementation is offered, under one name.

:func:`support_toolbox` is the lesson's three tools ("搜索知识库 + 查工单状态 + 检索用户信息"): the
definitions the sandbox's simulated model knows (:data:`course_lib.sandbox.support_tools.\
SUPPORT_TOOL_DEFINITIONS`) bound to the real implementations in
:class:`course_lib.tools.SupportTools` (embedding search over the knowledge base, SQLite tickets
and users). The names and argument names are the same on both sides, so the model's arguments
are passed as keyword arguments unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from course_lib.sandbox.support_tools import SUPPORT_TOOL_DEFINITIONS
from course_lib.tools import KBSearch, SupportTools, TicketStatus, ToolResult, UserProfile

__all__ = ["Toolbox", "result_content", "support_toolbox"]

Handler = Callable[..., Awaitable[Any]]


def _definition_name(index: int, definition: Mapping[str, Any]) -> str:
    function = definition.get("function") if isinstance(definition, Mapping) else None
    name = function.get("name") if isinstance(function, Mapping) else None
    if definition.get("type") != "function" or not isinstance(name, str) or not name:
        raise ValueError(f"tool definition {index} must be {{'type': 'function', "
                         f"'function': {{'name': ..., ...}}}}, got {definition!r}")
    return name


def _value_content(value: Any) -> Any:
    """A tool's value as JSON-ready data: what the model needs, not how long it waited."""
    if isinstance(value, KBSearch):
        return {"query": value.query, "plan": value.plan, "hits": [
            {"id": hit.id, "score": round(hit.score, 3), "question": hit.entry.question,
             "answer": hit.entry.answer_brief} for hit in value.hits]}
    if isinstance(value, TicketStatus | UserProfile):
        fields = dataclasses.asdict(value)
        fields.pop("simulated_latency_s")
        return fields
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def result_content(result: ToolResult) -> str:
    """The ``content`` of the ``tool`` message answering one call.

    A value becomes JSON; a failure says what happened (``{"error": ..., "tool_status":
    "timeout"}``), so the model can tell the user instead of the loop crashing.
    """
    if result.ok:
        return json.dumps(_value_content(result.value), ensure_ascii=False, default=str)
    return json.dumps({"error": result.reason, "tool_status": result.status},
                      ensure_ascii=False)


@dataclass(frozen=True)
class Toolbox:
    """Tool definitions to send, and the ``async`` function answering each one, by name."""

    definitions: tuple[Mapping[str, Any], ...]
    handlers: Mapping[str, Handler]

    def __post_init__(self) -> None:
        names = [_definition_name(i, d) for i, d in enumerate(self.definitions)]
        if len(set(names)) != len(names):
            raise ValueError(f"tool names must be unique, got {names}")
        missing, unoffered = sorted(set(names) - set(self.handlers)), sorted(
            set(self.handlers) - set(names))
        if missing or unoffered:
            raise ValueError(f"every offered tool needs an implementation and every "
                             f"implementation a definition: no implementation for {missing}, "
                             f"no definition for {unoffered}")
        for name, handler in self.handlers.items():
            if not callable(handler):
                raise TypeError(f"the implementation of {name!r} is not callable: {handler!r}")
        object.__setattr__(self, "handlers", MappingProxyType(dict(self.handlers)))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(_definition_name(i, d) for i, d in enumerate(self.definitions))

    def tools_param(self) -> list[dict[str, Any]]:
        """The ``tools`` list for ``chat.completions.create``."""
        return [dict(definition) for definition in self.definitions]


def support_toolbox(tools: SupportTools, *,
                    definitions: Sequence[Mapping[str, Any]] = SUPPORT_TOOL_DEFINITIONS
                    ) -> Toolbox:
    """The lesson's three tools, offered as the sandbox's definitions, run by ``tools``."""
    handlers: dict[str, Handler] = {"search_kb": tools.search_kb,
                                    "ticket_status": tools.ticket_status,
                                    "user_profile": tools.user_profile}
    return Toolbox(tuple(definitions), handlers)
