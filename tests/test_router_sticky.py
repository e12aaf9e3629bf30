"""Routing consistency: same query, same model; and one model per conversation once escalated."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.lesson.model_router import LessonModelRouter
from course_lib.router.decision import RouteDecision
from course_lib.router.rules import RuleRouter
from course_lib.router.sticky import Escalation, StickyRouter


class ContainsHard:
    """A stub router: strong model when the query contains "hard"."""

    def __init__(self) -> None:
        self.calls = 0

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        self.calls += 1
        if "hard" in query:
            return RouteDecision("gpt-4o", "found 'hard'")
        return RouteDecision("gpt-4o-mini", "simple")


def test_a_conversation_stays_on_the_strong_model_once_escalated() -> None:
    sticky = StickyRouter(ContainsHard())
    assert sticky.route("hi", 1, conversation_id="c1").model == "gpt-4o-mini"
    assert sticky.route("a hard one", 2, conversation_id="c1").model == "gpt-4o"
    after = sticky.route("thanks!", 3, conversation_id="c1")
    assert after == RouteDecision(
        "gpt-4o", "sticky: conversation 'c1' moved to gpt-4o at turn 2 (found 'hard')")
    assert sticky.escalation("c1") == Escalation(2, "found 'hard'")


def test_other_conversations_are_not_affected() -> None:
    sticky = StickyRouter(ContainsHard())
    sticky.route("a hard one", 1, conversation_id="c1")
    assert sticky.route("thanks!", 2, conversation_id="c2").model == "gpt-4o-mini"
    assert sticky.escalation("c2") is None


def test_a_sticky_conversation_does_not_ask_the_inner_router() -> None:
    inner = ContainsHard()
    sticky = StickyRouter(inner)
    sticky.route("a hard one", 1, conversation_id="c1")
    sticky.route("thanks", 2, conversation_id="c1")
    assert inner.calls == 1


def test_forget_returns_a_conversation_to_normal_routing() -> None:
    sticky = StickyRouter(ContainsHard())
    sticky.route("a hard one", 1, conversation_id="c1")
    sticky.forget("c1")
    assert sticky.route("thanks", 2, conversation_id="c1").model == "gpt-4o-mini"
    sticky.forget("never seen")  # forgetting the unknown is not an error


def test_memory_is_bounded_and_forgets_the_least_recently_seen() -> None:
    sticky = StickyRouter(ContainsHard(), max_conversations=2)
    for conversation in ("a", "b"):
        sticky.route("hard", 1, conversation_id=conversation)
    sticky.route("thanks", 2, conversation_id="a")  # "a" is now the most recently seen
    sticky.route("hard", 1, conversation_id="c")
    assert len(sticky) == 2
    assert sticky.escalation("b") is None
    assert sticky.escalation("a") is not None and sticky.escalation("c") is not None


def test_bad_input_is_an_error_that_names_it() -> None:
    sticky = StickyRouter(ContainsHard())
    with pytest.raises(ValueError, match="conversation_id"):
        sticky.route("hi", 1, conversation_id="")
    with pytest.raises(ValueError, match="query is empty"):
        sticky.route("", 1, conversation_id="c1")
    with pytest.raises(ValueError, match="conversation_turns"):
        sticky.route("hi", -2, conversation_id="c1")
    with pytest.raises(TypeError, match="route"):
        StickyRouter(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_conversations"):
        StickyRouter(ContainsHard(), max_conversations=0)


@settings(deadline=None)  # the first example loads tiktoken's encoding
@given(query=st.text(min_size=1, max_size=80).filter(str.strip),
       turns=st.integers(min_value=0, max_value=20))
def test_same_query_same_turns_same_decision(query: str, turns: int) -> None:
    """The rule routers have no randomness and no hidden state: routing twice agrees."""
    rules = RuleRouter(max_simple_turns=4, max_simple_length=30)
    lesson = LessonModelRouter()
    assert rules.route(query, turns) == rules.route(query, turns)
    assert lesson.route(query, turns) == lesson.route(query, turns)
