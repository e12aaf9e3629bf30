"""A notebook's request plan: counted and priced before anything is sent."""

from decimal import Decimal

import pytest

from course_lib.request_plan import RequestPlan

HI = [{"role": "user", "content": "hi"}]


def test_a_chat_request_is_priced_at_its_input_and_its_max_tokens():
    # gpt-4o-mini: $0.15 in, $0.60 out per 1M tokens. "hi" as a user message is 8 tokens in
    # OpenAI's counting (3 per message + role + content + 3 to prime the reply).
    plan = RequestPlan().chat("gpt-4o-mini", HI, max_tokens=100, times=10)
    assert plan.requests == 10
    assert plan.worst_usd == 10 * (Decimal(8) * Decimal("0.15") + 100 * Decimal("0.60")) / 10**6


def test_embeddings_have_no_output_and_kinds_add_up():
    plan = (RequestPlan().embeddings("text-embedding-3-small", ["hello world"], times=3)
            .chat("gpt-4o-mini", HI, max_tokens=100))
    # "hello world" is 2 cl100k tokens at $0.02 per 1M.
    assert plan.requests == 4
    assert plan.worst_usd == (3 * 2 * Decimal("0.02") + 8 * Decimal("0.15")
                              + 100 * Decimal("0.60")) / 10**6
    text = str(plan)
    assert text.startswith("4 requests to the endpoint, at most $0.00006132 at list prices")
    assert "   3 embeddings to text-embedding-3-small" in text
    assert "   1 chat to gpt-4o-mini" in text


def test_a_request_without_max_tokens_is_priced_at_the_guards_cap():
    capped = RequestPlan().chat("gpt-4o-mini", HI, max_tokens=4096)
    uncapped = RequestPlan().chat("gpt-4o-mini", HI)
    assert uncapped.worst_usd == capped.worst_usd


def test_an_unpriced_model_is_said_not_invented():
    plan = RequestPlan().chat("llama3.2", HI, max_tokens=10)
    assert plan.worst_usd is None
    assert "has no price" in str(plan)


@pytest.mark.parametrize("times", [-1, 1.5, True, "3"])
def test_times_must_be_a_count(times):
    with pytest.raises(ValueError, match="times must be a whole number"):
        RequestPlan().chat("gpt-4o-mini", HI, times=times)
