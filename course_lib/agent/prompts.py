"""What the support agent sends the model: the lesson's verbose starting point, and compressed.

A support turn's prompt has four parts: the **system prompt** (who the bot is, its rules, the
price table), the **retrieved articles** (RAG), the **customer context** (the user's profile and
latest ticket, from the tools) and the **user's message**. The first three are written by us, so
their length is a choice, and the lesson's first lever, "Prompt 压缩(去冗余)" (compress the prompt
by removing redundancy), is about that choice.

``"verbose"`` is how prompts grow when nobody measures them: instructions said three times,
"please" and "always" everywhere, every article with its metadata and the four other ways users
phrase its question, the customer's record written out as prose. ``"compact"`` says the same
things once. Its risk, in the lesson's table, is "可能丢失关键信息" (losing key information), so
compression here is held to a rule that can be checked: every **fact** the verbose prompt carries
(prices, plan limits, the article answers, every field of the customer's record) appears
verbatim in the compact prompt. :func:`required_facts` lists those facts from the data itself,
not from either prompt, and :func:`missing_facts` finds any the prompt lost.

Stable parts come first (system prompt, then articles, then the customer, then the question), so
a provider's prefix cache can reuse the longest possible prefix across users.

Libraries such as LLMLingua compress prompts by dropping low-information tokens with a small
model; that saves more and guarantees less. Rewriting your own templates, as here, is the first
and safest step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from course_lib.datasets import Plan, Product
from course_lib.tools import KBHit, TicketStatus, UserProfile

__all__ = [
    "PROMPT_STYLES",
    "PromptStyle",
    "articles_message",
    "build_messages",
    "customer_message",
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


def articles_message(hits: Sequence[KBHit], style: PromptStyle,
                     unavailable: str | None = None) -> str:
    """The retrieved help-centre articles; ``unavailable`` says why there are none."""
    style = _check_style(style)
    if unavailable is not None:
        return f"Help-centre articles: not available ({unavailable})."
    if not hits:
        return "Help-centre articles: none found."
    if style == "compact":
        return "Articles:\n" + "\n".join(
            f"[{hit.id}] Q: {hit.entry.question} A: {hit.entry.answer_full}" for hit in hits)
    blocks = []
    for rank, hit in enumerate(hits, start=1):
        entry = hit.entry
        blocks.append(
            f"Help-centre article number {rank} of {len(hits)} (id {entry.id}, category "
            f"{entry.category}, type of article: {entry.kind}, last updated on {entry.updated}, "
            f"version {entry.version}, relevance score {hit.score:.2f}):\n"
            f"The question this article answers: {entry.question}\n"
            f"Customers also ask this question as: {' / '.join(entry.paraphrases)}\n"
            f"The answer given in this article: {entry.answer_full}")
    return ("Here are the help-centre articles that were found for the customer's question. "
            "Use them to answer:\n\n" + "\n\n".join(blocks))


def customer_message(profile: UserProfile | None, ticket: TicketStatus | None,
                     style: PromptStyle, unavailable: Mapping[str, str] | None = None) -> str:
    """The customer's record and latest ticket; ``unavailable`` maps a missing part to why."""
    style = _check_style(style)
    missing = dict(unavailable or {})
    parts = []
    if style == "compact":
        if profile is not None:
            parts.append(f"Customer: {profile.name} <{profile.email}>, {profile.role} of "
                         f"{profile.workspace}, plan {profile.plan}, locale {profile.locale}, "
                         f"{profile.open_tickets} open ticket(s).")
        if ticket is not None:
            parts.append(f"Latest ticket #{ticket.id} \"{ticket.subject}\": {ticket.status}, "
                         f"{ticket.priority}, {ticket.assignee or 'unassigned'}, article "
                         f"{ticket.kb_article}, created {ticket.created_at}, updated "
                         f"{ticket.updated_at}.")
        parts += [f"{name}: not available ({why})." for name, why in missing.items()]
        return " ".join(parts)
    if profile is not None:
        parts.append(
            f"The customer is {profile.name} ({profile.email}), who is the {profile.role} of the "
            f"workspace \"{profile.workspace}\". Their workspace is on the {profile.plan} plan. "
            f"Their preferred locale is {profile.locale}. They currently have "
            f"{profile.open_tickets} open support ticket(s).")
    if ticket is not None:
        assignee = ticket.assignee or "nobody yet"
        parts.append(
            f"Their most recent support ticket is ticket #{ticket.id}, with the subject "
            f"\"{ticket.subject}\". The status of the ticket is currently \"{ticket.status}\", "
            f"its priority is \"{ticket.priority}\", and it is assigned to {assignee}. The "
            f"ticket is related to help-centre article {ticket.kb_article}. It was created at "
            f"{ticket.created_at} and it was last updated at {ticket.updated_at}.")
    parts += [f"The {name} could not be looked up ({why})." for name, why in missing.items()]
    return "Customer context (looked up for this conversation):\n" + "\n".join(parts)


def build_messages(
    query: str,
    *,
    style: PromptStyle,
    product: Product,
    hits: Sequence[KBHit],
    profile: UserProfile | None,
    ticket: TicketStatus | None,
    unavailable: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The chat messages of one turn, stable parts first (see the module docstring)."""
    if not isinstance(query, str) or not query.strip():
        raise ValueError("query must be a non-empty string")
    missing = dict(unavailable or {})
    customer_missing = {name: why for name, why in missing.items() if name != "search_kb"}
    return [
        {"role": "system", "content": system_prompt(style, product)},
        {"role": "system", "content": articles_message(hits, style, missing.get("search_kb"))},
        {"role": "system", "content": customer_message(profile, ticket, style,
                                                       customer_missing)},
        {"role": "user", "content": query},
    ]


def required_facts(product: Product, hits: Sequence[KBHit], profile: UserProfile | None,
                   ticket: TicketStatus | None) -> list[str]:
    """Every fact a prompt for this turn must carry, read from the data, not from a prompt.

    Plan names, prices and summaries; each retrieved article's question and full answer; every
    field of the customer's profile and ticket.
    """
    facts: list[str] = []
    for plan in product.plans:
        facts += [plan.name, plan_price(plan), plan.summary]
    for hit in hits:
        facts += [hit.id, hit.entry.question, hit.entry.answer_full]
    if profile is not None:
        facts += [profile.name, profile.email, profile.workspace, profile.plan, profile.role,
                  profile.locale, f"{profile.open_tickets} open"]
    if ticket is not None:
        facts += [f"#{ticket.id}", ticket.subject, ticket.status, ticket.priority,
                  ticket.kb_article, ticket.created_at, ticket.updated_at]
        if ticket.assignee:
            facts.append(ticket.assignee)
    return list(dict.fromkeys(facts))


def missing_facts(messages: Sequence[Mapping[str, Any]], facts: Sequence[str]) -> list[str]:
    """The facts that appear nowhere in ``messages`` (empty: nothing was lost)."""
    text = "\n".join(str(message.get("content") or "") for message in messages)
    return [fact for fact in facts if fact not in text]
