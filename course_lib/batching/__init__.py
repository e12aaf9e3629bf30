"""Batch embedding: few requests, several in flight, only failures retried, order kept.

See :mod:`course_lib.batching.embedder` for the story and notebook 07 for the measurements.
"""

from course_lib.batching.embedder import (
    MAX_INPUT_TOKENS,
    MAX_INPUTS_PER_REQUEST,
    MAX_TOKENS_PER_REQUEST,
    AsyncEmbeddingClient,
    BatchEmbedder,
    MalformedResponseError,
)
from course_lib.batching.ideal import (
    StrategyTiming,
    ideal_seconds,
    model_latency_s,
    predict_seconds,
    time_strategies,
)
from course_lib.batching.inputs import EmbeddingInputError, InvalidInput, check_inputs
from course_lib.batching.pause import SharedPause
from course_lib.batching.plan import Batch, plan_batches
from course_lib.batching.report import (
    BatchAttempt,
    BatchEmbeddingError,
    BatchFailure,
    BatchReport,
    EmbeddingRun,
    index_ranges,
)
from course_lib.retrying import FullJitterBackoff  # an embedder is built with one

__all__ = [
    "MAX_INPUTS_PER_REQUEST",
    "MAX_INPUT_TOKENS",
    "MAX_TOKENS_PER_REQUEST",
    "AsyncEmbeddingClient",
    "Batch",
    "BatchAttempt",
    "BatchEmbedder",
    "BatchEmbeddingError",
    "BatchFailure",
    "BatchReport",
    "EmbeddingInputError",
    "EmbeddingRun",
    "FullJitterBackoff",
    "InvalidInput",
    "MalformedResponseError",
    "SharedPause",
    "StrategyTiming",
    "check_inputs",
    "ideal_seconds",
    "index_ranges",
    "model_latency_s",
    "plan_batches",
    "predict_seconds",
    "time_strategies",
]
