"""Checks for ``exercises/ex01_cost_dashboard`` (the lesson's task 1, 成本仪表盘).

The learner turns a feed of priced calls (``course_lib.tracker.CallCost`` records, what
``CostTracker.record_response`` returns) into the numbers and the figure of a cost dashboard.
Each call in the feeds costs its tokens times the model's rates, read from the price table
(:data:`course_lib.pricing.PRICES`, a view of the model registry) and multiplied out here;
every expected value below is worked out by hand from those costs. No check runs the course's
own tracker or its pricing arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from course_lib.checks.expect import call_learner, expect, expect_equal, short_repr
from course_lib.checks.hints import mistake_hint
from course_lib.checks.registry import register
from course_lib.pricing import price_for
from course_lib.tracker import CallCost

__all__ = [
    "check_cost_by_model",
    "check_cost_per_hour",
    "check_dashboard_figure",
    "check_max_strong_share",
    "check_projected_monthly",
]

MONDAY_9AM = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _input_output_cost(model: str, input_tokens: int, output_tokens: int
                       ) -> tuple[Decimal, Decimal]:
    """(input, output) USD: tokens times the model's rates per 1M tokens."""
    rates = price_for(model)
    return input_tokens * rates.input / 1_000_000, output_tokens * rates.output / 1_000_000


# One call of each kind: the lesson's 2,100-in / 300-out conversation, priced from the registry.
GPT4O_CALL = _input_output_cost("gpt-4o", 2100, 300)
MINI_CALL = _input_output_cost("gpt-4o-mini", 2100, 300)
EMBEDDING_CALL = _input_output_cost("text-embedding-3-small", 12, 0)
GPT4O_COST, MINI_COST, EMBEDDING_COST = sum(GPT4O_CALL), sum(MINI_CALL), sum(EMBEDDING_CALL)
TINY_CALL = _input_output_cost("gpt-4o-mini", 2, 0)  # two input tokens: a fraction of a cent


def _call(model: str, at: datetime, parts: tuple[Decimal, Decimal],
          tokens: tuple[int, int] = (2100, 300)) -> CallCost:
    fresh, output = parts
    return CallCost(at=at, model=model, input_tokens=tokens[0], output_tokens=tokens[1],
                    cached_input_tokens=0, fresh_input_cost_usd=fresh,
                    cached_input_cost_usd=Decimal("0"), output_cost_usd=output)


def _mixed_feed() -> list[CallCost]:
    """Two gpt-4o calls, three gpt-4o-mini calls and one embedding, 09:05 to 12:40."""
    at = MONDAY_9AM
    return [
        _call("gpt-4o-mini", at + timedelta(minutes=5), MINI_CALL),
        _call("text-embedding-3-small", at + timedelta(minutes=6), EMBEDDING_CALL, (12, 0)),
        _call("gpt-4o", at + timedelta(minutes=30), GPT4O_CALL),
        _call("gpt-4o-mini", at + timedelta(hours=3, minutes=10), MINI_CALL),
        _call("gpt-4o", at + timedelta(hours=3, minutes=40), GPT4O_CALL),
        _call("gpt-4o-mini", at + timedelta(hours=3, minutes=40), MINI_CALL),
    ]


def _feed_text(calls: Sequence[CallCost]) -> str:
    lines = [f"{call.at:%H:%M} {call.model:24} ${call.cost_usd:f}" for call in calls]
    return "calls =\n" + "\n".join(lines)


def _money(value: object) -> str:
    return f"Decimal('{value}')" if isinstance(value, Decimal) else short_repr(value)


# -- q1: cost by model ---------------------------------------------------------------------------


