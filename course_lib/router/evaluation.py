"""Measure a router: how often it is right, what it saves, and what answers it degrades.

The lesson promises "节省 90% 的成本,只损失极少精度" (save 90% of the cost, lose very little
accuracy). Both halves are measurable on labelled queries the router never saw (the test split):

``accuracy``
    share of queries sent to the model their label asks for.
``strong_share``
    share of queries sent to the strong model: what drives the bill.
``complex_recall``
    share of complex queries sent to the strong model. A miss here is a worse answer.
``monthly_cost_usd`` and ``saving``
    every query priced as one conversation of a stated :class:`ConversationShape` (by default the
    lesson's 2,100 input and 300 output tokens) on the model it was routed to, times the lesson's
    150,000 conversations a month, compared with sending everything to the strong model.
``completeness`` (the quality proxy)
    the mean, over queries, of how complete the answer is compared with what the query needs: 1
    for a query that got a model at least as strong as its label asks for, and, for a complex
    query answered by the weak model (a *degraded* answer), the weak answer's
    :func:`answer_coverage` of the strong model's answer to the same query (measured with the
    sandbox in notebook 05). Without measured coverage a degraded answer counts 0.

A simple query sent to the strong model is not a better answer here: its label says the weak
model's answer suffices. Cost counts it; quality does not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from course_lib.pricing import cost_usd
from course_lib.router.decision import (
    STRONG_MODEL,
    WEAK_MODEL,
    LabelledQuery,
    Router,
    check_label,
)
from course_lib.router.rules import normalise_text

__all__ = [
    "LESSON_CONVERSATION",
    "LESSON_CONVERSATIONS_PER_MONTH",
    "ConversationShape",
    "RoutingReport",
    "SweepPoint",
    "answer_coverage",
    "evaluate_router",
    "format_reports",
    "report_routing",
    "saving_from_weak_share",
    "sweep_thresholds",
    "weak_share_needed",
]

# "1000 用户/天 × 5 条/用户 × 30 天 = 150,000 次对话"
LESSON_CONVERSATIONS_PER_MONTH = 150_000


@dataclass(frozen=True)
class ConversationShape:
    """Tokens in and out of one conversation (one call): what a routed query is priced at."""

    input_tokens: int
    output_tokens: int

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")

    def cost_usd(self, model: str) -> Decimal:
        """The exact price of one such conversation on ``model``."""
        return cost_usd(model, self.input_tokens, self.output_tokens)


# The lesson's support conversation: 500 system + 1,500 retrieved + 100 user tokens in, 300 out.
LESSON_CONVERSATION = ConversationShape(input_tokens=2_100, output_tokens=300)

_TERM = re.compile(r"[0-9a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]+|[\u3400-\u9fff\uf900-\ufaff]")


def _terms(text: str) -> set[str]:
    return set(_TERM.findall(normalise_text(text)))


def answer_coverage(answer: str, reference: str) -> float:
    """Share of the reference answer's distinct terms that ``answer`` also contains (0..1).

    Terms are Latin-script words and single Chinese characters, case-folded. A weak model's
    answer that covers 0.3 of the strong model's answer left out most of its steps, limits and
    caveats. It is a crude proxy (it cannot tell a wrong answer that uses the right words), good
    enough to compare two answers to the same question; ROUGE-1 recall is the standard name for
    the same idea (the ``rouge-score`` package), and an LLM-as-judge grades meaning instead.
    """
    if not isinstance(answer, str) or not isinstance(reference, str):
        raise TypeError("answer and reference must both be strings")
    wanted = _terms(reference)
    if not wanted:
        raise ValueError("the reference answer has no words to cover")
    return len(wanted & _terms(answer)) / len(wanted)


@dataclass(frozen=True)
class RoutingReport:
    """One router measured on labelled queries (see the module docstring for each figure)."""

    name: str
    queries: int
    correct: int
    strong_calls: int
    complex_queries: int
    complex_to_strong: int
    completeness: float
    monthly_cost_usd: Decimal
    always_strong_monthly_usd: Decimal

    @property
    def accuracy(self) -> float:
        return self.correct / self.queries

    @property
    def strong_share(self) -> float:
        return self.strong_calls / self.queries

    @property
    def complex_recall(self) -> float:
        """Complex queries sent to the strong model, as a share of all complex queries."""
        return self.complex_to_strong / self.complex_queries if self.complex_queries else 1.0

    @property
    def degraded(self) -> int:
        """Complex queries answered by the weak model."""
        return self.complex_queries - self.complex_to_strong

    @property
    def degraded_share(self) -> float:
        return self.degraded / self.queries

    @property
    def saving(self) -> float:
        """Share of the always-strong bill this routing saves (0.4 = 40% cheaper)."""
        return float(1 - self.monthly_cost_usd / self.always_strong_monthly_usd)

    @property
    def monthly_saving_usd(self) -> Decimal:
        return self.always_strong_monthly_usd - self.monthly_cost_usd


def _to_strong_flags(decisions: Sequence[bool]) -> np.ndarray:
    flags = np.asarray(decisions)
    if flags.ndim != 1 or flags.dtype != bool:
        raise TypeError("sent_to_strong must be a list of True/False, one per query")
    return flags


def report_routing(
    name: str,
    labels: Sequence[str],
    sent_to_strong: Sequence[bool],
    *,
    weak_coverage: Sequence[float | None] | None = None,
    shape: ConversationShape = LESSON_CONVERSATION,
    conversations_per_month: int = LESSON_CONVERSATIONS_PER_MONTH,
    strong_model: str = STRONG_MODEL,
    weak_model: str = WEAK_MODEL,
) -> RoutingReport:
    """Score a set of routing decisions against labels.

    ``weak_coverage[i]`` is the completeness of the weak model's answer to query ``i`` (only read
    for a complex query sent to the weak model; ``None`` elsewhere is fine). The month is
    ``conversations_per_month`` conversations with the same mix of routes as ``labels``.
    """
    if len(labels) == 0:
        raise ValueError("there are no queries to score")
    is_complex = np.array([check_label(label, f"label {i}") for i, label in enumerate(labels)])
    strong = _to_strong_flags(sent_to_strong)
    if strong.size != is_complex.size:
        raise ValueError(f"got {is_complex.size} labels but {strong.size} decisions")
    if weak_coverage is not None and len(weak_coverage) != is_complex.size:
        raise ValueError(f"got {is_complex.size} labels but {len(weak_coverage)} coverages")
    if isinstance(conversations_per_month, bool) or not isinstance(conversations_per_month, int) \
            or conversations_per_month < 1:
        raise ValueError(
            f"conversations_per_month must be a whole number >= 1, got {conversations_per_month!r}"
        )

    answer_quality = np.ones(is_complex.size)
    for i in np.flatnonzero(is_complex & ~strong):
        coverage = 0.0 if weak_coverage is None else weak_coverage[i]
        if coverage is None or not (isinstance(coverage, int | float) and 0 <= coverage <= 1):
            raise ValueError(
                f"query {i} is complex and went to the weak model, so it needs a coverage "
                f"between 0 and 1, got {coverage!r}"
            )
        answer_quality[i] = coverage

    n, n_strong = int(is_complex.size), int(np.count_nonzero(strong))
    strong_cost, weak_cost = shape.cost_usd(strong_model), shape.cost_usd(weak_model)
    # Exact: the month has the test set's mix, priced in Decimal; no float share in between.
    per_query_mix = (n_strong * strong_cost + (n - n_strong) * weak_cost) / n
    return RoutingReport(
        name=name,
        queries=n,
        correct=int(np.count_nonzero(strong == is_complex)),
        strong_calls=n_strong,
        complex_queries=int(np.count_nonzero(is_complex)),
        complex_to_strong=int(np.count_nonzero(is_complex & strong)),
        completeness=float(answer_quality.mean()),
        monthly_cost_usd=conversations_per_month * per_query_mix,
        always_strong_monthly_usd=conversations_per_month * strong_cost,
    )


def evaluate_router(
    router: Router,
    queries: Sequence[LabelledQuery],
    *,
    name: str,
    coverage: Mapping[str, float] | None = None,
    shape: ConversationShape = LESSON_CONVERSATION,
    conversations_per_month: int = LESSON_CONVERSATIONS_PER_MONTH,
    strong_model: str = STRONG_MODEL,
    weak_model: str = WEAK_MODEL,
) -> RoutingReport:
    """Route every query with ``router`` and score the decisions (:func:`report_routing`).

    ``coverage`` maps a query's text to the measured completeness of the weak model's answer.
    A decision for a model that is neither ``strong_model`` nor ``weak_model`` is an error: the
    report could not price it.
    """
    sent_to_strong = []
    for q in queries:
        model = router.route(q.query, q.turns).model
        if model not in (strong_model, weak_model):
            raise ValueError(
                f"{name} routed {q.query!r} to {model!r}, which is neither {strong_model!r} "
                f"nor {weak_model!r}"
            )
        sent_to_strong.append(model == strong_model)
    weak_coverage = None if coverage is None else [coverage.get(q.query) for q in queries]
    return report_routing(
        name, [q.label for q in queries], sent_to_strong, weak_coverage=weak_coverage,
        shape=shape, conversations_per_month=conversations_per_month,
        strong_model=strong_model, weak_model=weak_model,
    )


@dataclass(frozen=True)
class SweepPoint:
    """One point of a threshold sweep: the threshold and the routing it produces."""

    threshold: float
    report: RoutingReport


def sweep_thresholds(
    name: str,
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[str],
    thresholds: Sequence[float] | np.ndarray,
    **report_options: object,
) -> list[SweepPoint]:
    """Score "strong model when score >= threshold" for each threshold: a trade-off curve."""
    values = np.asarray(scores, dtype=np.float64)
    if values.ndim != 1 or values.size != len(labels):
        raise ValueError(f"need one score per label: {values.size} scores, {len(labels)} labels")
    points = []
    for threshold in thresholds:
        if not math.isfinite(threshold):
            raise ValueError(f"thresholds must be finite numbers, got {threshold}")
        report = report_routing(f"{name} >= {threshold:.2f}", labels,
                                values >= threshold, **report_options)  # type: ignore[arg-type]
        points.append(SweepPoint(float(threshold), report))
    return points


def _price_ratio_saving(shape: ConversationShape, strong_model: str, weak_model: str) -> Decimal:
    # Saving per query moved to the weak model, as a share of the strong price: 1 - weak/strong.
    return 1 - shape.cost_usd(weak_model) / shape.cost_usd(strong_model)


def saving_from_weak_share(
    weak_share: float,
    *,
    shape: ConversationShape = LESSON_CONVERSATION,
    strong_model: str = STRONG_MODEL,
    weak_model: str = WEAK_MODEL,
) -> float:
    """The saving when ``weak_share`` of queries go to the weak model: share x (1 - weak/strong).

    The weak model is not free, so even routing *everything* to it saves less than 100%
    (gpt-4o-mini costs 1/16.7 of gpt-4o: at most 94%).
    """
    if not 0 <= weak_share <= 1:
        raise ValueError(f"weak_share must be between 0 and 1, got {weak_share}")
    return float(Decimal(str(weak_share)) * _price_ratio_saving(shape, strong_model, weak_model))


def weak_share_needed(
    saving: float,
    *,
    shape: ConversationShape = LESSON_CONVERSATION,
    strong_model: str = STRONG_MODEL,
    weak_model: str = WEAK_MODEL,
) -> float:
    """The share of queries that must go to the weak model to save ``saving`` (> 1: impossible)."""
    if not 0 <= saving < 1:
        raise ValueError(f"saving must be a share between 0 and 1, got {saving}")
    return float(Decimal(str(saving)) / _price_ratio_saving(shape, strong_model, weak_model))


def format_reports(reports: Sequence[RoutingReport]) -> str:
    """A fixed-width table of reports, one router per line (for printing in a notebook)."""
    if not reports:
        raise ValueError("no reports to format")
    width = max(len("router"), *(len(r.name) for r in reports))
    header = (f"{'router':<{width}}  accuracy  to strong  complex recall  completeness  "
              f"USD/month  saving")
    lines = [header, "-" * len(header)]
    for r in reports:
        lines.append(
            f"{r.name:<{width}}  {r.accuracy:8.1%}  {r.strong_share:9.1%}  "
            f"{r.complex_recall:14.1%}  {r.completeness:12.1%}  "
            f"{float(r.monthly_cost_usd):9,.0f}  {r.saving:6.1%}"
        )
    return "\n".join(lines)
