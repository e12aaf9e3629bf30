"""course_lib.tools.dag (and its baselines): tool graphs run as soon as their inputs are ready.

Tools are event-driven probes (see ``test_tools_runner.Probe``): the test releases them, so
"b started while c was still running" is a fact about events, not about milliseconds. The
property test checks every scheduler against values computed here by plain recursion.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.tools import (
    DependencyCycleError,
    DependencyFailedError,
    ToolResult,
    check_graph,
    run_dag,
    run_dag_by_levels,
    run_dag_graphlib,
)
from tests.test_tools_runner import Probe, run

pytestmark = pytest.mark.timing

AS_SOON_AS_READY = [run_dag, run_dag_graphlib]
ALL_SCHEDULERS = [run_dag, run_dag_graphlib, run_dag_by_levels]


async def _let_the_loop_run(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


# --------------------------------------------------------------------------- scheduling


@pytest.mark.parametrize("scheduler", AS_SOON_AS_READY, ids=lambda f: f.__name__)
def test_a_tool_starts_as_soon_as_its_own_inputs_finish(scheduler: Any) -> None:
    """profile -> search; ticket independent and slow: search must start while ticket runs."""
    async def body() -> dict[str, ToolResult]:
        profile = Probe("Business", wait_for=asyncio.Event())
        search = Probe("kb-046")
        ticket = Probe("open", wait_for=asyncio.Event())
        tools = {"profile": profile, "search": search, "ticket": ticket}
        turn = asyncio.create_task(scheduler(tools, {"search": ["profile"]}))
        await ticket.started.wait()
        assert not search.started.is_set(), "search needs the profile; it cannot start yet"
        profile.release.set()
        await search.done.wait()
        assert not ticket.done.is_set(), "search ran while the ticket lookup was still running"
        ticket.release.set()
        return await turn

    results = run(body)
    assert [r.status for r in results.values()] == ["ok", "ok", "ok"]
    assert results["search"].started >= results["profile"].finished


def test_the_level_by_level_baseline_waits_for_the_whole_previous_level() -> None:
    async def body() -> dict[str, ToolResult]:
        profile = Probe("Business")
        search = Probe("kb-046")
        ticket = Probe("open", wait_for=asyncio.Event())
        turn = asyncio.create_task(run_dag_by_levels(
            {"profile": profile, "search": search, "ticket": ticket}, {"search": ["profile"]}))
        await profile.done.wait()
        await _let_the_loop_run()
        assert not search.started.is_set(), "levels: search waits for the slow ticket lookup"
        ticket.release.set()
        return await turn

    results = run(body)
    assert results["search"].started >= results["ticket"].finished


@pytest.mark.parametrize("scheduler", ALL_SCHEDULERS, ids=lambda f: f.__name__)
def test_each_tool_gets_exactly_its_inputs_values(scheduler: Any) -> None:
    async def body() -> tuple[dict[str, ToolResult], Probe]:
        joiner = Probe("answer")
        tools = {"user": Probe({"plan": "Team"}), "ticket": Probe("pending"), "answer": joiner,
                 "unrelated": Probe(0)}
        results = await scheduler(tools, {"answer": ["user", "ticket"]})
        return results, joiner

    results, joiner = run(body)
    assert dict(joiner.inputs) == {"user": {"plan": "Team"}, "ticket": "pending"}
    assert list(results) == ["user", "ticket", "answer", "unrelated"]  # the order of tools


def test_reading_an_undeclared_input_is_an_error_naming_it() -> None:
    async def search(inputs: Mapping[str, Any]) -> str:
        return f"search for the {inputs['profile']} plan"

    results = run(lambda: run_dag({"profile": Probe("Team"), "search": search}))
    assert results["search"].status == "error"
    assert isinstance(results["search"].error, KeyError)
    assert "'search' has no input 'profile'" in results["search"].reason
    assert "add it to the tool's deps" in results["search"].reason


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("scheduler", ALL_SCHEDULERS, ids=lambda f: f.__name__)
def test_a_failed_input_skips_its_dependents_transitively_and_nothing_else(scheduler: Any) -> None:
    async def body() -> tuple[dict[str, ToolResult], dict[str, Probe]]:
        probes = {"profile": Probe(error=LookupError("no user with id 999")),
                  "search": Probe("kb"), "answer": Probe("text"), "ticket": Probe("open")}
        results = await scheduler(probes, {"search": ["profile"], "answer": ["search", "ticket"]})
        return results, probes

    results, probes = run(body)
    assert {n: r.status for n, r in results.items()} == {
        "profile": "error", "search": "skipped", "answer": "skipped", "ticket": "ok"}
    search, answer = results["search"], results["answer"]
    assert isinstance(search.error, DependencyFailedError)
    assert search.error.dependency == "profile"
    assert "its input 'profile' failed (LookupError: no user with id 999)" in search.reason
    assert "its input 'search' was skipped" in answer.reason
    assert search.started is None and answer.started is None
    assert not probes["search"].started.is_set() and not probes["answer"].started.is_set()


def test_a_timed_out_input_skips_its_dependent_and_the_hanging_tool_unwinds() -> None:
    async def body() -> tuple[dict[str, ToolResult], bool]:
        hanging = Probe(hang=True)
        results = await run_dag({"profile": hanging, "search": Probe("kb")},
                                {"search": ["profile"]}, timeout_per_tool=0.05)
        return results, hanging.unwound

    results, unwound = run(body)
    assert results["profile"].status == "timeout"
    assert results["search"].status == "skipped"
    assert "its input 'profile' timed out" in results["search"].reason
    assert unwound


@pytest.mark.parametrize("scheduler", ALL_SCHEDULERS, ids=lambda f: f.__name__)
def test_cancelling_the_caller_cancels_the_running_tools(scheduler: Any) -> None:
    async def body() -> tuple[bool, bool, bool]:
        first, second, waiting = Probe(hang=True), Probe(hang=True), Probe("never")
        turn = asyncio.create_task(scheduler({"a": first, "b": second, "c": waiting},
                                             {"c": ["a"]}))
        await first.started.wait()
        await second.started.wait()
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn
        return first.unwound, second.unwound, waiting.started.is_set()

    assert run(body) == (True, True, False)


# --------------------------------------------------------------------------- graph checks


def test_a_cycle_is_reported_by_naming_its_tools_before_anything_runs() -> None:
    probes = {name: Probe(name) for name in ("profile", "search", "rerank", "ticket")}
    deps = {"profile": ["rerank"], "search": ["profile"], "rerank": ["search"]}
    with pytest.raises(DependencyCycleError) as caught:
        run(lambda: run_dag(probes, deps))
    cycle = caught.value.cycle
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"profile", "search", "rerank"}
    for tool, needed in itertools.pairwise(cycle):
        assert needed in deps[tool], f"{tool} does not need {needed}"
    message = str(caught.value)
    assert "cycle" in message
    assert all(f"'{name}'" in message for name in ("profile", "search", "rerank"))
    assert not any(p.started.is_set() for p in probes.values())


def test_a_tool_that_needs_itself_is_a_cycle() -> None:
    with pytest.raises(DependencyCycleError, match="'loop' needs 'loop'"):
        check_graph({"loop": Probe()}, {"loop": ["loop"]})


@pytest.mark.parametrize("deps, error, message", [
    ({"ghost": ["a"]}, ValueError, "deps lists inputs for 'ghost', which is not one of"),
    ({"a": ["ghost"]}, ValueError, "'a' depends on 'ghost', which is not one of the tools"),
    ({"a": "b"}, TypeError, r"deps\['a'\] must be a list of tool names"),
    ({"a": ["b", "b"]}, ValueError, "lists \\['b'\\] more than once"),
])
def test_bad_dependencies_are_named(deps: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        check_graph({"a": Probe(), "b": Probe()}, deps)


def test_tools_must_be_callables_in_a_mapping() -> None:
    with pytest.raises(TypeError, match="tools must be a dict"):
        check_graph([Probe()], {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'a' is 3, which is not callable"):
        check_graph({"a": 3}, {})  # type: ignore[dict-item]


# --------------------------------------------------------------------------- property

@st.composite
def dags(draw: st.DrawFn) -> tuple[int, dict[str, list[str]]]:
    """A random DAG: node i may depend only on nodes with smaller numbers, named in shuffled
    order so the tools dict is not already topologically sorted."""
    n = draw(st.integers(min_value=1, max_value=7))
    deps = {f"t{i}": sorted(draw(st.sets(st.sampled_from([f"t{j}" for j in range(i)]),
                                         max_size=i)) if i else []) for i in range(n)}
    return n, deps


@settings(max_examples=60, deadline=None)
@given(graph=dags(), order_seed=st.randoms(use_true_random=False))
def test_every_scheduler_computes_what_plain_recursion_computes(
    graph: tuple[int, dict[str, list[str]]], order_seed: Any
) -> None:
    """Each tool returns its number plus the sum of its inputs; compare with recursion."""
    n, deps = graph
    names = [f"t{i}" for i in range(n)]
    order_seed.shuffle(names)

    def make(i: int) -> Any:
        async def tool(inputs: Mapping[str, int]) -> int:
            assert set(inputs) == set(deps[f"t{i}"])
            await asyncio.sleep(0)
            return i + sum(inputs.values())
        return tool

    expected: dict[str, int] = {}

    def value(name: str) -> int:
        if name not in expected:
            expected[name] = int(name[1:]) + sum(value(d) for d in deps[name])
        return expected[name]

    tools = {name: make(int(name[1:])) for name in names}
    for scheduler in ALL_SCHEDULERS:
        results = run(lambda scheduler=scheduler: scheduler(tools, deps))
        assert list(results) == names
        assert {name: r.value for name, r in results.items()} == {m: value(m) for m in names}
        for name, result in results.items():
            for dependency in deps[name]:
                assert result.started >= results[dependency].finished
