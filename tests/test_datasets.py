"""The shipped data sets: are they big, balanced and consistent enough to measure with, and does
the loader reject broken files with an error that says where and what?"""

from __future__ import annotations

import copy
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

from course_lib.datasets import (
    CATEGORIES,
    KnowledgeBase,
    QueryPair,
    RoutingQuery,
    load_knowledge_base,
    load_routing_queries,
    load_semantic_pairs,
    read_knowledge_base,
    read_routing_queries,
    read_semantic_pairs,
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


# =============================================================================== validation


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                for r in records),
        encoding="utf-8",
    )
    return path


def routing_record(number: int, **changes: Any) -> dict[str, Any]:
    record = {
        "id": f"rq-{number:03d}", "query": f"How do I do thing number {number}?",
        "label": "simple", "lang": "en", "turns": 1, "split": "train",
    }
    record.update(changes)
    return record


def pair_record(**changes: Any) -> dict[str, Any]:
    record = {
        "a": "How do I enable 2FA?", "b": "How do I disable 2FA?",
        "same_intent": False, "kind": "near_opposite", "lang": "en",
    }
    record.update(changes)
    return record


def test_a_valid_routing_file_loads_into_typed_records(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "queries.jsonl", [
        routing_record(1),
        "",
        routing_record(2, query="配置报错怎么办?", label="complex", lang="zh", turns=7,
                       split="test", note="keyword", article="kb-032"),
        routing_record(3, label="complex", split="test", article=None),
    ])
    assert read_routing_queries(path) == [
        RoutingQuery(id="rq-001", query="How do I do thing number 1?", label="simple",
                     lang="en", turns=1, split="train", note=None),
        RoutingQuery(id="rq-002", query="配置报错怎么办?", label="complex", lang="zh",
                     turns=7, split="test", note="keyword", article="kb-032"),
        RoutingQuery(id="rq-003", query="How do I do thing number 3?", label="complex",
                     lang="en", turns=1, split="test", note=None, article=None),
    ]


@pytest.mark.parametrize(
    ("second_record", "expected"),
    [
        ({k: v for k, v in routing_record(2).items() if k != "label"},
         r"line 2 \(rq-002\): missing field 'label'"),
        (routing_record(2, label="hard"), r"line 2 \(rq-002\): field 'label' must be one of "
                                          r"'simple', 'complex', got 'hard'"),
        (routing_record(2, split="validation"), r"field 'split' .* got 'validation'"),
        (routing_record(2, lang="fr"), r"field 'lang' .* got 'fr'"),
        (routing_record(1, query="Something else"), r"line 2 \(rq-001\): duplicate id 'rq-001' "
                                                    r"\(first used on line 1\)"),
        (routing_record(2, query="  how do I do THING number 1? "),
         r"line 2 \(rq-002\): duplicate query \(first seen on line 1\)"),
        (routing_record(2, turns=True), r"field 'turns' must be an integer, got True"),
        (routing_record(2, turns=0), r"field 'turns' must be at least 1, got 0"),
        (routing_record(2, turns="3"), r"field 'turns' must be an integer, got '3'"),
        (routing_record(2, query="   "), r"field 'query' is empty"),
        (routing_record(2, id="query-2"), r"field 'id' must look like 'rq-001', got 'query-2'"),
        (routing_record(2, lable="simple"), r"unknown field\(s\) 'lable'"),
        (routing_record(2, label="complex", split="test"),
         r"line 2 \(rq-002\): a complex test query needs field 'article'"),
        (routing_record(2, article="kb-001"),
         r"field 'article' is labelled on complex test queries only"),
        (routing_record(2, label="complex", split="train", article=None),
         r"field 'article' is labelled on complex test queries only"),
        (routing_record(2, label="complex", split="test", article="SSO setup"),
         r"field 'article' must look like 'kb-001', got 'SSO setup'"),
        ('{"id": "rq-002", "query": ', r"line 2: invalid JSON"),
        ("[1, 2]", r"line 2: expected a JSON object, got list"),
    ],
)
def test_bad_routing_records_are_rejected_with_location(
    tmp_path: Path, second_record: Any, expected: str
) -> None:
    """The error names the file, the line (and id when there is one) and the problem."""
    path = write_jsonl(tmp_path / "queries.jsonl", [routing_record(1), second_record])
    with pytest.raises(ValueError, match=expected) as error:
        read_routing_queries(path)
    assert str(error.value).startswith(str(path))


def test_an_empty_routing_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no queries"):
        read_routing_queries(path)


def test_a_valid_pairs_file_loads_into_typed_records(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "pairs.jsonl", [
        pair_record(),
        pair_record(a="怎么重置密码?", b="忘记密码了怎么办?", same_intent=True,
                    kind="paraphrase", lang="zh"),
    ])
    assert read_semantic_pairs(path) == [
        QueryPair(a="How do I enable 2FA?", b="How do I disable 2FA?", same_intent=False,
                  kind="near_opposite", lang="en"),
        QueryPair(a="怎么重置密码?", b="忘记密码了怎么办?", same_intent=True,
                  kind="paraphrase", lang="zh"),
    ]


