"""Vetoes for semantic-cache matches where the embedding model is known to be blind.

A threshold on cosine similarity cannot separate pairs the model maps to the same place. Two
such blind spots are measurable on the course's labelled pairs (notebook 04):

* **text the model cannot read.** all-MiniLM-L6-v2 is an English model: its vocabulary lacks
  most Chinese characters, which become ``[UNK]``. "怎么升级套餐?" and "怎么降级套餐?" then
  tokenize identically and score 1.0. :class:`UnreadableTextGuard` refuses a match when too
  much of either question is unknown word pieces;
* **one word flips the meaning.** "enable"/"disable", "from Jira into Kitewing"/"from
  Kitewing into Jira": sentences that share nearly all their words embed nearly identically
  whatever the changed word does. :class:`MinimalEditGuard` refuses a match between two
  *different* questions whose words mostly overlap, or that are the same words reordered.

Both are cheap heuristics with a recall cost (a typo, "upgrdae", looks like a minimal edit
too) that the notebook measures. Stronger options: a multilingual embedding model, a
cross-encoder or an LLM judge on the candidate pair, or requiring that the retriever ground
both questions in the same documents.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["MinimalEditGuard", "UnreadableTextGuard", "unknown_share"]

_WORD = re.compile(r"\w+")


@functools.cache
def _tokenizer() -> Tokenizer:
    from tokenizers import Tokenizer

    from course_lib.embeddings import model_files

    tokenizer = Tokenizer.from_file(str(model_files()[1]))
    # The shipped tokenizer.json pads to a fixed length; padding is not text.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def unknown_share(text: str) -> float:
    """Share of ``text``'s word pieces that the embedding model does not know (``[UNK]``)."""
    pieces = _tokenizer().encode(text, add_special_tokens=False).tokens
    if not pieces:
        return 0.0
    return sum(piece == "[UNK]" for piece in pieces) / len(pieces)


class UnreadableTextGuard:
    """Refuse when more than ``max_unknown_share`` of either question is unknown to the model."""

    def __init__(self, max_unknown_share: float = 0.2) -> None:
        if not 0.0 <= max_unknown_share < 1.0:
            raise ValueError(f"max_unknown_share must be in [0, 1), got {max_unknown_share!r}")
        self.max_unknown_share = max_unknown_share

    def __call__(self, query: str, cached_query: str) -> str | None:
        for text in (query, cached_query):
            share = unknown_share(text)
            if share > self.max_unknown_share:
                return (f"the embedding model cannot read {share:.0%} of {text!r} "
                        "(unknown word pieces)")
        return None

    def __repr__(self) -> str:
        return f"UnreadableTextGuard(max_unknown_share={self.max_unknown_share})"


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


class MinimalEditGuard:
    """Refuse a match between different questions that share most of their words.

    Identical word sequences (differing only in case or punctuation) pass. Refused: the same
    words in another order (the direction may be reversed); one word swapped, added or removed
    ("enable 2FA" / "disable 2FA"); and any pair whose word sets overlap (Jaccard) by at least
    ``min_overlap``: the few words that differ are then all the difference there is, and the
    embedding barely sees them.
    """

    def __init__(self, min_overlap: float = 0.5) -> None:
        if not 0.0 < min_overlap <= 1.0:
            raise ValueError(f"min_overlap must be in (0, 1], got {min_overlap!r}")
        self.min_overlap = min_overlap

    def __call__(self, query: str, cached_query: str) -> str | None:
        a, b = _words(query), _words(cached_query)
        if a == b:
            return None
        if Counter(a) == Counter(b):
            return "the same words in a different order: the direction may be reversed"
        set_a, set_b = set(a), set(b)
        if len(set_a - set_b) <= 1 and len(set_b - set_a) <= 1:
            changed = sorted(set_a ^ set_b)
            return (f"one word changed ({', '.join(changed)}): a single word can flip the "
                    "meaning, and the embedding barely sees it")
        union = set_a | set_b
        overlap = len(set_a & set_b) / len(union) if union else 1.0
        if overlap >= self.min_overlap:
            changed = sorted(set_a ^ set_b)
            return (f"{overlap:.0%} of the words are shared; only {', '.join(changed)} differ, "
                    "and such a small edit can flip the meaning")
        return None

    def __repr__(self) -> str:
        return f"MinimalEditGuard(min_overlap={self.min_overlap})"
