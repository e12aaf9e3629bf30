"""Exercise 1's checks: the solution passes; the lesson's mistakes fail with a hint that fits.

Wrong answers: money summed as floats, an unsorted breakdown, the lesson's "total x 30"
projection, a window read from the first and last list items, hours with no calls left out, a
dashboard without the projection, and a budget that forgets the weak model's cost.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import matplotlib.pyplot as plt
import pytest

from course_lib.checks import Status, run_check
from tests.test_exercises_support import assert_fails, load_solution

SOLUTION = load_solution("ex01_cost_dashboard")


@pytest.mark.parametrize(
    ("check_id", "name"),
    [("ex01.q1", "cost_by_model"), ("ex01.q2", "projected_monthly_usd"),
     ("ex01.q3", "cost_per_hour"), ("ex01.q4", "dashboard_figure"),
     ("ex01.q5", "max_strong_share")],
)
def test_the_solution_passes(check_id: str, name: str) -> None:
    result = run_check(check_id, SOLUTION[name])
    assert result.status is Status.PASSED, result.text()


def test_the_check_closes_the_figure_it_asked_for() -> None:
    before = set(plt.get_fignums())
    run_check("ex01.q4", SOLUTION["dashboard_figure"])
    assert set(plt.get_fignums()) == before


# -- q1 -----------------------------------------------------------------------------------------


def cost_by_model_in_floats(calls):
    totals: dict[str, float] = defaultdict(float)
    for call in calls:
        totals[call.model] += float(call.cost_usd)
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def cost_by_model_unsorted(calls):
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for call in calls:
        totals[call.model] += call.cost_usd
    return dict(totals)


def test_float_money_fails_with_a_decimal_hint() -> None:
    result = assert_fails("ex01.q1", cost_by_model_in_floats, hint_words=["Decimal"])
    assert "float" in result.summary


def test_an_unsorted_breakdown_fails() -> None:
    result = assert_fails("ex01.q1", cost_by_model_unsorted, hint_words=["descending"])
    assert result.expected == "['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']"


# -- q2 -----------------------------------------------------------------------------------------


def lesson_total_times_30(calls):
    """The lesson's ``avgCost * float64(calls) * 30``."""
    if not calls:
        return None
    total = sum((call.cost_usd for call in calls), Decimal(0))
    window = calls[-1].at - calls[0].at
    return total * 30 if window >= timedelta(hours=1) else None


def projection_from_list_ends(calls):
    if len(calls) < 2:
        return None
    window = calls[-1].at - calls[0].at  # assumes the feed is in time order
    if window < timedelta(hours=1):
        return None
    total = sum((call.cost_usd for call in calls), Decimal(0))
    return total * Decimal(30 * 86_400) / Decimal(window.total_seconds())


def test_the_lessons_total_times_30_fails() -> None:
    result = assert_fails("ex01.q2", lesson_total_times_30, hint_words=["lifetime total x 30"])
    assert result.expected is not None and "71.28" in result.expected


def test_a_window_from_the_list_ends_fails_on_a_merged_feed() -> None:
    result = assert_fails("ex01.q2", projection_from_list_ends, hint_words=["not in time order"])
    assert "out of time order" in (result.call or "")


# -- q3 -----------------------------------------------------------------------------------------


def cost_per_busy_hour(calls):
    per_hour: dict = defaultdict(Decimal)
    for call in calls:
        per_hour[call.at.replace(minute=0, second=0, microsecond=0)] += call.cost_usd
    return sorted(per_hour.items())


def test_leaving_out_quiet_hours_fails() -> None:
    result = assert_fails("ex01.q3", cost_per_busy_hour, hint_words=["Quiet hours"])
    assert result.summary == "the hours are not right"


# -- q4 -----------------------------------------------------------------------------------------


def dashboard_without_projection(calls):
    costs = SOLUTION["cost_by_model"](calls)
    hours = SOLUTION["cost_per_hour"](calls)
    figure, (left, right) = plt.subplots(1, 2)
    left.barh(list(costs), [float(c) for c in costs.values()])
    left.set_title("Cost by model")
    right.plot([float(c) for _, c in hours])
    right.set_title("Cost per hour")
    figure.suptitle("LLM costs")
    return figure


def dashboard_with_one_stacked_panel(calls):
    figure, ax = plt.subplots()
    ax.bar(["all"], [float(sum(c.cost_usd for c in calls))])
    ax.set_title("Total")
    return figure


def test_a_dashboard_without_the_projection_fails() -> None:
    result = assert_fails("ex01.q4", dashboard_without_projection,
                          hint_words=["projected_monthly_usd"])
    assert result.expected == "a title containing $3.61"


def test_a_single_panel_fails() -> None:
    result = run_check("ex01.q4", dashboard_with_one_stacked_panel)
    assert result.status is Status.FAILED
    assert result.summary == "the dashboard needs at least two panels"


# -- q5 -----------------------------------------------------------------------------------------


def share_ignoring_the_weak_model(budget_usd, conversations, strong_cost_usd, weak_cost_usd):
    return min(Decimal(budget_usd) / (conversations * strong_cost_usd), Decimal(1))


def test_forgetting_the_weak_models_cost_fails() -> None:
    assert_fails("ex01.q5", share_ignoring_the_weak_model, hint_words=["still cost something"])
