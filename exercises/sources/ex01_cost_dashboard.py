# Source of exercises/ex01_cost_dashboard.ipynb and exercises/solutions/ex01_cost_dashboard.ipynb.
# Edit this file, then run: .venv/bin/python scripts/build_exercises.py ex01_cost_dashboard

# %% [markdown]
# # Exercise 1 · A cost dashboard (任务1:成本仪表盘)
#
# The lesson's first hands-on task: a **cost dashboard** for your agent. Notebook
# `03_cost_tracker` built the tracker that records every call; here you turn what it records
# into the numbers and the picture someone checks every morning:
#
# | | you write | it answers |
# |---|---|---|
# | q1 | `cost_by_model(calls)` | where does the money go? |
# | q2 | `projected_monthly_usd(calls)` | what will this month cost? |
# | q3 | `cost_per_hour(calls)` | when is it spent? |
# | q4 | `dashboard_figure(calls)` | all of it on one figure |
# | q5 | `max_strong_share(...)` | how much traffic can GPT-4o take within a budget? |
#
# **How it works.** Each ✏️ **YOUR CODE** cell holds a stub that raises `NotImplementedError`.
# Replace it, run the cell, then run the `check(...)` cell below it: ✅ passed, ⏳ not done yet,
# or ❌ not yet right, with the input that failed, what was expected, what came back and a hint.
# `hint("ex01.q1")` gives one more hint each time you run it. The checks use small feeds priced
# by hand, so you can redo every expected number on paper.

# %%
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import matplotlib.pyplot as plt
import openai

from course_lib import sandbox
from course_lib.checks import check, hint, preview
from course_lib.tracker import CostTracker
from course_lib.traffic import support_traffic

# %% [markdown]
# ## The feed: one day of support traffic, priced call by call
#
# A dashboard reads a **feed of priced calls**. Below, a simulated day of Kitewing support
# questions goes to a private sandbox (never a billed endpoint: it is a simulator, at
# `time_scale=0`, so the day replays in about a second). Complex questions go to `gpt-4o`,
# simple ones to `gpt-4o-mini`, and the tracker prices each response.
# `CostTracker.record_response` returns the priced call, a `CallCost`:
#
# | field | example |
# |---|---|
# | `call.at` | when it happened (a timezone-aware `datetime`, UTC) |
# | `call.model` | the model that answered, as the response names it (`gpt-4o-2024-08-06`) |
# | `call.input_tokens`, `call.output_tokens` | its usage |
# | `call.cost_usd` | its exact cost, a `Decimal` |

# %%
SYSTEM_PROMPT = "You are the support assistant of Kitewing, a project-management app."
tracker = CostTracker()
calls = []
with sandbox.start(time_scale=0, seed=1) as private_sandbox:
    client = openai.OpenAI(base_url=private_sandbox.base_url, api_key="sandbox", max_retries=0)
    for event in support_traffic(240, seed=1):
        model = "gpt-4o" if event.complexity == "complex" else "gpt-4o-mini"
        response = client.chat.completions.create(model=model, messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": event.query},
        ])
        calls.append(tracker.record_response(response, at=event.at))

print(f"{len(calls)} priced calls, {calls[0].at:%a %H:%M} to {calls[-1].at:%a %H:%M} UTC")
for call in calls[:3]:
    print(f"  {call.at:%H:%M}  {call.model:24} {call.input_tokens:4} in {call.output_tokens:4} out"
          f"  ${call.cost_usd}")

# %% [markdown]
# ## q1 · Where does the money go?
#
# Write `cost_by_model(calls)`: a dict from model name to the total `cost_usd` of its calls,
# **biggest first**. Money stays a `Decimal` from start to finish: the lesson's tracker turned
# small calls into $0 with integer division, and floats drift (`0.1 + 0.2 != 0.3`).

# %%
# ✏️ YOUR CODE: total cost per model, as Decimals, biggest first.
def cost_by_model(calls):
    """``{model: total cost_usd}`` over ``calls``, ordered by cost, descending."""
    ### BEGIN SOLUTION
    totals = defaultdict(Decimal)  # Decimal() is Decimal('0')
    for call in calls:
        totals[call.model] += call.cost_usd
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write cost_by_model(calls): each model's exact total cost, biggest first"
    )
    ### END STUB


