"""Streaming answers over SSE: first text fast, every failure visible, every token billed.

The lesson's implementation 7 (流式响应, SSE streaming), as a service you can run and measure:

* :func:`create_stream_app` — ``POST /chat/stream`` relays the model's stream as ``token`` /
  ``error`` / ``done`` events, with heartbeats, CORS limited to your origins, cancellation of
  the model when the user leaves, and a bill for every stream (estimated when the provider's
  usage never arrives); ``GET /`` is a small live page that shows it.
* :func:`start_stream_server` — serve it with uvicorn on 127.0.0.1 (a handle with ``.url``).
* :func:`stream_chat` — the client side: read the events and time the first token.
* :func:`time_completion` — time the official ``openai`` client, streamed or not.
* :func:`request_latency` / :func:`summarize_latency` — the field's vocabulary: TTFT, TPOT,
  ITL and end-to-end latency, with p50/p95/p99 (vLLM's and GenAI-Perf's definitions).

The lesson's Go handler, ported faithfully with its traps, is
:mod:`course_lib.lesson.stream_handler`.
"""

from course_lib.streaming.app import (
    StreamOutcome,
    StreamState,
    UpstreamFailure,
    classify_upstream_error,
    create_stream_app,
)
from course_lib.streaming.billing import StreamBill, estimated_bill, exact_bill
from course_lib.streaming.client import (
    RawStream,
    ReceivedEvent,
    StreamResult,
    read_sse,
    stream_chat,
)
from course_lib.streaming.events import (
    HEARTBEAT,
    DoneEvent,
    ErrorEvent,
    SSEMessage,
    SSEParser,
    StreamEvent,
    TokenEvent,
    decode_event,
    encode_event,
)
from course_lib.streaming.latency_metrics import (
    LatencySummary,
    Percentiles,
    RequestLatency,
    request_latency,
    summarize_latency,
)
from course_lib.streaming.server import StreamServerHandle, serve_app, start_stream_server
from course_lib.streaming.timing import CompletionTiming, time_completion, ttft_reduction

__all__ = [
    "HEARTBEAT",
    "CompletionTiming",
    "DoneEvent",
    "ErrorEvent",
    "LatencySummary",
    "Percentiles",
    "RawStream",
    "ReceivedEvent",
    "RequestLatency",
    "SSEMessage",
    "SSEParser",
    "StreamBill",
    "StreamEvent",
    "StreamOutcome",
    "StreamResult",
    "StreamServerHandle",
    "StreamState",
    "TokenEvent",
    "UpstreamFailure",
    "classify_upstream_error",
    "create_stream_app",
    "decode_event",
    "encode_event",
    "estimated_bill",
    "exact_bill",
    "read_sse",
    "request_latency",
    "serve_app",
    "start_stream_server",
    "stream_chat",
    "summarize_latency",
    "time_completion",
    "ttft_reduction",
]
