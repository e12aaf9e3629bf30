"""course_lib.tools.critical_path: the DP over the topological order, and runs measured against it.

The DP is checked against brute force: every path of a small random DAG enumerated, its
durations summed. Recorded runs are checked two ways: on a fake clock the test moves (exact
figures, nothing timed), and on real asyncio sleeps, where only ratios of the run's own recorded
start/finish times are asserted.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.tools import (
    LESSON_LATENCIES_MS,
    DependencyCycleError,
    ToolResult,
    compare_with_critical_path,
    critical_path,
    run_dag,
    run_dag_by_levels,
)
from tests.test_tools_runner import Probe, run

pytestmark = pytest.mark.timing

DEPS = {"search_kb": ["user_profile"]}


# --------------------------------------------------------------------------- the DP


def test_the_lessons_three_tools_with_the_search_needing_the_profile() -> None:
    """profile (150) -> search (200) beside the ticket (300): the turn is 350 ms, not 300 or 650."""
    cp = critical_path(LESSON_LATENCIES_MS, DEPS)
    assert cp.makespan == 350
    assert cp.path == ("user_profile", "search_kb")
    assert dict(cp.earliest_start) == {"search_kb": 150, "ticket_status": 0, "user_profile": 0}
    assert dict(cp.earliest_finish) == {"search_kb": 350, "ticket_status": 300,
                                        "user_profile": 150}
    assert dict(cp.slack) == {"search_kb": 0, "ticket_status": 50, "user_profile": 0}
    assert cp.describe() == "user_profile -> search_kb: 350 ms"


def test_independent_tools_take_the_slowest_and_a_chain_takes_the_sum() -> None:
    independent = critical_path(LESSON_LATENCIES_MS)
    assert independent.makespan == 300
    assert independent.path == ("ticket_status",)
    chain = critical_path(LESSON_LATENCIES_MS, {"search_kb": ["user_profile"],
                                                "ticket_status": ["search_kb"]})
    assert chain.makespan == 650
    assert chain.path == ("user_profile", "search_kb", "ticket_status")
    assert set(chain.slack.values()) == {0}


def test_ties_go_to_the_first_input_and_the_first_tool() -> None:
    cp = critical_path({"a": 1, "b": 1, "c": 1, "d": 2}, {"c": ["b", "a"]})
    assert cp.makespan == 2
    assert cp.path == ("b", "c")  # c's inputs tie; b is listed first. c and d tie; c comes first


def test_an_empty_graph_takes_no_time() -> None:
    cp = critical_path({})
    assert (cp.makespan, cp.path) == (0.0, ())


def test_a_cycle_and_bad_durations_are_named() -> None:
    with pytest.raises(DependencyCycleError, match="'a' needs 'b'"):
        critical_path({"a": 1, "b": 1}, {"a": ["b"], "b": ["a"]})
    with pytest.raises(ValueError, match="'a' depends on 'ghost'"):
        critical_path({"a": 1}, {"a": ["ghost"]})
    for bad in (-1, float("nan"), float("inf"), "5", True):
        with pytest.raises(ValueError, match="the duration of 'a' must be a finite number >= 0"):
            critical_path({"a": bad})
    with pytest.raises(TypeError, match="durations must be a dict"):
        critical_path([("a", 1)])  # type: ignore[arg-type]


@st.composite
def weighted_dags(draw: st.DrawFn) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Up to 7 tools with integer durations (exact sums); t_i may need only t_j with j < i,
    listed under shuffled names so the dict is not already in topological order."""
    n = draw(st.integers(min_value=1, max_value=7))
    deps = {f"t{i}": draw(st.lists(st.sampled_from([f"t{j}" for j in range(i)]), unique=True,
                                   max_size=i)) if i else [] for i in range(n)}
    names = draw(st.permutations(list(deps)))
    durations = {name: draw(st.integers(min_value=0, max_value=20)) for name in names}
    return durations, {name: deps[name] for name in names if deps[name]}


def all_paths(durations: dict[str, int], deps: dict[str, list[str]]) -> Iterator[list[str]]:
    """Every directed path, following "input -> tool" edges, from any tool to any tool."""
    users = {name: [t for t, needed in deps.items() if name in needed] for name in durations}

    def extend(path: list[str]) -> Iterator[list[str]]:
        yield path
        for user in users[path[-1]]:
            yield from extend([*path, user])

    for start in durations:
        yield from extend([start])


@settings(max_examples=150, deadline=None)
@given(graph=weighted_dags())
def test_the_dp_agrees_with_brute_force_over_every_path(graph: Any) -> None:
    durations, deps = graph
    cp = critical_path(durations, deps)
    paths = list(all_paths(durations, deps))

    def length(path: list[str]) -> int:
        return sum(durations[name] for name in path)

    assert cp.makespan == max(length(p) for p in paths)
    # The critical path is a real path (each step an edge) as long as the makespan.
    for before, after in itertools.pairwise(cp.path):
        assert before in deps.get(after, [])
    assert length(list(cp.path)) == cp.makespan
    for name in durations:
        assert cp.earliest_finish[name] == max(length(p) for p in paths if p[-1] == name)
        assert cp.earliest_start[name] == cp.earliest_finish[name] - durations[name]
        through = max(length(p) for p in paths if name in p)
        assert cp.slack[name] == cp.makespan - through
    assert all(cp.slack[name] == 0 for name in cp.path)