# %%
check("ex01.q1", cost_by_model)

# %% [markdown]
# ## q2 · What will this month cost?
#
# The lesson's `Summary()` reports `avgCost × calls × 30`: the lifetime total times 30, which is
# right only if the tracker has run for exactly one day. Project from the **observed window**
# instead: the cost per second between the first and the last call, times the seconds in 30
# days. With less than an hour of data (or fewer than two calls) return `None`: too little to
# project from. Feeds merged from several workers are not in time order.

# %%
# ✏️ YOUR CODE: the month's cost at the observed rate; None with under an hour of data.
MONTH = timedelta(days=30)
MIN_WINDOW = timedelta(hours=1)


def projected_monthly_usd(calls):
    """The month's cost projected from the window first-to-last call, or ``None``."""
    ### BEGIN SOLUTION
    if not calls:
        return None
    window = max(call.at for call in calls) - min(call.at for call in calls)
    if window < MIN_WINDOW:
        return None
    total = sum((call.cost_usd for call in calls), Decimal(0))
    return total * Decimal(MONTH.total_seconds()) / Decimal(window.total_seconds())
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write projected_monthly_usd(calls): the month's cost at the rate seen between the "
        "first and the last call, or None with less than an hour of data"
    )
    ### END STUB


# %%
check("ex01.q2", projected_monthly_usd)

# %% [markdown]
# ## q3 · When is it spent?
#
# Write `cost_per_hour(calls)`: a list of `(hour_start, cost)` pairs, one per hour from the
# first call's hour to the last call's, oldest first. `hour_start` is the call time with minutes,
# seconds and microseconds set to zero (keep the timezone). **Quiet hours are included with
# `Decimal(0)`**: a chart that skips them hides the night and makes the day look flat.

# %%
# ✏️ YOUR CODE: one (hour_start, Decimal cost) per hour, quiet hours as Decimal(0).
def cost_per_hour(calls):
    """``[(hour_start, cost), ...]`` from the first call's hour to the last call's."""
    ### BEGIN SOLUTION
    if not calls:
        return []
    per_hour = defaultdict(Decimal)
    for call in calls:
        per_hour[call.at.replace(minute=0, second=0, microsecond=0)] += call.cost_usd
    hour, last = min(per_hour), max(per_hour)
    rows = []
    while hour <= last:
        rows.append((hour, per_hour.get(hour, Decimal(0))))
        hour += timedelta(hours=1)
    return rows
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write cost_per_hour(calls): the cost of every hour from the first call's to the last "
        "call's, quiet hours included"
    )
    ### END STUB


# %%
check("ex01.q3", cost_per_hour)

# %% [markdown]
# ## q4 · The dashboard
#
# Put it together in `dashboard_figure(calls)`, which returns a matplotlib `Figure` with:
#
# * a panel with **one bar per model**, its length the model's cost (your `cost_by_model`);
# * a panel with the **cost of each hour**, quiet hours included (your `cost_per_hour`), as bars
#   or a line;
# * a title on every panel, and the **projected month** in the figure's title, written like
#   `$1,234.56` (or `n/a` when there is too little data). Matplotlib reads `$…$` as a formula:
#   pass `parse_math=False` to `suptitle`.
#
# Convert `Decimal` to `float` only at the last step, to draw. Add more panels if you like
# (tokens per model, a budget line): the check looks for these two and the title.

