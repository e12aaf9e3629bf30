# Source of exercises/ex03_concurrent_tools.ipynb and its solution notebook.
# Edit this file, then run: .venv/bin/python scripts/build_exercises.py ex03_concurrent_tools
# Top-level `await` is fine in a notebook cell, not in a module:
# ruff: noqa: F704

# %% [markdown]
# # Exercise 3 · Concurrent tool calls (任务3:实现并发 tool 调用)
#
# The lesson's third task. One support message needs three tools: search the knowledge base,
# look up the ticket's status, fetch the user's profile (200 + 300 + 150 ms). One after another
# that is 650 ms; started together, the turn waits only for the slowest, 300 ms. Notebook
# `08_concurrent_tools` showed the lesson's Go version gets the speed but not the safety: one
# hanging tool holds the turn forever, and one error can lose every result. Write both halves:
#
# | | you write | the check asks |
# |---|---|---|
# | q1 | `run_concurrently(calls)` | do all tools start at once? results in call order? |
# | q2 | `run_tools(calls, timeout_per_tool)` | errors kept? a hanging tool cancelled? |
#
# A call is a pair `(name, make)`: `make()` returns a fresh coroutine for that tool, e.g.
# `("ticket_status", lambda: support.ticket_status(10430))`.
#
# **How it works.** Each ✏️ **YOUR CODE** cell holds a stub that raises `NotImplementedError`.
# Replace it, run the cell, then run the `check(...)` cell below it: ✅ passed, ⏳ not done yet,
# or ❌ not yet right, with the input that failed, what was expected, what came back and a hint.
# `hint("ex03.q1")` gives one more hint each time you run it. The checks use fake tools that
# wait for each other instead of stopwatches, so they give the same verdict on any machine.

# %%
import asyncio
import time

from course_lib.checks import check, hint, preview_async
from course_lib.tools import SupportTools, ToolResult

# %% [markdown]
# The three tools, on real data: `SupportTools` searches the knowledge base with real
# embeddings and reads tickets and users from the course's SQLite database. Each first waits out
# a **simulated** network latency (the remote service the tool would call).

# %%
# The lesson's three tools on the course's real data (an embedding search and a SQLite
# database), each behind a *simulated* network latency: 200 / 300 / 150 ms x 0.2 here.
support = SupportTools(time_scale=0.2)
MESSAGE = "Any news on ticket #10430? We still can't turn on SSO with Okta."
calls = [
    ("search_kb", lambda: support.search_kb(MESSAGE)),
    ("ticket_status", lambda: support.ticket_status(10430)),
    ("user_profile", lambda: support.user_profile(156)),
]
print(await support.user_profile(156))

# %% [markdown]
# ## q1 · Start them all, then wait
#
# Write `async def run_concurrently(calls)`: start every tool, wait for all of them, and return
# their values **in the order of `calls`**, whatever order they finish in. A loop of
# `await make()` runs them one by one, which is exactly what this task replaces; notebook
# `08_concurrent_tools` showed what starts them together. (Errors can escape here; q2 deals with
# them.)

# %%
# ✏️ YOUR CODE: start every call's coroutine, then wait for all; values in call order.
async def run_concurrently(calls):
    """The value of every ``(name, make)`` call, run concurrently, in call order."""
    ### BEGIN SOLUTION
    return list(await asyncio.gather(*(make() for _, make in calls)))
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write run_concurrently(calls): every tool running at the same time, their values in "
        "call order"
    )
    ### END STUB


# %%
check("ex03.q1", run_concurrently)

# %% [markdown]
# ## q2 · A deadline per tool, and every error kept with its tool
#
# Write `async def run_tools(calls, timeout_per_tool)`, returning one
# `ToolResult` per call, in call order (`ToolResult` comes from `course_lib.tools`):
#
# * `ToolResult(name, "ok", value=value)` when the tool answered;
# * `ToolResult(name, "error", error=exc)` when it raised: the *other* tools still answer;
# * `ToolResult(name, "timeout", error=TimeoutError(...))` when it ran past `timeout_per_tool`
#   seconds, and the tool must be **cancelled**, not just left behind: `asyncio.timeout()` (or
#   `asyncio.wait_for`) raises `CancelledError` inside it so its `finally` blocks close what it
#   opened. `asyncio.wait(..., timeout=...)` only stops *waiting*.
#
# And when the caller itself is cancelled (the user closed the chat), every tool still running
# is cancelled with it, and the cancellation reaches the caller: a tool's errors are results,
# the caller's cancellation is not.

# %%
# ✏️ YOUR CODE: one ToolResult per call (ok, error or timeout); a hanging tool is cancelled.
async def run_tools(calls, timeout_per_tool):
    """One ``ToolResult`` per call, in call order: ok, error or timeout (and cancelled)."""
    ### BEGIN SOLUTION
    async def run_one(name, make):
        try:
            async with asyncio.timeout(timeout_per_tool):
                value = await make()
        except TimeoutError:
            return ToolResult(name, "timeout", error=TimeoutError(
                f"{name} timed out after {timeout_per_tool} s"))
        except Exception as error:  # this tool's failure is this tool's result
            return ToolResult(name, "error", error=error)
        return ToolResult(name, "ok", value=value)

    return list(await asyncio.gather(*(run_one(name, make) for name, make in calls)))
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write run_tools(calls, timeout_per_tool): one ToolResult per call, in call order; "
        "each tool's error or timeout stays its own, and a hanging tool is stopped"
    )
    ### END STUB


# %%
check("ex03.q2", run_tools)

# %% [markdown]
# ## Try it: the lesson's three tools, serial vs yours
#
# The real tools at 0.2 × the lesson's latencies: the serial turn should take about
# 0.2 × 650 ms and yours about 0.2 × 300 ms. Then the ticketing system stops answering.

# %%
async def try_tools():
    started = time.perf_counter()
    for _, make in calls:
        await make()
    serial_s = time.perf_counter() - started

    started = time.perf_counter()
    results = await run_tools(calls, timeout_per_tool=1.0)
    concurrent_s = time.perf_counter() - started

    async def never_answers():
        await asyncio.Event().wait()  # a reply that never comes
        return 0.0

    hung = SupportTools(time_scale=0.2, latency={"ticket_status": never_answers})
    hung_calls = [("search_kb", lambda: hung.search_kb(MESSAGE)),
                  ("ticket_status", lambda: hung.ticket_status(10430)),
                  ("user_profile", lambda: hung.user_profile(156))]
    with_a_hang = await run_tools(hung_calls, timeout_per_tool=0.2)
    lines = [f"serial {1000 * serial_s:.0f} ms, yours {1000 * concurrent_s:.0f} ms: "
             f"{serial_s / concurrent_s:.2f}x faster (the lesson's ideal: 650/300 = 2.17x)"]
    lines += [f"  {r.name:14} {r.status:8} {r.value if r.ok else r.error}" for r in results]
    lines.append("with ticket_status hanging:")
    lines += [f"  {r.name:14} {r.status:8} {'' if r.ok else r.error}" for r in with_a_hang]
    return "\n".join(lines)


await preview_async(try_tools)

# %% [markdown]
# **Done?** Compare with `course_lib.tools.run_tools` (notebook `08_concurrent_tools`): it adds
# a total deadline for the turn, start and finish times for a Gantt chart, and tells a tool's
# *own* `TimeoutError` (say, from its HTTP client) from the deadline's. When tools depend on
# each other's results, `course_lib.tools.run_dag` starts each one as soon as its inputs are
# ready.
