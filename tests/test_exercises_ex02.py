"""Exercise 2's checks: the solution passes; the lesson's routing mistakes fail with a hint.

Wrong answers: the lesson's own matching (query lower-cased, keyword "API" not), substrings,
Python's ``\\b`` next to Chinese, a threshold that ignores the cost of a miss, the lesson's
router, and a fitted router that measures length in characters.
"""

from __future__ import annotations

import re

import pytest

from course_lib.checks import Status, run_check
from course_lib.lesson.model_router import LessonModelRouter
from course_lib.router import RuleRouter
from tests.test_exercises_support import assert_fails, load_solution

SOLUTION = load_solution("ex02_model_routing")


@pytest.mark.parametrize(
    ("check_id", "name"),
    [("ex02.q1", "keyword_matches"), ("ex02.q2", "best_threshold"), ("ex02.q3", "build_router")],
)
def test_the_solution_passes(check_id: str, name: str) -> None:
    result = run_check(check_id, SOLUTION[name])
    assert result.status is Status.PASSED, result.text()


# -- q1 -----------------------------------------------------------------------------------------


def lesson_matching(query: str, keyword: str) -> bool:
    return keyword in query.lower()  # strings.Contains(strings.ToLower(query), kw)


def substring_matching(query: str, keyword: str) -> bool:
    return keyword.casefold() in query.casefold()


def word_boundary_matching(query: str, keyword: str) -> bool:
    if re.fullmatch(r"[\u4e00-\u9fff]+", keyword):
        return keyword in query
    return re.search(rf"\b{re.escape(keyword)}\b", query, re.IGNORECASE) is not None


def test_the_lessons_lower_casing_misses_api() -> None:
    result = assert_fails("ex02.q1", lesson_matching, hint_words=["'API'", "casefold"])
    assert "'API'" in (result.call or "")
    assert result.expected == "True"


def test_substrings_fire_on_terror() -> None:
    result = assert_fails("ex02.q1", substring_matching, hint_words=["terror", "whole words"])
    assert "Terror" in (result.call or "")


def test_python_word_boundaries_miss_api_next_to_chinese() -> None:
    result = assert_fails("ex02.q1", word_boundary_matching, hint_words=["\\b", "限"])
    assert "API限流" in (result.call or "")


# -- q2 -----------------------------------------------------------------------------------------


def threshold_ignoring_miss_cost(values, labels, miss_cost=1.0):
    def mistakes(t):
        return sum((v > t) != (label == "complex") for v, label in zip(values, labels,
                                                                        strict=True))
    return min([min(values) - 1, *sorted(set(values))], key=mistakes)


def the_lessons_guess(values, labels, miss_cost=1.0):
    return 200


def test_a_threshold_that_ignores_the_cost_of_a_miss_fails() -> None:
    result = assert_fails("ex02.q2", threshold_ignoring_miss_cost, hint_words=["miss_cost"])
    assert "miss_cost=3.0" in (result.call or "")
    assert result.expected is not None and result.expected.startswith("one of [2, 3]")


def test_a_guessed_threshold_fails() -> None:
    assert_fails("ex02.q2", the_lessons_guess, hint_words=["every cut-off"])


# -- q3 -----------------------------------------------------------------------------------------


def build_the_lessons_router(train):
    router = LessonModelRouter()
    return lambda query, turns: router.route(query, turns).model


def build_router_counting_characters(train):
    matches, best = SOLUTION["keyword_matches"], SOLUTION["best_threshold"]
    keywords = SOLUTION["KEYWORDS"]

    def has_keyword(query):
        return any(matches(query, keyword) for keyword in keywords)

    uncaught = [item for item in train if not has_keyword(item.query)]
    threshold = best([len(item.query) for item in uncaught], [item.label for item in uncaught])
    return lambda query, turns: ("gpt-4o" if has_keyword(query) or len(query) > threshold
                                 else "gpt-4o-mini")


def test_the_lessons_router_fails_with_examples() -> None:
    result = assert_fails("ex02.q3", build_the_lessons_router, hint_words=["tokens"])
    assert result.got is not None and "accuracy 51%" in result.got
    assert "missed:" in result.got


def test_a_fitted_router_counting_characters_fails_on_recall() -> None:
    result = assert_fails("ex02.q3", build_router_counting_characters,
                          hint_words=["count_tokens", "characters"])
    assert result.got is not None and "complex recall 73%" in result.got


def test_a_router_returning_route_decisions_is_accepted() -> None:
    def build(train):
        return RuleRouter.fit(train).route  # returns RouteDecision(model, reason)

    assert run_check("ex02.q3", build).status is Status.PASSED


def test_a_router_that_is_not_returned_is_explained() -> None:
    def build(train):
        def route(query, turns):
            return "gpt-4o"
        # forgets `return route`

    result = run_check("ex02.q3", build)
    assert result.status is Status.FAILED
    assert result.hint is not None and "return it" in result.hint
