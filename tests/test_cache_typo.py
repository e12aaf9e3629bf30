"""The typo-tolerant cache: typos are found again, near-opposites never are."""

from __future__ import annotations

import pytest

from course_lib.algorithms import edit_distance
from course_lib.cache import CachedAnswer, TTLPolicy, TypoTolerantCache, typo_distance
from course_lib.datasets import load_semantic_pairs


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def answer(text: str = "Settings → Account → Reset password.", entry: str = "kb-001",
           kind: str | None = "faq") -> CachedAnswer:
    return CachedAnswer(text, "gpt-4o", sources={entry: 1}, kind=kind)


@pytest.mark.parametrize(("query", "cached", "edits"), [
    ("how do I reset pasword", "How do I reset password?", 1),
    ("how do i upgrdae my plan", "How do I upgrade my plan?", 2),
    ("HOW DO I RESET MY PASSWORD", "how do i reset my password?", 0),
])
def test_typos_and_case_are_forgiven(query: str, cached: str, edits: int) -> None:
    assert typo_distance(query, cached) == edits


@pytest.mark.parametrize(("query", "cached"), [
    ("How do I import our data?", "How do I export our data?"),        # prefix changes meaning
    ("turn off two-factor authentication", "turn on two-factor authentication"),
    ("unmute notifications for this channel", "mute notifications for this channel"),
    ("如何导入数据?", "如何导出数据?"),                                   # one character, new word
    ("Can I add 16 seats?", "Can I add 18 seats?"),                       # numbers are exact
    ("how do i reset pasword now", "how do i reset password"),            # a word more
    ("hwo do i rest pasword", "how do i reset password"),                 # too many typos
])
def test_different_questions_are_not_typos(query: str, cached: str) -> None:
    assert typo_distance(query, cached) is None


def test_a_known_word_is_not_a_typo() -> None:
    assert typo_distance("how do i hike tasks", "how do i hide tasks") == 1
    assert typo_distance("how do i hike tasks", "how do i hide tasks",
                         known_words=frozenset({"hike"})) is None


def test_on_the_labelled_pairs_no_different_intent_is_matched() -> None:
    """A plain edit-distance bound matches near-opposites; the typo rule matches none."""
    pairs = load_semantic_pairs()
    naive = [p for p in pairs
             if edit_distance(p.a.casefold(), p.b.casefold(), max_distance=2) is not None]
    typo = [p for p in pairs
            if typo_distance(p.a, p.b) is not None or typo_distance(p.b, p.a) is not None]
    assert any(not p.same_intent for p in naive)
    assert typo and all(p.same_intent for p in typo)


def test_cache_serves_a_misspelt_question_within_its_scope_and_ttl() -> None:
    clock = Clock()
    cache = TypoTolerantCache(clock=clock, policy=TTLPolicy.for_support_bot())
    assert cache.add("How do I reset my password?", answer(), scope="gpt-4o")
    match = cache.lookup("how do i reset my pasword", scope="gpt-4o")
    assert match is not None and match.edits == 1
    assert match.cached_query == "How do I reset my password?"
    assert cache.lookup("how do i reset my pasword", scope="gpt-4o-mini") is None
    clock.now += cache.policy.ttl_for("faq") + 1
    assert cache.lookup("how do i reset my pasword", scope="gpt-4o") is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_cached_words_are_known_words() -> None:
    cache = TypoTolerantCache()
    cache.add("how do i hide tasks", answer(entry="kb-010"))
    assert cache.lookup("how do i hike tasks") is not None
    cache.add("how do i hike up the priority", answer(entry="kb-011"))
    assert cache.lookup("how do i hike tasks") is None  # "hike" is now a real word here


def test_realtime_answers_are_not_cached_and_invalidation() -> None:
    cache = TypoTolerantCache(policy=TTLPolicy.for_support_bot(realtime_ttl_s=None))
    assert not cache.add("where is my ticket", answer(kind="realtime"))
    cache.add("how do i reset my password", answer(entry="kb-001"))
    cache.add("how do i export data", answer(entry="kb-020"))
    assert cache.invalidate_entry("kb-001") == 1
    assert cache.lookup("how do i reset my pasword") is None and len(cache) == 1


def test_lru_bound_and_bad_arguments() -> None:
    cache = TypoTolerantCache(max_entries=2)
    for i, question in enumerate(["reset password", "export data", "delete account"]):
        cache.add(question, answer(entry=f"kb-{i}"))
    assert len(cache) == 2 and cache.lookup("reset pasword") is None
    with pytest.raises(ValueError, match="max_typos"):
        TypoTolerantCache(max_typos=0)
    with pytest.raises(ValueError, match="at least one word"):
        cache.add("?!", answer())
    with pytest.raises(TypeError, match="CachedAnswer"):
        cache.add("hello", "not an answer")  # type: ignore[arg-type]
