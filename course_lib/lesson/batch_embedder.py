"""The lesson's Go ``BatchEmbedder`` (``internal/rag/batch_embedder.go``), ported faithfully.

Kept to show what goes wrong; :class:`course_lib.batching.BatchEmbedder` is the fix. The port
does what the Go code does, including:

1. **Batches split by count only.** ``batchSize: 100`` ("OpenAI 允许最大 2048,建议 100 稳健":
   OpenAI allows 2,048, 100 is the safe choice). The API also caps a request at 300,000
   tokens; 100 inputs of up to 8,192 tokens each can reach 819,200, and such a batch is
   rejected with a 400, every time.
2. **Sequential batches.** One request in flight at a time, so the total is the sum of every
   round trip.
3. **A fixed 50 ms sleep between batches** "to avoid rate limits" (避免 rate limit). It slows
   every run down and protects against nothing: it does not read ``Retry-After``, and a 429
   is still returned as an error.
4. **One failure loses everything.** A failed batch returns ``nil`` for the whole result: the
   vectors of the batches before it (already paid for) are dropped, and nothing says which
   inputs were fine.
5. **No input checks.** An empty string reaches the API, which rejects its whole batch (400).
6. **No retries at all**, not even for a 500 that would succeed a moment later.

Go's ``EmbeddingClient`` interface is :class:`EmbeddingClient`; :class:`OpenAIEmbeddingClient`
implements it with the official (synchronous) ``openai`` client, as a Go service would wrap its
SDK. Go's ``(result, error)`` pair becomes a return value or a raised :class:`BatchFailedError`.
Go's ``time.Sleep`` is the injectable ``sleep`` (``time.sleep`` by default).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = [
    "BATCH_SIZE",
    "DELAY_S",
    "BatchFailedError",
    "EmbeddingClient",
    "LessonBatchEmbedder",
    "OpenAIEmbeddingClient",
]

logger = logging.getLogger(__name__)

BATCH_SIZE = 100  # OpenAI 允许最大 2048,建议 100 稳健
DELAY_S = 0.050  # 批次间延迟,避免 rate limit (50 * time.Millisecond)


class EmbeddingClient(Protocol):
    """Go: ``EmbedBatch(ctx context.Context, texts []string) ([][]float32, error)``."""

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]: ...


class OpenAIEmbeddingClient:
    """An :class:`EmbeddingClient` over ``openai.OpenAI``: one ``embeddings.create`` per call."""

    def __init__(self, client: Any, model: str = "text-embedding-3-small") -> None:
        self.client = client
        self.model = model

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        response = self.client.embeddings.create(input=list(texts), model=self.model)
        return [list(item.embedding) for item in response.data]


class BatchFailedError(RuntimeError):
    """Go: ``fmt.Errorf("batch %d/%d failed: %w", batchNum, totalBatches, err)``."""

    def __init__(self, batch_num: int, total_batches: int, cause: BaseException) -> None:
        self.batch_num = batch_num
        self.total_batches = total_batches
        super().__init__(f"batch {batch_num}/{total_batches} failed: {cause}")
        self.__cause__ = cause


class LessonBatchEmbedder:
    """``type BatchEmbedder struct`` with ``NewBatchEmbedder`` defaults and ``EmbedBatch``."""

    def __init__(
        self,
        client: EmbeddingClient,
        *,
        batch_size: int = BATCH_SIZE,
        delay_s: float = DELAY_S,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.client = client
        self.batch_size = batch_size
        self.delay_s = delay_s
        self._sleep = sleep

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]] | None:
        """``EmbedBatch``: vectors in input order, or :class:`BatchFailedError` (nothing kept).

        Returns None for an empty input, as the Go code returns ``nil, nil``.
        """
        if len(texts) == 0:
            return None
        result: list[list[float] | None] = [None] * len(texts)
        total_batches = (len(texts) + self.batch_size - 1) // self.batch_size
        logger.info("starting batch embedding total_texts=%d batch_size=%d total_batches=%d",
                    len(texts), self.batch_size, total_batches)
        for i in range(0, len(texts), self.batch_size):
            end = min(i + self.batch_size, len(texts))
            batch = texts[i:end]
            batch_num = i // self.batch_size + 1
            logger.debug("embedding batch batch=%d size=%d", batch_num, len(batch))
            try:
                embeddings = self.client.embed_batch(batch)
            except Exception as err:
                # return nil, fmt.Errorf(...): the vectors already in `result` are dropped.
                raise BatchFailedError(batch_num, total_batches, err) from err
            # Go's copy() copies min(len(dst), len(src)) elements and never checks the counts.
            for offset, vector in enumerate(embeddings[: end - i]):
                result[i + offset] = vector
            # 避免 rate limit
            if end < len(texts):
                self._sleep(self.delay_s)
        logger.info("batch embedding complete total_embeddings=%d", len(result))
        return result  # type: ignore[return-value]
