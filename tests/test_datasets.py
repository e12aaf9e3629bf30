"""The shipped data sets: are they big, balanced and consistent enough to measure with, and do the
files hold the types and the cross-record rules the loader relies on?"""

from __future__ import annotations

import dataclasses
import json
import re
import statistics
from collections import Counter
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from course_lib import datasets
from course_lib.datasets import (
    CATEGORIES,
    KnowledgeBase,
    KnowledgeBaseEntry,
    Plan,
    QueryPair,
    RoutingQuery,
    load_knowledge_base,
    load_routing_queries,
    load_semantic_pairs,
)

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A sentence ends at . ! or ? followed by a space and a capital letter; the answers avoid
# abbreviations such as "e.g." so that this simple rule counts them correctly.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")

# The keyword list of the lesson's Go router (seed lesson, model_router.go), copied verbatim.
LESSON_KEYWORDS = (
    "配置", "错误", "报错", "exception", "error",
    "debug", "deploy", "部署", "权限", "permission",
    "API", "代码", "code", "integrate", "集成",
)
CHINESE_KEYWORDS = tuple(keyword for keyword in LESSON_KEYWORDS if CJK.search(keyword))


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


def has_lesson_keyword(query: str) -> bool:
    """Whether a lower-casing keyword router (the lesson's, with 'API' fixed) would fire."""
    lowered = query.lower()
    return any(keyword.lower() in lowered for keyword in LESSON_KEYWORDS)


def sentences(text: str) -> list[str]:
    return SENTENCE_BREAK.split(text.strip())


