"""The corrected rule router: normalised keywords, whole words, Chinese substrings, fitted
thresholds."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.router.decision import RouteDecision
from course_lib.router.rules import (
    LESSON_KEYWORDS,
    RuleRouter,
    fit_thresholds,
    format_keyword_report,
)
from course_lib.tokens import count_tokens


@dataclass(frozen=True)
class Example:
    query: str
    turns: int
    label: str


# -- keywords -----------------------------------------------------------------------------------


def test_keywords_are_normalised_and_deduplicated_at_construction() -> None:
    """Upper case, padding, inner spaces and full-width letters all become one plain keyword."""
    router = RuleRouter(["API", " Error ", "api", "ＡＰＩ", "rate   limit"])
    assert router.keywords == ("api", "error", "rate limit")


def test_the_lessons_keywords_work_once_normalised() -> None:
    """"API" from the lesson's list now matches, whatever the query's case."""
    router = RuleRouter(LESSON_KEYWORDS)
    assert router.keyword_hits("How do I rotate an API key?") == ("api",)
    assert router.keyword_hits("how do i rotate an api key?") == ("api",)
    assert router.keyword_hits("ＡＰＩ key") == ("api",)


@pytest.mark.parametrize(
    "query",
    [
        "Our book club's project is called Terror Tales.",
        "Can you help me decode my invoice?",
        "Are exported CSV files encoded as UTF-8?",
        "What is the postcode field for?",
        "What does the codename mean?",
        "How rapidly does an upgrade take effect?",
        "Do you have a discount for small therapist practices?",
        "Can I use capital letters in project names?",
        "Is there an integrated calendar view?",
        "Where is it deployed?",
    ],
)
def test_keywords_inside_longer_words_do_not_match(query: str) -> None:
    """The dataset's substring traps: none of them fires the corrected router."""
    router = RuleRouter(LESSON_KEYWORDS)
    assert router.keyword_hits(query) == ()
    assert router.route(query, 1) == RouteDecision("gpt-4o-mini", "no rule fired: simple query")


@pytest.mark.parametrize(
    ("query", "hits"),
    [
        ("Error 422 when creating tasks", ("error",)),
        ("the API-key is rejected", ("api",)),
        ("(code) and [debug]", ("debug", "code")),
        ("error, exception; permission.", ("exception", "error", "permission")),
        ("kitewing.errors.RateLimited", ()),  # "errors" is another word: list it to match it
        ("api2 and v2api", ()),  # digits belong to the word
    ],
)
def test_latin_keywords_match_whole_words(query: str, hits: tuple[str, ...]) -> None:
    """Punctuation and spaces are boundaries; letters and digits are not."""
    assert RuleRouter(LESSON_KEYWORDS).keyword_hits(query) == hits


LATIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéü", min_size=1, max_size=8)


@given(keyword=LATIN, before=st.text(alphabet="abcxyzé09", max_size=4),
       after=st.text(alphabet="abcxyzé09", max_size=4))
def test_a_keyword_embedded_in_a_longer_latin_word_never_matches(
    keyword: str, before: str, after: str
) -> None:
    """Property: glue letters or digits to either side of a keyword and it no longer matches."""
    if not before and not after:
        return
    word = before + keyword + after
    router = RuleRouter([keyword])
    assert router.keyword_hits(f"see {word} here") == ()
    assert router.keyword_hits(word.upper()) == ()


@given(keyword=LATIN, left=st.sampled_from([" ", "(", "-", ".", "好", "\n", ""]),
       right=st.sampled_from([" ", ")", "-", "?", "吗", "\n", ""]))
def test_a_keyword_between_boundaries_always_matches(keyword: str, left: str, right: str) -> None:
    """Property: a keyword next to spaces, punctuation, Chinese or the ends of the text matches,
    in any case."""
    router = RuleRouter([keyword])
    for text in (f"{left}{keyword}{right}", f"{left}{keyword.upper()}{right}"):
        assert router.keyword_hits(text) == router.keywords, text


