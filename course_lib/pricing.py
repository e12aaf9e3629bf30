"""Turn tokens into dollars, exactly.

Prices are quoted in USD per **1 million** tokens, with three rates per chat model: fresh input,
cached input (a prompt prefix the provider has seen recently, billed at a discount) and output.
Following OpenAI's convention, ``cached_input_tokens`` are *part of* ``input_tokens``: a request
with 2,100 input tokens of which 1,024 were cached pays the cached rate on 1,024 and the full
rate on 1,076.

All arithmetic is ``Decimal``: a bill is a sum of many tiny amounts (a gpt-4o-mini call can cost
$0.000045), and binary floats or integer "micro-dollars" lose exactly those amounts. The lesson's
Go tracker shows both failure modes; notebook 03 demonstrates them.

Prices are a dated reference (see ``PRICES_AS_OF``), not a live feed: check your provider's
page before you budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from numbers import Integral
from typing import Literal

from course_lib.tokens import UnknownModelError

__all__ = [
    "BATCH_DISCOUNT",
    "PRICES",
    "PRICES_AS_OF",
    "ModelPrice",
    "cost_usd",
    "embedding_cost_usd",
    "price_for",
]

PRICES_AS_OF = "2025-06"
TOKENS_PER_PRICE_UNIT = Decimal(1_000_000)
# OpenAI's Batch API: asynchronous, results within 24 h, half the price of the same calls.
BATCH_DISCOUNT = Decimal("0.5")


@dataclass(frozen=True)
class ModelPrice:
    """One model's rates in USD per 1M tokens. ``cached_input`` is None where no discount exists."""

    model: str
    kind: Literal["chat", "embedding"]
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    alias_of: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "embedding" and self.output != 0:
            raise ValueError(f"{self.model}: an embedding model has no output price")


def _chat(model: str, input: str, cached: str | None, output: str, alias_of: str | None = None
          ) -> ModelPrice:
    return ModelPrice(model, "chat", Decimal(input), Decimal(output),
                      None if cached is None else Decimal(cached), alias_of)


def _embedding(model: str, input: str) -> ModelPrice:
    return ModelPrice(model, "embedding", Decimal(input), Decimal(0))


PRICES: dict[str, ModelPrice] = {
    price.model: price
    for price in (
        # "gpt-4o" is an alias that OpenAI moves between dated snapshots; since 2024-10 it has
        # pointed at gpt-4o-2024-08-06, which is why it carries that snapshot's price.
        _chat("gpt-4o", "2.50", "1.25", "10.00", alias_of="gpt-4o-2024-08-06"),
        _chat("gpt-4o-2024-11-20", "2.50", "1.25", "10.00"),
        _chat("gpt-4o-2024-08-06", "2.50", "1.25", "10.00"),
        # The first gpt-4o snapshot kept its launch price and never got prompt caching.
        _chat("gpt-4o-2024-05-13", "5.00", None, "15.00"),
        # A long-context model (about 1M tokens), for fallbacks when a prompt is too long.
        _chat("gpt-4.1", "2.00", "0.50", "8.00", alias_of="gpt-4.1-2025-04-14"),
        _chat("gpt-4.1-2025-04-14", "2.00", "0.50", "8.00"),
        _chat("gpt-4o-mini", "0.15", "0.075", "0.60", alias_of="gpt-4o-mini-2024-07-18"),
        _chat("gpt-4o-mini-2024-07-18", "0.15", "0.075", "0.60"),
        _embedding("text-embedding-3-small", "0.02"),
        _embedding("text-embedding-3-large", "0.13"),
        _embedding("text-embedding-ada-002", "0.10"),
    )
}


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
    total = (
        fresh * price.input
        + cached_input_tokens * (price.cached_input or Decimal(0))
        + output_tokens * price.output
    ) / TOKENS_PER_PRICE_UNIT
    return total * BATCH_DISCOUNT if batch else total


def embedding_cost_usd(model: str, tokens: int, *, batch: bool = False) -> Decimal:
    """The exact price of embedding ``tokens`` tokens with an embedding model."""
    if price_for(model).kind != "embedding":
        raise ValueError(f"{model} is not an embedding model")
    return cost_usd(model, tokens, 0, batch=batch)