# %%
# ✏️ YOUR CODE: a Figure with a cost-by-model panel, a cost-per-hour panel, the projection.
def dashboard_figure(calls):
    """The cost dashboard of ``calls`` as a matplotlib Figure."""
    ### BEGIN SOLUTION
    by_model = cost_by_model(calls)
    by_hour = cost_per_hour(calls)
    projected = projected_monthly_usd(calls)
    figure, (models_ax, hours_ax) = plt.subplots(
        1, 2, figsize=(13, 4.5), layout="constrained", width_ratios=(1, 1.6))
    models_ax.barh(list(by_model), [float(cost) for cost in by_model.values()], color="#55A868")
    models_ax.invert_yaxis()  # biggest first, at the top
    models_ax.set_xlabel("USD")
    models_ax.set_title("Cost by model")
    hours_ax.bar(range(len(by_hour)), [float(cost) for _, cost in by_hour], color="#4C72B0")
    hours_ax.set_xticks(range(len(by_hour)), [f"{start:%H}" for start, _ in by_hour])
    hours_ax.set_xlabel("hour of the day (UTC)")
    hours_ax.set_ylabel("USD")
    hours_ax.set_title("Cost per hour")
    total = sum(by_model.values(), Decimal(0))
    month = f"${projected:,.2f}" if projected is not None else "n/a"
    figure.suptitle(f"{len(calls):,} calls, ${total:.4f}; projected month {month}",
                    parse_math=False)
    return figure
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write dashboard_figure(calls): one figure showing the cost of each model, the cost of "
        "each hour and the projected month"
    )
    ### END STUB


# %%
check("ex01.q4", dashboard_figure)

# %% [markdown]
# Your dashboard, drawn from the day of traffic above:

# %%
preview(dashboard_figure, calls)

# %% [markdown]
# ## q5 · How much traffic can GPT-4o take within a budget?
#
# The lesson's bot has 150,000 conversations a month. All on GPT-4o they cost \\$1,237.50; all on
# GPT-4o-mini, \\$74.25. A budget lies in between: **what is the largest share `s` of
# conversations you may send to the strong model** and stay within it?
#
# A month costs `N × (s × strong + (1 − s) × weak)`. Write
# `max_strong_share(budget_usd, conversations, strong_cost_usd, weak_cost_usd)`: the largest
# `s` (between 0 and 1) that keeps the month at or under the budget, `1` if everything fits,
# and `None` if even sending everything to the weak model is over budget.

# %%
# ✏️ YOUR CODE: solve N x (s x strong + (1 - s) x weak) <= budget for the largest s in [0, 1].
def max_strong_share(budget_usd, conversations, strong_cost_usd, weak_cost_usd):
    """Largest share of conversations for the strong model within the budget, or ``None``."""
    ### BEGIN SOLUTION
    per_conversation = Decimal(budget_usd) / conversations
    if per_conversation < weak_cost_usd:
        return None
    share = (per_conversation - weak_cost_usd) / (strong_cost_usd - weak_cost_usd)
    return min(share, Decimal(1))
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write max_strong_share(...): the largest share of conversations the strong model can "
        "take within the budget, 1 if all of them fit, None if none do"
    )
    ### END STUB


# %%
check("ex01.q5", max_strong_share)

# %% [markdown]
# ## Try it: a budget for the day you just replayed
#
# The cell below prices an average conversation of each model **from the feed** and asks your
# function what share of the day's traffic GPT-4o could take for a few monthly budgets. Compare
# with how much it takes now (the complex questions), and with notebook `05_model_routing`,
# where a router decides which questions those are.

# %%
def budget_table():
    strong = [call.cost_usd for call in calls if "mini" not in call.model]
    weak = [call.cost_usd for call in calls if "mini" in call.model]
    strong_avg, weak_avg = sum(strong) / len(strong), sum(weak) / len(weak)
    per_month = round(len(calls) * 30)  # this day's traffic, every day for 30 days
    lines = [f"GPT-4o takes {len(strong) / len(calls):.0%} of the traffic today; an average "
             f"conversation costs ${strong_avg:.6f} on GPT-4o, ${weak_avg:.6f} on mini",
             f"{per_month:,} conversations a month:"]
    for budget in (Decimal(1), Decimal(3), Decimal(10)):
        share = max_strong_share(budget, per_month, strong_avg, weak_avg)
        shown = "no split fits" if share is None else f"at most {share:.0%} on GPT-4o"
        lines.append(f"  a budget of ${budget}/month: {shown}")
    return "\n".join(lines)


preview(budget_table)

# %% [markdown]
# **Done?** Compare your functions with the course's tracker, which keeps the same numbers
# under one lock as the calls arrive: `tracker.summary()["by_model"]`,
# `tracker.summary()["projected_monthly_usd"]`, `tracker.time_buckets()`, and
# `course_lib.plots.cost.render_dashboard(tracker, path)`, which draws four panels. In
# production the same numbers go to Prometheus or OpenTelemetry and a Grafana board.