@register("ex01.q1", "cost by model, exact, biggest first")
def check_cost_by_model(cost_by_model: Callable[[Sequence[CallCost]], dict[str, Decimal]]) -> str:
    """Exact ``Decimal`` totals per model, ordered by cost, for hand-priced feeds."""
    feed = _mixed_feed()
    expected = {  # the feed: 2 gpt-4o calls, 3 gpt-4o-mini calls, 1 embedding
        "gpt-4o": 2 * GPT4O_COST,
        "gpt-4o-mini": 3 * MINI_COST,
        "text-embedding-3-small": EMBEDDING_COST,
    }
    call = f"{_feed_text(feed)}\ncost_by_model(calls)"
    got = call_learner(cost_by_model, feed, call=call)
    expect(isinstance(got, dict), "cost_by_model should return a dict of model -> cost",
           call=call, expected=short_repr(expected), got=short_repr(got))
    expect(set(got) == set(expected), "the models do not match the feed", call=call,
           expected=str(sorted(expected)), got=str(sorted(got)),
           hint=mistake_hint("ex01.q1", "models"))
    for model, cost in expected.items():
        value = got[model]
        if isinstance(value, float):
            expect(False, f"{model}'s cost is a float", call=call, expected=_money(cost),
                   got=repr(value),
                   hint=mistake_hint("ex01.q1", "float"))
        expect(value == cost, f"{model}'s total is wrong", call=call, expected=_money(cost),
               got=_money(value),
               hint=mistake_hint("ex01.q1", "total"))
    expect(list(got) == list(expected), "the models are not ordered biggest cost first",
           call=call, expected=str(list(expected)), got=str(list(got)),
           hint=mistake_hint("ex01.q1", "order"))

    # Many small calls: exact in Decimal, off in float.
    small = [_call("gpt-4o-mini", MONDAY_9AM + timedelta(seconds=i), TINY_CALL, (2, 0))
             for i in range(10)]
    tiny, ten_tiny = sum(TINY_CALL), 10 * sum(TINY_CALL)
    call = (f"calls = 10 gpt-4o-mini calls of ${tiny:f} each (2 input tokens)\n"
            "cost_by_model(calls)")
    got = call_learner(cost_by_model, small, call=call)
    expect(got == {"gpt-4o-mini": ten_tiny} and all(
        isinstance(value, Decimal) for value in got.values()),
        "ten small calls do not add up exactly", call=call,
        expected=f"{{'gpt-4o-mini': Decimal('{ten_tiny:f}')}}", got=short_repr(got),
        hint=mistake_hint("ex01.q1", "tiny_calls"))
    empty = call_learner(cost_by_model, [], call="cost_by_model([])")
    expect_equal(empty, {}, call="cost_by_model([])",
                 hint=mistake_hint("ex01.q1", "empty"))
    return "exact Decimal totals for 3 models, biggest first; tiny calls not lost"


# -- q2: monthly projection ---------------------------------------------------------------------


def _spread(count: int, span: timedelta, start: datetime = MONDAY_9AM) -> list[CallCost]:
    return [_call("gpt-4o", start + span * i / (count - 1), GPT4O_CALL) for i in range(count)]


@register("ex01.q2", "projected month from the observed window")
def check_projected_monthly(
    projected_monthly_usd: Callable[[Sequence[CallCost]], Decimal | None],
) -> str:
    """Cost per second over first-to-last call, x 30 days; None below an hour of data."""
    spent = 24 * GPT4O_COST
    cases: list[tuple[str, list[CallCost], Decimal | None, str]] = [
        (f"24 gpt-4o calls (${spent:f}) over 2 hours", _spread(24, timedelta(hours=2)),
         spent * 360, "two_hours"),  # 30 days / 2 hours = 360
        (f"24 gpt-4o calls (${spent:f}) over 7 days", _spread(24, timedelta(days=7)),
         spent * 30 / 7, "seven_days"),
        ("24 gpt-4o calls over 10 minutes", _spread(24, timedelta(minutes=10)), None,
         "too_short"),
        ("1 call", _spread(2, timedelta(0))[:1], None, "one_call"),
        ("no calls", [], None, "no_calls"),
    ]
    shuffled = _spread(13, timedelta(hours=6))
    shuffled = shuffled[6:] + shuffled[:6]
    cases.append((f"13 gpt-4o calls (${13 * GPT4O_COST:f}) over 6 hours, listed out of time "
                  "order", shuffled, 13 * GPT4O_COST * 120, "unordered"))  # 30 days / 6 h
    for label, feed, expected, mistake in cases:
        hint = mistake_hint("ex01.q2", mistake)
        call = f"calls = {label}\nprojected_monthly_usd(calls)"
        got = call_learner(projected_monthly_usd, feed, call=call)
        if expected is None:
            expect(got is None, "too little data to project a month", call=call,
                   expected="None", got=_money(got), hint=hint)
            continue
        expect(got is not None, "there is enough data to project a month", call=call,
               expected=f"{_money(expected)} (about ${expected:,.2f})", got="None", hint=hint)
        total = sum((c.cost_usd for c in feed), Decimal(0))
        if got == total * 30:
            hint = mistake_hint("ex01.q2", "times_30")
        expect(isinstance(got, Decimal), "the projection should be a Decimal (money)",
               call=call, expected=_money(expected), got=short_repr(got),
               hint=mistake_hint("ex01.q2", "not_decimal"))
        assert isinstance(got, Decimal)
        close = abs(got - expected) <= expected * Decimal("1e-12")
        expect(close, "the projected month is wrong", call=call,
               expected=f"{_money(expected)} (about ${expected:,.2f})", got=_money(got),
               hint=hint)
    return "window projections right for 2 hours, 7 days and unordered feeds; None when too short"


# -- q3: cost per hour ---------------------------------------------------------------------------