def test_chinese_keywords_match_as_substrings() -> None:
    """Chinese has no spaces, so a Chinese keyword matches anywhere, for better and for worse."""
    router = RuleRouter(["部署", "错误", "api"])
    assert router.keyword_hits("私有化部署是哪个套餐才有的?") == ("部署",)
    # the price: "错误的邮箱" (the wrong email) is not a technical error
    assert router.keyword_hits("邀请时填了错误的邮箱,怎么撤回?") == ("错误",)
    # a Latin keyword glued to Chinese text is still a whole word
    assert router.keyword_hits("三个服务共用一个API密钥") == ("api",)


def test_keyword_report_counts_hits_and_false_alarms() -> None:
    """Per keyword: how many examples it fires on, how many of those are really complex."""
    examples = [
        Example("API returns 403", 1, "complex"),
        Example("Is the API included in Team?", 1, "simple"),
        Example("What does API stand for?", 1, "simple"),
        Example("报错 409", 1, "complex"),
        Example("How do I reset my password?", 1, "simple"),
    ]
    stats = RuleRouter(["api", "报错", "debug"]).keyword_report(examples)
    assert [(s.keyword, s.hits, s.complex_hits, s.simple_hits) for s in stats] == [
        ("api", 3, 1, 2), ("报错", 1, 1, 0), ("debug", 0, 0, 0)]
    assert stats[0].precision == pytest.approx(1 / 3)
    assert stats[2].precision is None
    table = format_keyword_report(stats).splitlines()
    assert table[0].split() == ["keyword", "hits", "complex", "simple", "precision"]
    assert table[1].split() == ["api", "3", "1", "2", "33%"]
    assert table[3].split() == ["debug", "0", "0", "0", "-"]


# -- routing ------------------------------------------------------------------------------------


def test_rules_fire_in_the_lessons_order_with_reasons() -> None:
    """Turns, then length, then keywords; each reason names the rule and the numbers."""
    router = RuleRouter(["error"], max_simple_turns=5, max_simple_length=20, measure_length=len,
                        length_unit="characters")
    assert router.route("error", 6) == RouteDecision("gpt-4o", "long conversation: 6 turns > 5")
    assert router.route("error " * 5, 1) == RouteDecision(
        "gpt-4o", "long query: 30 characters > 20")
    assert router.route("an error", 1) == RouteDecision("gpt-4o", "technical keyword: error")
    assert router.route("a question", 5).model == "gpt-4o-mini"


def test_length_is_measured_in_gpt4o_tokens_by_default() -> None:
    """The default unit is tokens, counted by course_lib.tokens."""
    query = "How do I reset my password?"
    tokens = count_tokens(query, "gpt-4o")
    router = RuleRouter([], max_simple_length=tokens - 1)
    assert router.route(query, 1) == RouteDecision(
        "gpt-4o", f"long query: {tokens} tokens > {tokens - 1}")
    assert RuleRouter([], max_simple_length=tokens).route(query, 1).model == "gpt-4o-mini"


def test_rules_set_to_none_never_fire() -> None:
    """A threshold of None switches its rule off."""
    router = RuleRouter([])
    assert router.route("x" * 10_000, 10_000).model == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("query", "turns", "error", "message"),
    [
        ("", 1, ValueError, "query is empty"),
        ("   \n", 1, ValueError, "query is empty"),
        ("hello", -1, ValueError, "conversation_turns"),
        (None, 1, TypeError, "query must be a string"),
        ("hello", True, TypeError, "conversation_turns"),
        ("hello", 1.5, TypeError, "conversation_turns"),
    ],
)
def test_bad_input_is_an_error_that_names_it(query, turns, error, message) -> None:  # type: ignore[no-untyped-def]
    """An empty query or negative turns is a caller's bug, not a simple question."""
    with pytest.raises(error, match=message):
        RuleRouter().route(query, turns)


