"""A notebook's request plan: counted and priced before anything is sent."""

from decimal import Decimal

import pytest

from course_lib import budget, llm
from course_lib.request_plan import RequestPlan, requests_sent

HI = [{"role": "user", "content": "hi"}]


def test_a_chat_request_is_priced_at_its_input_and_its_max_tokens():
    # gpt-4o-mini: $0.15 in, $0.60 out per 1M tokens. "hi" as a user message is 8 tokens in
    # OpenAI's counting (3 per message + role + content + 3 to prime the reply).
    plan = RequestPlan(count_sent=lambda: 0).chat("gpt-4o-mini", HI, max_tokens=100, times=10)
    assert plan.requests == 10
    assert plan.worst_usd == 10 * (Decimal(8) * Decimal("0.15") + 100 * Decimal("0.60")) / 10**6


def test_embeddings_have_no_output_and_kinds_add_up():
    plan = (RequestPlan(count_sent=lambda: 0)
            .embeddings("text-embedding-3-small", ["hello world"], times=3)
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
    capped = RequestPlan(count_sent=lambda: 0).chat("gpt-4o-mini", HI, max_tokens=4096)
    uncapped = RequestPlan(count_sent=lambda: 0).chat("gpt-4o-mini", HI)
    assert uncapped.worst_usd == capped.worst_usd


def test_an_unpriced_model_is_said_not_invented():
    plan = RequestPlan(count_sent=lambda: 0).chat("llama3.2", HI, max_tokens=10)
    assert plan.worst_usd is None
    assert "has no price" in str(plan)


@pytest.mark.parametrize("times", [-1, 1.5, True, "3"])
def test_times_must_be_a_count(times):
    with pytest.raises(ValueError, match="times must be a whole number"):
        RequestPlan(count_sent=lambda: 0).chat("gpt-4o-mini", HI, times=times)


def test_sent_counts_only_the_requests_after_the_plan_was_made():
    counter = iter([5, 5, 7])  # 5 requests before the plan, then 2 more
    plan = RequestPlan(count_sent=lambda: next(counter)).chat("gpt-4o-mini", HI, times=2)
    assert plan.sent == 0
    assert plan.sent == 2 == plan.requests


def test_a_mismatch_names_both_counts():
    plan = RequestPlan(count_sent=iter([0, 3, 3]).__next__).chat("gpt-4o-mini", HI)
    assert plan.sent != plan.requests
    assert "counts 1 requests but 3 were sent" in plan.mismatch()


def test_requests_sent_counts_what_the_sandbox_answered(monkeypatch):
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "sandbox")
    before = requests_sent()
    client = llm.get_client(max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=5)
    client.embeddings.create(model="text-embedding-3-small", input=["hi"])
    assert requests_sent() == before + 2


def test_requests_sent_on_a_real_endpoint_is_the_budget_guards_count(monkeypatch):
    monkeypatch.setattr(llm, "using_sandbox", lambda: False)
    guard = budget.reset_budget()
    try:
        guard.tracker.record_call("gpt-4o-mini", 10, 5)
        guard.tracker.record_call("gpt-4o", 10, 5)
        guard.unpriced_requests += 1  # a request to a model without a price is still sent
        assert requests_sent() == 3
    finally:
        budget.reset_budget()


def test_one_request_is_said_in_the_singular():
    plan = RequestPlan(count_sent=lambda: 0).chat("gpt-4o-mini", HI, max_tokens=10)
    assert str(plan).startswith("1 request to the endpoint, at most")


def test_making_a_plan_does_not_start_the_course_sandbox(monkeypatch):
    # A notebook whose requests all go to private sandboxes must not pay for the shared one.
    from course_lib import llm

    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "sandbox")
    monkeypatch.setattr(llm, "_sandbox", None)
    plan = RequestPlan().chat("gpt-4o-mini", HI, max_tokens=10)
    assert plan.sent == 0
    assert llm.started_sandbox() is None
