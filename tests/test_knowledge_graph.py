"""course_lib.knowledge_graph: BFS over related-article links, the shipped links, and the
sandbox's lengthened answers that follow them.

BFS is checked against brute force (Floyd–Warshall distances) on random small graphs; the
shipped graph's shape is asserted; the sandbox is asked over real HTTP.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.datasets import KnowledgeBaseEntry, load_knowledge_base
from course_lib.knowledge_graph import KnowledgeGraph, default_graph
from course_lib.sandbox.answers import compose_answer, related_answers

# --------------------------------------------------------------------------- the shipped links


def test_the_shipped_graph_links_every_article_into_one_whole() -> None:
    graph = default_graph()
    assert len(graph) == len(load_knowledge_base()) == 76
    assert graph.link_count == 109
    assert len(graph.components()) == 1
    for entry in load_knowledge_base():
        assert entry.related, f"{entry.id} has no related article"
        assert entry.id not in entry.related
        assert len(set(entry.related)) == len(entry.related)
        assert graph.neighbours(entry.id) == entry.related  # the file's order is the order


def test_links_follow_content_a_learner_can_check() -> None:
    """A few links and chains whose reason is in the articles' own text."""
    graph = default_graph()
    kb = load_knowledge_base()
    # Downgrading says annual plans are refunded within 30 days: the refund policy is next door,
    # and the refund's status one more link away.
    assert "refunded" in kb.by_id("kb-003").answer_full
    assert graph.shortest_path("kb-003", "kb-010") == ["kb-003", "kb-004", "kb-010"]
    # Removing a member revokes their API keys: a 401 from the API is one link away.
    assert "API keys they created are revoked" in kb.by_id("kb-023").answer_full
    assert "kb-032" in graph.neighbours("kb-023")
    # Turning 2FA on and off are the same task from two sides.
    assert "kb-015" in graph.neighbours("kb-014")


# --------------------------------------------------------------------------- BFS


def entries(links: dict[str, list[str]]) -> list[KnowledgeBaseEntry]:
    template = load_knowledge_base().entries[0]
    return [dataclasses.replace(template, id=entry_id, related=tuple(targets))
            for entry_id, targets in links.items()]


SMALL = {"kb-001": ["kb-002", "kb-003"], "kb-002": ["kb-001", "kb-004"],
         "kb-003": ["kb-001"], "kb-004": ["kb-002", "kb-005"], "kb-005": ["kb-004"],
         "kb-006": ["kb-007"], "kb-007": ["kb-006"]}


def test_bfs_visits_in_rings_and_stops_at_the_depth_limit() -> None:
    graph = KnowledgeGraph(entries(SMALL))
    assert graph.bfs("kb-001") == [("kb-001", 0), ("kb-002", 1), ("kb-003", 1), ("kb-004", 2),
                                   ("kb-005", 3)]
    assert graph.bfs("kb-001", max_depth=0) == [("kb-001", 0)]
    assert graph.bfs("kb-001", max_depth=2) == [("kb-001", 0), ("kb-002", 1), ("kb-003", 1),
                                                ("kb-004", 2)]
    assert [e.id for e in graph.related("kb-001", max_depth=1)] == ["kb-002", "kb-003"]
    assert graph.shortest_path("kb-003", "kb-005") == ["kb-003", "kb-001", "kb-002", "kb-004",
                                                       "kb-005"]
    assert graph.shortest_path("kb-001", "kb-001") == ["kb-001"]
    assert graph.shortest_path("kb-001", "kb-006") is None
    assert graph.components() == [["kb-001", "kb-002", "kb-003", "kb-004", "kb-005"],
                                  ["kb-006", "kb-007"]]


def test_a_link_listed_on_one_side_only_still_joins_both() -> None:
    graph = KnowledgeGraph(entries({"kb-001": ["kb-002"], "kb-002": []}))
    assert graph.neighbours("kb-002") == ("kb-001",)
    assert graph.link_count == 1


