"""Checks for ``exercises/ex02_model_routing`` (the lesson's task 2, 接入模型路由).

q1 checks keyword matching on hand-labelled queries that hit the lesson's three traps (the
upper-case "API" against a lower-cased query, substrings such as "terror", and Python's ``\\b``
that sees no boundary between "API" and "限流"). q2 checks a fitted threshold against a brute
force over every cut-off. q3 grades the learner's router on the held-out test split of
``course_lib.datasets.load_routing_queries`` (the router is built from the train split only)
against a minimum accuracy and a minimum recall of complex queries. The bar is what notebook 05
measured the data to support: a length rule in tokens, fitted on train, reaches 88% on test, the
embedding router 91%, while the lesson's keywords pull any router they are added to down to 76%
(they fire on simple questions as often as on hard ones). Expected values are hand-labelled or
brute-forced here; no course router is consulted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from course_lib.checks.expect import call_learner, describe_call, expect, short_repr
from course_lib.checks.hints import mistake_hint
from course_lib.checks.registry import register
from course_lib.datasets import load_routing_queries

__all__ = ["check_best_threshold", "check_keyword_matches", "check_router"]

STRONG, WEAK = "gpt-4o", "gpt-4o-mini"
MIN_ACCURACY = 0.85
MIN_COMPLEX_RECALL = 0.80
# The lesson's conversation (2,100 tokens in, 300 out) priced by hand: $0.00825 on gpt-4o,
# $0.000495 on gpt-4o-mini.
STRONG_CONVERSATION_USD = Decimal("0.00825")
WEAK_CONVERSATION_USD = Decimal("0.000495")

# (query, keyword, expected, the mistake a wrong answer here shows), hand-labelled.
KEYWORD_CASES: tuple[tuple[str, str, bool, str], ...] = (
    ("How do I rotate an API key?", "API", True, "case"),
    ("how do i rotate an api key", "API", True, "case"),
    ("Is the api v2 rate limit per key?", "API", True, "case"),
    ("Error 422 when saving a task", "error", True, "case"),
    ("ERROR: permission denied", "permission", True, "case"),
    ("Our book club's project is called Terror Tales.", "error", False, "word"),
    ("Please decode this base64 string", "code", False, "word"),
    ("What is the postcode field on the billing page for?", "code", False, "word"),
    ("Getting kitewing.errors.RateLimited in the nightly sync", "error", False, "word"),
    ("How rapidly does an upgrade take effect?", "API", False, "word"),
    ("our api-key leaked, what now?", "api", True, "word"),
    ("Where is the sample code?", "code", True, "word"),
    ("API限流是每分钟多少次?", "API", True, "cjk_boundary"),
    ("调用API报错", "api", True, "cjk_boundary"),
    ("部署失败了怎么办", "部署", True, "chinese"),
    ("私有化部署是哪个套餐才有的?", "部署", True, "chinese"),
    ("怎么重置密码?", "部署", False, "chinese"),
    ("ＡＰＩ 密钥在哪里生成?", "API", True, "width"),
)


@register("ex02.q1", "keyword matching: case, whole words, Chinese")
def check_keyword_matches(keyword_matches: Callable[[str, str], bool]) -> str:
    """Each hand-labelled (query, keyword) pair matches exactly when it should."""
    for query, keyword, expected, mistake in KEYWORD_CASES:
        call = describe_call("keyword_matches", query, keyword)
        got = call_learner(keyword_matches, query, keyword, call=call)
        expect(isinstance(got, bool), "keyword_matches should return True or False", call=call,
               expected=repr(expected), got=short_repr(got),
               hint=mistake_hint("ex02.q1", "not_bool"))
        expect(got is expected,
               "a false alarm: this query does not contain the keyword as a word"
               if got else "a miss: this query does contain the keyword",
               call=call, expected=repr(expected), got=repr(got),
               hint=mistake_hint("ex02.q1", mistake))
    return f"{len(KEYWORD_CASES)} hand-labelled queries (English, Chinese, mixed) matched right"


# -- q2: fitted threshold ------------------------------------------------------------------------


def _threshold_cost(threshold: float, values: Sequence[int], labels: Sequence[str],
                    miss_cost: float) -> float:
    """Mistakes at ``threshold`` (strong when value > threshold): misses weighted by miss_cost."""
    cost = 0.0
    for value, label in zip(values, labels, strict=True):
        to_strong = value > threshold
        if label == "complex" and not to_strong:
            cost += miss_cost
        elif label == "simple" and to_strong:
            cost += 1.0
    return cost


THRESHOLD_CASES: tuple[tuple[list[int], list[str], float, str], ...] = (
    ([3, 5, 8, 12, 20], ["simple", "simple", "simple", "complex", "complex"], 1.0,
     "separable: any cut-off from 8 up to 11 makes no mistake"),
    ([2, 4, 6, 8, 10, 12], ["simple", "complex", "simple", "simple", "complex", "complex"], 1.0,
     "overlapping: the best cut-off still makes one mistake"),
    ([2, 4, 6, 8, 10, 12], ["simple", "complex", "simple", "simple", "complex", "complex"], 3.0,
     "the same, but a missed complex query costs 3 wasted strong calls"),
    ([5, 5, 9, 9], ["simple", "simple", "simple", "simple"], 1.0,
     "all simple: nothing should go to the strong model"),
    ([5, 5, 9, 9], ["complex", "complex", "complex", "complex"], 1.0,
     "all complex: everything should go to the strong model"),
    ([7, 3, 11, 3, 15, 9], ["simple", "simple", "complex", "simple", "complex", "complex"], 1.0,
     "unsorted values, with duplicates"),
)


@register("ex02.q2", "a threshold fitted on labelled data")
def check_best_threshold(best_threshold: Callable[..., int]) -> str:
    """The learner's cut-off makes the fewest (weighted) mistakes of any cut-off."""
    for values, labels, miss_cost, story in THRESHOLD_CASES:
        call = describe_call("best_threshold", values, labels, miss_cost=miss_cost)
        got = call_learner(best_threshold, list(values), list(labels), miss_cost=miss_cost,
                           call=call)
        expect(isinstance(got, int) and not isinstance(got, bool),
               "best_threshold should return a whole number", call=call,
               expected="an int t: route to the strong model when value > t",
               got=short_repr(got))
        candidates = [min(values) - 1, *sorted(set(values))]
        best = min(_threshold_cost(t, values, labels, miss_cost) for t in candidates)
        optimal = [t for t in range(min(values) - 1, max(values) + 1)
                   if _threshold_cost(t, values, labels, miss_cost) == best]
        cost = _threshold_cost(got, values, labels, miss_cost)
        expect(cost == best, f"not the best cut-off ({story})", call=call,
               expected=f"one of {optimal} (weighted mistakes: {best:g})",
               got=f"{got} (weighted mistakes: {cost:g})",
               hint=mistake_hint("ex02.q2", "every_cutoff" if miss_cost == 1.0 else "miss_cost"))
    return f"{len(THRESHOLD_CASES)} data sets: every cut-off is one of the best"


