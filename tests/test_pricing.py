"""Exact prices: the lesson's figures, the arithmetic, usage reports, and refused bad input.

The arithmetic is checked on models registered for this module only, so its expected values are
worked out by hand from rates stated here. The lesson's figures are checked on the real models;
their published prices are stated once, in ``tests/test_models.py``.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, localcontext
from types import SimpleNamespace

import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk
from openai.types.completion_usage import PromptTokensDetails
from openai.types.create_embedding_response import Usage as EmbeddingUsage
from openai.types.responses import ResponseUsage
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from course_lib import models
from course_lib.fallback import FallbackResult
from course_lib.models import ModelEntry, Prices, Snapshot, UnknownModelError
from course_lib.pricing import (
    PRICES,
    cost_breakdown,
    cost_usd,
    embedding_cost_usd,
    price_for,
    usage_cost_usd,
    usage_tokens,
)
from course_lib.streaming import exact_bill
from course_lib.tracker import CostTracker

# USD per 1M tokens. The alias answers as its current snapshot; an older snapshot has its own
# price and no prompt caching.
CHAT = "test-priced"
CURRENT = "test-priced-2026-02-01"
OLDER = "test-priced-2025-01-01"
EMBEDDING = "test-embedder"
TEST_MODELS = (
    ModelEntry(CHAT, "chat", encoding="o200k_base",
               prices=Prices(input=Decimal("4.00"), cached_input=Decimal("1.00"),
                             output=Decimal("16.00")),
               points_at=CURRENT,
               snapshots=(Snapshot(CURRENT),
                          Snapshot(OLDER, Prices(input=Decimal("6.00"), output=Decimal("20.00"))))),
    ModelEntry(EMBEDDING, "embedding", encoding="cl100k_base",
               prices=Prices(input=Decimal("0.05"))),
)
# 2,100 input tokens of which 1,024 cached, 300 output, on CHAT:
# 1,076 x 4.00/1M + 1,024 x 1.00/1M + 300 x 16.00/1M = 0.004304 + 0.001024 + 0.0048.
CACHED_CALL_USD = Decimal("0.010128")


@pytest.fixture(scope="module", autouse=True)
def _register_test_models():
    with contextlib.ExitStack() as stack:
        for entry in TEST_MODELS:
            stack.enter_context(models.registered(entry))
        yield


# -- the lesson's figures, at the published prices -------------------------------------------

def test_lesson_conversation_cost() -> None:
    # The lesson: 2,100 input tokens -> $0.00525, 300 output tokens -> $0.003 on gpt-4o.
    assert cost_usd("gpt-4o", 2100, 0) == Decimal("0.00525")
    assert cost_usd("gpt-4o", 0, 300) == Decimal("0.003")
    assert cost_usd("gpt-4o", 2100, 300) == Decimal("0.00825")


def test_lesson_monthly_cost_is_1237_50_not_1200() -> None:
    conversations = 1000 * 5 * 30
    assert conversations == 150_000
    assert conversations * cost_usd("gpt-4o", 2100, 300) == Decimal("1237.50")


def test_lesson_embedding_cost() -> None:
    assert embedding_cost_usd("text-embedding-3-small", 10_000 * 500) == Decimal("0.10")


def test_mini_is_about_17_times_cheaper_than_gpt_4o() -> None:
    ratio = cost_usd("gpt-4o", 2100, 300) / cost_usd("gpt-4o-mini", 2100, 300)
    assert Decimal("16.6") < ratio < Decimal("16.7")


# -- the arithmetic ---------------------------------------------------------------------------

def test_cached_tokens_are_part_of_input_and_billed_at_cached_rate() -> None:
    assert cost_usd(CHAT, 2100, 300, cached_input_tokens=1024) == CACHED_CALL_USD
    assert cost_usd(CHAT, 1_000_000, 1_000_000, 1_000_000) == Decimal("17")  # 1.00 + 16.00


def test_the_parts_of_a_call_add_up_to_its_cost() -> None:
    parts = cost_breakdown(CHAT, 2100, 300, 1024)
    assert (parts.fresh_input_usd, parts.cached_input_usd, parts.output_usd) == (
        Decimal("0.004304"), Decimal("0.001024"), Decimal("0.0048"))
    assert parts.total_usd == CACHED_CALL_USD


def test_an_older_snapshot_has_its_own_price_and_no_cache() -> None:
    assert cost_usd(OLDER, 1_000_000, 1_000_000) == Decimal("26")  # 6.00 + 20.00
    assert cost_usd(CURRENT, 1_000_000, 1_000_000) == Decimal("20")  # 4.00 + 16.00
    assert PRICES[CHAT].alias_of == CURRENT and PRICES[CURRENT].alias_of is None
    with pytest.raises(ValueError, match="no cached-input price"):
        cost_usd(OLDER, 2000, 0, cached_input_tokens=1024)


def test_batch_api_halves_the_price() -> None:
    assert cost_usd(CHAT, 2100, 300, batch=True) == Decimal("0.0066")  # (0.0084 + 0.0048) / 2
    assert embedding_cost_usd(EMBEDDING, 1_000_000, batch=True) == Decimal("0.025")


def test_small_calls_are_not_rounded_to_zero() -> None:
    # One token: $0.00000005, which integer micro-dollars round to 0.
    assert embedding_cost_usd(EMBEDDING, 1) == Decimal("0.00000005")


def test_costs_are_exact_whatever_the_callers_decimal_precision() -> None:
    with localcontext(prec=2):
        assert cost_usd(CHAT, 1076, 0) == Decimal("0.004304")
        assert cost_breakdown(CHAT, 2100, 300, 1024).total_usd == CACHED_CALL_USD


def test_prices_are_decimals() -> None:
    price = price_for(CHAT)
    assert price.input == Decimal("4.00") and price.cached_input == Decimal("1.00")
    assert isinstance(cost_usd(CHAT, 3, 7), Decimal)


# -- refused input ----------------------------------------------------------------------------

def test_unknown_model_names_the_model() -> None:
    with pytest.raises(UnknownModelError, match="gpt-5-ultra"):
        cost_usd("gpt-5-ultra", 10, 10)


def test_a_model_counted_but_not_priced_is_refused_not_free() -> None:
    with pytest.raises(UnknownModelError, match="no price"):
        cost_usd("gpt-4", 10, 10)


@pytest.mark.parametrize(("args", "error", "match"), [
    ((-1, 0), ValueError, "input_tokens must not be negative"),
    ((10, -5), ValueError, "output_tokens must not be negative"),
    ((10.5, 0), TypeError, "whole number"),
    ((True, 0), TypeError, "whole number"),
    (("100", 0), TypeError, "whole number"),
])
def test_bad_counts_are_refused(args, error, match) -> None:
    with pytest.raises(error, match=match):
        cost_usd(CHAT, *args)


def test_cached_more_than_input_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot exceed input_tokens"):
        cost_usd(CHAT, 100, 0, cached_input_tokens=101)
    with pytest.raises(ValueError, match="cannot exceed input_tokens"):
        cost_breakdown(CHAT, 100, 0, cached_input_tokens=101)


def test_embedding_models_have_no_output() -> None:
    with pytest.raises(ValueError, match="no output tokens"):
        cost_usd(EMBEDDING, 100, 1)
    with pytest.raises(ValueError, match="not an embedding model"):
        embedding_cost_usd(CHAT, 100)


# -- usage reports: read in one place, billed the same everywhere -----------------------------

CACHED_USAGE_FORMS = {
    "chat completion": CompletionUsage(
        prompt_tokens=2100, completion_tokens=300, total_tokens=2400,
        prompt_tokens_details=PromptTokensDetails(cached_tokens=1024)),
    "last chunk of a stream": ChatCompletionChunk(
        id="chatcmpl-1", object="chat.completion.chunk", created=0, model=CHAT, choices=[],
        usage=CompletionUsage(prompt_tokens=2100, completion_tokens=300, total_tokens=2400,
                              prompt_tokens_details=PromptTokensDetails(cached_tokens=1024)),
    ).usage,
    "responses api": ResponseUsage(
        input_tokens=2100, output_tokens=300, total_tokens=2400,
        input_tokens_details=InputTokensDetails(cached_tokens=1024, cache_write_tokens=0),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0)),
    "logged dict": {"prompt_tokens": 2100, "completion_tokens": 300, "total_tokens": 2400,
                    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0}},
}


@pytest.mark.parametrize("form", CACHED_USAGE_FORMS)
def test_every_biller_reads_a_usage_report_the_same_way(form: str) -> None:
    """The tracker, the fallback chain and the streaming endpoint bill one usage identically."""
    usage = CACHED_USAGE_FORMS[form]
    assert usage_tokens(usage) == (2100, 300, 1024)
    assert usage_cost_usd(CHAT, usage) == CACHED_CALL_USD
    assert CostTracker().record_usage(CHAT, usage).cost_usd == CACHED_CALL_USD
    answered = FallbackResult(response=SimpleNamespace(usage=usage), link=CHAT, model=CHAT,
                              link_index=0, attempts=(), latency_s=0.0)
    assert answered.cost_usd() == CACHED_CALL_USD
    bill = exact_bill(CHAT, usage)
    assert (bill.prompt_tokens, bill.completion_tokens, bill.cached_tokens) == (2100, 300, 1024)
    assert bill.cost_usd == CACHED_CALL_USD and not bill.estimated


def test_usage_without_details_and_embeddings_usage() -> None:
    assert usage_tokens(CompletionUsage(prompt_tokens=2100, completion_tokens=300,
                                        total_tokens=2400)) == (2100, 300, 0)
    embedding = EmbeddingUsage(prompt_tokens=5_000_000, total_tokens=5_000_000)
    assert usage_tokens(embedding) == (5_000_000, 0, 0)
    assert usage_cost_usd(EMBEDDING, embedding) == Decimal("0.25")  # 5M x 0.05/1M
    assert usage_cost_usd(CHAT, {"prompt_tokens": 2100, "completion_tokens": 300},
                          batch=True) == Decimal("0.0066")


def test_missing_or_foreign_usage_is_refused() -> None:
    with pytest.raises(ValueError, match="include_usage"):
        usage_cost_usd(CHAT, None)
    with pytest.raises(TypeError, match="not a usage report"):
        usage_tokens({"tokens": 12})
    with pytest.raises(ValueError, match="include_usage"):
        exact_bill(CHAT, None)
