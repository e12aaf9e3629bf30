"""course_lib.agent.prompts and customers: compression keeps every fact, users map to customers.

The facts a prompt must carry are listed from the data (plans, articles, database rows), and the
expected customer of a traffic user is computed here with SQL on the shipped database.
"""

from __future__ import annotations

import sqlite3

import pytest

from course_lib.agent import (
    Customer,
    CustomerDirectory,
    build_messages,
    missing_facts,
    required_facts,
    system_prompt,
)
from course_lib.agent.prompts import plan_price
from course_lib.datasets import load_knowledge_base
from course_lib.tokens import count_chat_tokens, count_tokens
from course_lib.tools import KBHit, TicketStatus, UserProfile, support_db_path

KB = load_knowledge_base()
PRODUCT = KB.product
HITS = tuple(KBHit(entry, 0.9 - 0.1 * rank, entry.question)
             for rank, entry in enumerate(KB.entries[:3]))
PROFILE = UserProfile(id=7, name="Mei Lin", email="mei@example.com", workspace="Orbit Labs",
                      plan="Business", role="Admin", locale="zh-CN", open_tickets=2,
                      simulated_latency_s=0.0)
TICKET = TicketStatus(id=10430, user_id=7, subject="SSO with Okta fails", status="pending",
                      priority="high", assignee="Ravi", kb_article="kb-033",
                      created_at="2026-01-02T10:00:00Z", updated_at="2026-01-04T16:30:00Z",
                      simulated_latency_s=0.0)
QUERY = "Any news on my ticket?"


def messages(style: str, **overrides):
    parts = dict(style=style, product=PRODUCT, hits=HITS, profile=PROFILE, ticket=TICKET)
    parts.update(overrides)
    return build_messages(QUERY, **parts)


def test_both_styles_carry_every_fact_of_the_turn() -> None:
    facts = required_facts(PRODUCT, HITS, PROFILE, TICKET)
    assert "$16" in facts and "Mei Lin" in facts and HITS[0].entry.answer_full in facts
    for style in ("verbose", "compact"):
        assert missing_facts(messages(style), facts) == [], style


def test_the_compact_prompt_is_shorter_in_every_part() -> None:
    verbose, compact = messages("verbose"), messages("compact")
    for long_part, short_part in zip(verbose[:3], compact[:3], strict=True):
        assert count_tokens(short_part["content"]) < count_tokens(long_part["content"])
    assert count_chat_tokens(compact, "gpt-4o") < count_chat_tokens(verbose, "gpt-4o")
    assert verbose[-1] == compact[-1] == {"role": "user", "content": QUERY}


def test_missing_facts_finds_a_fact_the_prompt_lost() -> None:
    facts = required_facts(PRODUCT, HITS, PROFILE, TICKET)
    without_ticket = messages("compact", ticket=None)
    lost = missing_facts(without_ticket, facts)
    assert "#10430" in lost and "Ravi" in lost and "Mei Lin" not in lost


def test_a_tool_that_failed_is_said_to_be_unavailable() -> None:
    built = messages("compact", ticket=None,
                     unavailable={"ticket_status": "timed out after 1 s"})
    assert "ticket_status: not available (timed out after 1 s)" in built[2]["content"]
    no_search = messages("verbose", hits=(), unavailable={"search_kb": "ValueError: boom"})
    assert "not available (ValueError: boom)" in no_search[1]["content"]


def test_prices_are_written_as_people_write_them() -> None:
    by_name = {plan.name: plan_price(plan) for plan in PRODUCT.plans}
    assert by_name == {"Free": "$0", "Team": "$8", "Business": "$16",
                       "Enterprise": "custom pricing"}
    for plan in PRODUCT.plans:
        assert plan.summary in system_prompt("compact", PRODUCT)


def test_bad_input_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="prompt style"):
        system_prompt("terse", PRODUCT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="query"):
        build_messages("  ", style="compact", product=PRODUCT, hits=HITS, profile=None,
                       ticket=None)


# --------------------------------------------------------------------------- customers


def latest_tickets() -> list[tuple[int, int]]:
    with sqlite3.connect(support_db_path()) as connection:
        rows = connection.execute(
            "SELECT user_id, id FROM tickets t WHERE id = "
            "(SELECT MAX(id) FROM tickets WHERE user_id = t.user_id) ORDER BY user_id").fetchall()
    connection.close()
    return rows


def test_traffic_users_map_onto_customers_with_their_latest_ticket() -> None:
    expected = latest_tickets()
    directory = CustomerDirectory()
    assert len(directory) == len(expected)
    assert directory.for_traffic_user("user-00000") == Customer(*expected[0])
    assert directory.for_traffic_user("user-00005") == Customer(*expected[5])
    wrapped = f"user-{len(expected) + 5:05d}"
    assert directory.for_traffic_user(wrapped) == Customer(*expected[5])


def test_a_malformed_traffic_user_is_refused() -> None:
    with pytest.raises(ValueError, match="user-00042"):
        CustomerDirectory().for_traffic_user("alice")
