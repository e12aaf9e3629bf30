"""The course's shipped data: Kitewing's support knowledge base and two labelled query sets.

Every lesson needs something real to measure, so the package ships three small files in
``course_lib/data``, all about *Kitewing*, a fictional project-management and team-chat product:

``knowledge_base.json``
    The support articles the sandbox answers from. Each entry has a short ``answer_brief`` (what a
    small, cheap model says) and a complete ``answer_full`` (what a strong model adds), so routing
    has a visible quality cost. Entries of kind ``"realtime"`` are about live data such as a
    ticket's status: the caching lesson asks what TTL they deserve (next to none). ``related``
    links an article to others ("related articles"), the edges of the graph that
    :mod:`course_lib.knowledge_graph` searches.
``semantic_pairs.jsonl``
    Labelled query pairs. A semantic cache that serves ``a``'s answer for ``b`` is right only when
    ``same_intent`` is true; the ``near_opposite`` pairs ("upgrade" / "downgrade my plan") are the
    false hits that a similarity threshold has to survive.
``routing_queries.jsonl``
    Support queries labelled ``simple`` (an FAQ lookup) or ``complex`` (needs the strong model),
    with a fixed train/test split so every router is measured on the same held-out queries.

The records are plain frozen dataclasses, built from the JSON by pydantic (``TypeAdapter``), so a
typo in a field or an unknown category fails on load with pydantic's message naming the record and
field. The rules that span records (unique ids and queries, links that go both ways, labels that
agree) are properties of the shipped files, checked by ``tests/test_datasets.py``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal, get_args

from pydantic import TypeAdapter

__all__ = [
    "CATEGORIES",
    "COMPLEXITIES",
    "ENTRY_KINDS",
    "PAIR_KINDS",
    "PAIR_LANGS",
    "ROUTE_LABELS",
    "ROUTE_LANGS",
    "SPLITS",
    "KnowledgeBase",
    "KnowledgeBaseEntry",
    "Plan",
    "Product",
    "QueryPair",
    "RoutingQuery",
    "load_knowledge_base",
    "load_routing_queries",
    "load_semantic_pairs",
]

Category = Literal[
    "billing", "account", "permissions", "api", "integrations",
    "troubleshooting", "self_hosting", "security", "data",
]
EntryKind = Literal["faq", "howto", "troubleshooting", "policy", "realtime"]
Complexity = Literal["simple", "complex"]
PairKind = Literal["paraphrase", "different_intent", "near_opposite"]
PairLang = Literal["en", "zh", "mixed"]
RouteLabel = Literal["simple", "complex"]
RouteLang = Literal["en", "zh"]
Split = Literal["train", "test"]

CATEGORIES: tuple[Category, ...] = get_args(Category)
ENTRY_KINDS: tuple[EntryKind, ...] = get_args(EntryKind)
COMPLEXITIES: tuple[Complexity, ...] = get_args(Complexity)
PAIR_KINDS: tuple[PairKind, ...] = get_args(PairKind)
PAIR_LANGS: tuple[PairLang, ...] = get_args(PairLang)
ROUTE_LABELS: tuple[RouteLabel, ...] = get_args(RouteLabel)
ROUTE_LANGS: tuple[RouteLang, ...] = get_args(RouteLang)
SPLITS: tuple[Split, ...] = get_args(Split)

KNOWLEDGE_BASE_FILE = "knowledge_base.json"
SEMANTIC_PAIRS_FILE = "semantic_pairs.jsonl"
ROUTING_QUERIES_FILE = "routing_queries.jsonl"



# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Plan:
    """One Kitewing price plan; ``price_usd_per_user_month`` is None for custom (Enterprise)."""

    name: str
    price_usd_per_user_month: Decimal | None
    summary: str

    @property
    def is_custom_priced(self) -> bool:
        return self.price_usd_per_user_month is None


@dataclass(frozen=True)
class Product:
    """The product the knowledge base is about, with its price table."""

    name: str
    tagline: str
    plans: tuple[Plan, ...]

    def plan(self, name: str) -> Plan:
        """The plan called ``name``; KeyError naming it (and the real ones) if there is none."""
        for plan in self.plans:
            if plan.name == name:
                return plan
        known = ", ".join(plan.name for plan in self.plans)
        raise KeyError(f"no plan named {name!r}; plans are: {known}")


@dataclass(frozen=True)
class KnowledgeBaseEntry:
    """One support article: a question, the ways users ask it, and two answers of different depth.

    ``answer_brief`` is what a small model would say; ``answer_full`` contains the same facts plus
    the steps, limits and caveats a strong model adds.
    """

    id: str
    category: Category
    kind: EntryKind
    question: str
    paraphrases: tuple[str, ...]
    answer_brief: str
    answer_full: str
    keywords: tuple[str, ...]
    complexity: Complexity
    updated: date
    version: int
    related: tuple[str, ...] = ()  # ids of related articles; links go both ways

    @property
    def is_realtime(self) -> bool:
        """True for questions about live data (ticket, payment, incident status): cache briefly."""
        return self.kind == "realtime"

    @property
    def all_questions(self) -> tuple[str, ...]:
        """The canonical question followed by its paraphrases, e.g. to index for retrieval."""
        return (self.question, *self.paraphrases)


@dataclass(frozen=True)
class KnowledgeBase:
    """The whole knowledge base: the product and its entries, in file order."""

    product: Product
    entries: tuple[KnowledgeBaseEntry, ...]
    _by_id: Mapping[str, KnowledgeBaseEntry] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        # A frozen dataclass cannot assign in __post_init__ the usual way; the index is derived
        # data, built once so by_id is a dict lookup rather than a scan, and read-only because
        # load_knowledge_base() hands the same instance to every caller.
        index = {entry.id: entry for entry in self.entries}
        object.__setattr__(self, "_by_id", MappingProxyType(index))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[KnowledgeBaseEntry]:
        return iter(self.entries)

    def by_id(self, entry_id: str) -> KnowledgeBaseEntry:
        """The entry with this id; KeyError naming the id if there is none."""
        try:
            return self._by_id[entry_id]
        except KeyError:
            raise KeyError(f"no knowledge-base entry with id {entry_id!r}") from None

    def categories(self) -> tuple[Category, ...]:
        """The categories that have entries, in the canonical order of ``CATEGORIES``."""
        present = {entry.category for entry in self.entries}
        return tuple(category for category in CATEGORIES if category in present)

    def in_category(self, category: str) -> tuple[KnowledgeBaseEntry, ...]:
        """The entries of one category; ValueError for a category that does not exist."""
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}; expected one of {CATEGORIES}")
        return tuple(entry for entry in self.entries if entry.category == category)


@dataclass(frozen=True)
class QueryPair:
    """Two queries and whether one's cached answer would be right for the other."""

    a: str
    b: str
    same_intent: bool
    kind: PairKind
    lang: PairLang


