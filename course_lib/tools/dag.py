"""Dependency-aware tool scheduling: run a DAG of tools, each as soon as its inputs are ready.

Tools in a real agent turn are rarely all independent. To search the knowledge base *for this
user's plan*, the agent needs the user's profile first; the ticket lookup needs nothing. The
lesson's ``RunToolsConcurrently`` starts everything at once and ignores such dependencies, so the
search runs without the plan it needs (notebook 08 shows the missing input). Running the graph
level by level (all tools with no inputs, then all tools whose inputs are done, ...) is correct
but waits for the slowest tool of each level. :func:`run_dag` does better:

- it checks the graph first: unknown names are errors, and a cycle is reported by naming the
  tools on it (with :func:`course_lib.algorithms.topological_sort` and
  :func:`~course_lib.algorithms.find_cycle`), before any tool runs;
- each tool starts **the moment its last input is ready**, not when its level is;
- each tool is called with its inputs: a read-only mapping from dependency name to that
  dependency's value (asking for an input it did not declare is a clear ``KeyError``);
- a tool whose input failed, timed out or was skipped is itself **skipped**, with a reason
  naming that input, and its own dependents are skipped in turn; everything else still runs;
- per-tool and total timeouts, error isolation and cancellation work as in
  :func:`~course_lib.tools.runner.run_tools`.

The standard library's ``graphlib.TopologicalSorter`` is the production building block: its
``get_ready()`` / ``done()`` loop hands out tools as their inputs finish (see
:func:`course_lib.tools.dag_baselines.run_dag_graphlib`, which gives the same schedule).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from course_lib.algorithms import find_cycle, topological_sort

from .result import DependencyFailedError, ToolResult
from .runner import Clock, Deadlines, run_guarded

__all__ = [
    "DependencyCycleError",
    "Tool",
    "ToolGraph",
    "ToolInputs",
    "check_dependencies",
    "check_graph",
    "run_dag",
]

Tool = Callable[[Mapping[str, Any]], Awaitable[Any]]


class DependencyCycleError(ValueError):
    """The tools' dependencies form a cycle, so no order can run them; ``cycle`` names it."""

    def __init__(self, cycle: Sequence[str]) -> None:
        # ``cycle`` is a closed walk in "needs" order: cycle[0] needs cycle[1], ... and the
        # last needs the first again, e.g. ["a", "c", "b", "a"].
        self.cycle = list(cycle)
        chain = ", which needs ".join(repr(name) for name in self.cycle[1:])
        super().__init__("the tool dependencies form a cycle, so no order can run them: "
                         f"{self.cycle[0]!r} needs {chain}")


@dataclass(frozen=True)
class ToolGraph:
    """A checked dependency graph: the tools in a valid order and each tool's inputs."""

    order: tuple[str, ...]
    deps: Mapping[str, tuple[str, ...]]

    def edges(self) -> Iterator[tuple[str, str]]:
        """``(input, tool)`` pairs: ``tool`` needs ``input``."""
        for name in self.order:
            for dependency in self.deps[name]:
                yield dependency, name


def check_graph(tools: Mapping[str, Tool], deps: Mapping[str, Sequence[str]]) -> ToolGraph:
    """Validate the tools and their dependencies; raise a clear error for the first problem.

    ``deps`` maps a tool to the tools whose results it needs; a tool with no inputs may be left
    out. Raises ``TypeError``/``ValueError`` naming a bad entry and :class:`DependencyCycleError`
    naming the tools on a cycle.
    """
    if not isinstance(tools, Mapping):
        raise TypeError(f"tools must be a dict of name -> async tool, got {type(tools).__name__}")
    for name in tools:
        if isinstance(name, str) and name and not callable(tools[name]):
            raise TypeError(f"tool {name!r} is {tools[name]!r}, which is not callable")
    return check_dependencies(list(tools), deps)