@register("ex01.q3", "cost per hour, quiet hours included")
def check_cost_per_hour(
    cost_per_hour: Callable[[Sequence[CallCost]], list[tuple[datetime, Decimal]]],
) -> str:
    """One (hour start, Decimal cost) per hour from the first call's hour to the last's."""
    feed = _mixed_feed()
    expected = [
        (MONDAY_9AM, MINI_COST + EMBEDDING_COST + GPT4O_COST),
        (MONDAY_9AM + timedelta(hours=1), Decimal("0")),
        (MONDAY_9AM + timedelta(hours=2), Decimal("0")),
        (MONDAY_9AM + timedelta(hours=3), 2 * MINI_COST + GPT4O_COST),
    ]
    call = f"{_feed_text(feed)}\ncost_per_hour(calls)"
    got = call_learner(cost_per_hour, feed, call=call)
    shown = "\n".join(f"({start:%H:%M}, {cost})" for start, cost in expected)
    expect(isinstance(got, list), "cost_per_hour should return a list of (hour, cost)",
           call=call, expected=shown, got=short_repr(got))
    pairs = all(isinstance(row, tuple | list) and len(row) == 2 for row in got)
    got_hours = [row[0] for row in got] if pairs else None
    expect(got_hours is not None, "each item should be a pair (hour start, cost)", call=call,
           expected=shown, got=short_repr(got))
    mistake = "quiet_hours" if len(got) < len(expected) else "hour_start"
    expect(got_hours == [start for start, _ in expected], "the hours are not right",
           call=call, expected=shown,
           got="\n".join(short_repr(hour) for hour in (got_hours or [])),
           hint=mistake_hint("ex01.q3", mistake))
    for (start, cost), (_, value) in zip(expected, got, strict=True):
        expect(isinstance(value, Decimal) and value == cost,
               f"the {start:%H:%M} hour's cost is wrong", call=call, expected=_money(cost),
               got=_money(value),
               hint=mistake_hint("ex01.q3", "hour_cost"))
    single = _spread(2, timedelta(minutes=1))
    one_hour = call_learner(cost_per_hour, single, call="cost_per_hour(two calls at 09:00)")
    expect(one_hour == [(MONDAY_9AM, 2 * GPT4O_COST)], "two calls in one hour",
           call="cost_per_hour(calls)  # gpt-4o at 09:00:00 and 09:01:00",
           expected=f"[(09:00, Decimal('{2 * GPT4O_COST:f}'))]", got=short_repr(one_hour))
    empty = call_learner(cost_per_hour, [], call="cost_per_hour([])")
    expect_equal(empty, [], call="cost_per_hour([])", hint=mistake_hint("ex01.q3", "empty"))
    return "hour buckets right, quiet hours shown as $0"


# -- q4: the dashboard figure --------------------------------------------------------------------


def _bar_values(ax: Any) -> list[list[float]]:
    """Each bar container of ``ax`` as its bar lengths (heights, or widths for barh)."""
    from matplotlib.container import BarContainer

    found = []
    for container in ax.containers:
        if not isinstance(container, BarContainer):
            continue
        heights = [patch.get_height() for patch in container.patches]
        widths = [patch.get_width() for patch in container.patches]
        horizontal = getattr(container, "orientation", None) == "horizontal"
        found.append(widths if horizontal else heights)
    return found


def _line_values(ax: Any) -> list[list[float]]:
    return [[float(y) for y in line.get_ydata()] for line in ax.get_lines()]


def _same(values: Sequence[float], expected: Sequence[Decimal], *, ordered: bool) -> bool:
    if len(values) != len(expected):
        return False
    pairs = zip(values, expected, strict=True) if ordered else zip(
        sorted(values), sorted(float(e) for e in expected), strict=True)
    return all(abs(float(v) - float(e)) <= 1e-9 + 1e-6 * abs(float(e)) for v, e in pairs)


