"""course_lib.agent.prompts and customers: compression keeps every fact, users map to customers.

The facts a prompt must carry are listed from the data (the plans), and the expected customer of
a traffic user is computed here with SQL on the shipped database.
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
from course_lib.sandbox.protocol import ChatRequest
from course_lib.sandbox.tool_calls import decide_tool_calls
from course_lib.tokens import count_tokens
from course_lib.tools import support_db_path

KB = load_knowledge_base()
PRODUCT = KB.product
CUSTOMER = Customer(user_id=7, ticket_id=10430)
QUERY = "Any news on my ticket?"


def test_both_styles_carry_every_fact_of_the_price_table() -> None:
    facts = required_facts(PRODUCT)
    assert "$16" in facts and "Business" in facts and PRODUCT.plans[0].summary in facts
    for style in ("verbose", "compact"):
        assert missing_facts([{"content": system_prompt(style, PRODUCT)}], facts) == [], style


def test_the_compact_system_prompt_is_shorter() -> None:
    verbose, compact = (count_tokens(system_prompt(style, PRODUCT))
                        for style in ("verbose", "compact"))
    assert compact < 0.6 * verbose


def test_missing_facts_finds_a_fact_the_prompt_lost() -> None:
    prompt = system_prompt("compact", PRODUCT).replace("$16", "sixteen dollars")
    assert missing_facts([{"content": prompt}], required_facts(PRODUCT)) == ["$16"]


def test_the_customer_note_lets_the_model_ask_the_account_tools_about_them() -> None:
    """The sandbox's model reads the user id and ticket number from the note, as a model would."""
    messages = build_messages(QUERY, style="compact", product=PRODUCT, customer=CUSTOMER)
    assert [m["role"] for m in messages] == ["system", "system", "user"]
    request = ChatRequest.model_validate({
        "model": "gpt-4o", "messages": messages, "tools": [
            {"type": "function", "function": {"name": "ticket_status", "parameters": {
                "type": "object", "properties": {"ticket_id": {"type": "integer"}}}}}]})
    [call] = decide_tool_calls(request)
    assert (call.name, call.arguments) == ("ticket_status", '{"ticket_id":10430}')


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
        build_messages("  ", style="compact", product=PRODUCT, customer=CUSTOMER)


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