def entry_text(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """(entry id, text) for every answer in the knowledge base."""
    return [(e.id, text) for e in kb.entries for text in (e.answer_brief, e.answer_full)]


# =============================================================================== knowledge base


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def test_knowledge_base_covers_every_category(kb: KnowledgeBase) -> None:
    """At least 48 entries, and every support category has at least four of them."""
    assert len(kb.entries) >= 48
    per_category = Counter(entry.category for entry in kb.entries)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 4, per_category


def test_knowledge_base_is_about_sixty_percent_simple(kb: KnowledgeBase) -> None:
    """Roughly 60% of the entries are simple, so a router has both kinds to tell apart."""
    simple_share = sum(entry.complexity == "simple" for entry in kb.entries) / len(kb.entries)
    assert 0.55 <= simple_share <= 0.65, simple_share


def test_ids_are_sequential(kb: KnowledgeBase) -> None:
    """Ids run kb-001, kb-002, ... in file order, so notebooks can cite them stably."""
    assert [entry.id for entry in kb.entries] == [
        f"kb-{number:03d}" for number in range(1, len(kb.entries) + 1)
    ]


def test_realtime_entries_exist_and_do_not_pretend_to_know_live_state(kb: KnowledgeBase) -> None:
    """At least four realtime entries; each full answer says it cannot see the live data."""
    realtime = [entry for entry in kb.entries if entry.is_realtime]
    assert len(realtime) >= 4
    for entry in realtime:
        assert re.search(r"\bcannot (see|know)\b", entry.answer_full), entry.id


def test_paraphrases_include_chinese_for_at_least_15_entries(kb: KnowledgeBase) -> None:
    """Every entry has 3-5 paraphrases, and at least 15 entries can be asked in Chinese."""
    assert all(3 <= len(entry.paraphrases) <= 5 for entry in kb.entries)
    with_chinese = [e.id for e in kb.entries if any(has_cjk(p) for p in e.paraphrases)]
    assert len(with_chinese) >= 15


def test_questions_are_unique_across_entries(kb: KnowledgeBase) -> None:
    """No question or paraphrase belongs to two entries: retrieval would have no right answer."""
    owners: dict[str, str] = {}
    for entry in kb.entries:
        for question in entry.all_questions:
            key = " ".join(question.casefold().split())
            assert key not in owners, f"{question!r} in {owners.get(key)} and {entry.id}"
            owners[key] = entry.id


def test_full_answer_contains_the_brief_answer_and_more(kb: KnowledgeBase) -> None:
    """answer_full is longer and repeats every number the brief answer states."""
    for entry in kb.entries:
        assert len(entry.answer_full) > len(entry.answer_brief), entry.id
        missing = set(NUMBER.findall(entry.answer_brief)) - set(NUMBER.findall(entry.answer_full))
        assert not missing, f"{entry.id}: full answer drops {missing}"


def test_answer_lengths_match_the_two_model_profiles(kb: KnowledgeBase) -> None:
    """A brief answer is 1-2 sentences; a full answer 4-7."""
    for entry in kb.entries:
        assert 1 <= len(sentences(entry.answer_brief)) <= 2, entry.id
        assert 4 <= len(sentences(entry.answer_full)) <= 7, entry.id


def test_plan_table(kb: KnowledgeBase) -> None:
    """The product table lists the four plans at the prices the course is written around."""
    prices = {plan.name: plan.price_usd_per_user_month for plan in kb.product.plans}
    assert prices == {
        "Free": Decimal(0), "Team": Decimal(8), "Business": Decimal(16), "Enterprise": None,
    }
    assert kb.product.plan("Enterprise").is_custom_priced
    assert kb.product.name == "Kitewing"


def test_every_price_in_the_answers_matches_the_plan_table(kb: KnowledgeBase) -> None:
    """Any dollar amount is a plan price, and a price next to a plan name is that plan's."""
    prices = {
        plan.name: plan.price_usd_per_user_month
        for plan in kb.product.plans
        if plan.price_usd_per_user_month is not None
    }
    named = re.compile(r"\b(Free|Team|Business)\b(?: plan)?(?: at| for)? \(?\$(\d+(?:\.\d+)?)")
    named_mentions = 0
    for entry_id, text in entry_text(kb):
        for amount in re.findall(r"\$(\d+(?:\.\d+)?)", text):
            assert Decimal(amount) in prices.values(), f"{entry_id}: ${amount}"
        for plan, amount in named.findall(text):
            named_mentions += 1
            assert Decimal(amount) == prices[plan], f"{entry_id}: {plan} at ${amount}"
    assert named_mentions >= 3  # the pricing entry names all three priced plans


def test_plan_names_in_the_answers_are_real_plans(kb: KnowledgeBase) -> None:
    """'the X plan' always names a plan from the product table."""
    names = {plan.name for plan in kb.product.plans}
    for entry_id, text in entry_text(kb):
        for mentioned in re.findall(r"\bthe ([A-Z][a-z]+) plans?\b", text):
            assert mentioned in names, f"{entry_id}: the {mentioned} plan"


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        (r"(\d[\d,]*) requests per minute", {"600", "3,000"}),
        (r"(\d+) MB on Free", {"100"}),
        (r"(\d+) GB on paid plans", {"2"}),
        (r"last (\d+) days of messages", {"90"}),
        (r"up to (\d+) per paid member", {"5"}),
        (r"(\d+) integrations\b", {"2"}),
        (r"retried up to (\d+) times", {"8"}),
        (r"expires? after (\d+) days", {"7"}),
        (r"Trash for (\d+) days", {"30"}),
    ],
)
def test_repeated_limits_agree_everywhere(
    kb: KnowledgeBase, pattern: str, allowed: set[str]
) -> None:
    """A limit stated in several entries has the same value in all of them."""
    found = [
        (entry_id, value)
        for entry_id, text in entry_text(kb)
        for value in re.findall(pattern, text)
    ]
    assert found, f"pattern {pattern!r} no longer matches anything"
    for entry_id, value in found:
        assert value in allowed, f"{entry_id}: {pattern!r} gave {value!r}"


def test_rate_limit_entry_states_the_facts_the_course_uses(kb: KnowledgeBase) -> None:
    """An API entry gives 600 requests/minute per key and the 429 + Retry-After behaviour."""
    assert any(
        entry.category == "api"
        and "600 requests per minute" in entry.answer_brief
        and "429" in entry.answer_brief
        and "Retry-After" in entry.answer_brief
        for entry in kb.entries
    )


def test_answers_point_only_at_fictional_domains(kb: KnowledgeBase) -> None:
    """URLs and email addresses use the reserved kitewing.example domain, never a real site."""
    real_looking = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|app|dev|co)\b")
    for entry_id, text in entry_text(kb):
        assert not real_looking.search(text), f"{entry_id}: {real_looking.search(text)}"
        for address in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*", text):
            assert address.endswith("@kitewing.example"), f"{entry_id}: {address}"


def test_entries_were_updated_in_2026(kb: KnowledgeBase) -> None:
    assert all(date(2026, 1, 1) <= entry.updated <= date(2026, 12, 31) for entry in kb.entries)