def check_dependencies(names: Sequence[str], deps: Mapping[str, Sequence[str]]) -> ToolGraph:
    """The dependency graph over ``names``, checked: unknown names, repeats and cycles are errors.

    The part of :func:`check_graph` that needs only the tools' names, shared with
    :func:`course_lib.tools.critical_path.critical_path`, which has durations instead of tools.
    """
    if not isinstance(deps, Mapping):
        raise TypeError(f"deps must be a dict of name -> list of names, got {type(deps).__name__}")
    names = list(names)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ValueError(f"tool names must be non-empty strings, got {name!r}")
    known = set(names)
    graph_deps: dict[str, tuple[str, ...]] = {name: () for name in names}
    for name, needed in deps.items():
        if name not in known:
            raise ValueError(f"deps lists inputs for {name!r}, which is not one of the tools "
                             f"{names}")
        if isinstance(needed, str) or not isinstance(needed, Sequence):
            raise TypeError(f"deps[{name!r}] must be a list of tool names, got {needed!r}")
        for dependency in needed:
            if dependency not in known:
                raise ValueError(f"{name!r} depends on {dependency!r}, which is not one of the "
                                 f"tools {names}")
        duplicated = sorted({d for d in needed if list(needed).count(d) > 1})
        if duplicated:
            raise ValueError(f"deps[{name!r}] lists {duplicated} more than once")
        graph_deps[name] = tuple(needed)
    index = {name: position for position, name in enumerate(names)}
    edges = [(index[d], index[name]) for name in names for d in graph_deps[name]]
    order = topological_sort(len(names), edges)
    if order is None:
        cycle = find_cycle(len(names), edges)
        if cycle is None:  # pragma: no cover - topological_sort and find_cycle disagree
            raise AssertionError("topological_sort found a cycle that find_cycle did not")
        # find_cycle walks input -> tool edges; reversed, it reads "tool needs input".
        raise DependencyCycleError([names[node] for node in reversed(cycle)])
    return ToolGraph(order=tuple(names[node] for node in order), deps=graph_deps)


class ToolInputs(Mapping[str, Any]):
    """The values of a tool's declared inputs; reading any other name is an error that says so."""

    def __init__(self, tool: str, values: Mapping[str, Any]) -> None:
        self._tool = tool
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            declared = list(self._values) or "none"
            raise KeyError(f"{self._tool!r} has no input {name!r}: add it to the tool's deps "
                           f"(declared inputs: {declared})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ToolInputs({self._tool!r}, {self._values!r})"


def skip_or_inputs(
    graph: ToolGraph, name: str, results: Mapping[str, ToolResult]
) -> DependencyFailedError | ToolInputs:
    """The tool's inputs if every one succeeded, else why it must be skipped.

    ``results`` holds every input's result, or at least one failed input's (a scheduler may
    stop waiting at the first failure); the first failure in declaration order is reported.
    """
    for dependency in graph.deps[name]:
        result = results.get(dependency)
        if result is not None and not result.ok:
            return DependencyFailedError(name, dependency, result.status, result.reason)
    return ToolInputs(name, {d: results[d].value for d in graph.deps[name]})


async def run_node(
    tools: Mapping[str, Tool],
    graph: ToolGraph,
    name: str,
    results: Mapping[str, ToolResult],
    deadlines: Deadlines,
    clock: Clock,
    origin: float,
) -> ToolResult:
    """Run one tool whose inputs are all finished (``results`` holds them), or skip it."""
    inputs = skip_or_inputs(graph, name, results)
    if isinstance(inputs, DependencyFailedError):
        return ToolResult(name, "skipped", error=inputs, finished=clock() - origin)
    tool = tools[name]
    return await run_guarded(name, lambda: tool(inputs), deadlines, clock, origin)


async def run_dag(
    tools: Mapping[str, Tool],
    deps: Mapping[str, Sequence[str]] | None = None,
    *,
    timeout_per_tool: float | None = None,
    total_timeout: float | None = None,
    clock: Clock = time.perf_counter,
) -> dict[str, ToolResult]:
    """Run ``tools`` respecting ``deps``; return ``{name: ToolResult}`` in the order of ``tools``.

    ``tools[name]`` is an async function taking one argument, the mapping of its inputs' values
    (empty for a tool without inputs). Each tool starts as soon as its last input finishes.
    """
    graph = check_graph(tools, deps or {})
    deadlines = Deadlines(timeout_per_tool, total_timeout)
    origin = clock()
    tasks: dict[str, asyncio.Task[ToolResult]] = {}
    finished: dict[str, ToolResult] = {}

    async def node(name: str) -> ToolResult:
        # Wait for inputs in the order they finish, so a failed input skips this tool at once.
        for next_done in asyncio.as_completed([tasks[d] for d in graph.deps[name]]):
            result = await next_done
            finished[result.name] = result
            if not result.ok:
                break
        return await run_node(tools, graph, name, finished, deadlines, clock, origin)

    # One task per tool, created in dependency order: each waits for its own inputs only, so
    # the schedule is "as soon as ready" without a central loop. The TaskGroup cancels them all
    # if the caller is cancelled.
    async with asyncio.TaskGroup() as group:
        for name in graph.order:
            tasks[name] = group.create_task(node(name), name=f"tool:{name}")
    return {name: tasks[name].result() for name in tools}
