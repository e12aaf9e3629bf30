"""What a router decides, and what every router promises.

The lesson's router answers one question per message: which model should answer it? Its answer
is a :class:`RouteDecision`: the model, and a reason a human can read in a log line ("technical
keyword: error"). Every router in the course has the same method,
``route(query, conversation_turns) -> RouteDecision``, so any of them can be measured by the same
evaluation code (:mod:`course_lib.router.evaluation`) and swapped in behind the same call site.

Bad input fails loudly here, once, for every router: an empty query or a negative number of turns
is a bug in the caller, and routing it to the cheap model by default would hide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "ROUTE_LABELS",
    "STRONG_MODEL",
    "WEAK_MODEL",
    "LabelledQuery",
    "RouteDecision",
    "Router",
    "check_label",
    "check_route_input",
]

# The lesson's pair: "simpleModel: gpt-4o-mini" (低成本, low cost), "complexModel: gpt-4o" (高精度).
STRONG_MODEL = "gpt-4o"
WEAK_MODEL = "gpt-4o-mini"
ROUTE_LABELS = ("simple", "complex")


@dataclass(frozen=True)
class RouteDecision:
    """The model chosen for one message and why, e.g. ``RouteDecision("gpt-4o", "long query")``."""

    model: str
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"RouteDecision.model must be a model name, got {self.model!r}")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("RouteDecision.reason must say why the model was chosen")


@dataclass(frozen=True)
class AlwaysModel:
    """A baseline that never routes: ``model`` answers every message ("always gpt-4o-mini")."""

    model: str

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        check_route_input(query, conversation_turns)
        return RouteDecision(self.model, f"always {self.model}")


@runtime_checkable
class Router(Protocol):
    """Anything that picks a model for a message: the contract every course router keeps."""

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        """The model for ``query``, the latest message of a conversation ``conversation_turns``
        long (the lesson counts turns so far, this message included)."""
        ...


class LabelledQuery(Protocol):
    """A query whose right answer is known: what fitting and evaluation read.

    :class:`course_lib.datasets.RoutingQuery` is one; tests build their own.
    """

    @property
    def query(self) -> str: ...

    @property
    def turns(self) -> int: ...

    @property
    def label(self) -> str: ...


def check_route_input(query: object, conversation_turns: object) -> tuple[str, int]:
    """Return ``(query, conversation_turns)`` if they are a routable message, else raise.

    A query must be a string with something other than whitespace in it; turns must be a whole
    number >= 0 (``True`` is not a number of turns, even though Python lets it pass as 1).
    """
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise ValueError("query is empty: there is nothing to route")
    if isinstance(conversation_turns, bool) or not isinstance(conversation_turns, int):
        raise TypeError(
            f"conversation_turns must be a whole number, got {conversation_turns!r}"
        )
    if conversation_turns < 0:
        raise ValueError(f"conversation_turns must be 0 or more, got {conversation_turns}")
    return query, conversation_turns


def check_label(label: object, where: str = "label") -> bool:
    """True for ``"complex"``, False for ``"simple"``; ValueError naming anything else."""
    if label not in ROUTE_LABELS:
        raise ValueError(f"{where} must be 'simple' or 'complex', got {label!r}")
    return label == "complex"