def test_bad_construction_is_an_error_that_names_it() -> None:
    with pytest.raises(TypeError, match="wrap a single keyword"):
        RuleRouter("api")
    with pytest.raises(ValueError, match="keyword 1"):
        RuleRouter(["api", "  "])
    with pytest.raises(ValueError, match="max_simple_turns"):
        RuleRouter(max_simple_turns=-1)
    with pytest.raises(TypeError, match="max_simple_length"):
        RuleRouter(max_simple_length=2.5)  # type: ignore[arg-type]


# -- fitting ------------------------------------------------------------------------------------

# Lengths 5, 8, 12, 20, 6 characters. By hand: only "longer than 8 characters" separates the
# complex queries from the simple ones, and the many-turn query (9 turns) is simple, so the turn
# rule must stay off.
TINY = [
    Example("x" * 5, 1, "simple"),
    Example("x" * 8, 2, "simple"),
    Example("x" * 12, 1, "complex"),
    Example("x" * 20, 1, "complex"),
    Example("x" * 6, 9, "simple"),
]


def test_fit_finds_the_known_optimum_of_a_tiny_dataset() -> None:
    """The unique zero-mistake pair is (turn rule off, length > 8)."""
    fit = fit_thresholds(TINY, RuleRouter([], measure_length=len))
    assert (fit.max_simple_turns, fit.max_simple_length) == (None, 8)
    assert (fit.cost, fit.accuracy, fit.strong_share) == (0, 1.0, 0.4)
    # turn cut-offs: off, 2, 1; length cut-offs: off, 12, 8, 6, 5
    assert fit.candidates_tried == 3 * 5


def test_fit_breaks_ties_towards_fewer_strong_calls() -> None:
    """With a 7-character complex query added, "> 6" and "> 8" both make one mistake;
    "> 8" sends fewer queries to the strong model."""
    data = [*TINY, Example("x" * 7, 1, "complex")]
    fit = fit_thresholds(data, RuleRouter([], measure_length=len))
    assert (fit.max_simple_turns, fit.max_simple_length, fit.cost) == (None, 8, 1)


def test_a_costlier_miss_moves_the_threshold_down() -> None:
    """If missing a complex query costs 3 and a wasted strong call 1, "> 6" (one waste) beats
    "> 8" (one miss)."""
    data = [*TINY, Example("x" * 7, 1, "complex")]
    fit = fit_thresholds(data, RuleRouter([], measure_length=len), miss_cost=3)
    assert (fit.max_simple_length, fit.cost) == (6, 1)


def test_fit_uses_the_turn_rule_when_the_data_supports_it() -> None:
    """Same lengths everywhere, complex exactly when turns > 2: the fit says so."""
    data = [Example("aa", 1, "simple"), Example("bb", 2, "simple"),
            Example("cc", 6, "complex"), Example("dd", 8, "complex")]
    router = RuleRouter.fit(data, [], measure_length=len, length_unit="characters")
    assert (router.max_simple_turns, router.max_simple_length) == (2, None)
    assert router.route("ee", 3) == RouteDecision("gpt-4o", "long conversation: 3 turns > 2")


def test_keywords_fire_whatever_the_thresholds() -> None:
    """A keyword that hits a simple example is a mistake no threshold can undo."""
    data = [*TINY, Example("x error", 1, "simple")]
    fit = fit_thresholds(data, RuleRouter(["error"], measure_length=len))
    assert (fit.max_simple_turns, fit.max_simple_length, fit.cost) == (None, 8, 1)


def test_fit_rejects_bad_input() -> None:
    router = RuleRouter([], measure_length=len)
    with pytest.raises(ValueError, match="at least one"):
        fit_thresholds([], router)
    with pytest.raises(ValueError, match="'simple' or 'complex'"):
        fit_thresholds([Example("x", 1, "hard")], router)
    with pytest.raises(ValueError, match="miss_cost"):
        fit_thresholds(TINY, router, miss_cost=0)
    with pytest.raises(ValueError, match="conversation_turns"):
        fit_thresholds([Example("x", -2, "simple")], router)
