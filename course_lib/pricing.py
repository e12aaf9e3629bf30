"""Turn tokens into dollars, exactly.

Prices are quoted in USD per **1 million** tokens, with three rates per chat model: fresh input,
cached input (a prompt prefix the provider has seen recently, billed at a discount) and output.
Following OpenAI's convention, ``cached_input_tokens`` are *part of* ``input_tokens``: a request
with 2,100 input tokens of which 1,024 were cached pays the cached rate on 1,024 and the full
rate on 1,076.

All arithmetic is ``Decimal``: a bill is a sum of many tiny amounts (a gpt-4o-mini call can cost
$0.000045), and binary floats or integer "micro-dollars" lose exactly those amounts. The lesson's
Go tracker shows both failure modes; notebook 03 demonstrates them.

The rates themselves live in the model registry (:mod:`course_lib.models`); ``PRICES`` is its
price table. They are a dated reference (see ``PRICES_AS_OF``), not a live feed: check your
provider's page before you budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from numbers import Integral
from typing import Any, Literal, NamedTuple

from course_lib import models
from course_lib.models import PRICES_AS_OF, ModelEntry, UnknownModelError

__all__ = [
    "BATCH_DISCOUNT",
    "DAYS_PER_MONTH",
    "EXACT_CONTEXT",
    "PREFIX_CACHE_INCREMENT",
    "PREFIX_CACHE_MIN_TOKENS",
    "PRICES",
    "PRICES_AS_OF",
    "CostBreakdown",
    "ModelPrice",
    "TokenCounts",
    "cost_breakdown",
    "cost_usd",
    "embedding_cost_usd",
    "price_for",
    "usage_cost_usd",
    "usage_tokens",
]

TOKENS_PER_PRICE_UNIT = Decimal(1_000_000)
# OpenAI's Batch API: asynchronous, results within 24 h, half the price of the same calls.
BATCH_DISCOUNT = Decimal("0.5")
# OpenAI's prompt caching: a prefix identical to a recent request's is served from cache once it
# is at least 1,024 tokens long, and the cached part grows in steps of 128 tokens.
PREFIX_CACHE_MIN_TOKENS = 1024
PREFIX_CACHE_INCREMENT = 128
# The lesson's convention for "a month", in monthly estimates and projections alike.
DAYS_PER_MONTH = 30
# Pricing must be exact: plenty of digits, and an error rather than a rounded result, whatever
# precision the caller's decimal context has.
EXACT_CONTEXT = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])


@dataclass(frozen=True)
class ModelPrice:
    """One model name's rates in USD per 1M tokens. ``cached_input`` is None where no discount
    exists; ``alias_of`` names the dated snapshot an alias is answered (and billed) as."""

    model: str
    kind: Literal["chat", "embedding"]
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    alias_of: str | None = None


def _model_price(name: str, entry: ModelEntry) -> ModelPrice | None:
    prices = entry.prices_of(name)
    if prices is None:
        return None
    alias_of = entry.resolve(name)
    return ModelPrice(name, entry.kind, prices.input, prices.output, prices.cached_input,
                      None if alias_of == name else alias_of)


PRICES: Mapping[str, ModelPrice] = models.RegistryView(_model_price)


def price_for(model: str) -> ModelPrice:
    """The rates for ``model``; an unknown model is an error, never a silent $0."""
    if not isinstance(model, str):
        raise TypeError(f"model must be a string, got {type(model).__name__}")
    try:
        return PRICES[model]
    except KeyError:
        raise UnknownModelError(model, PRICES, what="price") from None


def _check_count(name: str, value: object) -> int:
    # bool is an Integral too, and True tokens is a bug, not 1 token.
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a whole number of tokens, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return int(value)


def cost_usd(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    *,
    batch: bool = False,
) -> Decimal:
    """The exact price of one call, in USD.

    ``cached_input_tokens`` is the part of ``input_tokens`` the provider served from its prompt
    cache (``usage.prompt_tokens_details.cached_tokens``). ``batch=True`` prices the call
    through the Batch API (half price).
    """
    price = price_for(model)
    input_tokens = _check_count("input_tokens", input_tokens)
    output_tokens = _check_count("output_tokens", output_tokens)
    cached_input_tokens = _check_count("cached_input_tokens", cached_input_tokens)
    if cached_input_tokens > input_tokens:
        raise ValueError(
            f"cached_input_tokens ({cached_input_tokens}) cannot exceed input_tokens "
            f"({input_tokens}): cached tokens are part of the input"
        )
    if price.kind == "embedding" and output_tokens:
        raise ValueError(f"{model} is an embedding model: it has no output tokens")
    if cached_input_tokens and price.cached_input is None:
        raise ValueError(f"{model} has no cached-input price: prompt caching does not apply to it")
    fresh = input_tokens - cached_input_tokens
    with localcontext(EXACT_CONTEXT):
        total = (
            fresh * price.input
            + cached_input_tokens * (price.cached_input or Decimal(0))
            + output_tokens * price.output
        ) / TOKENS_PER_PRICE_UNIT
        return total * BATCH_DISCOUNT if batch else total


@dataclass(frozen=True)
class CostBreakdown:
    """One call's exact cost in USD, split by what was paid for; the parts add up to the total."""

    fresh_input_usd: Decimal
    cached_input_usd: Decimal
    output_usd: Decimal

    @property
    def total_usd(self) -> Decimal:
        with localcontext(EXACT_CONTEXT):
            return self.fresh_input_usd + self.cached_input_usd + self.output_usd