def test_by_id_and_categories(kb: KnowledgeBase) -> None:
    """by_id finds an entry; an unknown id raises KeyError naming it; categories keep order."""
    assert kb.by_id("kb-001").id == "kb-001"
    with pytest.raises(KeyError, match="kb-999"):
        kb.by_id("kb-999")
    assert kb.categories() == CATEGORIES
    assert all(entry.category == "api" for entry in kb.in_category("api"))
    with pytest.raises(ValueError, match="'billling'"):
        kb.in_category("billling")


def test_knowledge_base_is_loaded_once_and_immutable(kb: KnowledgeBase) -> None:
    assert load_knowledge_base() is kb
    with pytest.raises(dataclasses.FrozenInstanceError):
        kb.entries[0].answer_brief = "changed"  # type: ignore[misc]


# =============================================================================== semantic pairs


@pytest.fixture(scope="module")
def pairs() -> list[QueryPair]:
    return load_semantic_pairs()


def test_pair_counts(pairs: list[QueryPair]) -> None:
    """Enough pairs of each kind for a false-hit rate to mean something, 25+ in Chinese."""
    kinds = Counter(pair.kind for pair in pairs)
    assert len(pairs) >= 220
    assert kinds["paraphrase"] >= 110
    assert kinds["different_intent"] >= 60
    assert kinds["near_opposite"] >= 45
    assert sum(pair.lang in ("zh", "mixed") for pair in pairs) >= 25


def test_only_paraphrases_share_an_intent(pairs: list[QueryPair]) -> None:
    assert all(pair.same_intent == (pair.kind == "paraphrase") for pair in pairs)


def test_pair_language_labels_match_the_text(pairs: list[QueryPair]) -> None:
    """en: no Chinese; zh: Chinese on both sides; mixed: Chinese and English words together."""
    for pair in pairs:
        both = pair.a + " " + pair.b
        if pair.lang == "en":
            assert not has_cjk(both), pair
        elif pair.lang == "zh":
            assert has_cjk(pair.a) and has_cjk(pair.b), pair
        else:
            assert has_cjk(both) and LATIN_WORD.search(both), pair


def test_near_opposites_look_more_alike_than_paraphrases(pairs: list[QueryPair]) -> None:
    """The dangerous pairs: on the surface, near-opposites are closer than true paraphrases."""

    def mean_similarity(kind: str) -> float:
        return statistics.mean(
            SequenceMatcher(None, p.a.casefold(), p.b.casefold()).ratio()
            for p in pairs
            if p.kind == kind
        )

    assert mean_similarity("near_opposite") > mean_similarity("paraphrase") + 0.2


def test_loaded_pairs_are_a_fresh_list(pairs: list[QueryPair]) -> None:
    """Callers may sort or trim the list without changing what the next caller gets."""
    mine = load_semantic_pairs()
    mine.clear()
    assert load_semantic_pairs() == pairs


# =============================================================================== routing queries


@pytest.fixture(scope="module")
def queries() -> list[RoutingQuery]:
    return load_routing_queries()


def test_routing_counts(queries: list[RoutingQuery]) -> None:
    """240+ queries, 60+ in Chinese, both labels well represented in both languages."""
    strata = Counter((query.label, query.lang) for query in queries)
    assert len(queries) >= 240
    assert strata["simple", "zh"] + strata["complex", "zh"] >= 60
    assert min(strata.values()) >= 30, strata
    complex_share = sum(query.label == "complex" for query in queries) / len(queries)
    assert 0.3 <= complex_share <= 0.5


def test_ids_are_sequential_in_file_order(queries: list[RoutingQuery]) -> None:
    assert [q.id for q in queries] == [f"rq-{n:03d}" for n in range(1, len(queries) + 1)]


def test_split_is_about_60_40_within_every_stratum(queries: list[RoutingQuery]) -> None:
    """Train/test is ~60/40 overall and inside each (label, language) stratum."""
    test_share = sum(query.split == "test" for query in queries) / len(queries)
    assert 0.35 <= test_share <= 0.45
    for label in ("simple", "complex"):
        for lang in ("en", "zh"):
            stratum = [q for q in queries if q.label == label and q.lang == lang]
            share = sum(q.split == "test" for q in stratum) / len(stratum)
            assert 0.33 <= share <= 0.47, (label, lang, share)


def test_splits_partition_the_queries_in_file_order(queries: list[RoutingQuery]) -> None:
    """train and test are disjoint, cover everything, keep file order and never reshuffle."""
    train, test = load_routing_queries("train"), load_routing_queries("test")
    assert {q.id for q in train}.isdisjoint(q.id for q in test)
    assert sorted(train + test, key=lambda q: q.id) == queries
    assert train == [q for q in queries if q.split == "train"]
    assert load_routing_queries("test") == test


