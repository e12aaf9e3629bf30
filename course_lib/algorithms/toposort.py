"""Topological sort of a dependency graph: which tool call can run after which.

An agent's tool calls form a DAG: "look up the order" must finish before "check its refund
status", while "search the FAQ" depends on nothing. Kahn's algorithm (the lesson's BFS version)
repeatedly takes a node whose dependencies are all done. Three things it must get right:

- the queue: ``collections.deque.popleft`` is ``O(1)``; the literal translation of Go's
  ``queue = queue[1:]`` into Python, ``list.pop(0)``, moves every remaining element and makes the
  sort quadratic (see :func:`course_lib.lesson.algorithms.lesson_topological_sort`);
- a cycle means no order exists: :func:`topological_sort` returns ``None`` and
  :func:`find_cycle` names one cycle for the error message;
- bad input: an edge naming a node outside ``0..n-1`` raises ``ValueError`` naming the edge
  (in Python, ``adj[-1]`` would silently mean the last node).

:func:`topological_levels` groups nodes into waves: everything in a wave can run concurrently once
the previous waves are done. That is the schedule for concurrent tool calls.

In production use the standard library's ``graphlib.TopologicalSorter`` (``static_order()``, or
``get_ready()``/``done()`` to schedule waves as tools finish; it raises ``CycleError`` with the
cycle).
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Iterable, Sequence

from ..arguments import require_int

__all__ = ["find_cycle", "kahn_order", "topological_levels", "topological_sort"]


def _node(edge: object, value: object, n: int) -> int:
    if isinstance(value, bool):
        raise TypeError(f"edge {edge!r}: node {value!r} is a bool, not a node number")
    try:
        node = operator.index(value)  # accepts numpy integers, rejects floats
    except TypeError:
        raise TypeError(
            f"edge {edge!r}: node {value!r} is not an int (got {type(value).__name__})"
        ) from None
    if not 0 <= node < n:
        valid = f"nodes are 0..{n - 1}" if n else "the graph has no nodes"
        raise ValueError(f"edge {edge!r} refers to node {node}, but {valid} (n={n})")
    return node


def _graph(n: int, edges: Iterable[Sequence[int]]) -> tuple[list[list[int]], list[int]]:
    """Successor lists and in-degrees, after checking every edge."""
    require_int("n", n, minimum=0)
    successors: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for edge in edges:
        try:
            first, second = edge
        except (TypeError, ValueError):
            raise ValueError(f"edge {edge!r} is not a pair (before, after)") from None
        before, after = _node(edge, first, n), _node(edge, second, n)
        successors[before].append(after)
        in_degree[after] += 1
    return successors, in_degree


def topological_sort(n: int, edges: Iterable[Sequence[int]]) -> list[int] | None:
    """Nodes ``0..n-1`` in an order where every edge ``(u, v)`` has ``u`` before ``v``.

    An edge ``(u, v)`` means ``v`` depends on ``u``; it may be a tuple or a list ``[u, v]``.

    Returns ``None`` if the graph has a cycle (use :func:`find_cycle` to say which). Kahn's
    algorithm on a deque: ``O(n + len(edges))``. Nodes that become ready at the same time keep
    their order (first by number, then by the order of the edges), which is also the order the
    lesson's Go code produces.

    >>> topological_sort(4, [(0, 1), (0, 2), (1, 3), (2, 3)])
    [0, 1, 2, 3]
    >>> topological_sort(2, [(0, 1), (1, 0)]) is None
    True
    """
    order = kahn_order(n, edges)
    return order if len(order) == n else None


def kahn_order(n: int, edges: Iterable[Sequence[int]]) -> list[int]:
    """The nodes Kahn's algorithm takes, in the order it takes them, however far it gets.

    On a DAG that is all ``n`` nodes, a topological order (what :func:`topological_sort`
    returns). On a graph with a cycle the queue empties early: a node on a cycle, or behind
    one, never reaches in-degree 0, so it never enters the queue. The algorithm cannot loop
    forever (each node enters the queue at most once); it just stops short.

    >>> kahn_order(4, [(0, 1), (1, 2), (2, 1), (2, 3)])  # 1 and 2 form a cycle; 3 is behind it
    [0]
    """
    successors, in_degree = _graph(n, edges)
    ready = deque(node for node in range(n) if in_degree[node] == 0)
    order: list[int] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for after in successors[node]:
            in_degree[after] -= 1
            if in_degree[after] == 0:
                ready.append(after)
    return order


def topological_levels(n: int, edges: Iterable[Sequence[int]]) -> list[list[int]] | None:
    """Nodes grouped by the earliest wave they can run in; ``None`` on a cycle.

    Wave 0 holds the nodes with no dependencies; a node is in wave ``w`` when its latest
    dependency is in wave ``w - 1``. Running the waves one after another, each wave's nodes
    concurrently, finishes in ``len(levels)`` steps: the length of the longest dependency chain.
    Nodes within a wave are sorted.

    >>> topological_levels(4, [(0, 2), (1, 2), (2, 3)])
    [[0, 1], [2], [3]]
    """
    successors, in_degree = _graph(n, edges)
    wave = [node for node in range(n) if in_degree[node] == 0]
    levels: list[list[int]] = []
    placed = 0
    while wave:
        levels.append(wave)
        placed += len(wave)
        next_wave: list[int] = []
        for node in wave:
            for after in successors[node]:
                in_degree[after] -= 1
                if in_degree[after] == 0:
                    next_wave.append(after)
        wave = sorted(next_wave)
    return levels if placed == n else None


def find_cycle(n: int, edges: Iterable[Sequence[int]]) -> list[int] | None:
    """One directed cycle as a closed walk, e.g. ``[2, 5, 7, 2]``; ``None`` if the graph is a DAG.

    Depth-first search with an explicit stack (no recursion limit on long chains): reaching a
    node that is still on the current path closes a cycle. A self-loop ``(3, 3)`` gives
    ``[3, 3]``.

    >>> find_cycle(4, [(0, 1), (1, 2), (2, 3), (3, 1)])
    [1, 2, 3, 1]
    """
    successors, _ = _graph(n, edges)
    unvisited, on_path, finished = 0, 1, 2
    state = [unvisited] * n
    for root in range(n):
        if state[root] != unvisited:
            continue
        path = [root]
        next_edge = [0]  # next_edge[k]: which successor of path[k] to explore next
        state[root] = on_path
        while path:
            node = path[-1]
            k = next_edge[-1]
            if k == len(successors[node]):
                state[node] = finished
                path.pop()
                next_edge.pop()
                continue
            next_edge[-1] = k + 1
            after = successors[node][k]
            if state[after] == on_path:
                return [*path[path.index(after) :], after]
            if state[after] == unvisited:
                state[after] = on_path
                path.append(after)
                next_edge.append(0)
    return None