def cost_breakdown(
    model: str,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    *,
    batch: bool = False,
) -> CostBreakdown:
    """The exact price of one call (see :func:`cost_usd`), part by part: fresh input, cached
    input and output."""
    # The whole call first: it refuses an unknown model or bad counts before any part is priced.
    cost_usd(model, input_tokens, output_tokens, cached_input_tokens, batch=batch)
    return CostBreakdown(
        cost_usd(model, input_tokens - cached_input_tokens, 0, batch=batch),
        cost_usd(model, cached_input_tokens, 0, cached_input_tokens, batch=batch),
        cost_usd(model, 0, output_tokens, batch=batch),
    )


def embedding_cost_usd(model: str, tokens: int, *, batch: bool = False) -> Decimal:
    """The exact price of embedding ``tokens`` tokens with an embedding model."""
    if price_for(model).kind != "embedding":
        raise ValueError(f"{model} is not an embedding model")
    return cost_usd(model, tokens, 0, batch=batch)


class TokenCounts(NamedTuple):
    """The tokens one call is billed for; ``cached_input_tokens`` are part of the input."""

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int


def usage_tokens(usage: object) -> TokenCounts:
    """The billed tokens of a usage report: the one place a ``usage`` is read.

    Accepts what the ``openai`` client returns: a chat ``CompletionUsage`` (with
    ``prompt_tokens_details.cached_tokens``), also the one in a stream's last chunk with
    ``stream_options={"include_usage": True}``; an embeddings ``Usage`` (no output tokens); a
    Responses API ``ResponseUsage`` (``input_tokens``/``output_tokens``) — or the same as a
    plain dict, e.g. ``usage.model_dump()`` or a logged JSON line.
    """
    if usage is None:
        raise ValueError(
            "usage is None: the response carried no usage to bill. A streamed chat completion "
            "reports usage only with stream_options={'include_usage': True}, in its last chunk"
        )

    def read(source: object, name: str) -> Any:
        if source is None:
            return None
        if isinstance(source, Mapping):
            return source.get(name)
        return getattr(source, name, None)

    if read(usage, "prompt_tokens") is not None:  # chat completions and embeddings
        input_tokens = read(usage, "prompt_tokens")
        output_tokens = read(usage, "completion_tokens")
        details = read(usage, "prompt_tokens_details")
    elif read(usage, "input_tokens") is not None:  # the Responses API
        input_tokens = read(usage, "input_tokens")
        output_tokens = read(usage, "output_tokens")
        details = read(usage, "input_tokens_details")
    else:
        raise TypeError(
            f"not a usage report: {type(usage).__name__} has neither 'prompt_tokens' nor "
            "'input_tokens'"
        )
    cached = read(details, "cached_tokens")
    return TokenCounts(input_tokens,
                       0 if output_tokens is None else output_tokens,
                       0 if cached is None else cached)


def usage_cost_usd(model: str, usage: object, *, batch: bool = False) -> Decimal:
    """The exact price of one response's ``usage`` (an openai usage object) on ``model``."""
    return cost_usd(model, *usage_tokens(usage), batch=batch)
