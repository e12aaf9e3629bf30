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

Each record is validated on load and a broken file fails with an error naming the file, the line
or id and the problem, instead of quietly skewing a measurement. The validation is written by hand
because it is small and shows exactly what is checked; a schema library such as pydantic
(``pydantic.dataclasses``) or ``jsonschema`` does the same job declaratively.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NoReturn, get_args

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
    "parse_knowledge_base",
    "parse_routing_queries",
    "parse_semantic_pairs",
    "read_knowledge_base",
    "read_routing_queries",
    "read_semantic_pairs",
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

PARAPHRASES_PER_ENTRY = (3, 5)
_ENTRY_ID = re.compile(r"kb-\d{3,}")
_QUERY_ID = re.compile(r"rq-\d{3,}")


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


# --------------------------------------------------------------------------- validation


class _Fields:
    """Typed access to one raw JSON object, turning every problem into a located ValueError."""

    def __init__(self, raw: Any, *, source: str, where: str, allowed: frozenset[str]) -> None:
        self.source = source
        self.where = where
        if not isinstance(raw, dict):
            self.fail(f"expected a JSON object, got {type(raw).__name__}")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            self.fail(f"unknown field(s) {', '.join(map(repr, unknown))}")
        self.raw: dict[str, Any] = raw

    def fail(self, problem: str) -> NoReturn:
        raise ValueError(f"{self.source}: {self.where}: {problem}")

    def value(self, name: str) -> Any:
        if name not in self.raw:
            self.fail(f"missing field {name!r}")
        return self.raw[name]

    def text(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str):
            self.fail(f"field {name!r} must be a string, got {type(value).__name__}")
        if not value.strip():
            self.fail(f"field {name!r} is empty")
        return value

    def optional_text(self, name: str) -> str | None:
        return None if self.raw.get(name) is None else self.text(name)

    def texts(self, name: str, *, at_least: int, at_most: int | None = None) -> tuple[str, ...]:
        value = self.value(name)
        if not isinstance(value, list):
            self.fail(f"field {name!r} must be a list of strings, got {type(value).__name__}")
        if len(value) < at_least or (at_most is not None and len(value) > at_most):
            bounds = f"{at_least} to {at_most}" if at_most is not None else f"at least {at_least}"
            self.fail(f"field {name!r} needs {bounds} items, got {len(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"field {name!r} item {index} must be a non-empty string")
        if len(set(value)) != len(value):
            self.fail(f"field {name!r} repeats an item")
        return tuple(value)

    def choice(self, name: str, allowed: tuple[str, ...]) -> Any:
        value = self.value(name)
        if value not in allowed:
            expected = ", ".join(map(repr, allowed))
            self.fail(f"field {name!r} must be one of {expected}, got {value!r}")
        return value

    def integer(self, name: str, *, minimum: int) -> int:
        value = self.value(name)
        # bool is a subclass of int in Python; `"turns": true` is a data error, not 1.
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"field {name!r} must be an integer, got {value!r}")
        if value < minimum:
            self.fail(f"field {name!r} must be at least {minimum}, got {value}")
        return value

    def boolean(self, name: str) -> bool:
        value = self.value(name)
        if not isinstance(value, bool):
            self.fail(f"field {name!r} must be true or false, got {value!r}")
        return value

    def iso_date(self, name: str) -> date:
        value = self.text(name)
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"field {name!r} must be a date like 2026-03-01, got {value!r}")

    def identifier(self, name: str, pattern: re.Pattern[str], example: str) -> str:
        value = self.text(name)
        if not pattern.fullmatch(value):
            self.fail(f"field {name!r} must look like {example!r}, got {value!r}")
        return value


