"""course_lib.tools.support_tools, kb_search, readonly_db and latency: the real tools.

Expected rows come from SQL run here directly on the shipped database, never through the tools;
expected search hits come from the knowledge base's own labels (an entry's paraphrase must find
that entry). Latency is injected: tools wait on events, not on the clock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from course_lib.datasets import load_knowledge_base
from course_lib.tools import (
    LESSON_LATENCIES_MS,
    SimulatedLatency,
    SupportTools,
    connect_read_only,
    fetch_all,
    no_latency,
    run_tools,
    support_db_path,
    tool_call,
)
from tests.test_tools_runner import run

pytestmark = pytest.mark.timing

DB = support_db_path()


def direct(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(DB) as connection:
        rows = connection.execute(sql, params).fetchall()
    connection.close()
    return rows


@pytest.fixture(scope="module")
def tools() -> SupportTools:
    """No simulated network: these tests are about what the tools return."""
    return SupportTools(latency={name: no_latency for name in LESSON_LATENCIES_MS})


# --------------------------------------------------------------------------- SQLite tools


@pytest.mark.parametrize("ticket_id", [10001, 10427, 10500, 11000])
def test_ticket_status_returns_the_row_in_the_database(tools: SupportTools, ticket_id: int) -> None:
    [expected] = direct("SELECT id, user_id, subject, status, priority, assignee, kb_article, "
                        "created_at, updated_at FROM tickets WHERE id = ?", (ticket_id,))
    ticket = run(lambda: tools.ticket_status(ticket_id))
    assert (ticket.id, ticket.user_id, ticket.subject, ticket.status, ticket.priority,
            ticket.assignee, ticket.kb_article, ticket.created_at, ticket.updated_at) == expected
    assert ticket.simulated_latency_s == 0.0


def test_user_profile_returns_the_row_and_counts_open_tickets(tools: SupportTools) -> None:
    # The user with the most tickets, so the count is not trivially 0.
    [(user_id, _)] = direct("SELECT user_id, COUNT(*) AS n FROM tickets GROUP BY user_id "
                            "ORDER BY n DESC, user_id LIMIT 1")
    [row] = direct("SELECT id, name, email, workspace, plan, role, locale FROM users "
                   "WHERE id = ?", (user_id,))
    statuses = [status for (status,) in direct("SELECT status FROM tickets WHERE user_id = ?",
                                                (user_id,))]
    expected_open = sum(status in ("open", "pending", "on_hold") for status in statuses)
    assert expected_open > 0
    profile = run(lambda: tools.user_profile(user_id))
    assert (profile.id, profile.name, profile.email, profile.workspace, profile.plan,
            profile.role, profile.locale) == row
    assert profile.open_tickets == expected_open


def test_unknown_ids_are_lookup_errors_naming_the_id(tools: SupportTools) -> None:
    with pytest.raises(LookupError, match="no ticket #99"):
        run(lambda: tools.ticket_status(99))
    with pytest.raises(LookupError, match="no user with id 5000"):
        run(lambda: tools.user_profile(5000))


@pytest.mark.parametrize("bad, error", [("10427", TypeError), (True, TypeError),
                                        (0, ValueError), (-3, ValueError)])
def test_bad_ids_are_rejected_before_any_query(tools: SupportTools, bad: Any, error: type) -> None:
    with pytest.raises(error, match="ticket_id"):
        run(lambda: tools.ticket_status(bad))
    with pytest.raises(error, match="user_id"):
        run(lambda: tools.user_profile(bad))


def test_the_database_is_opened_read_only() -> None:
    connection = connect_read_only(DB)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            connection.execute("DELETE FROM tickets")
    finally:
        connection.close()
    with pytest.raises(FileNotFoundError, match="no SQLite database"):
        connect_read_only(Path(DB).with_name("missing.sqlite"))


@pytest.mark.timeout(30)
def test_cancelling_a_query_stops_it_in_sqlite_instead_of_leaving_the_thread_running() -> None:
    """A query that would run for minutes; a 50 ms timeout frees its thread at once."""
    endless = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
               "WHERE i < 10000000000) SELECT COUNT(*) FROM n")

    async def body() -> float:
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await fetch_all(DB, endless)
        # fetch_all re-raised only after its thread gave up: measure how long that took.
        return time.perf_counter() - started

    assert run(body) < 2.0


# --------------------------------------------------------------------------- knowledge base


def test_each_kb_entry_is_found_by_its_own_paraphrases(tools: SupportTools) -> None:
    kb = load_knowledge_base()
    sample = [kb.by_id(entry_id) for entry_id in ("kb-001", "kb-020", "kb-041", "kb-061")]
    for entry in sample:
        for paraphrase in entry.paraphrases:
            found = run(lambda paraphrase=paraphrase: tools.search_kb(paraphrase, k=3))
            assert found.hits[0].id == entry.id, paraphrase
            assert found.hits[0].score == pytest.approx(1.0, abs=1e-4)  # indexed verbatim


def test_search_returns_k_hits_best_first_and_the_searched_query(tools: SupportTools) -> None:
    result = run(lambda: tools.search_kb("Slack 通知收不到了", k=5))
    assert len(result.hits) == 5
    scores = [hit.score for hit in result.hits]
    assert scores == sorted(scores, reverse=True)
    assert len({hit.id for hit in result.hits}) == 5
    assert result.hits[0].id == "kb-041"  # "Slack notifications stopped arriving."
    assert result.query == "Slack 通知收不到了" and result.plan is None


def test_a_plan_is_put_into_the_searched_query(tools: SupportTools) -> None:
    result = run(lambda: tools.search_kb("How many integrations can I use?", plan="Free"))
    assert result.query == "How many integrations can I use? (Free plan)"
    assert result.plan == "Free"
    assert result.hits[0].id == "kb-046"


@pytest.mark.parametrize("query, k, message", [("", 3, "non-empty"), ("  ", 3, "non-empty"),
                                                ("slack", 0, "k must"), ("slack", 2.0, "k must")])
def test_bad_search_arguments_are_errors(tools: SupportTools, query: str, k: Any,
                                         message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run(lambda: tools.search_kb(query, k=k))


# --------------------------------------------------------------------------- simulated latency


def test_injected_latency_holds_the_tool_and_is_reported_as_simulated() -> None:
    async def body() -> tuple[bool, Any]:
        gate = asyncio.Event()

        async def network() -> float:
            await gate.wait()
            return 0.3

        support = SupportTools(latency={"ticket_status": network})
        lookup = asyncio.create_task(support.ticket_status(10427))
        for _ in range(20):
            await asyncio.sleep(0)
        held = not lookup.done()
        gate.set()
        return held, await lookup

    held, ticket = run(body)
    assert held, "the ticket lookup must wait for its (simulated) network"
    assert ticket.simulated_latency_s == 0.3


def test_default_latencies_are_the_lessons_scaled() -> None:
    support = SupportTools(time_scale=0.5)
    assert support.latency["search_kb"] == SimulatedLatency(200, 0.5)
    assert support.latency["ticket_status"] == SimulatedLatency(300, 0.5)
    assert support.latency["user_profile"] == SimulatedLatency(150, 0.5)
    assert SimulatedLatency(300, 0.5).seconds == pytest.approx(0.15)
    assert str(SimulatedLatency(300, 0.5)) == "simulated network latency 300 ms x time scale 0.5"


def test_latency_for_an_unknown_tool_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"unknown tool\(s\) \['search'\]"):
        SupportTools(latency={"search": no_latency})


@pytest.mark.parametrize("ms, scale", [(-1, 1), (1, -0.5), (float("nan"), 1), (True, 1)])
def test_simulated_latency_rejects_nonsense(ms: Any, scale: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        SimulatedLatency(ms, scale)


def test_the_three_real_tools_run_concurrently_under_run_tools() -> None:
    """The lesson's turn on real data: all three tools are in flight at once (each started
    before any finished), so the turn waits for the slowest, not the sum. Shown by the tools' own
    start and finish times, which a loaded machine cannot make overlap by accident."""
    support = SupportTools(time_scale=1.0)
    calls = [tool_call("search_kb", support.search_kb, "My Slack notifications stopped"),
             tool_call("ticket_status", support.ticket_status, 10427),
             tool_call("user_profile", support.user_profile, 37)]

    async def body() -> tuple[float, list[Any]]:
        started = time.perf_counter()
        results = await run_tools(calls)
        assert all(r.ok for r in results), [r.reason for r in results]
        return time.perf_counter() - started, results

    concurrent, results = run(body)
    assert max(r.started for r in results) < min(r.finished for r in results)
    slowest_s = max(LESSON_LATENCIES_MS.values()) / 1000
    assert concurrent >= slowest_s  # a sleep never ends early
