"""The lesson's Go ModelRouter, ported faithfully: its flaws are demonstrated, not fixed."""

from __future__ import annotations

import pytest

from course_lib.lesson.model_router import (
    LESSON_MAX_RUNES,
    LESSON_MAX_TURNS,
    LESSON_TECHNICAL_KEYWORDS,
    LessonModelRouter,
)
from course_lib.router.decision import RouteDecision, Router

ROUTER = LessonModelRouter()


def test_it_keeps_the_router_contract() -> None:
    """The port answers route(query, turns) with a RouteDecision, like every course router."""
    assert isinstance(ROUTER, Router)
    assert ROUTER.route("How do I reset my password?", 1) == RouteDecision(
        "gpt-4o-mini", "simple query"
    )


def test_the_upper_case_api_keyword_never_matches_a_lower_cased_query() -> None:
    """"API" is in the list, but the query is lower-cased and the keyword is not."""
    assert "API" in LESSON_TECHNICAL_KEYWORDS
    for query in ("How do I rotate an API key?", "API API API", "api"):
        assert ROUTER.route(query, 1) == RouteDecision("gpt-4o-mini", "simple query"), query


@pytest.mark.parametrize(
    ("query", "keyword"),
    [
        ("Our book club's project is called Terror Tales. How do I rename it?", "error"),
        ("Can you help me decode my invoice?", "code"),
        ("Are exported CSV files encoded as UTF-8?", "code"),
        ("What is the postcode field on the billing page for?", "code"),
        ("Is there an integrated calendar view?", "integrate"),
        ("Where is your service deployed?", "deploy"),
    ],
)
def test_substring_matching_fires_inside_longer_words(query: str, keyword: str) -> None:
    """strings.Contains finds "error" in "terror" and "code" in "decode", "encoded", "postcode"."""
    assert ROUTER.route(query, 1) == RouteDecision("gpt-4o", "technical keyword: " + keyword)


def test_the_first_keyword_in_list_order_is_the_reason() -> None:
    """Keywords are tried in the lesson's order: "错误" comes before "error"."""
    assert ROUTER.route("错误 error", 1).reason == "technical keyword: 错误"


def test_thresholds_are_more_than_5_turns_and_more_than_200_characters() -> None:
    """The guessed thresholds, exactly as written: > 5 turns, > 200 runes."""
    assert (LESSON_MAX_TURNS, LESSON_MAX_RUNES) == (5, 200)
    assert ROUTER.route("hello", 5).model == "gpt-4o-mini"
    assert ROUTER.route("hello", 6) == RouteDecision(
        "gpt-4o", "long conversation requires stronger model"
    )
    assert ROUTER.route("a" * 200, 1).model == "gpt-4o-mini"
    assert ROUTER.route("a" * 201, 1) == RouteDecision("gpt-4o", "long query indicates complexity")


def test_length_is_counted_in_characters_not_utf8_bytes() -> None:
    """RuneCountInString: 201 Chinese characters are long, 67 (201 bytes in UTF-8) are not."""
    assert ROUTER.route("好" * 201, 1).reason == "long query indicates complexity"
    assert len("好" * 67) == 67 and len(("好" * 67).encode()) == 201
    assert ROUTER.route("好" * 67, 1).model == "gpt-4o-mini"


def test_turns_are_checked_before_length_and_keywords() -> None:
    """The first rule that fires decides, in the Go code's order."""
    assert ROUTER.route("error " * 50, 9).reason == "long conversation requires stronger model"
    assert ROUTER.route("error " * 50, 1).reason == "long query indicates complexity"


def test_bad_input_is_routed_like_any_other_message() -> None:
    """The Go code checks nothing: an empty query and -3 turns go to the small model."""
    assert ROUTER.route("", -3) == RouteDecision("gpt-4o-mini", "simple query")