def test_unknown_split_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="'validation'"):
        load_routing_queries("validation")


def test_complex_test_queries_name_articles_that_exist(queries: list[RoutingQuery]) -> None:
    """Every complex test query is labelled; the labels name real articles, and some are None."""
    labelled = [q for q in queries if q.label == "complex" and q.split == "test"]
    articles = [q.article for q in labelled]
    assert None in articles and sum(a is not None for a in articles) > len(labelled) / 2
    known = {entry.id for entry in load_knowledge_base()}
    assert {a for a in articles if a is not None} <= known
    assert all(q.article is None for q in queries if q not in labelled)


def test_the_article_field_is_written_on_complex_test_queries_and_only_there() -> None:
    """In the file, "article": null says "no article answers it"; elsewhere the key is absent."""
    for record in raw_lines("routing_queries.jsonl"):
        labelled = record["label"] == "complex" and record["split"] == "test"
        assert ("article" in record) == labelled, record["id"]


def test_routing_language_labels_match_the_text(queries: list[RoutingQuery]) -> None:
    for query in queries:
        assert has_cjk(query.query) == (query.lang == "zh"), query


def test_conversation_turns_are_mostly_short(queries: list[RoutingQuery]) -> None:
    """Most queries come early in a chat; some come late, with either label (rule 1's trap)."""
    short = sum(1 <= q.turns <= 3 for q in queries) / len(queries)
    late = [q for q in queries if q.turns >= 6]
    assert short >= 0.8
    assert len(late) >= 10
    assert {q.label for q in late} == {"simple", "complex"}


@pytest.mark.parametrize("fragment", ["terror", "decode", "encode", "capital"])
def test_substring_traps_are_simple_queries(queries: list[RoutingQuery], fragment: str) -> None:
    """A keyword hidden inside an ordinary word ('terror' holds 'error') labels simple."""
    hits = [q for q in queries if fragment in q.query.lower()]
    assert hits and all(q.label == "simple" for q in hits), fragment


def test_the_word_error_appears_in_a_simple_query(queries: list[RoutingQuery]) -> None:
    assert any(
        q.label == "simple" and q.lang == "en" and re.search(r"\berror\b", q.query)
        for q in queries
    )


def test_uppercase_api_appears_with_both_labels(queries: list[RoutingQuery]) -> None:
    """'API' in capitals, which the lesson's router never matches, in simple and complex queries."""
    labels = {q.label for q in queries if re.search(r"\bAPI\b", q.query)}
    assert labels == {"simple", "complex"}


def test_length_is_not_complexity(queries: list[RoutingQuery]) -> None:
    """Long simple queries (over 200 characters, both languages) and short complex ones exist."""
    long_simple = [q for q in queries if q.label == "simple" and len(q.query) > 200]
    short_complex = [q for q in queries if q.label == "complex" and len(q.query) < 60]
    assert len(long_simple) >= 5
    assert {q.lang for q in long_simple} == {"en", "zh"}
    assert len(short_complex) >= 5


def test_complex_queries_without_keywords_exist(queries: list[RoutingQuery]) -> None:
    no_keyword = [q for q in queries if q.label == "complex" and not has_lesson_keyword(q.query)]
    assert len(no_keyword) >= 10
    assert {q.lang for q in no_keyword} == {"en", "zh"}


@pytest.mark.parametrize("keyword", CHINESE_KEYWORDS)
def test_chinese_keywords_appear_in_both_senses(queries: list[RoutingQuery], keyword: str) -> None:
    """Each Chinese keyword of the lesson occurs in a simple and in a complex Chinese query."""
    labels = {q.label for q in queries if q.lang == "zh" and keyword in q.query}
    assert labels == {"simple", "complex"}, keyword


def test_trap_notes_tell_the_truth(queries: list[RoutingQuery]) -> None:
    """A query noted as a trap really has the property its note claims."""
    checks = {
        "complex without any technical keyword": lambda q: not has_lesson_keyword(q.query),
        "long (over 200 characters)": lambda q: len(q.query) > 200,
        "short but needs": lambda q: len(q.query) < 60,
        "many turns": lambda q: q.turns > 5,
        "keyword in a simple sense": lambda q: has_lesson_keyword(q.query),
    }
    checked = 0
    for query in queries:
        for claim, holds in checks.items():
            if query.note and claim in query.note:
                checked += 1
                assert holds(query), (query.id, claim)
    assert checked >= 40


