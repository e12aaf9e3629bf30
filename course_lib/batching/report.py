"""What a batch run did, and what to do when part of it failed.

The lesson's answer to "Batch API 的失败怎么处理?" (how do you handle failures?) is *partial
retry*: remember which inputs failed and retry only their batches. That needs a record: which
batch covered which inputs, how many attempts each took, which ones gave up and why. A
:class:`BatchReport` is that record for a run; a :class:`BatchEmbeddingError` carries it when
some batches gave up, together with every vector that *did* succeed, so nothing that was paid
for is thrown away.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from course_lib.batching.plan import Batch
from course_lib.retrying import status_of

__all__ = [
    "BatchAttempt",
    "BatchEmbeddingError",
    "BatchFailure",
    "BatchReport",
    "EmbeddingRun",
    "index_ranges",
]


def index_ranges(indices: Sequence[int]) -> str:
    """``[0, 1, 2, 7, 9, 10]`` -> ``"0-2, 7, 9-10"``: readable lists of input positions."""
    ordered = sorted(set(indices))
    parts: list[str] = []
    first = 0
    while first < len(ordered):
        last = first
        while last + 1 < len(ordered) and ordered[last + 1] == ordered[last] + 1:
            last += 1
        low, high = ordered[first], ordered[last]
        parts.append(str(low) if low == high else f"{low}-{high}")
        first = last + 1
    return ", ".join(parts)


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"


@dataclass(frozen=True)
class BatchAttempt:
    """One request as the embedder saw it, in seconds since the run started.

    ``outcome`` is ``"ok"``, an HTTP status such as ``"429"``, or an error name (``"timeout"``).
    """

    batch: int
    attempt: int
    start_s: float
    end_s: float
    outcome: str


@dataclass(frozen=True)
class BatchFailure:
    """A batch that gave up: its inputs (positions in the caller's list), attempts, last error."""

    batch: Batch
    indices: tuple[int, ...]
    attempts: int
    error: Exception

    @property
    def status(self) -> int | None:
        """HTTP status of the last error (None for a timeout or a lost connection)."""
        return status_of(self.error)

    def describe(self) -> str:
        status = self.status
        what = f"HTTP {status}" if status is not None else type(self.error).__name__
        return (f"inputs {index_ranges(self.indices)} ({what} after {self.attempts} "
                f"attempt{'s' if self.attempts != 1 else ''})")


@dataclass(frozen=True)
class BatchReport:
    """Counts of one run: requests sent, retries, rate limits, tokens billed and their cost.

    ``requests`` counts every HTTP attempt; ``retries`` the attempts after a batch's first.
    ``tokens`` are the tokens the API reported (and billed) for successful requests: failed
    requests are not billed. ``cost_usd`` is None for a model without a known price.
    ``timeline`` records every attempt and ``pauses`` every shared rate-limit pause
    ``(from_s, until_s)``, both in seconds since the run started, for plotting.
    ``budget_wait_s`` sums how long attempts waited for the ``rate_limit``'s token budget.
    """

    model: str
    inputs: int
    batches: int
    requests: int
    retries: int
    rate_limited: int
    paused_s: float
    tokens: int
    cost_usd: Decimal | None
    elapsed_s: float
    attempts_per_batch: tuple[int, ...]
    failures: tuple[BatchFailure, ...] = ()
    timeline: tuple[BatchAttempt, ...] = ()
    pauses: tuple[tuple[float, float], ...] = ()
    budget_wait_s: float = 0.0

    @property
    def failed_indices(self) -> list[int]:
        return sorted(i for failure in self.failures for i in failure.indices)

    def summary(self) -> str:
        cost = "unknown" if self.cost_usd is None else f"${self.cost_usd:.8f}".rstrip("0")
        lines = [
            f"{_count(self.inputs, 'input')} in {_count(self.batches, 'batch', 'batches')}: "
            f"{_count(self.requests, 'request')} ({_count(self.retries, 'retry', 'retries')}, "
            f"{self.rate_limited} rate-limited)",
            f"tokens billed: {self.tokens:,}  cost: {cost}  paused for rate limits: "
            f"{self.paused_s:.2f} s  elapsed: {self.elapsed_s:.2f} s",
        ]
        if self.budget_wait_s:
            lines.append(f"waited for token budget: {self.budget_wait_s:.2f} s (summed over "
                         "requests)")
        lines += [f"FAILED {failure.describe()}" for failure in self.failures]
        return "\n".join(lines)


@dataclass(frozen=True)
class EmbeddingRun:
    """A finished run: ``vectors[i]`` is the embedding of input ``i``; ``report`` says how."""

    vectors: np.ndarray
    report: BatchReport


class BatchEmbeddingError(RuntimeError):
    """Some batches gave up. Everything that succeeded is kept on the error.

    ``failed_indices`` lists the inputs without a vector; ``vectors[i]`` is the vector of input
    ``i`` or None where it failed; ``report`` is the run's report. Pass the error to
    ``BatchEmbedder.resume(texts, error)`` to embed only the missing inputs.
    """

    def __init__(self, vectors: list[np.ndarray | None], report: BatchReport) -> None:
        self.vectors = vectors
        self.report = report
        self.failures = report.failures
        self.failed_indices = report.failed_indices
        done = len(vectors) - len(self.failed_indices)
        super().__init__(
            f"{len(self.failures)} of {report.batches} batches failed, "
            f"{len(self.failed_indices):,} of {len(vectors):,} inputs have no vector: "
            + "; ".join(failure.describe() for failure in self.failures)
            + f". The other {done:,} vectors are kept on .vectors; "
            "BatchEmbedder.resume(texts, error) retries only the failed inputs."
        )
