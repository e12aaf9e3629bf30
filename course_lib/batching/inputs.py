"""Check every input before the first request: the API's limits, enforced where they are cheap.

The embeddings endpoint rejects a whole request for one bad input: an empty string, a number
where a string should be, or a text longer than the model reads (8,192 tokens for OpenAI's
embedding models). Found by the API, such an input costs a round trip and takes its whole batch
down with it (in the lesson's embedder, every batch). Found here, it costs nothing and the error
names the input's index, so the caller can fix or drop exactly that text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["EmbeddingInputError", "InvalidInput", "check_inputs"]

# How many bad inputs an error message lists before it says "and N more".
_LISTED = 5


@dataclass(frozen=True)
class InvalidInput:
    """One rejected input: its index in the caller's list, and why."""

    index: int
    reason: str


class EmbeddingInputError(ValueError):
    """Inputs the embeddings API would reject; ``.indices`` lists every one of them.

    Raised before any request is sent. ``.problems`` pairs each index with its reason.
    """

    def __init__(self, problems: Sequence[InvalidInput]) -> None:
        self.problems: tuple[InvalidInput, ...] = tuple(problems)
        self.indices: list[int] = [problem.index for problem in self.problems]
        listed = "; ".join(f"input {p.index}: {p.reason}" for p in self.problems[:_LISTED])
        more = len(self.problems) - _LISTED
        if more > 0:
            listed += f"; and {more} more (see .problems)"
        count = len(self.problems)
        super().__init__(
            f"{count} input{'s' if count != 1 else ''} would be rejected by the embeddings API, "
            f"so nothing was sent: {listed}"
        )


def check_inputs(
    texts: Sequence[str],
    count_tokens: Callable[[str], int],
    *,
    max_input_tokens: int,
) -> list[int]:
    """The token count of every text, or :class:`EmbeddingInputError` naming each bad one.

    ``texts`` must be a list (or tuple) of non-empty strings, each at most ``max_input_tokens``
    tokens long as counted by ``count_tokens``. Whitespace-only text is allowed: the API
    accepts it, and whether it is worth a vector is the caller's decision.
    """
    if isinstance(texts, str | bytes) or not isinstance(texts, Sequence):
        raise TypeError(
            f"texts must be a list of strings, got {type(texts).__name__}"
            + (": wrap a single text in a list" if isinstance(texts, str) else "")
        )
    problems: list[InvalidInput] = []
    counts: list[int] = []
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            problems.append(InvalidInput(index, f"is {type(text).__name__}, not a string"))
            counts.append(0)
            continue
        if not text:
            problems.append(InvalidInput(
                index, "is an empty string (the API rejects empty inputs: drop it)"))
            counts.append(0)
            continue
        count = count_tokens(text)
        if count > max_input_tokens:
            problems.append(InvalidInput(
                index, f"has {count:,} tokens, more than the {max_input_tokens:,} an input may "
                "have (split it into chunks first)"))
        counts.append(count)
    if problems:
        raise EmbeddingInputError(problems)
    return counts