# --------------------------------------------------------------------------- runs against the DP


class StepClock:
    """A clock the test sets; run_dag reads it for every start and finish."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def three_probes() -> dict[str, Probe]:
    return {name: Probe(name, wait_for=asyncio.Event()) for name in LESSON_LATENCIES_MS}


def test_run_dag_on_a_stepped_clock_matches_the_dp_exactly() -> None:
    """Each tool finishes when the test says: profile at 0.15, ticket at 0.30, search at 0.35."""
    async def body() -> dict[str, ToolResult]:
        clock, probes = StepClock(), three_probes()
        turn = asyncio.create_task(run_dag(probes, DEPS, clock=clock))
        await probes["ticket_status"].started.wait()
        clock.now = 0.15
        probes["user_profile"].release.set()
        await probes["search_kb"].started.wait()
        clock.now = 0.30
        probes["ticket_status"].release.set()
        await probes["ticket_status"].done.wait()
        clock.now = 0.35
        probes["search_kb"].release.set()
        return await turn

    comparison = compare_with_critical_path(run(body), DEPS)
    assert comparison.measured_makespan_s == pytest.approx(0.35)
    assert comparison.best.makespan == pytest.approx(0.35)
    assert comparison.efficiency == pytest.approx(1.0)
    assert comparison.best.path == ("user_profile", "search_kb")
    assert all(wait == pytest.approx(0.0) for wait in comparison.waits.values())


def test_the_level_by_level_baseline_loses_what_its_level_waits_for() -> None:
    """Same durations; search waits for the ticket (its level) to finish: 0.50 s against 0.35."""
    async def body() -> dict[str, ToolResult]:
        clock, probes = StepClock(), three_probes()
        turn = asyncio.create_task(run_dag_by_levels(probes, DEPS, clock=clock))
        await probes["ticket_status"].started.wait()
        clock.now = 0.15
        probes["user_profile"].release.set()
        await probes["user_profile"].done.wait()
        clock.now = 0.30
        probes["ticket_status"].release.set()
        await probes["search_kb"].started.wait()
        clock.now = 0.50
        probes["search_kb"].release.set()
        return await turn

    comparison = compare_with_critical_path(run(body), DEPS)
    assert comparison.measured_makespan_s == pytest.approx(0.50)
    assert comparison.best.makespan == pytest.approx(0.35)
    assert comparison.efficiency == pytest.approx(0.7)
    assert comparison.lost_s == pytest.approx(0.15)
    assert comparison.waits["search_kb"] == pytest.approx(0.15)  # ready at 0.15, started at 0.30


def sleeping_tools(scale: float) -> dict[str, Any]:
    def tool(ms: float) -> Any:
        async def call(inputs: Any) -> float:
            await asyncio.sleep(ms * scale / 1000)
            return ms
        return call
    return {name: tool(ms) for name, ms in LESSON_LATENCIES_MS.items()}


def test_real_runs_measured_against_their_own_recorded_durations() -> None:
    """Real sleeps: run_dag comes within 5% of the DP for the durations it recorded (the DP and
    the run move together on a loaded machine). Levels cannot: each wave waits for its slowest
    tool, and a sleep never ends early, so no run of it beats the sum of its waves' slowest
    planned tools, which is longer than the DP's optimum. Neither bound moves with load."""
    scale = 0.5
    tools = sleeping_tools(scale)
    dag = [compare_with_critical_path(run(lambda: run_dag(tools, DEPS)), DEPS)
           for _ in range(3)]
    levels = [compare_with_critical_path(run(lambda: run_dag_by_levels(tools, DEPS)), DEPS)
              for _ in range(3)]
    assert max(c.efficiency for c in dag) >= 0.95
    assert all(c.efficiency <= 1.0 + 1e-9 for c in dag + levels)
    assert all(c.best.path == ("user_profile", "search_kb") for c in dag)

    planned = {name: ms * scale / 1000 for name, ms in LESSON_LATENCIES_MS.items()}
    optimum = critical_path(planned, DEPS).makespan
    # Waves by hand: the tools with no inputs, then search_kb, which needs user_profile.
    waves = [("ticket_status", "user_profile"), ("search_kb",)]
    levels_floor = sum(max(planned[name] for name in wave) for wave in waves)
    assert levels_floor > 1.1 * optimum  # what waiting for whole waves costs, planned
    assert all(c.measured_makespan_s >= levels_floor for c in levels)
    assert all(c.measured_makespan_s >= optimum for c in dag)


def test_a_run_with_a_failed_tool_cannot_be_compared() -> None:
    results = run(lambda: run_dag({"user_profile": Probe(error=LookupError("no user 999")),
                                   "search_kb": Probe("kb")}, DEPS))
    with pytest.raises(ValueError, match="'user_profile' did not run to completion"):
        compare_with_critical_path(results, DEPS)
