"""Topological sort of a large, sparse dependency graph: ``topological_sort`` vs ``graphlib``.

The graph looks like a build or workflow graph: 100,000 tasks in a shuffled order, each
depending on up to three distinct tasks created shortly before it (within the previous 1,000),
so there are long chains and many tasks ready at once. Both sides get the same ``(n, edges)``
input and return a full order, so both pay for building their graph: ours checks every edge and
runs Kahn's algorithm on a deque; the peer builds a predecessor mapping for
``graphlib.TopologicalSorter`` and lists ``static_order()``. Both orders are checked.
"""

from __future__ import annotations

import random
from graphlib import TopologicalSorter

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity, slowdown_row
from benchmarks.timing import best_of
from course_lib.algorithms import topological_sort

GROUP = "toposort"
DEPENDENCIES = 3
RECENT = 1_000


def workflow_graph(n: int, *, seed: int = 0) -> list[tuple[int, int]]:
    """Edges ``(before, after)`` of a random DAG on ``0..n-1`` with about 3 edges per node."""
    rng = random.Random(seed)
    creation = list(range(n))
    rng.shuffle(creation)  # node numbers say nothing about the order
    edges = []
    for position in range(1, n):
        window = range(max(0, position - RECENT), position)
        for earlier in rng.sample(window, min(DEPENDENCIES, len(window))):
            edges.append((creation[earlier], creation[position]))
    return edges


def graphlib_order(n: int, edges: list[tuple[int, int]]) -> list[int]:
    """The peer: the standard library's sorter, fed the same edges."""
    predecessors: list[list[int]] = [[] for _ in range(n)]
    for before, after in edges:
        predecessors[after].append(before)
    return list(TopologicalSorter(dict(enumerate(predecessors))).static_order())


def _is_order(order: list[int] | None, n: int, edges: list[tuple[int, int]]) -> bool:
    if order is None or sorted(order) != list(range(n)):
        return False
    position = {node: index for index, node in enumerate(order)}
    return all(position[before] < position[after] for before, after in edges)


def run(config: Config) -> list[Measurement]:
    n = config.pick(100_000, 500)
    edges = workflow_graph(n)
    for name, order in (("topological_sort", topological_sort(n, edges)),
                        ("graphlib", graphlib_order(n, edges))):
        if not _is_order(order, n, edges):  # also the warm-up
            raise AssertionError(f"{name} did not return a topological order")

    repeat = 3  # each run is a fraction of a second: three are enough to find the best
    ours = best_of(lambda: topological_sort(n, edges), repeat=repeat, warmup=0)
    peer = best_of(lambda: graphlib_order(n, edges), repeat=repeat, warmup=0)
    return [slowdown_row(
        f"{GROUP}.vs_graphlib", GROUP, f"topological_sort vs graphlib, {n:,} nodes",
        Quantity.timed("topological_sort", ours, unit="s"),
        Quantity.timed("graphlib.TopologicalSorter", peer, unit="s"),
        goal=Goal("<=", 1.5),
        profile=lambda: cprofile_text(lambda: topological_sort(n, edges),
                                      title=f"topological_sort: {n:,} nodes, "
                                            f"{len(edges):,} edges"),
        note=f"{len(edges):,} edges; both sides build their graph from the same edge list")]
