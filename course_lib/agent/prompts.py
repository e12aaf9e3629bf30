"""What the support agent sends the model: the lesson's verbose starting point, and compressed.

A support turn starts with three messages: the **system prompt** (who the bot is, its rules,
the price table), a note naming the **customer** (their user id and latest ticket, so the model
can ask the account tools about them) and the **user's message**. The model then asks for the
tools it needs (:mod:`course_lib.agent.loop`); their definitions and results are input tokens
too, the same in both styles. The system prompt is written by us, so its length is a choice,
and the lesson's first lever, "Prompt 压缩(去冗余)" (compress the prompt by removing redundancy),
is about that choice.

``"verbose"`` is how prompts grow when nobody measures them: instructions said three times,
"please" and "always" everywhere, the price table written out as prose. ``"compact"`` says the
same things once. Its risk, in the lesson's table, is "可能丢失关键信息" (losing key information),
so compression here is held to a rule that can be checked: every **fact** the verbose prompt
carries (plan names, prices, what each plan includes) appears verbatim in the compact prompt.
:func:`required_facts` lists those facts from the data itself, not from either prompt, and
:func:`missing_facts` finds any the prompt lost.

Stable parts come first (system prompt, then the customer, then the question), so a provider's
prefix cache can reuse the longest possible prefix across users.

Libraries such as LLMLingua compress prompts by dropping low-information tokens with a small
model; that saves more and guarantees less. Rewriting your own templates, as here, is the first
and safest step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from course_lib.datasets import Plan, Product

from .customers import Customer

__all__ = [
    "PROMPT_STYLES",
    "PromptStyle",
    "build_messages",
    "missing_facts",
    "plan_price",
    "required_facts",
    "system_prompt",
]

PromptStyle = Literal["verbose", "compact"]
PROMPT_STYLES: tuple[PromptStyle, ...] = ("verbose", "compact")


def _check_style(style: object) -> PromptStyle:
    if style not in PROMPT_STYLES:
        raise ValueError(f"prompt style must be one of {PROMPT_STYLES}, got {style!r}")
    return style  # type: ignore[return-value]


def plan_price(plan: Plan) -> str:
    """A plan's price as written in both prompts: ``"$8"``, or ``"custom pricing"``."""
    price = plan.price_usd_per_user_month
    if price is None:
        return "custom pricing"
    return f"${price.normalize():f}"  # $8 and $10, not $8.00 or $1E+1


# The rules are the same in both styles; the verbose style says each of them at length (and
# some twice), the compact style once.
_VERBOSE_RULES = """\
How to answer:
- Always be polite, friendly and professional in every answer that you give, and always thank \
the customer for contacting Kitewing support. Make sure that the customer feels that they have \
been helped.
- Please answer the customer's question using only the information that is given to you in the \
help-centre articles below. The help-centre articles are the official source of truth about \
Kitewing and its plans, features and policies.
- Do not use any information that is not contained in the help-centre articles or in the \
customer context. Never make up or invent facts, prices, plan limits, dates or features that \
are not written in the articles, even if you think that you know the answer.
- If the articles do not contain the answer to the customer's question, do not guess. Instead, \
tell the customer honestly that you are not sure, and offer to connect them with a human member \
of the Kitewing support team, who will be happy to help them.
- If the question is about the customer's own account, for example about one of their support \
tickets, a payment, an invoice or a data export, use the customer context below to answer it. \
Only the customer context tells you about their account.
- Always answer in the same language that the customer used to write their question. For \
example, if the customer writes in Chinese, answer in Chinese, and if the customer writes in \
English, answer in English.
- Keep your answers short, clear and to the point, and do not write long introductions. When \
you explain how to do something, please use numbered steps.
- Remember: be polite, be accurate, use only the articles and the customer context, and never \
invent anything."""

_COMPACT_RULES = (
    "Rules: answer only from the articles and customer context below; never invent prices, "
    "limits, dates or features; if the answer is not there, say so and offer a human agent; "
    "account questions (tickets, payments, invoices, exports): use the customer context; reply "
    "in the customer's language; be brief and polite; numbered steps for how-tos."
)


def system_prompt(style: PromptStyle, product: Product) -> str:
    """The system prompt: identity, rules and the price table (facts from ``product``)."""
    style = _check_style(style)
    if style == "compact":
        plans = "\n".join(f"- {plan.name} {plan_price(plan)}: {plan.summary}"
                          for plan in product.plans)
        return (f"{product.name} support assistant. {product.tagline}\n{_COMPACT_RULES}\n"
                f"Plans (USD per user per month):\n{plans}")
    plans = "\n".join(
        f"- The {plan.name} plan costs {plan_price(plan)}"
        + (" per user per month" if plan.price_usd_per_user_month is not None else "")
        + f". What the {plan.name} plan includes: {plan.summary}"
        for plan in product.plans)
    return (
        f"You are the customer-support assistant for {product.name}. {product.name} is a "
        f"software product for teams: {product.tagline} You are talking to {product.name}'s "
        "customers, who use it every day for their projects and their team chat, and it is very "
        "important that every customer gets a helpful, friendly and accurate answer from you.\n\n"
        f"{_VERBOSE_RULES}\n\n"
        f"About {product.name}'s plans and prices:\n"
        f"{product.name} has {len(product.plans)} plans. All prices are in US dollars, per user, "
        f"per month, and they are the only prices you may quote.\n{plans}"
    )


def build_messages(query: str, *, style: PromptStyle, product: Product, customer: Customer
                   ) -> list[dict[str, Any]]:
    """The first messages of one turn, stable parts first (see the module docstring)."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query must be a non-empty string")
    return [
        {"role": "system", "content": system_prompt(style, product)},
        {"role": "system", "content": f"Customer: user {customer.user_id}, latest ticket "
                                      f"#{customer.ticket_id}."},
        {"role": "user", "content": query},
    ]


def required_facts(product: Product) -> list[str]:
    """Every fact the system prompt must carry, read from the data, not from a prompt: each
    plan's name, price and summary."""
    facts: list[str] = []
    for plan in product.plans:
        facts += [plan.name, plan_price(plan), plan.summary]
    return list(dict.fromkeys(facts))


def missing_facts(messages: Sequence[Mapping[str, Any]], facts: Sequence[str]) -> list[str]:
    """The facts that appear nowhere in ``messages`` (empty: nothing was lost)."""
    text = "\n".join(str(message.get("content") or "") for message in messages)
    return [fact for fact in facts if fact not in text]
