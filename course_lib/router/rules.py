"""A rule router that does what the lesson's meant to do, with thresholds measured, not guessed.

The lesson's three rules are reasonable signals: long conversations, long questions and technical
words often mean a hard question. Its code gets the details wrong (see
:mod:`course_lib.lesson.model_router`); :class:`RuleRouter` fixes them:

* **Keywords are normalised once, at construction** (Unicode NFKC, then case-folded), and the
  query the same way, so "API", "Api" and a full-width "ＡＰＩ" are one keyword.
* **Latin-script keywords match whole words.** "error" matches "error 422" and
  "kitewing.errors" does not match it, nor does "terror"; "code" no longer fires on "decode" or
  "postcode". A keyword that should cover "errors" lists "errors" too: explicit beats clever.
* **Chinese keywords match as substrings**, because Chinese has no spaces between words. That is
  the only option without a word segmenter (such as ``jieba``), and it has a price:
  "错误" (error) also fires on "填了错误的邮箱" (typed the wrong email).
  :meth:`RuleRouter.keyword_report` measures how often each keyword fires on simple questions,
  so the price is a number.
* **Length is counted in tokens**, not characters, by default: 200 characters is a paragraph in
  English and a page in Chinese, while a token carries a similar amount of text in both.
* **Thresholds are fitted** on labelled training queries (:func:`fit_thresholds`): an exhaustive
  grid search over every cut-off the data can distinguish, minimising the cost of mistakes.
  A rule the data does not support is switched off (``None``) rather than kept as a guess.

scikit-learn's ``DecisionTreeClassifier(max_depth=...)`` learns cut-offs like these too; a grid
over two thresholds is small enough to search exhaustively and read in full.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from course_lib.router.decision import (
    STRONG_MODEL,
    WEAK_MODEL,
    LabelledQuery,
    RouteDecision,
    check_label,
    check_route_input,
)
from course_lib.tokens import count_tokens

__all__ = [
    "LESSON_KEYWORDS",
    "KeywordStats",
    "RuleRouter",
    "ThresholdFit",
    "fit_thresholds",
    "gpt4o_tokens",
    "normalise_text",
]

# The lesson's fifteen keywords. RuleRouter normalises them, so the upper-case "API" works.
LESSON_KEYWORDS: tuple[str, ...] = (
    "配置", "错误", "报错", "exception", "error",
    "debug", "deploy", "部署", "权限", "permission",
    "API", "代码", "code", "integrate", "集成",
)

# Letters and digits of the Latin script (ASCII, Latin-1 and Latin Extended-A/B, without the
# × and ÷ signs that sit in that range): a keyword next to one of these is inside a longer word.
_LATIN_WORD_CHAR = "[0-9A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"
_LATIN_WORD_CHAR_RE = re.compile(_LATIN_WORD_CHAR)


def normalise_text(text: str) -> str:
    """NFKC then case-fold: the form both keywords and queries are compared in.

    NFKC maps compatibility forms (full-width "ＡＰＩ", ligatures) to plain ones; ``casefold`` is
    ``lower`` made for comparisons ("Straße" and "STRASSE" agree).
    """
    return unicodedata.normalize("NFKC", text).casefold()


def gpt4o_tokens(text: str) -> int:
    """The length of ``text`` in gpt-4o tokens: the unit :class:`RuleRouter` measures by default."""
    return count_tokens(text, "gpt-4o")


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    # A word boundary is needed only on a side where the keyword ends in a Latin letter or digit:
    # "api" must not match inside "rapidly", while "部署" has no spaces to look for.
    pattern = re.escape(keyword)
    if _LATIN_WORD_CHAR_RE.fullmatch(keyword[0]):
        pattern = f"(?<!{_LATIN_WORD_CHAR})" + pattern
    if _LATIN_WORD_CHAR_RE.fullmatch(keyword[-1]):
        pattern += f"(?!{_LATIN_WORD_CHAR})"
    return re.compile(pattern)


def _normalised_keywords(keywords: Iterable[str]) -> tuple[str, ...]:
    if isinstance(keywords, str):
        raise TypeError("keywords must be a collection of strings; wrap a single keyword in a list")
    normalised: list[str] = []
    for index, keyword in enumerate(keywords):
        if not isinstance(keyword, str):
            raise TypeError(f"keyword {index} is {type(keyword).__name__}, not str")
        clean = " ".join(normalise_text(keyword).split())
        if not clean:
            raise ValueError(f"keyword {index} ({keyword!r}) is empty")
        if clean not in normalised:
            normalised.append(clean)
    return tuple(normalised)


def _optional_threshold(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number or None (rule off), got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")
    return value


@dataclass(frozen=True)
class KeywordStats:
    """How one keyword did on labelled queries: how often it fired, and how often rightly."""

    keyword: str
    hits: int
    complex_hits: int

    @property
    def simple_hits(self) -> int:
        """False alarms: simple queries the keyword would send to the strong model."""
        return self.hits - self.complex_hits

    @property
    def precision(self) -> float | None:
        """Share of its hits that were really complex; None when it never fired."""
        return self.complex_hits / self.hits if self.hits else None


def format_keyword_report(report: Iterable[KeywordStats]) -> str:
    """A table of :meth:`RuleRouter.keyword_report`: hits, complex and simple hits, precision."""
    lines = [f"{'keyword':10} {'hits':>4} {'complex':>7} {'simple':>6}  precision"]
    for stats in report:
        precision = "-" if stats.precision is None else f"{stats.precision:.0%}"
        lines.append(f"{stats.keyword:10} {stats.hits:4} {stats.complex_hits:7} "
                     f"{stats.simple_hits:6}  {precision:>9}")
    return "\n".join(lines)


class RuleRouter:
    """Strong model when a keyword matches, the conversation is long, or the query is long.

    ``max_simple_turns`` and ``max_simple_length`` are the largest values still routed to the
    weak model (``None``: that rule is off). ``measure_length`` counts a query's length; the
    default counts gpt-4o tokens. Use :meth:`fit` to choose the thresholds from labelled data.
    """

    def __init__(
        self,
        keywords: Iterable[str] = LESSON_KEYWORDS,
        *,
        max_simple_turns: int | None = None,
        max_simple_length: int | None = None,
        measure_length: Callable[[str], int] = gpt4o_tokens,
        length_unit: str = "tokens",
        strong_model: str = STRONG_MODEL,
        weak_model: str = WEAK_MODEL,
    ) -> None:
        self.keywords = _normalised_keywords(keywords)
        self._patterns = tuple(_keyword_pattern(keyword) for keyword in self.keywords)
        self.max_simple_turns = _optional_threshold("max_simple_turns", max_simple_turns)
        self.max_simple_length = _optional_threshold("max_simple_length", max_simple_length)
        if not callable(measure_length):
            raise TypeError("measure_length must be a function from a query to its length")
        self.measure_length = measure_length
        self.length_unit = length_unit
        self.strong_model = strong_model
        self.weak_model = weak_model

    @classmethod
    def fit(
        cls,
        examples: Sequence[LabelledQuery],
        keywords: Iterable[str] = LESSON_KEYWORDS,
        *,
        measure_length: Callable[[str], int] = gpt4o_tokens,
        length_unit: str = "tokens",
        miss_cost: float = 1.0,
        waste_cost: float = 1.0,
        strong_model: str = STRONG_MODEL,
        weak_model: str = WEAK_MODEL,
    ) -> RuleRouter:
        """A router whose thresholds are fitted on ``examples`` (see :func:`fit_thresholds`)."""
        router = cls(keywords, measure_length=measure_length, length_unit=length_unit,
                     strong_model=strong_model, weak_model=weak_model)
        fitted = fit_thresholds(examples, router, miss_cost=miss_cost, waste_cost=waste_cost)
        router.max_simple_turns = fitted.max_simple_turns
        router.max_simple_length = fitted.max_simple_length
        return router

    def keyword_hits(self, query: str) -> tuple[str, ...]:
        """The keywords found in ``query``, in keyword order."""
        text = normalise_text(query)
        return tuple(
            keyword
            for keyword, pattern in zip(self.keywords, self._patterns, strict=True)
            if pattern.search(text)
        )

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        """The first rule that fires decides, in the lesson's order; otherwise the weak model."""
        query, conversation_turns = check_route_input(query, conversation_turns)
        if self.max_simple_turns is not None and conversation_turns > self.max_simple_turns:
            return RouteDecision(
                self.strong_model,
                f"long conversation: {conversation_turns} turns > {self.max_simple_turns}",
            )
        if self.max_simple_length is not None:
            length = self.measure_length(query)
            if length > self.max_simple_length:
                return RouteDecision(
                    self.strong_model,
                    f"long query: {length} {self.length_unit} > {self.max_simple_length}",
                )
        hits = self.keyword_hits(query)
        if hits:
            return RouteDecision(self.strong_model, "technical keyword: " + ", ".join(hits))
        return RouteDecision(self.weak_model, "no rule fired: simple query")

    def keyword_report(self, examples: Sequence[LabelledQuery]) -> list[KeywordStats]:
        """For each keyword, how many ``examples`` it fires on and how many of those are complex."""
        hits = [0] * len(self.keywords)
        complex_hits = [0] * len(self.keywords)
        for example in examples:
            is_complex = check_label(example.label, f"label of {example.query!r}")
            found = set(self.keyword_hits(example.query))
            for index, keyword in enumerate(self.keywords):
                if keyword in found:
                    hits[index] += 1
                    complex_hits[index] += is_complex
        return [
            KeywordStats(keyword, hits[index], complex_hits[index])
            for index, keyword in enumerate(self.keywords)
        ]

    def __repr__(self) -> str:
        return (
            f"RuleRouter({len(self.keywords)} keywords, max_simple_turns="
            f"{self.max_simple_turns}, max_simple_length={self.max_simple_length} "
            f"{self.length_unit})"
        )