# ===================================================================== the files themselves
# What the loader does not check, because it holds for the shipped files once and for all: every
# record has exactly the fields and types its dataclass declares (strict: no "1" for 1), and the
# rules that span records hold. Editing a file and breaking one of these fails here.

DATA = Path(datasets.__file__).parent / "data"


def raw_knowledge_base() -> dict[str, Any]:
    return json.loads((DATA / "knowledge_base.json").read_text(encoding="utf-8"))


def raw_lines(name: str) -> list[dict[str, Any]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def same_text(text: str) -> str:
    """Case and spacing differences do not make a new query."""
    return " ".join(text.casefold().split())


def assert_strict_records(record_type: type, records: list[dict[str, Any]]) -> None:
    """Each record has only its dataclass's fields, of exactly the declared types."""
    names = {field.name for field in dataclasses.fields(record_type)}
    adapter = TypeAdapter(record_type)
    for record in records:
        assert set(record) <= names, set(record) - names
        adapter.validate_json(json.dumps(record), strict=True)  # raises, naming the field


def test_every_record_has_exactly_its_declared_fields_and_types() -> None:
    kb = raw_knowledge_base()
    assert set(kb) == {"product", "entries"}
    assert_strict_records(Plan, kb["product"]["plans"])
    assert_strict_records(KnowledgeBaseEntry, kb["entries"])
    assert_strict_records(QueryPair, raw_lines("semantic_pairs.jsonl"))
    assert_strict_records(RoutingQuery, raw_lines("routing_queries.jsonl"))


def test_the_strict_check_sees_a_wrong_type_and_an_unknown_field() -> None:
    entry = raw_knowledge_base()["entries"][0]
    with pytest.raises(ValidationError, match="version"):
        assert_strict_records(KnowledgeBaseEntry, [{**entry, "version": "1"}])
    with pytest.raises(AssertionError, match="answer_short"):
        assert_strict_records(KnowledgeBaseEntry, [{**entry, "answer_short": "hi"}])


def test_a_broken_shipped_file_fails_on_load_naming_the_field(monkeypatch) -> None:
    raw = raw_knowledge_base()
    raw["entries"][3]["kind"] = "live"
    monkeypatch.setattr(datasets, "_shipped_text", lambda name: json.dumps(raw))
    datasets.load_knowledge_base.cache_clear()
    try:
        with pytest.raises(ValidationError, match=r"3\.kind\n  Input should be 'faq'"):
            datasets.load_knowledge_base()
    finally:
        monkeypatch.undo()
        datasets.load_knowledge_base.cache_clear()


def test_knowledge_base_entries_follow_the_rules_that_span_records(kb: KnowledgeBase) -> None:
    ids = [entry.id for entry in kb.entries]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"kb-\d{3}", entry_id) for entry_id in ids)
    for entry in kb.entries:
        assert 3 <= len(entry.paraphrases) <= 5, entry.id
        assert entry.question not in entry.paraphrases, entry.id
        assert entry.keywords and entry.version >= 1, entry.id
        texts = (entry.question, *entry.paraphrases, entry.answer_brief, entry.answer_full)
        assert all(text.strip() for text in texts), entry.id
        assert entry.id not in entry.related, entry.id
        assert len(set(entry.related)) == len(entry.related), entry.id


def test_related_articles_exist_and_link_both_ways(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        for target in entry.related:
            assert entry.id in kb.by_id(target).related, (entry.id, target)


def test_plans_have_unique_names_and_prices_that_are_not_negative(kb: KnowledgeBase) -> None:
    names = [plan.name for plan in kb.product.plans]
    assert len(set(names)) == len(names)
    for plan in kb.product.plans:
        assert plan.price_usd_per_user_month is None or plan.price_usd_per_user_month >= 0


def test_every_pair_is_two_different_queries_and_appears_once(pairs: list[QueryPair]) -> None:
    keys = [frozenset({same_text(pair.a), same_text(pair.b)}) for pair in pairs]
    assert all(len(key) == 2 for key in keys)
    assert len(set(keys)) == len(keys)


def test_routing_ids_and_queries_are_unique(queries: list[RoutingQuery]) -> None:
    assert len({query.id for query in queries}) == len(queries)
    assert all(re.fullmatch(r"rq-\d{3}", query.id) for query in queries)
    assert len({same_text(query.query) for query in queries}) == len(queries)
    assert all(query.turns >= 1 and query.query.strip() for query in queries)