def test_unknown_articles_and_bad_depths_are_named() -> None:
    graph = KnowledgeGraph(entries(SMALL))
    with pytest.raises(KeyError, match="no article 'kb-999' in the knowledge graph"):
        graph.bfs("kb-999")
    with pytest.raises(KeyError, match="'kb-999'"):
        graph.shortest_path("kb-001", "kb-999")
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="max_depth must be a whole number >= 0 or None"):
            graph.bfs("kb-001", max_depth=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kb-001 links to 'kb-404', which is not an article"):
        KnowledgeGraph(entries({"kb-001": ["kb-404"]}))


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, list[str]]:
    n = draw(st.integers(min_value=1, max_value=9))
    ids = [f"kb-{i:03d}" for i in range(1, n + 1)]
    pairs = list(itertools.combinations(ids, 2))
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs))
                  if pairs else st.just([]))
    links: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in chosen:
        links[a].append(b)
        links[b].append(a)
    return links


def distances(links: dict[str, list[str]]) -> dict[tuple[str, str], float]:
    """All-pairs shortest link counts by Floyd–Warshall: the brute-force oracle."""
    inf = float("inf")
    d = {(a, b): 0 if a == b else (1 if b in links[a] else inf) for a in links for b in links}
    for k, a, b in itertools.product(links, repeat=3):
        d[a, b] = min(d[a, b], d[a, k] + d[k, b])
    return d


@settings(max_examples=120, deadline=None)
@given(links=graphs(), depth=st.one_of(st.none(), st.integers(min_value=0, max_value=4)))
def test_bfs_and_shortest_paths_agree_with_floyd_warshall(links: Any, depth: Any) -> None:
    graph = KnowledgeGraph(entries(links))
    d = distances(links)
    for start in links:
        found = graph.bfs(start, max_depth=depth)
        limit = float("inf") if depth is None else depth
        assert {node: hops for node, hops in found} == {
            node: d[start, node] for node in links if d[start, node] < float("inf")
            and d[start, node] <= limit}
        assert [hops for _, hops in found] == sorted(hops for _, hops in found)  # nearest first
        for goal in links:
            path = graph.shortest_path(start, goal)
            if d[start, goal] == float("inf"):
                assert path is None
                continue
            assert path is not None and path[0] == start and path[-1] == goal
            assert len(path) - 1 == d[start, goal]
            assert all(b in links[a] for a, b in itertools.pairwise(path))


# --------------------------------------------------------------------------- the sandbox


SSO_QUESTION = "How do I set up SAML single sign-on with Okta?"


def test_related_answers_walk_the_graph_from_the_answered_article() -> None:
    kb, graph = load_knowledge_base(), default_graph()
    answer = compose_answer(SSO_QUESTION, "full")
    assert answer.entry_id == "kb-061"
    extra = related_answers(SSO_QUESTION, "full", answer.entry_id)
    walk = [entry_id for entry_id, _ in graph.bfs("kb-061")][1:]
    assert extra == [kb.by_id(entry_id).answer_full for entry_id in walk]
    assert extra[:6] == [kb.by_id(i).answer_full for i in graph.neighbours("kb-061")]
    assert len(extra) == 75  # connected: every other article, once
    assert related_answers(SSO_QUESTION, "brief", "kb-061")[0] == kb.by_id("kb-002").answer_brief
    assert related_answers(SSO_QUESTION, "full", "kb-061") == extra  # deterministic


def test_with_no_matching_article_the_walk_starts_at_the_most_similar_one() -> None:
    query = "quantum chromodynamics lecture notes"
    assert compose_answer(query, "full").entry_id is None
    extra = related_answers(query, "full", None)
    assert len(extra) == 76
    assert len(set(extra)) == 76


def test_a_lengthened_sandbox_answer_continues_with_the_linked_articles(sb) -> None:
    """Over real HTTP: answer_tokens makes the strong model go on with the SSO article's first
    related article (the upgrade to Business, where SSO lives), not a similar-sounding one."""
    kb = load_knowledge_base()
    with openai.OpenAI(base_url=sb.base_url, api_key="test", max_retries=0,
                       _strict_response_validation=True) as client:
        response = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": SSO_QUESTION}],
            extra_body={"sandbox": {"answer_tokens": 400}})
    text = response.choices[0].message.content
    assert response.usage.completion_tokens == 400
    first, second = text.split("\n\n")[:2]
    assert first == kb.by_id("kb-061").answer_full
    assert second == kb.by_id(graph_first_neighbour("kb-061")).answer_full


def graph_first_neighbour(entry_id: str) -> str:
    return default_graph().neighbours(entry_id)[0]