@dataclass(frozen=True)
class RoutingQuery:
    """A support query labelled with the model it needs: ``simple`` (small) or ``complex``.

    ``article`` is labelled on the complex queries of the test split only, whose answers notebook
    05 compares: the knowledge-base article that answers the query (at least in part), or None
    when no article does. A reference answer for such a query is on topic only if it comes from
    that article. On every other query the field is absent and None.
    """

    id: str
    query: str
    label: RouteLabel
    lang: RouteLang
    turns: int
    split: Split
    note: str | None = None
    article: str | None = None


# --------------------------------------------------------------------------- loading


def _shipped_text(name: str) -> str:
    # importlib.resources finds the file whether course_lib is a source tree, an installed wheel
    # or a zip, which a path built from __file__ does not guarantee.
    return resources.files("course_lib").joinpath("data", name).read_text(encoding="utf-8")


def _json_lines(name: str) -> list[Any]:
    return [json.loads(line) for line in _shipped_text(name).splitlines() if line.strip()]


@functools.lru_cache(maxsize=1)
def load_knowledge_base() -> KnowledgeBase:
    """Kitewing's knowledge base, parsed once per process (it is immutable, so sharing is safe)."""
    # Prices are money: parse JSON numbers as Decimal so 8.5 stays exactly 8.5.
    raw = json.loads(_shipped_text(KNOWLEDGE_BASE_FILE), parse_float=Decimal)
    return KnowledgeBase(
        product=TypeAdapter(Product).validate_python(raw["product"]),
        entries=TypeAdapter(tuple[KnowledgeBaseEntry, ...]).validate_python(raw["entries"]),
    )


@functools.lru_cache(maxsize=1)
def _shipped_semantic_pairs() -> tuple[QueryPair, ...]:
    return TypeAdapter(tuple[QueryPair, ...]).validate_python(_json_lines(SEMANTIC_PAIRS_FILE))


@functools.lru_cache(maxsize=1)
def _shipped_routing_queries() -> tuple[RoutingQuery, ...]:
    return TypeAdapter(tuple[RoutingQuery, ...]).validate_python(
        _json_lines(ROUTING_QUERIES_FILE))


def load_semantic_pairs() -> list[QueryPair]:
    """The shipped query pairs, in file order (a new list each call; the parse is cached)."""
    return list(_shipped_semantic_pairs())


def load_routing_queries(split: str | None = None) -> list[RoutingQuery]:
    """The shipped routing queries in file order: all of them, or only ``"train"`` or ``"test"``.

    The split is stored in the file, not drawn at load time, so every run and every learner
    evaluates on the same held-out queries.
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected 'train', 'test' or None for all")
    return [query for query in _shipped_routing_queries() if split is None or query.split == split]
