"""Keep a conversation on one model once it has been escalated: sticky routing.

"模型路由会不会导致用户体验不一致?" (does routing make the experience inconsistent?). Two kinds of
inconsistency are worth separating:

* **Same question, different model.** None of the course's routers has any randomness: the same
  query with the same number of turns always gets the same model. (A router that samples, or an
  A/B test that assigns per *message* instead of per user, would break this.)
* **One conversation, several models.** A routed conversation can start on gpt-4o-mini, move to
  gpt-4o for a hard question, then drop back to gpt-4o-mini for "thanks, one more thing". The
  user sees the answers change in length, tone and depth mid-conversation, and the weak model
  now has to continue the strong model's reasoning.

:class:`StickyRouter` fixes the second: per conversation, once any message went to the strong
model, every later message does too. It costs a little (the rest of that conversation is billed
at the strong price) and buys a consistent conversation. Memory is bounded: the least recently
seen conversations are forgotten first. In a service with several processes, keep this state
next to the conversation (its database row, or Redis) rather than in one process's memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from course_lib.router.decision import STRONG_MODEL, RouteDecision, Router, check_route_input

__all__ = ["Escalation", "StickyRouter"]


@dataclass(frozen=True)
class Escalation:
    """When and why a conversation moved to the strong model."""

    turn: int
    reason: str


class StickyRouter:
    """Wraps any router; a conversation that reached ``strong_model`` stays there.

    ``route`` takes the conversation's id as well as the query and turns, because stickiness is a
    property of the conversation, not of one message.
    """

    def __init__(self, inner: Router, *, strong_model: str = STRONG_MODEL,
                 max_conversations: int = 100_000) -> None:
        if not callable(getattr(inner, "route", None)):
            raise TypeError("inner must be a router: an object with a route(query, turns) method")
        if isinstance(max_conversations, bool) or not isinstance(max_conversations, int) \
                or max_conversations < 1:
            raise ValueError(f"max_conversations must be a whole number >= 1, got "
                             f"{max_conversations!r}")
        self.inner = inner
        self.strong_model = strong_model
        self.max_conversations = max_conversations
        self._escalated: OrderedDict[str, Escalation] = OrderedDict()
        self._lock = threading.Lock()

    def route(self, query: str, conversation_turns: int, *, conversation_id: str) -> RouteDecision:
        """The inner router's decision, unless this conversation was already escalated."""
        query, conversation_turns = check_route_input(query, conversation_turns)
        if not isinstance(conversation_id, str) or not conversation_id.strip():
            raise ValueError(f"conversation_id must be a non-empty string, got {conversation_id!r}")
        with self._lock:
            escalation = self._escalated.get(conversation_id)
            if escalation is not None:
                self._escalated.move_to_end(conversation_id)
        if escalation is not None:
            return RouteDecision(
                self.strong_model,
                f"sticky: conversation {conversation_id!r} moved to {self.strong_model} at turn "
                f"{escalation.turn} ({escalation.reason})",
            )
        decision = self.inner.route(query, conversation_turns)
        if decision.model == self.strong_model:
            with self._lock:
                self._escalated.setdefault(
                    conversation_id, Escalation(conversation_turns, decision.reason)
                )
                self._escalated.move_to_end(conversation_id)
                while len(self._escalated) > self.max_conversations:
                    self._escalated.popitem(last=False)
        return decision

    def escalation(self, conversation_id: str) -> Escalation | None:
        """When this conversation moved to the strong model, or None if it has not (or was
        forgotten)."""
        with self._lock:
            return self._escalated.get(conversation_id)

    def forget(self, conversation_id: str) -> None:
        """Drop a conversation's state (it ended, or the user started over)."""
        with self._lock:
            self._escalated.pop(conversation_id, None)

    def __len__(self) -> int:
        """Escalated conversations currently remembered."""
        with self._lock:
            return len(self._escalated)