@dataclass(frozen=True)
class ThresholdFit:
    """The thresholds :func:`fit_thresholds` chose, and how they did on the data they fit."""

    max_simple_turns: int | None
    max_simple_length: int | None
    cost: float
    accuracy: float
    strong_share: float
    candidates_tried: int


def _positive_weight(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def _cut_offs(values: np.ndarray) -> list[int | None]:
    # "Route strong above t" for every t the data can tell apart: each observed value except the
    # largest (above which nothing is left to route), plus None, the rule switched off. None comes
    # first and large values before small, so ties go to the rule that fires least.
    distinct = sorted({int(value) for value in values})
    return [None, *reversed(distinct[:-1])]


def fit_thresholds(
    examples: Sequence[LabelledQuery],
    router: RuleRouter,
    *,
    miss_cost: float = 1.0,
    waste_cost: float = 1.0,
) -> ThresholdFit:
    """Choose ``max_simple_turns`` and ``max_simple_length`` for ``router`` on labelled examples.

    The cost of a set of thresholds is ``miss_cost`` per complex query sent to the weak model (a
    worse answer) plus ``waste_cost`` per simple query sent to the strong one (money spent for
    nothing); with both 1 that is the number of mistakes, so the fit maximises accuracy. Every
    pair of cut-offs the examples can distinguish is tried. Ties go to the pair that sends fewer
    queries to the strong model, then to the rule that fires least (off, or the larger cut-off).
    The router's keywords are part of the model: they fire whatever the thresholds.
    """
    miss_cost = _positive_weight("miss_cost", miss_cost)
    waste_cost = _positive_weight("waste_cost", waste_cost)
    if len(examples) == 0:
        raise ValueError("fit_thresholds needs at least one labelled example")
    is_complex = np.array(
        [check_label(e.label, f"label of example {i}") for i, e in enumerate(examples)]
    )
    turns = np.array(
        [check_route_input(e.query, e.turns)[1] for e in examples], dtype=np.int64
    )
    lengths = np.array([router.measure_length(e.query) for e in examples], dtype=np.int64)
    keyword_fires = np.array([bool(router.keyword_hits(e.query)) for e in examples])

    best: tuple[float, int] | None = None
    chosen: tuple[int | None, int | None, np.ndarray] | None = None
    tried = 0
    for turn_cut in _cut_offs(turns):
        by_turns = keyword_fires if turn_cut is None else keyword_fires | (turns > turn_cut)
        for length_cut in _cut_offs(lengths):
            strong = by_turns if length_cut is None else by_turns | (lengths > length_cut)
            tried += 1
            misses = int(np.count_nonzero(is_complex & ~strong))
            wasted = int(np.count_nonzero(~is_complex & strong))
            key = (miss_cost * misses + waste_cost * wasted, int(np.count_nonzero(strong)))
            if best is None or key < best:
                best, chosen = key, (turn_cut, length_cut, strong)
    assert best is not None and chosen is not None  # the grid always holds (None, None)
    turn_cut, length_cut, strong = chosen
    return ThresholdFit(
        max_simple_turns=turn_cut,
        max_simple_length=length_cut,
        cost=best[0],
        accuracy=float(np.mean(strong == is_complex)),
        strong_share=float(np.mean(strong)),
        candidates_tried=tried,
    )
