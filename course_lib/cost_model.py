"""What one support conversation costs, and what a month of them costs.

The lesson's first question, "你的 Agent 一个月花多少钱?" (what does your agent cost a month?), is
answered by two multiplications:

1. **one conversation**: the tokens of each part of the request (system prompt, retrieved
   documents, user message) times the input price, plus the answer's tokens times the output
   price (:func:`conversation_cost`);
2. **one month**: that cost times the number of conversations, users per day x messages per user
   x 30 days (:func:`monthly_cost`).

As in the lesson, a "conversation" here is one message and its answer: one LLM call. An agent that
calls a tool, routes or retries makes several calls per message, and a multi-turn chat resends its
history, so later turns cost more; price those as separate conversations with their own counts.

Costs are exact ``Decimal`` values from :mod:`course_lib.pricing`, so the lesson's arithmetic can
be checked to the cent ($1,237.50 a month, which the lesson rounds to $1,200). Two effects the
lesson leaves out are modelled too: the few tokens of chat framing every request carries
(``framing``) and the provider's prefix cache, which bills a repeated prompt prefix of at least
1,024 tokens at the cached-input rate (:func:`cacheable_prefix_tokens`).

:func:`estimate` is the live calculator's arithmetic; the widget itself is
:mod:`course_lib.cost_calculator`, so this module stays pure arithmetic. Spreadsheet-style
estimators such as the ``tokencost`` package, or your provider's usage dashboard, answer the same
question; this module keeps each step visible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_EVEN, ROUND_UP, Decimal
from numbers import Integral

from course_lib.pricing import (
    DAYS_PER_MONTH,
    PREFIX_CACHE_INCREMENT,
    PREFIX_CACHE_MIN_TOKENS,
    PRICES,
    cost_usd,
    embedding_cost_usd,
    price_for,
)

__all__ = [
    "DAYS_PER_MONTH",
    "INPUT_PARTS",
    "OUTPUT_PARTS",
    "PART_COLOURS",
    "PART_LABELS",
    "PREFIX_CACHE_INCREMENT",
    "PREFIX_CACHE_MIN_TOKENS",
    "CalculatorSettings",
    "ConversationCost",
    "ConversationTokens",
    "MonthlyEstimate",
    "Traffic",
    "cacheable_prefix_tokens",
    "chat_models",
    "conversation_cost",
    "embedding_index_cost",
    "estimate",
    "format_usd",
    "monthly_cost",
    "system_prompt_saving",
]


INPUT_PARTS: tuple[str, ...] = ("system_prompt", "retrieved_docs", "user_message", "framing")
OUTPUT_PARTS: tuple[str, ...] = ("answer",)
PART_LABELS: dict[str, str] = {
    "system_prompt": "system prompt",
    "retrieved_docs": "retrieved docs (RAG)",
    "user_message": "user message",
    "framing": "chat framing",
    "answer": "answer (output)",
}
# Input parts in blues, the answer in orange: a chart then shows input vs output at a glance.
PART_COLOURS: dict[str, str] = {
    PART_LABELS["system_prompt"]: "#1f4e79",
    PART_LABELS["retrieved_docs"]: "#2f6fb0",
    PART_LABELS["user_message"]: "#6fa0d8",
    PART_LABELS["framing"]: "#a9c6ea",
    PART_LABELS["answer"]: "#dd8452",
}


def _whole_number(name: str, value: object, *, minimum: int = 0) -> int:
    # bool is an Integral too, and True users is a bug, not 1 user.
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        bound = "must not be negative" if minimum == 0 else f"must be at least {minimum}"
        raise ValueError(f"{name} {bound}, got {value}")
    return int(value)


def format_usd(amount: Decimal | float, *, round_up: bool = False) -> str:
    """Dollars as a person writes them: ``$1,237.50``, and ``$0.00825`` for a fraction of a cent.

    Amounts of a dollar or more get cents; smaller ones keep up to six significant digits,
    because rounding $0.00825 to $0.01 hides exactly the figure being discussed.

    ``round_up`` is for a bound: the last digit kept is rounded away from zero, so a budget's
    worst case never looks smaller than it is (the budget guard's messages). Otherwise the
    amount is rounded to the nearest (half to even), as an estimate is.
    """
    value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    sign = "-" if value < 0 else ""
    value = abs(value)
    rounding = ROUND_UP if round_up else ROUND_HALF_EVEN
    if value >= 1 or value == 0:
        return f"{sign}${value.quantize(Decimal('0.01'), rounding=rounding):,.2f}"
    six_significant_digits = 5 - value.adjusted()  # adjusted(): exponent of the leading digit
    rounded = value.quantize(Decimal(1).scaleb(-six_significant_digits),
                             rounding=rounding).normalize()
    places = max(-rounded.as_tuple().exponent, 2)  # $0.10, not $0.1
    return f"{sign}${rounded:.{places}f}"


# --------------------------------------------------------------------------- one conversation


@dataclass(frozen=True)
class ConversationTokens:
    """The tokens of one support conversation (one request and its answer), part by part.

    ``framing`` is what the chat format adds around the texts: 3 tokens per message, each
    message's role, and 3 to prime the reply (``count_chat_tokens`` minus the parts). The
    lesson's estimate leaves it out, so it defaults to 0.
    """

    system_prompt: int
    retrieved_docs: int
    user_message: int
    answer: int
    framing: int = 0

    def __post_init__(self) -> None:
        for part in fields(self):
            _whole_number(part.name, getattr(self, part.name))

    @property
    def input_tokens(self) -> int:
        """Everything sent to the model: what the provider bills as prompt tokens."""
        return sum(self.by_part()[part] for part in INPUT_PARTS)

    @property
    def output_tokens(self) -> int:
        return self.answer

    def by_part(self) -> dict[str, int]:
        """Tokens per part, input parts first (the order of :data:`PART_LABELS`)."""
        return {part: getattr(self, part) for part in (*INPUT_PARTS, *OUTPUT_PARTS)}


@dataclass(frozen=True)
class ConversationCost:
    """The exact price of one conversation on one model.

    ``by_part`` prices each part at the model's full rate; ``prefix_cache_discount`` is what the
    provider's prefix cache takes off the input (0 without caching), so
    ``sum(by_part.values()) - prefix_cache_discount == total_usd``.
    """

    model: str
    tokens: ConversationTokens
    cached_input_tokens: int
    by_part: Mapping[str, Decimal]
    prefix_cache_discount: Decimal

    @property
    def input_usd(self) -> Decimal:
        return sum((self.by_part[p] for p in INPUT_PARTS), Decimal(0)) - self.prefix_cache_discount

    @property
    def output_usd(self) -> Decimal:
        return sum((self.by_part[p] for p in OUTPUT_PARTS), Decimal(0))

    @property
    def total_usd(self) -> Decimal:
        return self.input_usd + self.output_usd

    @property
    def input_share(self) -> Decimal:
        """Input's share of the cost, 0 to 1 (0 for a conversation that costs nothing)."""
        return self.input_usd / self.total_usd if self.total_usd else Decimal(0)


def chat_models() -> list[str]:
    """Every chat model with a price: the choices a cost estimate accepts."""
    return sorted(name for name, price in PRICES.items() if price.kind == "chat")


def conversation_cost(
    tokens: ConversationTokens, model: str, *, cached_input_tokens: int = 0
) -> ConversationCost:
    """Price one conversation on ``model``.

    ``cached_input_tokens`` is the part of the input served from the provider's prefix cache
    (see :func:`cacheable_prefix_tokens`); it is billed at the cached-input rate. An unknown model
    raises :class:`~course_lib.tokens.UnknownModelError`, never a silent $0.
    """
    if not isinstance(tokens, ConversationTokens):
        raise TypeError(f"tokens must be a ConversationTokens, got {type(tokens).__name__}")
    if price_for(model).kind != "chat":
        raise ValueError(f"{model} is an embedding model; a conversation needs a chat model")
    cached = _whole_number("cached_input_tokens", cached_input_tokens)
    counts = tokens.by_part()
    by_part = {part: cost_usd(model, counts[part], 0) for part in INPUT_PARTS}
    by_part |= {part: cost_usd(model, 0, counts[part]) for part in OUTPUT_PARTS}
    full_input = cost_usd(model, tokens.input_tokens, 0)
    billed_input = cost_usd(model, tokens.input_tokens, 0, cached_input_tokens=cached)
    return ConversationCost(model, tokens, cached, by_part, full_input - billed_input)


def cacheable_prefix_tokens(shared_prefix_tokens: int) -> int:
    """How many tokens of a prompt prefix, identical across requests, the provider bills as cached.

    Nothing below 1,024 tokens; above that, the prefix rounded down to a multiple of 128. This
    assumes the cache is warm (a busy support bot sends the same system prompt every few
    seconds; the provider keeps a prefix for minutes). In a RAG prompt only the system prompt
    is shared: the retrieved documents and the question change with every conversation.
    """
    tokens = _whole_number("shared_prefix_tokens", shared_prefix_tokens)
    if tokens < PREFIX_CACHE_MIN_TOKENS:
        return 0
    return tokens // PREFIX_CACHE_INCREMENT * PREFIX_CACHE_INCREMENT


# --------------------------------------------------------------------------- one month


@dataclass(frozen=True)
class Traffic:
    """How many conversations a month: users per day x messages per user x days."""

    users_per_day: int
    messages_per_user: int
    days: int = DAYS_PER_MONTH

    def __post_init__(self) -> None:
        _whole_number("users_per_day", self.users_per_day)
        _whole_number("messages_per_user", self.messages_per_user)
        _whole_number("days", self.days, minimum=1)

    @property
    def conversations_per_day(self) -> int:
        return self.users_per_day * self.messages_per_user

    @property
    def conversations(self) -> int:
        """Conversations (LLM calls, one per message) in the whole period."""
        return self.conversations_per_day * self.days


@dataclass(frozen=True)
class MonthlyEstimate:
    """One conversation's cost scaled to a month of traffic."""

    per_conversation: ConversationCost
    traffic: Traffic

    @property
    def model(self) -> str:
        return self.per_conversation.model

    @property
    def conversations(self) -> int:
        return self.traffic.conversations

    @property
    def total_usd(self) -> Decimal:
        return self.per_conversation.total_usd * self.conversations

    @property
    def input_usd(self) -> Decimal:
        return self.per_conversation.input_usd * self.conversations

    @property
    def output_usd(self) -> Decimal:
        return self.per_conversation.output_usd * self.conversations

    def by_part(self) -> dict[str, Decimal]:
        """A month's cost per part at the full rate (any cache discount is not spread out)."""
        return {part: cost * self.conversations
                for part, cost in self.per_conversation.by_part.items()}


def monthly_cost(
    tokens: ConversationTokens, model: str, traffic: Traffic, *, cached_input_tokens: int = 0
) -> MonthlyEstimate:
    """What ``traffic`` conversations like ``tokens`` cost on ``model``."""
    if not isinstance(traffic, Traffic):
        raise TypeError(f"traffic must be a Traffic, got {type(traffic).__name__}")
    return MonthlyEstimate(
        conversation_cost(tokens, model, cached_input_tokens=cached_input_tokens), traffic
    )


def system_prompt_saving(
    tokens: ConversationTokens,
    shorter_system_prompt: int,
    model: str,
    traffic: Traffic,
    *,
    prefix_cache: bool = False,
) -> Decimal:
    """Dollars a month saved by cutting the system prompt to ``shorter_system_prompt`` tokens.

    Without a prefix cache every token cut saves the full input price. With ``prefix_cache=True``
    the system prompt, the one prefix every conversation shares, is billed at the cached rate once
    it reaches 1,024 tokens, so a cut saves less, and a cut below 1,024 tokens can make the bill
    *grow*: the result is then negative.
    """
    shorter = _whole_number("shorter_system_prompt", shorter_system_prompt)
    if not isinstance(tokens, ConversationTokens):
        raise TypeError(f"tokens must be a ConversationTokens, got {type(tokens).__name__}")
    if shorter > tokens.system_prompt:
        raise ValueError(
            f"shorter_system_prompt ({shorter}) is longer than the current system prompt "
            f"({tokens.system_prompt})"
        )
    after = replace(tokens, system_prompt=shorter)

    def cached(conversation: ConversationTokens) -> int:
        return cacheable_prefix_tokens(conversation.system_prompt) if prefix_cache else 0

    before_cost = monthly_cost(tokens, model, traffic, cached_input_tokens=cached(tokens))
    after_cost = monthly_cost(after, model, traffic, cached_input_tokens=cached(after))
    return before_cost.total_usd - after_cost.total_usd


def embedding_index_cost(
    documents: int, tokens_per_document: int, model: str = "text-embedding-3-small"
) -> Decimal:
    """One-off cost of embedding a document collection (again only when documents change)."""
    count = _whole_number("documents", documents)
    per_document = _whole_number("tokens_per_document", tokens_per_document)
    return embedding_cost_usd(model, count * per_document)


# --------------------------------------------------------------------------- the calculator


@dataclass(frozen=True)
class CalculatorSettings:
    """Everything the calculator's controls set; the defaults are the lesson's assumptions."""

    users_per_day: int = 1000
    messages_per_user: int = 5
    system_prompt_tokens: int = 500
    retrieved_docs_tokens: int = 1500
    user_message_tokens: int = 100
    answer_tokens: int = 300
    model: str = "gpt-4o"
    days: int = DAYS_PER_MONTH

    def conversation(self) -> ConversationTokens:
        return ConversationTokens(
            system_prompt=self.system_prompt_tokens,
            retrieved_docs=self.retrieved_docs_tokens,
            user_message=self.user_message_tokens,
            answer=self.answer_tokens,
        )

    def traffic(self) -> Traffic:
        return Traffic(self.users_per_day, self.messages_per_user, self.days)


def estimate(settings: CalculatorSettings) -> MonthlyEstimate:
    """The calculator's numbers for ``settings``: a pure function, so it can be tested alone."""
    return monthly_cost(settings.conversation(), settings.model, settings.traffic())
