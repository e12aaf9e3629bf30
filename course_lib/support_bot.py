"""The RAG support bot whose bill notebook 03 draws: embed, retrieve, answer, record.

Every question goes through the pipeline such a bot runs:

1. **embed** the question (``text-embedding-3-small``) and retrieve the ``top_k`` closest
   help-centre articles (their vectors were embedded once, by :meth:`SupportBot.index`);
2. **answer** with the support system prompt (:func:`support_system_prompt`, the same long
   prefix on every call) + the articles + the question, on the model ``route(event)`` picks;
3. **record** each response's real ``usage`` in the tracker, stamped with the event's
   (simulated) time, by the model the response names.

:attr:`SupportBot.calls` keeps what was asked for, by the names the bot used, so the lesson's
tracker can be fed the same traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import openai

from course_lib.datasets import KnowledgeBase, load_knowledge_base
from course_lib.tracker import CostTrackerBase
from course_lib.traffic import TrafficEvent

__all__ = ["EMBEDDING_MODEL", "SupportBot", "support_system_prompt"]

EMBEDDING_MODEL = "text-embedding-3-small"  # what the course's support bot embeds with
Route = Callable[[TrafficEvent], str]


def support_system_prompt(kb: KnowledgeBase) -> str:
    """Who the bot is, its rules, the plans, the policies and the known issues."""
    plans = "\n".join(f"- {plan.name}: {plan.summary}" for plan in kb.product.plans)
    policies = "\n\n".join(f"{e.question}\n{e.answer_full}"
                           for e in kb.entries if e.kind == "policy")
    known_issues = "\n".join(f"- {e.question} {e.answer_brief}"
                             for e in kb.entries if e.kind == "troubleshooting")
    return f"""You are the customer-support assistant of {kb.product.name}.
{kb.product.tagline}
Answer from the reference articles and the facts below. If they do not cover the question, say so
and offer to open a ticket with a human agent. Never invent prices, limits or dates.

Plans:
{plans}

Policies:
{policies}

Known issues:
{known_issues}"""


@dataclass
class SupportBot:
    """The bot over an indexed knowledge base; :meth:`index` builds one."""

    kb: KnowledgeBase
    article_vectors: np.ndarray
    route: Route
    top_k: int = 3
    system_prompt: str = ""
    calls: list[tuple[str, int, int]] = field(default_factory=list)

    @classmethod
    def index(cls, client: openai.OpenAI, tracker: CostTrackerBase, route: Route, *,
              at: Any = None, top_k: int = 3, kb: KnowledgeBase | None = None) -> SupportBot:
        """Embed every article's question in one request (recorded ``at``), ready to answer."""
        kb = kb or load_knowledge_base()
        response = client.embeddings.create(model=EMBEDDING_MODEL,
                                            input=[e.question for e in kb.entries])
        tracker.record_response(response, at=at)
        vectors = np.array([item.embedding for item in response.data])
        return cls(kb, vectors, route, top_k, support_system_prompt(kb))

    def replay(self, events: Iterable[TrafficEvent], tracker: CostTrackerBase,
               client: openai.OpenAI) -> None:
        """Send each event through the pipeline; record every response at the event's time."""
        for event in events:
            query = client.embeddings.create(model=EMBEDDING_MODEL, input=event.query)
            tracker.record_response(query, at=event.at)
            similarity = self.article_vectors @ np.asarray(query.data[0].embedding)
            articles = "\n\n".join(self.kb.entries[i].answer_full
                                   for i in np.argsort(-similarity)[:self.top_k])
            model = self.route(event)
            response = client.chat.completions.create(model=model, messages=[
                {"role": "system", "content": self.system_prompt},
                {"role": "system", "content": "Reference articles:\n\n" + articles},
                {"role": "user", "content": event.query},
            ])
            tracker.record_response(response, at=event.at)
            self.calls.append((EMBEDDING_MODEL, query.usage.prompt_tokens, 0))
            self.calls.append((model, response.usage.prompt_tokens,
                               response.usage.completion_tokens))
