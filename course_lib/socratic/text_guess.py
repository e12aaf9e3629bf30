"""A free-text guess box, checked for the ideas a good answer mentions.

This is a keyword check, not a grade: it can tell a learner which concepts their answer never
mentions, but it cannot tell whether the reasoning around them is right, and the feedback says
so. Each concept lists the words that count as mentioning it.

Matching avoids the trap the lesson's router falls into: a word matches only as a whole word
(plus a plain English ending: -s, -es, -d, -ed, -ing), so "error" is not found in "terror" nor
"code" in "decode". Words written in Chinese or Japanese, which put no spaces between words,
match anywhere. Case and hyphens are ignored ("time-to-first-token" = "Time to first token").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from course_lib.socratic.feedback import Feedback
from course_lib.socratic.validation import require_text, text_items

_DISCLAIMER = "(A keyword check, not a grade: compare your reasoning with the answer.)"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


class TextGuess:
    """Check a written answer for concepts, e.g. ``{"parallelism": ("parallel", "concurrent")}``.

    Keys name each concept as the learner should read it in the feedback; values are the
    accepted words or phrases (a single string counts as one word).
    """

    placeholder = "type your answer in a sentence or two"

    def __init__(self, concepts: Mapping[str, str | Iterable[str]]) -> None:
        if not isinstance(concepts, Mapping) or not concepts:
            raise ValueError(
                "concepts must be a non-empty dict of concept name -> accepted words, "
                "e.g. {'parallelism': ('parallel', 'concurrent')}"
            )
        self.concepts: dict[str, tuple[str, ...]] = {}
        self._patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        for name, words in concepts.items():
            require_text("concept name", name)
            accepted = text_items(f"accepted words for concept {name!r}", words)
            if not accepted:
                raise ValueError(f"concept {name!r} has no accepted words")
            for word in accepted:
                if not _normalise(word):
                    raise ValueError(f"concept {name!r}: {word!r} has no letters to look for")
            self.concepts[name] = accepted
            self._patterns[name] = tuple(_word_pattern(word) for word in accepted)

    def check(self, guess: object) -> Feedback:
        """Report which concepts ``guess`` mentions and which it misses."""
        if not isinstance(guess, str) or not guess.strip():
            return Feedback(None, "Type your answer first, then check it.")
        text = _normalise(guess)
        found = [name for name, patterns in self._patterns.items() if _mentions(text, patterns)]
        missed = tuple(name for name in self.concepts if name not in found)
        total = len(self.concepts)
        if not missed:
            ideas = ", ".join(found)
            message = f"✓ You mention all {total} ideas I look for: {ideas}. {_DISCLAIMER}"
            return Feedback(True, message)
        mentioned = f": {', '.join(found)}" if found else ""
        return Feedback(
            False,
            f"You mention {len(found)} of {total} ideas I look for{mentioned}. "
            f"Not mentioned: {', '.join(missed)}. {_DISCLAIMER}",
            missed=missed,
        )


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[-_]", " ", text.casefold()).split())


def _word_pattern(word: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(part) for part in _normalise(word).split())
    if _CJK.search(word):
        return re.compile(body)
    return re.compile(rf"(?<!\w){body}(?:s|es|d|ed|ing)?(?!\w)")


def _mentions(text: str, patterns: Iterable[re.Pattern[str]]) -> bool:
    return any(pattern.search(text) for pattern in patterns)
