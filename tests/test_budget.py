"""The budget guard, through the official client, against a sandbox posing as a real endpoint.

Expected prices are typed in here from OpenAI's price list (gpt-4o-mini: $0.15 input, $0.60
output per 1M tokens), not read from the code under test.
"""

from __future__ import annotations

import asyncio
import warnings
from decimal import Decimal

import openai
import pytest

from course_lib import budget, llm, sandbox, tokens
from course_lib.budget import BudgetExceeded, UnpricedModelWarning
from tests.endpoint_setup import as_real_endpoint  # noqa: F401  (a fixture)

MINI_INPUT, MINI_OUTPUT = Decimal("0.15"), Decimal("0.60")  # USD per 1M tokens
MILLION = Decimal(1_000_000)
MESSAGES = [{"role": "user", "content": "How do I reset my password?"}]


@pytest.fixture(scope="module")
def server():
    with sandbox.start(time_scale=0) as handle:
        yield handle


@pytest.fixture()
def real(as_real_endpoint, server):  # noqa: F811
    as_real_endpoint.setenv("OPENAI_BASE_URL", server.base_url)
    server.clear_requests()
    return as_real_endpoint


def usd(amount: Decimal) -> str:
    """How the guard shows an amount of these tests: 8 decimals, trailing zeros dropped."""
    return f"${amount:.8f}".rstrip("0")


def mini_cost(input_tokens: int, output_tokens: int) -> Decimal:
    return (input_tokens * MINI_INPUT + output_tokens * MINI_OUTPUT) / MILLION


def test_a_request_over_the_budget_is_refused_before_it_is_sent(real, server) -> None:
    prompt = tokens.count_chat_tokens(MESSAGES, "gpt-4o-mini")
    worst = mini_cost(prompt, 20)  # 20: the request's max_tokens
    real.setenv("COURSE_BUDGET_USD", str(worst - Decimal("0.00000001")))
    with llm.get_client(max_retries=0) as client, pytest.raises(BudgetExceeded) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=20)
    assert server.requests == []  # it never reached the server
    assert str(refused.value) == (
        f"Budget guard: this request was not sent. Its worst case is {usd(worst)} "
        f"({prompt} input tokens at $0.15 per 1M + 20 output tokens (max_tokens) at $0.60 per "
        f"1M, on gpt-4o-mini); $0.00 spent so far; together that is more than the budget of "
        f"${worst - Decimal('0.00000001'):.8f} (COURSE_BUDGET_USD). To go on, raise the "
        "budget, e.g. COURSE_BUDGET_USD=0.01 in the environment, or "
        'os.environ["COURSE_BUDGET_USD"] = "0.01" in the notebook, and run the cell again.')


def test_the_same_request_within_the_budget_is_sent_and_billed_by_its_usage(real,
                                                                           server) -> None:
    prompt = tokens.count_chat_tokens(MESSAGES, "gpt-4o-mini")
    real.setenv("COURSE_BUDGET_USD", str(mini_cost(prompt, 20)))  # exactly the worst case
    with llm.get_client(max_retries=0) as client:
        response = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                  max_tokens=20)
    assert len(server.requests) == 1
    guard = budget.current_budget()
    assert guard.spent_usd == mini_cost(response.usage.prompt_tokens,
                                        response.usage.completion_tokens)
    assert guard.reserved_usd == 0


def test_spending_accumulates_until_the_next_worst_case_no_longer_fits(real, server) -> None:
    prompt = tokens.count_chat_tokens(MESSAGES, "gpt-4o-mini")
    # Room for the first worst case plus a little: the second request must be refused
    # once the first one's real cost is spent.
    real.setenv("COURSE_BUDGET_USD", str(mini_cost(prompt, 50) + mini_cost(0, 5)))
    with llm.get_client(max_retries=0) as client:
        first = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                               max_tokens=50)
        assert first.usage.completion_tokens > 5
        with pytest.raises(BudgetExceeded, match=r"spent so far") as refused:
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                           max_tokens=50)
    spent = mini_cost(first.usage.prompt_tokens, first.usage.completion_tokens)
    assert f"{usd(spent)} spent so far" in str(refused.value)
    assert len(server.requests) == 1


def test_without_max_tokens_the_worst_case_uses_the_stated_cap(real, server) -> None:
    prompt = tokens.count_chat_tokens(MESSAGES, "gpt-4o-mini")
    real.setenv("COURSE_BUDGET_USD", str(mini_cost(prompt, 4096) - Decimal("0.00000001")))
    with llm.get_client(max_retries=0) as client, pytest.raises(
            BudgetExceeded, match=r"4,096 output tokens \(no max_tokens: the guard's cap"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    real.setenv("COURSE_BUDGET_USD", str(mini_cost(prompt, 4096)))
    with llm.get_client(max_retries=0) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(server.requests) == 1


def test_a_stream_is_billed_by_its_usage_chunk_or_else_its_worst_case(real) -> None:
    prompt = tokens.count_chat_tokens(MESSAGES, "gpt-4o-mini")
    guard = budget.current_budget()
    with llm.get_client(max_retries=0) as client:
        chunks = list(client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, max_tokens=30, stream=True,
            stream_options={"include_usage": True}))
        usage = chunks[-1].usage
        assert guard.spent_usd == mini_cost(usage.prompt_tokens, usage.completion_tokens)
        for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                max_tokens=30, stream=True):
            pass
    # Nothing says what the second stream cost: it is billed at its worst case.
    assert guard.spent_usd == (mini_cost(usage.prompt_tokens, usage.completion_tokens)
                               + mini_cost(prompt, 30))
    assert guard.reserved_usd == 0


