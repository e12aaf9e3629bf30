"""A knowledge-graph query: breadth-first search over the links between help-centre articles.

The lesson's part 4 ties graph algorithms to two agent jobs: ordering dependent tool calls
(topological sort, :mod:`course_lib.algorithms.toposort`) and "知识图谱查询", querying a
knowledge graph. Here the graph is Kitewing's knowledge base: each article is a node and its
``related`` list ("related articles", as a help centre shows them) holds its edges. The queries
an agent asks of it are breadth-first:

- :meth:`KnowledgeGraph.neighbours`: the articles one link away;
- :meth:`KnowledgeGraph.bfs`: everything within ``max_depth`` links, nearest first. A queue
  (``collections.deque``, as in Kahn's algorithm) visits the articles in rings of equal
  distance, so the first time BFS reaches an article is by a shortest chain of links;
- :meth:`KnowledgeGraph.shortest_path`: that chain between two articles, rebuilt from the
  parent each article was first reached from.

Each costs ``O(articles + links)`` at most. The sandbox uses :meth:`~KnowledgeGraph.bfs` to
lengthen an answer on request (:func:`course_lib.sandbox.answers.related_answers`): after the
article that answers the question come the articles linked to it, then theirs.

**How the links were chosen.** By reading each article's full answer: article A links to B when
A's answer sends the reader to B's subject (a step B explains, a limit or a policy B states), or
when A and B are the same task seen from two sides (turning 2FA on and off, a refund policy and
a refund's status). Every link goes both ways: an article's own picks come first in its list,
most related first, then the links other articles made to it. None was taken from word overlap
or embedding similarity, which the retriever already has: links add what similarity does not
see, such as "downgrading" leading to "refunds", or "removing a member" to "the API returns
401" (the member's API keys are revoked with them). The 76 articles and 109 links form one
connected graph, so a walk from any article reaches every other.

Library equivalent: ``networkx`` (``nx.bfs_layers``, ``nx.single_source_shortest_path_length``
with a ``cutoff``, ``nx.shortest_path``); a graph database (Neo4j's Cypher
``MATCH p = shortestPath(...)``) once the graph outgrows memory.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from course_lib.datasets import KnowledgeBaseEntry, load_knowledge_base

__all__ = ["KnowledgeGraph", "default_graph"]


class KnowledgeGraph:
    """Articles as nodes, ``related`` links as undirected edges; breadth-first queries.

    Neighbours keep the order of each article's ``related`` list, so every query is
    deterministic: within one ring of BFS, articles come in the order they were reached.
    """

    def __init__(self, entries: Iterable[KnowledgeBaseEntry]) -> None:
        self._entries = {entry.id: entry for entry in entries}
        # Each article's own list first, in its order; then any link another article made to it
        # that it does not list itself (the shipped data lists both sides; a custom one may not).
        links = {entry.id: list(entry.related) for entry in self._entries.values()}
        for entry in self._entries.values():
            for target in entry.related:
                if target not in links:
                    raise ValueError(f"{entry.id} links to {target!r}, which is not an article "
                                     "of this graph")
                if entry.id not in links[target]:
                    links[target].append(entry.id)
        self._links: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {entry_id: tuple(targets) for entry_id, targets in links.items()})

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    @property
    def link_count(self) -> int:
        """How many links (undirected edges) the graph has."""
        return sum(len(targets) for targets in self._links.values()) // 2

    def entry(self, entry_id: str) -> KnowledgeBaseEntry:
        """The article with this id."""
        self._require(entry_id)
        return self._entries[entry_id]

    def _require(self, entry_id: str) -> None:
        if entry_id not in self._entries:
            raise KeyError(f"no article {entry_id!r} in the knowledge graph (ids look like "
                           f"'kb-001', and there are {len(self._entries)} articles)")

    def neighbours(self, entry_id: str) -> tuple[str, ...]:
        """The articles one link away, in the order of the article's ``related`` list."""
        self._require(entry_id)
        return self._links[entry_id]

    def bfs(self, start: str, max_depth: int | None = None) -> list[tuple[str, int]]:
        """``(article id, links from start)`` for every article within ``max_depth`` links.

        Nearest first, ``start`` itself first at depth 0; ``max_depth=None`` walks the whole
        connected part of the graph.
        """
        self._require(start)
        if max_depth is not None and (
                isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 0):
            raise ValueError(f"max_depth must be a whole number >= 0 or None, got {max_depth!r}")
        return [(entry_id, depth) for entry_id, depth, _ in self._walk(start, max_depth)]

    def _walk(self, start: str, max_depth: int | None) -> list[tuple[str, int, str | None]]:
        """BFS from ``start``: (id, depth, the article it was first reached from), in order."""
        depth_of = {start: 0}
        reached: list[tuple[str, int, str | None]] = [(start, 0, None)]
        queue = deque([start])
        while queue:
            node = queue.popleft()
            depth = depth_of[node]
            if max_depth is not None and depth == max_depth:
                continue  # its neighbours would be one link too far
            for neighbour in self._links[node]:
                if neighbour not in depth_of:
                    depth_of[neighbour] = depth + 1
                    reached.append((neighbour, depth + 1, node))
                    queue.append(neighbour)
        return reached

    def related(self, entry_id: str, max_depth: int = 1) -> list[KnowledgeBaseEntry]:
        """The articles within ``max_depth`` links of ``entry_id``, nearest first, without it."""
        return [self._entries[found] for found, depth in self.bfs(entry_id, max_depth) if depth]

    def shortest_path(self, start: str, goal: str) -> list[str] | None:
        """The fewest links from ``start`` to ``goal`` as a list of ids (both ends included);
        ``None`` when no chain of links joins them."""
        self._require(goal)
        parent = {node: via for node, _, via in self._walk(start, None)}
        if goal not in parent:
            return None
        path = [goal]
        while (previous := parent[path[-1]]) is not None:
            path.append(previous)
        return path[::-1]

    def components(self) -> list[list[str]]:
        """The connected parts of the graph, each in BFS order from its first article."""
        seen: set[str] = set()
        parts = []
        for entry_id in self._entries:
            if entry_id not in seen:
                part = [node for node, _, _ in self._walk(entry_id, None)]
                seen.update(part)
                parts.append(part)
        return parts


@functools.cache
def default_graph() -> KnowledgeGraph:
    """The graph of the shipped Kitewing knowledge base (built once per process)."""
    return KnowledgeGraph(load_knowledge_base().entries)
