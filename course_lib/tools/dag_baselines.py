"""Two other ways to run a tool DAG, for comparison with :func:`course_lib.tools.dag.run_dag`.

:func:`run_dag_by_levels` is the obvious schedule: group the tools into levels with
:func:`course_lib.algorithms.topological_levels` and run each level concurrently, one level after
another. It is correct, but a tool waits for the *slowest tool of the previous level*, not for
its own inputs: with profile (150 ms) -> knowledge-base search (200 ms) and a ticket lookup
(300 ms) beside them, levels take 300 + 200 = 500 ms where "as soon as ready" takes
max(150 + 200, 300) = 350 ms.

:func:`run_dag_graphlib` is the standard library's way to get the "as soon as ready" schedule:
``graphlib.TopologicalSorter`` hands out the tools whose inputs are done (``get_ready()``) and is
told when each finishes (``done()``); the loop waits for the first running tool to finish. It
gives the same schedule as :func:`~course_lib.tools.dag.run_dag`, with a central loop instead of
one task per tool waiting on its own inputs.

Both take the same arguments and return the same results as :func:`~course_lib.tools.dag.run_dag`.
"""

from __future__ import annotations

import asyncio
import graphlib
import time
from collections.abc import Mapping, Sequence

from course_lib.algorithms import topological_levels

from .dag import Tool, check_graph, run_node
from .result import ToolResult
from .runner import Clock, Deadlines

__all__ = ["run_dag_by_levels", "run_dag_graphlib"]


async def run_dag_by_levels(
    tools: Mapping[str, Tool],
    deps: Mapping[str, Sequence[str]] | None = None,
    *,
    timeout_per_tool: float | None = None,
    total_timeout: float | None = None,
    clock: Clock = time.perf_counter,
) -> dict[str, ToolResult]:
    """Run the DAG level by level: each level concurrently, after the whole previous level."""
    graph = check_graph(tools, deps or {})
    names = list(tools)
    index = {name: position for position, name in enumerate(names)}
    levels = topological_levels(len(names), [(index[a], index[b]) for a, b in graph.edges()])
    if levels is None:  # pragma: no cover - check_graph has already rejected cycles
        raise AssertionError("check_graph accepted a cyclic graph")
    deadlines = Deadlines(timeout_per_tool, total_timeout)
    origin = clock()
    results: dict[str, ToolResult] = {}
    for level in levels:
        async with asyncio.TaskGroup() as group:
            tasks = {names[node]: group.create_task(
                run_node(tools, graph, names[node], results, deadlines, clock, origin))
                for node in level}
        results.update({name: task.result() for name, task in tasks.items()})
    return {name: results[name] for name in tools}


async def run_dag_graphlib(
    tools: Mapping[str, Tool],
    deps: Mapping[str, Sequence[str]] | None = None,
    *,
    timeout_per_tool: float | None = None,
    total_timeout: float | None = None,
    clock: Clock = time.perf_counter,
) -> dict[str, ToolResult]:
    """Run the DAG with ``graphlib.TopologicalSorter``'s ``get_ready()`` / ``done()`` loop."""
    graph = check_graph(tools, deps or {})  # clearer errors than graphlib.CycleError's
    sorter = graphlib.TopologicalSorter({name: graph.deps[name] for name in tools})
    sorter.prepare()
    deadlines = Deadlines(timeout_per_tool, total_timeout)
    origin = clock()
    results: dict[str, ToolResult] = {}
    running: dict[asyncio.Task[ToolResult], str] = {}
    try:
        while sorter.is_active():
            for name in sorter.get_ready():
                task = asyncio.create_task(
                    run_node(tools, graph, name, results, deadlines, clock, origin))
                running[task] = name
            if not running:  # pragma: no cover - an active sorter always has work out
                raise AssertionError("graphlib has active nodes but none ready or running")
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                name = running.pop(task)
                results[name] = task.result()
                sorter.done(name)
    finally:
        # Cancelled by the caller: cancel every running tool and let it unwind before leaving.
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
    return {name: results[name] for name in tools}