def _json_lines(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed object) for every non-blank line of a JSON Lines text."""
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield line_number, json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{source}: line {line_number}: invalid JSON ({error.msg})") from None


def _line_where(line_number: int, raw: Any, id_field: str | None = None) -> str:
    """'line 7' or, when the record carries a usable id, 'line 7 (rq-007)'."""
    if id_field and isinstance(raw, dict) and isinstance(raw.get(id_field), str):
        return f"line {line_number} ({raw[id_field]})"
    return f"line {line_number}"


def _same_text_key(text: str) -> str:
    """Normalise for duplicate detection: case and spacing differences do not make a new query."""
    return " ".join(text.casefold().split())


# --------------------------------------------------------------------------- knowledge base

_KB_TOP_FIELDS = frozenset({"product", "entries"})
_PRODUCT_FIELDS = frozenset({"name", "tagline", "plans"})
_PLAN_FIELDS = frozenset({"name", "price_usd_per_user_month", "summary"})
_ENTRY_FIELDS = frozenset({
    "id", "category", "kind", "question", "paraphrases", "answer_brief", "answer_full",
    "keywords", "complexity", "updated", "version", "related",
})


def _parse_plan(raw: Any, source: str, index: int) -> Plan:
    fields = _Fields(raw, source=source, where=f"product.plans[{index}]", allowed=_PLAN_FIELDS)
    name = fields.text("name")
    fields.where = f"plan {name!r}"
    price = fields.value("price_usd_per_user_month")
    if price is not None:
        if isinstance(price, bool) or not isinstance(price, int | Decimal):
            fields.fail(f"price_usd_per_user_month must be a number or null, got {price!r}")
        price = Decimal(price)
        if price < 0:
            fields.fail(f"price_usd_per_user_month must not be negative, got {price}")
    return Plan(name=name, price_usd_per_user_month=price, summary=fields.text("summary"))


def _parse_product(raw: Any, source: str) -> Product:
    fields = _Fields(raw, source=source, where="product", allowed=_PRODUCT_FIELDS)
    raw_plans = fields.value("plans")
    if not isinstance(raw_plans, list) or not raw_plans:
        fields.fail("field 'plans' must be a non-empty list")
    plans = tuple(_parse_plan(item, source, index) for index, item in enumerate(raw_plans))
    names = [plan.name for plan in plans]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        fields.fail(f"duplicate plan name(s) {', '.join(map(repr, duplicates))}")
    return Product(name=fields.text("name"), tagline=fields.text("tagline"), plans=plans)


def _parse_entry(raw: Any, source: str, index: int) -> KnowledgeBaseEntry:
    where = f"entries[{index}]"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        where += f" ({raw['id']})"
    fields = _Fields(raw, source=source, where=where, allowed=_ENTRY_FIELDS)
    question = fields.text("question")
    paraphrases = fields.texts("paraphrases", at_least=PARAPHRASES_PER_ENTRY[0],
                               at_most=PARAPHRASES_PER_ENTRY[1])
    if question in paraphrases:
        fields.fail("a paraphrase repeats the question itself")
    return KnowledgeBaseEntry(
        id=fields.identifier("id", _ENTRY_ID, "kb-001"),
        category=fields.choice("category", CATEGORIES),
        kind=fields.choice("kind", ENTRY_KINDS),
        question=question,
        paraphrases=paraphrases,
        answer_brief=fields.text("answer_brief"),
        answer_full=fields.text("answer_full"),
        keywords=fields.texts("keywords", at_least=1),
        complexity=fields.choice("complexity", COMPLEXITIES),
        updated=fields.iso_date("updated"),
        version=fields.integer("version", minimum=1),
        related=_related_ids(fields),
    )


def _related_ids(fields: _Fields) -> tuple[str, ...]:
    if "related" not in fields.raw:
        return ()
    related = fields.texts("related", at_least=0)
    for target in related:
        if not _ENTRY_ID.fullmatch(target):
            fields.fail(f"field 'related' must list ids like 'kb-001', got {target!r}")
    if fields.raw.get("id") in related:
        fields.fail("field 'related' links the entry to itself")
    return related


def _check_links(entries: list[KnowledgeBaseEntry], source: str) -> None:
    """Every link names an entry, and goes both ways (a one-sided edit is a data error)."""
    index = {entry.id: position for position, entry in enumerate(entries)}
    for position, entry in enumerate(entries):
        for target in entry.related:
            where = f"{source}: entries[{position}] ({entry.id})"
            if target not in index:
                raise ValueError(f"{where}: field 'related' names {target!r}, which is not an "
                                 "entry")
            if entry.id not in entries[index[target]].related:
                raise ValueError(f"{where}: links to {target!r}, but {target!r} does not link "
                                 f"back; related articles go both ways")


def parse_knowledge_base(text: str, source: str = KNOWLEDGE_BASE_FILE) -> KnowledgeBase:
    """Parse and validate a knowledge-base JSON document; ValueError names the first problem."""
    try:
        # Prices are money: parse JSON numbers as Decimal so 8.5 stays exactly 8.5.
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{source}: invalid JSON at line {error.lineno}, column {error.colno} ({error.msg})"
        ) from None
    top = _Fields(raw, source=source, where="top level", allowed=_KB_TOP_FIELDS)
    product = _parse_product(top.value("product"), source)
    raw_entries = top.value("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        top.fail("field 'entries' must be a non-empty list")
    entries: list[KnowledgeBaseEntry] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw_entries):
        entry = _parse_entry(item, source, index)
        if entry.id in seen:
            raise ValueError(
                f"{source}: entries[{index}]: duplicate id {entry.id!r} "
                f"(first used by entries[{seen[entry.id]}])"
            )
        seen[entry.id] = index
        entries.append(entry)
    _check_links(entries, source)
    return KnowledgeBase(product=product, entries=tuple(entries))


# --------------------------------------------------------------------------- semantic pairs

_PAIR_FIELDS = frozenset({"a", "b", "same_intent", "kind", "lang"})


def parse_semantic_pairs(text: str, source: str = SEMANTIC_PAIRS_FILE) -> tuple[QueryPair, ...]:
    """Parse and validate semantic-cache query pairs (JSON Lines), in file order.

    Besides the schema, two rules keep the labels honest: only ``paraphrase`` pairs may have the
    same intent, and a pair may appear once, in either order.
    """
    pairs: list[QueryPair] = []
    first_line: dict[frozenset[str], int] = {}
    for line_number, raw in _json_lines(text, source):
        fields = _Fields(raw, source=source, where=_line_where(line_number, raw),
                         allowed=_PAIR_FIELDS)
        pair = QueryPair(
            a=fields.text("a"),
            b=fields.text("b"),
            same_intent=fields.boolean("same_intent"),
            kind=fields.choice("kind", PAIR_KINDS),
            lang=fields.choice("lang", PAIR_LANGS),
        )
        if pair.same_intent != (pair.kind == "paraphrase"):
            fields.fail(
                f"kind {pair.kind!r} contradicts same_intent={str(pair.same_intent).lower()} "
                "(only paraphrases share an intent)"
            )
        key = frozenset({_same_text_key(pair.a), _same_text_key(pair.b)})
        if len(key) == 1:
            fields.fail("'a' and 'b' are the same query")
        if key in first_line:
            fields.fail(f"duplicate pair (first seen on line {first_line[key]})")
        first_line[key] = line_number
        pairs.append(pair)
    if not pairs:
        raise ValueError(f"{source}: no pairs")
    return tuple(pairs)


# --------------------------------------------------------------------------- routing queries

_QUERY_FIELDS = frozenset({"id", "query", "label", "lang", "turns", "split", "note",
                           "article"})


def _article(fields: _Fields) -> str | None:
    if fields.raw.get("article") is None:
        return None
    return fields.identifier("article", _ENTRY_ID, "kb-001")


def parse_routing_queries(
    text: str, source: str = ROUTING_QUERIES_FILE
) -> tuple[RoutingQuery, ...]:
    """Parse and validate labelled routing queries (JSON Lines), in file order.

    Ids must be unique, and so must the queries: the same query in train and test would let a
    router score well by memorising.
    """
    queries: list[RoutingQuery] = []
    id_line: dict[str, int] = {}
    query_line: dict[str, int] = {}
    for line_number, raw in _json_lines(text, source):
        fields = _Fields(raw, source=source, where=_line_where(line_number, raw, "id"),
                         allowed=_QUERY_FIELDS)
        query = RoutingQuery(
            id=fields.identifier("id", _QUERY_ID, "rq-001"),
            query=fields.text("query"),
            label=fields.choice("label", ROUTE_LABELS),
            lang=fields.choice("lang", ROUTE_LANGS),
            turns=fields.integer("turns", minimum=1),
            split=fields.choice("split", SPLITS),
            note=fields.optional_text("note"),
            article=_article(fields),
        )
        labelled = query.label == "complex" and query.split == "test"
        if labelled and "article" not in fields.raw:
            fields.fail("a complex test query needs field 'article' (an id like 'kb-001', or "
                        "null when no article answers it)")
        if not labelled and "article" in fields.raw:
            fields.fail("field 'article' is labelled on complex test queries only")
        if query.id in id_line:
            fields.fail(f"duplicate id {query.id!r} (first used on line {id_line[query.id]})")
        key = _same_text_key(query.query)
        if key in query_line:
            fields.fail(f"duplicate query (first seen on line {query_line[key]})")
        id_line[query.id] = query_line[key] = line_number
        queries.append(query)
    if not queries:
        raise ValueError(f"{source}: no queries")
    return tuple(queries)


# --------------------------------------------------------------------------- files

def read_knowledge_base(path: str | os.PathLike[str]) -> KnowledgeBase:
    """Load a knowledge base from any file, e.g. your own product's, with the same validation."""
    return parse_knowledge_base(Path(path).read_text(encoding="utf-8"), source=os.fspath(path))


