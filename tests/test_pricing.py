"""Exact prices: the lesson's worked figures, snapshots, cached input, and refused bad input."""

from __future__ import annotations

from decimal import Decimal

import pytest

from course_lib.pricing import cost_usd, embedding_cost_usd, price_for
from course_lib.tokens import UnknownModelError


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


def test_cached_tokens_are_part_of_input_and_billed_at_cached_rate() -> None:
    # 2,100 input of which 1,024 cached: 1,076 x $2.50/M + 1,024 x $1.25/M.
    assert cost_usd("gpt-4o", 2100, 0, cached_input_tokens=1024) == Decimal("0.00397")
    assert cost_usd("gpt-4o-mini", 1_000_000, 1_000_000, 1_000_000) == Decimal("0.675")


def test_snapshot_2024_05_13_has_its_own_higher_price_and_no_cache() -> None:
    assert cost_usd("gpt-4o-2024-05-13", 1_000_000, 1_000_000) == Decimal("20")
    assert cost_usd("gpt-4o-2024-08-06", 1_000_000, 1_000_000) == Decimal("12.5")
    with pytest.raises(ValueError, match="no cached-input price"):
        cost_usd("gpt-4o-2024-05-13", 2000, 0, cached_input_tokens=1024)


def test_mini_is_about_17_times_cheaper_than_gpt_4o() -> None:
    ratio = cost_usd("gpt-4o", 2100, 300) / cost_usd("gpt-4o-mini", 2100, 300)
    assert Decimal("16.6") < ratio < Decimal("16.7")


def test_batch_api_halves_the_price() -> None:
    assert cost_usd("gpt-4o", 2100, 300, batch=True) == Decimal("0.004125")
    assert embedding_cost_usd("text-embedding-3-large", 1_000_000, batch=True) == Decimal("0.065")


def test_small_calls_are_not_rounded_to_zero() -> None:
    # One token of gpt-4o-mini input: $0.00000015, which integer micro-dollars round to 0.
    assert cost_usd("gpt-4o-mini", 1, 0) == Decimal("0.00000015")


def test_unknown_model_names_the_model() -> None:
    with pytest.raises(UnknownModelError, match="gpt-5-ultra"):
        cost_usd("gpt-5-ultra", 10, 10)


@pytest.mark.parametrize(("args", "error", "match"), [
    ((-1, 0), ValueError, "input_tokens must not be negative"),
    ((10, -5), ValueError, "output_tokens must not be negative"),
    ((10.5, 0), TypeError, "whole number"),
    ((True, 0), TypeError, "whole number"),
    (("100", 0), TypeError, "whole number"),
])
def test_bad_counts_are_refused(args, error, match) -> None:
    with pytest.raises(error, match=match):
        cost_usd("gpt-4o", *args)


def test_cached_more_than_input_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot exceed input_tokens"):
        cost_usd("gpt-4o", 100, 0, cached_input_tokens=101)


def test_embedding_models_have_no_output() -> None:
    with pytest.raises(ValueError, match="no output tokens"):
        cost_usd("text-embedding-3-small", 100, 1)
    with pytest.raises(ValueError, match="not an embedding model"):
        embedding_cost_usd("gpt-4o", 100)


def test_prices_are_decimals() -> None:
    price = price_for("gpt-4o-mini")
    assert price.input == Decimal("0.15") and price.cached_input == Decimal("0.075")
    assert isinstance(cost_usd("gpt-4o", 3, 7), Decimal)


def test_long_context_model_price() -> None:
    # gpt-4.1: $2.00 in, $0.50 cached in, $8.00 out per 1M tokens.
    assert cost_usd("gpt-4.1", 1_000_000, 1_000_000, cached_input_tokens=500_000) == Decimal("9.25")
    assert price_for("gpt-4.1").alias_of == "gpt-4.1-2025-04-14"