def test_a_failed_request_costs_nothing(real, server) -> None:
    server.faults.script("500", count=1, model="gpt-4o-mini")
    with llm.get_client(max_retries=0) as client, pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=5)
    guard = budget.current_budget()
    assert (guard.spent_usd, guard.reserved_usd) == (0, 0)


def test_the_async_client_is_guarded_too(real, server) -> None:
    real.setenv("COURSE_BUDGET_USD", "0.000001")

    async def ask() -> None:
        async with llm.get_async_client(max_retries=0) as client:
            await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    with pytest.raises(BudgetExceeded, match="was not sent"):
        asyncio.run(ask())
    assert server.requests == []


def test_embeddings_are_priced_by_their_input_tokens(real, server) -> None:
    texts = ["reset my password", "export my invoices"]
    counted = sum(tokens.count_tokens(t, "text-embedding-3-small") for t in texts)
    worst = counted * Decimal("0.02") / MILLION
    real.setenv("COURSE_BUDGET_USD", str(worst - Decimal("0.00000001")))
    with llm.get_client(max_retries=0) as client:
        with pytest.raises(BudgetExceeded, match=f"{counted} input tokens at \\$0.02 per 1M, on "
                           "text-embedding-3-small\\)"):
            client.embeddings.create(model="text-embedding-3-small", input=texts)
        real.setenv("COURSE_BUDGET_USD", str(worst))
        client.embeddings.create(model="text-embedding-3-small", input=texts)
    assert budget.current_budget().spent_usd == worst
    assert len(server.requests) == 1


def test_an_unpriced_model_is_sent_with_one_warning_and_not_counted(real, server) -> None:
    sb_map = "gpt-4o-mini=gpt-4.1-mini"  # in the registry, but without a price
    real.setenv("COURSE_MODELS", sb_map)
    real.setenv("COURSE_BUDGET_USD", "0")
    with sandbox.start(time_scale=0, serve_as="gpt-4.1-mini=gpt-4o-mini") as posing:
        real.setenv("OPENAI_BASE_URL", posing.base_url)
        with llm.get_client(max_retries=0) as client:
            with pytest.warns(UnpricedModelWarning, match="gpt-4.1-mini has no price"):
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # said once, not at every request
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert len(posing.requests) == 2
    guard = budget.current_budget()
    assert (guard.spent_usd, guard.unpriced_requests) == (0, 2)


def test_a_price_in_the_map_is_what_the_guard_charges(real) -> None:
    real.setenv("COURSE_MODELS", "gpt-4o=llama3.1:8b@0.10/0.40")
    with sandbox.start(time_scale=0, serve_as="llama3.1:8b=gpt-4o") as posing:
        real.setenv("OPENAI_BASE_URL", posing.base_url)
        with llm.get_client(max_retries=0) as client:
            response = client.chat.completions.create(model="gpt-4o", messages=MESSAGES,
                                                      max_tokens=40)
    usage = response.usage
    expected = (usage.prompt_tokens * Decimal("0.10")
                + usage.completion_tokens * Decimal("0.40")) / MILLION
    assert budget.current_budget().spent_usd == expected


def test_the_sandbox_path_is_never_billed_or_blocked(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "sandbox")
    monkeypatch.setenv("COURSE_BUDGET_USD", "0")
    guard = budget.reset_budget()
    with llm.get_client(max_retries=0) as client:
        assert client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).choices
    assert (guard.spent_usd, guard.reserved_usd) == (0, 0)


@pytest.mark.parametrize("value", ["a quarter", "-1", "NaN", "inf"])
def test_a_bad_budget_is_a_clear_error(monkeypatch, value) -> None:
    monkeypatch.setenv("COURSE_BUDGET_USD", value)
    with pytest.raises(ValueError, match=f"COURSE_BUDGET_USD must be .*{value!r}"):
        budget.budget_limit()


def test_the_default_budget_is_a_quarter(monkeypatch) -> None:
    monkeypatch.delenv("COURSE_BUDGET_USD", raising=False)
    assert budget.budget_limit() == Decimal("0.25")


def test_a_request_in_flight_holds_its_worst_case(real, server) -> None:
    prompt = tokens.count_chat_tokens(MESSAGES, "gpt-4o-mini")
    worst = mini_cost(prompt, 40)
    real.setenv("COURSE_BUDGET_USD", str(worst * 3 / 2))  # room for one worst case, not two
    with llm.get_client(max_retries=0) as client:
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, max_tokens=40, stream=True,
            stream_options={"include_usage": True})
        assert budget.current_budget().reserved_usd == worst
        with pytest.raises(BudgetExceeded, match=f"\\(\\+ \\{usd(worst)} held by requests in "
                                                 "flight\\)"):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                           max_tokens=40)
        usage = list(stream)[-1].usage
    guard = budget.current_budget()
    assert guard.reserved_usd == 0
    assert guard.spent_usd == mini_cost(usage.prompt_tokens, usage.completion_tokens)
    assert len(server.requests) == 1
