"""Split inputs into requests that respect *both* of the API's limits: count and tokens.

One embeddings request may carry at most 2,048 inputs **and** at most 300,000 tokens in total.
The lesson splits by count only (100 per batch): 100 short questions are ~1,500 tokens, far
below the limit, but 100 support articles of 4,000 tokens are 400,000 tokens, and the API
answers 400 for the whole batch. Splitting by both limits is a single pass in input order:
start a new batch when the next input would break either limit.

Batches are contiguous runs of the input (``start``/``stop`` like a slice), so putting the
vectors back in order is ``result[batch.start:batch.stop] = vectors``. Greedy filling is optimal
here: since batches must be contiguous, taking as many inputs as fit can never force an extra
batch later (the usual exchange argument).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Batch", "plan_batches"]


@dataclass(frozen=True)
class Batch:
    """One request's worth of inputs: ``texts[start:stop]``, ``tokens`` tokens in total."""

    number: int
    start: int
    stop: int
    tokens: int

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def indices(self) -> range:
        """The positions of this batch's inputs in the caller's list."""
        return range(self.start, self.stop)

    def __str__(self) -> str:
        return (f"batch {self.number} (inputs {self.start}-{self.stop - 1}, "
                f"{self.tokens:,} tokens)")


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return value


def plan_batches(
    token_counts: Sequence[int],
    *,
    max_inputs: int,
    max_tokens: int,
) -> list[Batch]:
    """Contiguous batches of at most ``max_inputs`` inputs and ``max_tokens`` tokens each.

    ``token_counts[i]`` is the size of input ``i``. An input larger than ``max_tokens`` on its
    own can never be sent, so it is an error naming its index.

    >>> [(b.start, b.stop, b.tokens) for b in plan_batches([4, 4, 4, 1], max_inputs=3,
    ...                                                     max_tokens=8)]
    [(0, 2, 8), (2, 4, 5)]
    """
    max_inputs = _positive_int("max_inputs", max_inputs)
    max_tokens = _positive_int("max_tokens", max_tokens)
    batches: list[Batch] = []
    start, tokens = 0, 0
    for index, count in enumerate(token_counts):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"token count of input {index} must be a whole "
                             f"number >= 0, got {count!r}")
        if count > max_tokens:
            raise ValueError(f"input {index} has {count:,} tokens, more than the "
                             f"{max_tokens:,} one request may carry")
        if index > start and (index - start == max_inputs or tokens + count > max_tokens):
            batches.append(Batch(len(batches), start, index, tokens))
            start, tokens = index, 0
        tokens += count
    if len(token_counts) > start:
        batches.append(
            Batch(len(batches), start, len(token_counts), tokens))
    return batches