# -- q3: the router on held-out queries ----------------------------------------------------------


def _model_of(decision: object) -> object:
    return getattr(decision, "model", decision)  # a RouteDecision or a plain model name


@register("ex02.q3", "your router on the held-out test queries")
def check_router(build_router: Callable[[Sequence[object]], Callable[[str, int], object]]) -> str:
    """Built from the train split; graded on the test split: accuracy and complex recall."""
    train, test = load_routing_queries("train"), load_routing_queries("test")
    route = call_learner(build_router, train, call="build_router(load_routing_queries('train'))")
    expect(callable(route), "build_router should return a function route(query, turns)",
           call="build_router(train)", expected="a function", got=short_repr(route),
           hint=mistake_hint("ex02.q3", "not_returned"))
    correct = strong_calls = complex_hits = 0
    missed: list[str] = []
    wasted: list[str] = []
    for item in test:
        call = describe_call("route", item.query, item.turns)
        model = _model_of(call_learner(route, item.query, item.turns, call=call))
        expect(model in (STRONG, WEAK), "route should return a model name", call=call,
               expected=f"{STRONG!r} or {WEAK!r}", got=short_repr(model))
        to_strong = model == STRONG
        strong_calls += to_strong
        if to_strong == (item.label == "complex"):
            correct += 1
        elif item.label == "complex":
            missed.append(f"missed: {item.query[:90]!r}")
        else:
            wasted.append(f"wasted: {item.query[:90]!r}")
        complex_hits += to_strong and item.label == "complex"
    complex_total = sum(item.label == "complex" for item in test)
    accuracy, recall = correct / len(test), complex_hits / complex_total
    share = strong_calls / len(test)
    cost = share * float(STRONG_CONVERSATION_USD) + (1 - share) * float(WEAK_CONVERSATION_USD)
    saving = 1 - cost / float(STRONG_CONVERSATION_USD)
    measured = (f"accuracy {accuracy:.0%} (at least {MIN_ACCURACY:.0%}), complex recall "
                f"{recall:.0%} (at least {MIN_COMPLEX_RECALL:.0%}), gpt-4o share {share:.0%}")
    examples = "\n".join([*missed[:3], *wasted[:3]])
    mistake = "missed" if recall < MIN_COMPLEX_RECALL else "wasted"
    expect(accuracy >= MIN_ACCURACY and recall >= MIN_COMPLEX_RECALL,
           "the router is not good enough on the held-out test queries",
           call=f"route(query, turns) for the {len(test)} test queries",
           expected=f"accuracy >= {MIN_ACCURACY:.0%} and complex recall >= "
                    f"{MIN_COMPLEX_RECALL:.0%}",
           got=f"{measured}\nsome it got wrong:\n{examples}",
           hint=mistake_hint("ex02.q3", mistake))
    return f"{measured}; {saving:.0%} cheaper than sending everything to gpt-4o"