@pytest.mark.parametrize(
    ("second_record", "expected"),
    [
        (pair_record(a="How do I disable 2FA?", b="how do i ENABLE 2fa?"),
         r"line 2: duplicate pair \(first seen on line 1\)"),
        (pair_record(a="Reset password", b="reset   PASSWORD"), r"'a' and 'b' are the same query"),
        (pair_record(a="x", same_intent=True), r"kind 'near_opposite' contradicts "
                                               r"same_intent=true"),
        (pair_record(a="x", kind="paraphrase"), r"kind 'paraphrase' contradicts same_intent=false"),
        (pair_record(a="x", kind="opposite"), r"field 'kind' must be one of .* got 'opposite'"),
        (pair_record(a="x", lang="de"), r"field 'lang' .* got 'de'"),
        (pair_record(a="x", same_intent="no"), r"field 'same_intent' must be true or false"),
        ({k: v for k, v in pair_record(a="x").items() if k != "b"}, r"missing field 'b'"),
    ],
)
def test_bad_pairs_are_rejected_with_location(
    tmp_path: Path, second_record: dict[str, Any], expected: str
) -> None:
    path = write_jsonl(tmp_path / "pairs.jsonl", [pair_record(), second_record])
    with pytest.raises(ValueError, match=expected) as error:
        read_semantic_pairs(path)
    assert str(error.value).startswith(f"{path}: line 2")


VALID_ENTRY: dict[str, Any] = {
    "id": "kb-001", "category": "billing", "kind": "faq",
    "question": "How much does it cost?",
    "paraphrases": ["What are the prices?", "pricing?", "多少钱?"],
    "answer_brief": "Team is $8 per user per month.",
    "answer_full": "Team is $8 per user per month. Annual billing saves 15%.",
    "keywords": ["pricing"], "complexity": "simple", "updated": "2026-03-01", "version": 1,
}
VALID_KB: dict[str, Any] = {
    "product": {
        "name": "Kitewing", "tagline": "Projects and chat.",
        "plans": [
            {"name": "Team", "price_usd_per_user_month": 8.5, "summary": "For teams."},
            {"name": "Enterprise", "price_usd_per_user_month": None, "summary": "Custom."},
        ],
    },
    "entries": [VALID_ENTRY, {**VALID_ENTRY, "id": "kb-002", "question": "Is there a trial?"}],
}


def write_kb(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_valid_knowledge_base_loads_into_typed_records(tmp_path: Path) -> None:
    kb = read_knowledge_base(write_kb(tmp_path / "kb.json", VALID_KB))
    assert kb.product.plan("Team").price_usd_per_user_month == Decimal("8.5")
    assert kb.product.plan("Enterprise").price_usd_per_user_month is None
    entry = kb.by_id("kb-002")
    assert entry.question == "Is there a trial?"
    assert entry.paraphrases == ("What are the prices?", "pricing?", "多少钱?")
    assert entry.updated == date(2026, 3, 1)
    assert kb.categories() == ("billing",)
    with pytest.raises(KeyError, match="'Free'"):
        kb.product.plan("Free")


def broken_kb(edit: str) -> dict[str, Any]:
    """VALID_KB with one defect, named by ``edit``."""
    document = copy.deepcopy(VALID_KB)
    second = document["entries"][1]
    if edit == "duplicate id":
        second["id"] = "kb-001"
    elif edit == "bad category":
        second["category"] = "billing-ish"
    elif edit == "bad kind":
        second["kind"] = "live"
    elif edit == "two paraphrases":
        second["paraphrases"] = second["paraphrases"][:2]
    elif edit == "paraphrase repeats question":
        second["paraphrases"] = [*second["paraphrases"], second["question"]]
    elif edit == "bad date":
        second["updated"] = "2026-13-01"
    elif edit == "missing answer_full":
        del second["answer_full"]
    elif edit == "version 0":
        second["version"] = 0
    elif edit == "unknown field":
        second["answer_short"] = "hi"
    elif edit == "negative price":
        document["product"]["plans"][0]["price_usd_per_user_month"] = -1
    elif edit == "price as text":
        document["product"]["plans"][0]["price_usd_per_user_month"] = "$8"
    elif edit == "duplicate plan":
        document["product"]["plans"][1]["name"] = "Team"
    elif edit == "no entries":
        document["entries"] = []
    elif edit == "keywords not a list":
        second["keywords"] = "pricing"
    else:
        raise AssertionError(edit)
    return document


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("duplicate id", r"entries\[1\]: duplicate id 'kb-001' \(first used by entries\[0\]\)"),
        ("bad category", r"entries\[1\] \(kb-002\): field 'category' .* got 'billing-ish'"),
        ("bad kind", r"field 'kind' must be one of 'faq', .* got 'live'"),
        ("two paraphrases", r"\(kb-002\): field 'paraphrases' needs 3 to 5 items, got 2"),
        ("paraphrase repeats question", r"a paraphrase repeats the question itself"),
        ("bad date", r"field 'updated' must be a date like 2026-03-01, got '2026-13-01'"),
        ("missing answer_full", r"\(kb-002\): missing field 'answer_full'"),
        ("version 0", r"field 'version' must be at least 1, got 0"),
        ("unknown field", r"unknown field\(s\) 'answer_short'"),
        ("negative price", r"plan 'Team': price_usd_per_user_month must not be negative"),
        ("price as text", r"plan 'Team': price_usd_per_user_month must be a number or null"),
        ("duplicate plan", r"product: duplicate plan name\(s\) 'Team'"),
        ("no entries", r"field 'entries' must be a non-empty list"),
        ("keywords not a list", r"field 'keywords' must be a list of strings, got str"),
    ],
)
def test_bad_knowledge_bases_are_rejected_with_location(
    tmp_path: Path, edit: str, expected: str
) -> None:
    path = write_kb(tmp_path / "kb.json", broken_kb(edit))
    with pytest.raises(ValueError, match=expected) as error:
        read_knowledge_base(path)
    assert str(error.value).startswith(str(path))


def test_a_knowledge_base_that_is_not_json_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "kb.json"
    path.write_text('{"product": {\n  "name": "Kitewing",\n}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"kb\.json: invalid JSON at line 3"):
        read_knowledge_base(path)