def read_semantic_pairs(path: str | os.PathLike[str]) -> list[QueryPair]:
    """Load query pairs from any JSON Lines file, with the same validation as the shipped one."""
    return list(parse_semantic_pairs(Path(path).read_text(encoding="utf-8"), os.fspath(path)))


def read_routing_queries(path: str | os.PathLike[str]) -> list[RoutingQuery]:
    """Load routing queries from any JSON Lines file, with the same validation."""
    return list(parse_routing_queries(Path(path).read_text(encoding="utf-8"), os.fspath(path)))


def _shipped_text(name: str) -> str:
    # importlib.resources finds the file whether course_lib is a source tree, an installed wheel
    # or a zip, which a path built from __file__ does not guarantee.
    return resources.files("course_lib").joinpath("data", name).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def load_knowledge_base() -> KnowledgeBase:
    """Kitewing's knowledge base, parsed once per process (it is immutable, so sharing is safe)."""
    return parse_knowledge_base(_shipped_text(KNOWLEDGE_BASE_FILE), KNOWLEDGE_BASE_FILE)


@functools.lru_cache(maxsize=1)
def _shipped_semantic_pairs() -> tuple[QueryPair, ...]:
    return parse_semantic_pairs(_shipped_text(SEMANTIC_PAIRS_FILE), SEMANTIC_PAIRS_FILE)


@functools.lru_cache(maxsize=1)
def _shipped_routing_queries() -> tuple[RoutingQuery, ...]:
    return parse_routing_queries(_shipped_text(ROUTING_QUERIES_FILE), ROUTING_QUERIES_FILE)


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