@register("ex01.q4", "the dashboard figure")
def check_dashboard_figure(dashboard_figure: Callable[[Sequence[CallCost]], Any]) -> str:
    """A figure with a cost-by-model bar panel, a cost-per-hour panel, titles, the projection."""
    from matplotlib.figure import Figure

    feed = _mixed_feed()
    call = f"{_feed_text(feed)}\ndashboard_figure(calls)"
    figure = call_learner(dashboard_figure, feed, call=call)
    try:
        expect(isinstance(figure, Figure), "dashboard_figure should return a matplotlib Figure",
               call=call, expected="a Figure (e.g. from plt.subplots)", got=short_repr(figure),
               hint=mistake_hint("ex01.q4", "not_a_figure"))
        axes = figure.get_axes()
        expect(len(axes) >= 2, "the dashboard needs at least two panels", call=call,
               expected="2 or more axes", got=f"{len(axes)} axes")
        by_model = [2 * GPT4O_COST, 3 * MINI_COST, EMBEDDING_COST]
        per_hour = [MINI_COST + EMBEDDING_COST + GPT4O_COST, Decimal("0"), Decimal("0"),
                    2 * MINI_COST + GPT4O_COST]
        model_panel = next((ax for ax in axes
                            if any(_same(bars, by_model, ordered=False)
                                   for bars in _bar_values(ax))), None)
        expect(model_panel is not None, "no panel has one bar per model with its cost",
               call=call, expected=f"bars of lengths {', '.join(f'{v:f}' for v in by_model)} (USD)",
               got="; ".join(str([round(v, 8) for v in bars])
                             for ax in axes for bars in _bar_values(ax)) or "no bars",
               hint=mistake_hint("ex01.q4", "model_panel"))
        hour_panel = next((ax for ax in axes if ax is not model_panel and any(
            _same(values, per_hour, ordered=True)
            for values in _bar_values(ax) + _line_values(ax))), None)
        expect(hour_panel is not None, "no panel shows the cost of each hour, in order",
               call=call, expected="4 bars (or a line) for 09:00-12:00: "
                                   + ", ".join(f"{v:f}" for v in per_hour),
               got="; ".join(str([round(v, 8) for v in values]) for ax in axes
                             for values in _bar_values(ax) + _line_values(ax)) or "nothing",
               hint=mistake_hint("ex01.q4", "hour_panel"))
        untitled = [index for index, ax in enumerate(axes) if not ax.get_title().strip()]
        expect(not untitled, "every panel needs a title", call=call,
               expected="a title on each panel", got=f"panels {untitled} untitled",
               hint=mistake_hint("ex01.q4", "titles"))
        texts = [figure.get_suptitle()]
        texts += [ax.get_title() for ax in axes]
        # What was spent from 09:05 to 12:40 (3 h 35 min), scaled to 30 days.
        projected = sum(by_model) * 86_400 * 30 / Decimal(3 * 3600 + 35 * 60)
        wanted = f"${projected:,.2f}"
        expect(any(wanted in text for text in texts),
               "the projected month is not in the figure's title", call=call,
               expected=f"a title containing {wanted}",
               got=" | ".join(text for text in texts if text) or "no titles",
               hint=mistake_hint("ex01.q4", "projection_title"))
    finally:
        if isinstance(figure, Figure):
            import matplotlib.pyplot as plt

            plt.close(figure)  # the check's own figure must not appear under the cell
    return "cost-by-model and cost-per-hour panels match the feed; the projection is in the title"


# -- q5: budget ---------------------------------------------------------------------------------


@register("ex01.q5", "how much traffic the strong model can take on a budget")
def check_max_strong_share(max_strong_share: Callable[..., Decimal | None]) -> str:
    """Largest share for gpt-4o that keeps a month under budget; 1 if all fits; None if none."""
    strong, weak, month = GPT4O_COST, MINI_COST, 150_000
    all_weak, all_strong = (month * weak).normalize(), month * strong
    # The budgets must mean what the comments say at the registry's prices.
    assert Decimal(50) < all_weak < Decimal(300) < Decimal(600) < all_strong < Decimal(2000)

    def share(budget: Decimal) -> Decimal:  # the weak calls are paid for too
        return (budget / month - weak) / (strong - weak)

    cases = [
        (Decimal("300"), month, share(Decimal("300"))),
        (Decimal("600"), month, share(Decimal("600"))),
        (Decimal("2000"), month, Decimal("1")),  # more than everything on gpt-4o costs
        (all_weak, month, Decimal("0")),  # exactly the all-mini bill
        (Decimal("50"), month, None),  # less than even the all-mini bill
    ]
    for budget, conversations, expected in cases:
        call = (f"max_strong_share(budget_usd=Decimal('{budget}'), conversations={conversations:,}"
                f", strong_cost_usd=Decimal('{strong}'), weak_cost_usd=Decimal('{weak}'))")
        got = call_learner(max_strong_share, budget, conversations, strong, weak, call=call)
        if expected is None:
            expect(got is None, "no split fits this budget", call=call, expected="None",
                   got=short_repr(got),
                   hint=mistake_hint("ex01.q5", "none_fits"))
            continue
        hint = mistake_hint("ex01.q5", "formula")
        if got is not None and not isinstance(got, bool) and isinstance(got, Decimal | float):
            ignoring_weak = budget / (conversations * strong)
            if abs(Decimal(str(got)) - ignoring_weak) < Decimal("1e-9"):
                hint = mistake_hint("ex01.q5", "weak_costs")
        expect(isinstance(got, Decimal | float) and not isinstance(got, bool)
               and abs(Decimal(str(got)) - expected) <= Decimal("1e-9"),
               "wrong share for this budget", call=call,
               expected=f"{expected:.6f}", got=short_repr(got), hint=hint)
    return "shares right for tight, generous and impossible budgets"
