"""Routing metrics, cost and the quality proxy, against values worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from course_lib.router.decision import RouteDecision
from course_lib.router.evaluation import (
    LESSON_CONVERSATION,
    ConversationShape,
    answer_coverage,
    evaluate_router,
    format_reports,
    report_routing,
    saving_from_weak_share,
    sweep_thresholds,
    weak_share_needed,
)

# By hand, for the lesson's conversation (2,100 in, 300 out):
#   gpt-4o:      2100 * 2.50 / 1e6 + 300 * 10.00 / 1e6 = 0.00525 + 0.003    = $0.00825
#   gpt-4o-mini: 2100 * 0.15 / 1e6 + 300 *  0.60 / 1e6 = 0.000315 + 0.00018 = $0.000495
STRONG_USD = Decimal("0.00825")
WEAK_USD = Decimal("0.000495")


@dataclass(frozen=True)
class Example:
    query: str
    turns: int
    label: str


class ContainsHard:
    """A stub router: strong model when the query contains "hard"."""

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        model = "gpt-4o" if "hard" in query else "gpt-4o-mini"
        return RouteDecision(model, "stub")


def test_lesson_conversation_prices() -> None:
    assert LESSON_CONVERSATION.cost_usd("gpt-4o") == STRONG_USD
    assert LESSON_CONVERSATION.cost_usd("gpt-4o-mini") == WEAK_USD


def test_report_against_hand_computed_values() -> None:
    """Five queries: complex->strong, complex->weak (coverage 0.3), simple->strong, 2 simple->weak.

    accuracy 3/5; strong 2/5; recall 1/2; completeness (1 + 0.3 + 1 + 1 + 1) / 5 = 0.86;
    month = 150,000 * (2 * 0.00825 + 3 * 0.000495) / 5 = $539.55 against 150,000 * 0.00825 =
    $1,237.50, a saving of 1 - 539.55 / 1237.50 = 0.564.
    """
    report = report_routing(
        "hand", ["complex", "complex", "simple", "simple", "simple"],
        [True, False, True, False, False], weak_coverage=[None, 0.3, None, None, None])
    assert (report.queries, report.correct, report.strong_calls) == (5, 3, 2)
    assert (report.accuracy, report.strong_share, report.complex_recall) == (0.6, 0.4, 0.5)
    assert (report.degraded, report.degraded_share) == (1, 0.2)
    assert report.completeness == pytest.approx(0.86)
    assert report.monthly_cost_usd == Decimal("539.55")
    assert report.always_strong_monthly_usd == Decimal("1237.50")
    assert report.monthly_saving_usd == Decimal("697.95")
    assert report.saving == pytest.approx(0.564)


def test_a_degraded_answer_without_measured_coverage_counts_zero() -> None:
    report = report_routing("hand", ["complex", "simple"], [False, False])
    assert report.completeness == 0.5


def test_a_simple_query_on_the_strong_model_is_not_a_better_answer() -> None:
    """Completeness is about what the query needs; over-serving it only costs money."""
    report = report_routing("hand", ["simple", "simple"], [True, True])
    assert report.completeness == 1.0
    assert report.saving == 0.0


def test_other_shapes_and_volumes() -> None:
    """One conversation of 1M input tokens on gpt-4o costs $2.50; 10 a month cost $25."""
    report = report_routing("x", ["complex"], [True], shape=ConversationShape(1_000_000, 0),
                            conversations_per_month=10)
    assert report.monthly_cost_usd == Decimal("25.00")


def test_bad_input_is_an_error_that_names_it() -> None:
    with pytest.raises(ValueError, match="needs a coverage between 0 and 1"):
        report_routing("x", ["complex"], [False], weak_coverage=[None])
    with pytest.raises(ValueError, match="needs a coverage"):
        report_routing("x", ["complex"], [False], weak_coverage=[1.5])
    with pytest.raises(ValueError, match="2 labels but 1 decisions"):
        report_routing("x", ["complex", "simple"], [True])
    with pytest.raises(ValueError, match="no queries"):
        report_routing("x", [], [])
    with pytest.raises(ValueError, match="'simple' or 'complex'"):
        report_routing("x", ["easy"], [True])
    with pytest.raises(TypeError, match="True/False"):
        report_routing("x", ["simple"], [1])
    with pytest.raises(ValueError, match="conversations_per_month"):
        report_routing("x", ["simple"], [True], conversations_per_month=0)


def test_evaluate_router_routes_each_query_and_reads_coverage_by_text() -> None:
    queries = [Example("hard one", 1, "complex"), Example("plain one", 1, "complex"),
               Example("easy", 2, "simple"), Example("hard but easy", 1, "simple")]
    report = evaluate_router(ContainsHard(), queries, name="stub",
                             coverage={"plain one": 0.25})
    assert (report.correct, report.strong_calls, report.complex_to_strong) == (2, 2, 1)
    assert report.completeness == pytest.approx((1 + 0.25 + 1 + 1) / 4)


def test_evaluate_router_rejects_a_model_it_cannot_price() -> None:
    class Elsewhere:
        def route(self, query: str, conversation_turns: int) -> RouteDecision:
            return RouteDecision("claude-x", "stub")

    with pytest.raises(ValueError, match="'claude-x', which is neither"):
        evaluate_router(Elsewhere(), [Example("q", 1, "simple")], name="elsewhere")


def test_sweep_thresholds() -> None:
    """Scores 0.2 (simple) and 0.7 (complex): >= 0 sends both, >= 0.5 one, >= 0.9 none."""
    points = sweep_thresholds("emb", [0.2, 0.7], ["simple", "complex"], [0.0, 0.5, 0.9])
    assert [p.threshold for p in points] == [0.0, 0.5, 0.9]
    assert [p.report.strong_share for p in points] == [1.0, 0.5, 0.0]
    assert [p.report.accuracy for p in points] == [0.5, 1.0, 0.5]
    assert points[1].report.name == "emb >= 0.50"


def test_answer_coverage() -> None:
    """Share of the reference's distinct words (Chinese: characters) found in the answer."""
    assert answer_coverage("Open billing", "Open Settings, then Billing.") == 0.5
    assert answer_coverage("打开", "在设置中打开") == pytest.approx(2 / 6)
    assert answer_coverage("same words", "Same, words!") == 1.0
    with pytest.raises(ValueError, match="no words"):
        answer_coverage("x", "...")


def test_saving_is_bounded_by_the_share_sent_to_the_weak_model() -> None:
    """gpt-4o-mini costs 0.06 of gpt-4o (1/16.7) on the lesson's conversation, so routing
    everything saves 94%, and a 90% saving needs 0.90 / 0.94 = 95.7% of queries on mini."""
    assert Decimal("0.06") == WEAK_USD / STRONG_USD
    assert saving_from_weak_share(1.0) == pytest.approx(0.94)
    assert saving_from_weak_share(0.5) == pytest.approx(0.47)
    assert weak_share_needed(0.9) == pytest.approx(0.9 / 0.94)
    with pytest.raises(ValueError, match="weak_share"):
        saving_from_weak_share(1.2)


def test_format_reports_prints_one_line_per_router() -> None:
    report = report_routing("hand", ["complex", "simple"], [True, False])
    lines = format_reports([report]).splitlines()
    assert len(lines) == 3 and lines[2].startswith("hand")
    assert "100.0%" in lines[2] and "50.0%" in lines[2]
