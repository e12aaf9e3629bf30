"""The sandbox's HTTP application: OpenAI's chat, embeddings and models endpoints.

Served by uvicorn (see ``server.py``); the official ``openai`` client talks to it unchanged.
Usage is exact (prompt tokens counted by :mod:`course_lib.tokens` with OpenAI's rules, output
tokens by the model's tiktoken encoding), latency follows :mod:`.profiles`, failures come from
:mod:`.faults`, answers from :mod:`.answers`.

Sandbox-only extras, never needed by ordinary code:

* request header ``X-Sandbox-Fault: 429|500|503|hang|cut`` fails that one request;
* request field ``"sandbox": {"answer_tokens": N}`` (``extra_body`` in the client) makes the
  answer exactly N tokens long (lengthened with related knowledge-base answers), for latency
  experiments that need a long answer;
* ``GET /sandbox/stats``: what the sandbox generated, per request (including streams that a
  client abandoned), so a notebook can show tokens never generated.
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import itertools
import json
import random
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from course_lib import tokens
from course_lib.pricing import PREFIX_CACHE_INCREMENT as PREFIX_CACHE_STEP
from course_lib.pricing import PREFIX_CACHE_MIN_TOKENS, PRICES
from course_lib.sandbox.answers import compose_answer, related_answers
from course_lib.sandbox.faults import Fault, FaultInjector
from course_lib.sandbox.profiles import MODEL_PROFILES, ModelProfile, profile_for
from course_lib.sandbox.protocol import (
    EMBEDDING_MAX_INPUT_TOKENS,
    EMBEDDING_MAX_INPUTS,
    EMBEDDING_MAX_REQUEST_TOKENS,
    MAX_BODY_BYTES,
    ApiError,
    check_messages,
    error_response,
    message_text,
    parse_json_object,
    require_int,
    require_number,
)

__all__ = ["RequestRecord", "SandboxState", "SimulatedStreamCut", "create_app"]

SIMULATOR_HEADER = "course_lib.sandbox: a local simulator, not a real model"
SYSTEM_FINGERPRINT = "fp_course_sandbox"
# Provider prefix caching (OpenAI, rules in course_lib.pricing): a recently seen prompt start is
# served from cache for this long.
PREFIX_CACHE_TTL_S = 300.0


class SimulatedStreamCut(ConnectionAbortedError):
    """Raised inside a stream to break its connection on purpose (the ``cut`` fault)."""


@dataclass
class RequestRecord:
    """What the sandbox did for one request (``/sandbox/stats`` and ``handle.requests``)."""

    request_id: str
    endpoint: str
    model: str
    status: int = 200
    stream: bool = False
    prompt_tokens: int = 0
    cached_tokens: int = 0
    planned_completion_tokens: int = 0
    completion_tokens: int = 0
    fault: str | None = None
    cancelled: bool = False
    entry_id: str | None = None
    started_at: float = field(default_factory=time.time)
    duration_s: float = 0.0


class _PrefixCache:
    """Recently seen prompt token sequences, to report ``cached_tokens`` like the provider."""

    def __init__(self, capacity: int = 256) -> None:
        self._recent: deque[tuple[float, str, np.ndarray]] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def lookup_and_store(self, model: str, prompt: list[int]) -> int:
        if len(prompt) < PREFIX_CACHE_MIN_TOKENS:
            return 0
        current = np.asarray(prompt, dtype=np.int64)
        now = time.monotonic()
        best = 0
        with self._lock:
            for seen_at, seen_model, seen in self._recent:
                if seen_model != model or now - seen_at > PREFIX_CACHE_TTL_S:
                    continue
                n = min(len(seen), len(current))
                differs = np.flatnonzero(seen[:n] != current[:n])
                best = max(best, int(differs[0]) if differs.size else n)
            self._recent.append((now, model, current))
        if best < PREFIX_CACHE_MIN_TOKENS:
            return 0
        return best // PREFIX_CACHE_STEP * PREFIX_CACHE_STEP


class _Pacer:
    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._loop = asyncio.get_running_loop()
        self._due = self._loop.time()

    async def wait(self, seconds: float) -> None:
        self._due += seconds * self._state.time_scale
        delay = self._due - self._loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


class _EmbeddingMemo:
    """Vectors of recently embedded texts, so repeated texts cost the sandbox no CPU.

    The vectors are the model's own (the same text always embeds the same way); only the
    sandbox's work is saved. That keeps its CPU out of latency experiments that send the same
    corpus several ways: what they measure is the simulated round trip, as with a real API,
    whose own compute happens on its side of the wire.
    """

    def __init__(self, capacity: int = 50_000) -> None:
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def embed(self, texts: list[str], embed_fn: Any) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            fresh = embed_fn(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[text] = vector
                while len(self._vectors) > self._capacity:
                    self._vectors.popitem(last=False)
        with self._lock:
            rows = []
            for text in texts:
                vector = self._vectors.get(text)
                if vector is None:  # evicted meanwhile by a concurrent request
                    vector = embed_fn([text])[0]
                else:
                    self._vectors.move_to_end(text)
                rows.append(vector)
        return np.stack(rows)


@dataclass
class SandboxState:
    """Settings and live state shared by every request of one sandbox."""

    time_scale: float = 1.0
    seed: int = 0
    hang_seconds: float = 60.0
    faults: FaultInjector = field(default_factory=FaultInjector)
    records: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=50_000))
    shutting_down: asyncio.Event | None = None
    _sequence: itertools.count = field(default_factory=itertools.count)
    _prefix_cache: _PrefixCache = field(default_factory=_PrefixCache)
    embedding_memo: _EmbeddingMemo = field(default_factory=_EmbeddingMemo)

    def __post_init__(self) -> None:
        if self.time_scale < 0:
            raise ValueError(f"time_scale must be >= 0, got {self.time_scale}")

    def next_rng(self) -> random.Random:
        # Seeded per request number: one seed reproduces the same latency sequence.
        return random.Random(self.seed * 1_000_003 + next(self._sequence))

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of model time, scaled; at time scale 0 not at all."""
        scaled = seconds * self.time_scale
        if scaled > 0:
            await asyncio.sleep(scaled)

    def pacer(self) -> _Pacer:
        """A clock for a stream: each wait is measured from the stream's start, not from the
        previous wake-up, so the event loop's small lateness does not pile up over 300 tokens."""
        return _Pacer(self)


    def record(self, record: RequestRecord) -> RequestRecord:
        self.records.append(record)
        return record


def _resolved_model_name(model: str) -> str:
    # The API answers "gpt-4o" requests as the dated snapshot the alias points at.
    price = PRICES.get(model)
    return price.alias_of if price and price.alias_of else model


def _check_model(body: dict[str, Any], kind: str) -> ModelProfile:
    model = body.get("model")
    if model is None:
        raise ApiError(400, "Missing required parameter: 'model'.", param="model",
                       code="missing_required_parameter")
    if not isinstance(model, str):
        raise ApiError(400, "Invalid type for 'model': expected a string.", param="model",
                       code="invalid_type")
    profile = profile_for(model)
    if profile is None:
        raise ApiError(404, f"The model '{model}' does not exist or you do not have access to it. "
                       f"The sandbox serves: {', '.join(sorted(MODEL_PROFILES))}.",
                       param="model", code="model_not_found")
    if profile.kind != kind:
        raise ApiError(400, f"The model '{model}' is {'an' if profile.kind == 'embedding' else 'a'}"
                       f" {profile.kind} model and cannot be used with this endpoint.",
                       param="model", code="invalid_model")
    return profile


def _sandbox_options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("sandbox") or {}
    if not isinstance(options, dict):
        raise ApiError(400, "Invalid 'sandbox': expected an object such as {'answer_tokens': 300}.",
                       param="sandbox")
    unknown = set(options) - {"answer_tokens"}
    if unknown:
        raise ApiError(400, f"Unknown sandbox option(s): {', '.join(sorted(unknown))}.",
                       param="sandbox")
    require_int(options, "answer_tokens", minimum=1, maximum=16_384)
    return options


def _rendered_prompt(messages: list[dict[str, Any]], tools: Any) -> str:
    # An approximation of how the prompt is laid out, used only to find shared prefixes.
    parts = [f"{m.get('role')}\n{m.get('name', '')}\n{message_text(m)}\n" for m in messages]
    if tools:
        parts.insert(0, json.dumps(tools, sort_keys=True))
    return "".join(parts)


def _answer_token_ids(query: str, profile: ModelProfile, encoding: Any, target: int | None
                      ) -> tuple[list[int], str | None]:
    answer = compose_answer(query, profile.answer_style)
    ids = encoding.encode(answer.text, disallowed_special=())
    if target is not None:
        for extra in related_answers(query, profile.answer_style, answer.entry_id):
            if len(ids) >= target:
                break
            ids += encoding.encode("\n\n" + extra, disallowed_special=())
        while len(ids) < target:  # a tiny knowledge base cannot run out
            ids += encoding.encode("\n\n" + answer.text, disallowed_special=())
        ids = ids[:target]
    return ids, answer.entry_id


def _pieces(encoding: Any, token_ids: list[int]) -> list[str]:
    """Text of each token, keeping multi-byte characters whole (Chinese splits across tokens)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces = []
    for token in token_ids:
        pieces.append(decoder.decode(encoding.decode_single_token_bytes(token)))
    tail = decoder.decode(b"", final=True)
    if tail:
        pieces.append(tail)
    return pieces


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"Request body too large: {declared} bytes; the limit is "
                       f"{MAX_BODY_BYTES} bytes.", code="request_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"Request body too large: more than {MAX_BODY_BYTES} bytes.",
                           code="request_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _fault_error(fault: Fault, time_scale: float) -> ApiError:
    if fault.kind == "429":
        # Retry-After is in wall-clock seconds, so it is scaled like every other delay.
        wait = max(fault.retry_after_s * time_scale, 0.001)
        return ApiError(429, "Rate limit reached (simulated by the course sandbox). Please retry "
                        f"after {wait:.3f} seconds.", type="requests", code="rate_limit_exceeded",
                        headers={"retry-after": f"{wait:.3f}",
                                 "retry-after-ms": str(max(1, round(wait * 1000)))})
    if fault.kind == "503":
        return ApiError(503, "The server is overloaded (simulated by the course sandbox).",
                        type="server_error", code="overloaded")
    return ApiError(500, "The server had an error while processing your request (simulated by "
                    "the course sandbox).", type="server_error", code="server_error")


async def _hang(state: SandboxState, request: Request) -> None:
    """Answer nothing until the client leaves, the sandbox stops, or ``hang_seconds`` pass."""
    deadline = time.monotonic() + state.hang_seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected() or (
            state.shutting_down is not None and state.shutting_down.is_set()
        ):
            return
        await asyncio.sleep(0.02)


def _usage(prompt_tokens: int, cached: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        },
    }


def _chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None, include_usage: bool
           ) -> bytes:
    chunk = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                  "finish_reason": finish}]}
    if include_usage:
        chunk["usage"] = None
    return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"


async def chat_completions(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    started = time.monotonic()
    body = parse_json_object(await _read_body(request))
    profile = _check_model(body, "chat")
    messages = check_messages(body)
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise ApiError(400, "Invalid type for 'stream': expected a boolean.", param="stream")
    stream_options = body.get("stream_options")
    if stream_options is not None and not stream:
        raise ApiError(400, "The 'stream_options' parameter is only allowed when 'stream' is "
                       "enabled.", param="stream_options")
    if stream_options is not None and not isinstance(stream_options, dict):
        raise ApiError(400, "Invalid type for 'stream_options': expected an object.",
                       param="stream_options")
    include_usage = bool((stream_options or {}).get("include_usage", False))
    max_tokens = require_int(body, "max_completion_tokens", minimum=1) or require_int(
        body, "max_tokens", minimum=1)
    if require_int(body, "n", minimum=1, maximum=128) not in (None, 1):
        raise ApiError(400, "The sandbox generates one choice per request: 'n' must be 1.",
                       param="n")
    require_number(body, "temperature", 0.0, 2.0)
    require_number(body, "top_p", 0.0, 1.0)
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise ApiError(400, "Invalid type for 'tools': expected an array.", param="tools")
    options = _sandbox_options(body)
    model = body["model"]
    try:
        prompt_tokens = tokens.count_chat_tokens(messages, model, tools=tools)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, f"Invalid request: {exc}.", param="tools" if tools else "messages"
                       ) from None
    if prompt_tokens + (max_tokens or 0) > profile.context_window:
        raise ApiError(400, f"This model's maximum context length is {profile.context_window} "
                       f"tokens. However, you requested {prompt_tokens + (max_tokens or 0)} "
                       f"tokens ({prompt_tokens} in the messages, {max_tokens or 0} in the "
                       "completion).", param="messages", code="context_length_exceeded")

    try:
        fault = state.faults.decide(model, request.headers.get("x-sandbox-fault"))
    except ValueError as exc:
        raise ApiError(400, str(exc), param="X-Sandbox-Fault") from None
    record = state.record(RequestRecord(
        request_id=f"chatcmpl-{uuid.uuid4().hex[:24]}", endpoint="chat.completions",
        model=model, stream=stream, prompt_tokens=prompt_tokens,
        fault=fault.kind if fault else None,
    ))
    if (fault is not None and fault.kind in ("429", "500", "503")) or (
        fault is not None and fault.kind == "cut" and not stream
    ):
        await state.sleep(0.05)
        error = _fault_error(fault, state.time_scale)
        record.status = error.status
        record.duration_s = time.monotonic() - started
        raise error
    if fault is not None and fault.kind == "hang":
        await _hang(state, request)
        record.status = 504
        record.cancelled = True
        record.duration_s = time.monotonic() - started
        raise ApiError(504, "The sandbox simulated a request that never answered.",
                       type="server_error", code="timeout")

    encoding = tokens.encoding_for(model)
    user_turns = [m for m in messages if m["role"] == "user"]
    query = message_text(user_turns[-1]) if user_turns else message_text(messages[-1])
    target = options.get("answer_tokens")
    token_ids, entry_id = await anyio.to_thread.run_sync(
        _answer_token_ids, query, profile, encoding, target)
    finish_reason = "stop"
    if max_tokens is not None and len(token_ids) > max_tokens:
        token_ids, finish_reason = token_ids[:max_tokens], "length"
    prompt_ids = encoding.encode(_rendered_prompt(messages, tools), disallowed_special=())
    cached = min(state._prefix_cache.lookup_and_store(model, prompt_ids), prompt_tokens)
    record.cached_tokens = cached
    record.entry_id = entry_id
    record.planned_completion_tokens = len(token_ids)
    rng = state.next_rng()
    ttft = profile.time_to_first_token(prompt_tokens, cached, rng)
    base = {
        "id": record.request_id,
        "object": "chat.completion.chunk" if stream else "chat.completion",
        "created": int(time.time()),
        "model": _resolved_model_name(model),
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "service_tier": "default",
    }
    headers = {"x-request-id": record.request_id}

    if not stream:
        total = ttft + sum(profile.seconds_per_token(rng) for _ in token_ids)
        await state.sleep(total)
        record.completion_tokens = len(token_ids)
        record.duration_s = time.monotonic() - started
        return JSONResponse({
            **base,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": encoding.decode(token_ids),
                            "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }],
            "usage": _usage(prompt_tokens, cached, len(token_ids)),
        }, headers=headers)

    pieces = _pieces(encoding, token_ids)
    cut_after = fault.cut_after_tokens if fault is not None and fault.kind == "cut" else None

    async def events() -> AsyncIterator[bytes]:
        try:
            pacer = state.pacer()
            await pacer.wait(ttft)
            yield _chunk(base, {"role": "assistant", "content": "", "refusal": None}, None,
                         include_usage)
            pending = ""
            for index, piece in enumerate(pieces):
                if index:
                    await pacer.wait(profile.seconds_per_token(rng))
                if cut_after is not None and index >= cut_after:
                    # A broken connection, not a polite error: the client sees the body end
                    # early, with no finish_reason and no [DONE].
                    raise SimulatedStreamCut("sandbox fault: stream cut mid-answer")
                record.completion_tokens = min(index + 1, len(token_ids))
                pending += piece
                if pending:  # a token holding half a character waits for the other half
                    yield _chunk(base, {"content": pending}, None, include_usage)
                    pending = ""
            yield _chunk(base, {}, finish_reason, include_usage)
            if include_usage:
                usage_chunk = {**base, "choices": [],
                               "usage": _usage(prompt_tokens, cached, len(token_ids))}
                yield b"data: " + json.dumps(usage_chunk).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            record.cancelled = True  # the client went away: generation stops here
            raise
        finally:
            record.duration_s = time.monotonic() - started

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={**headers, "cache-control": "no-cache"})


def _embedding_inputs(body: dict[str, Any], model: str) -> list[str]:
    if "input" not in body:
        raise ApiError(400, "Missing required parameter: 'input'.", param="input",
                       code="missing_required_parameter")
    raw = body["input"]
    encoding = tokens.encoding_for(model)
    if isinstance(raw, str):
        items: list[Any] = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(t, int) for t in raw):
        items = [raw]  # one input given as token ids
    elif isinstance(raw, list):
        items = raw
    else:
        raise ApiError(400, "Invalid type for 'input': expected a string, an array of strings, "
                       "or an array of token arrays.", param="input", code="invalid_type")
    if not items:
        raise ApiError(400, "Invalid 'input': empty array. Expected at least one input.",
                       param="input", code="empty_array")
    if len(items) > EMBEDDING_MAX_INPUTS:
        raise ApiError(400, f"Invalid 'input': {len(items)} inputs; at most "
                       f"{EMBEDDING_MAX_INPUTS} are allowed per request.", param="input")
    texts = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            if not item:
                raise ApiError(400, f"Invalid 'input[{index}]': empty string. Every input must "
                               "be a non-empty string.", param=f"input[{index}]")
            texts.append(item)
        elif isinstance(item, list) and item and all(
            isinstance(t, int) and not isinstance(t, bool) and 0 <= t < encoding.n_vocab
            for t in item
        ):
            texts.append(encoding.decode(item))
        else:
            raise ApiError(400, f"Invalid 'input[{index}]': expected a non-empty string or a "
                           "non-empty array of token ids.", param=f"input[{index}]")
    return texts


async def embeddings(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    started = time.monotonic()
    body = parse_json_object(await _read_body(request))
    profile = _check_model(body, "embedding")
    model = body["model"]
    texts = _embedding_inputs(body, model)
    encoding_format = body.get("encoding_format", "float")
    if encoding_format not in ("float", "base64"):
        raise ApiError(400, f"Invalid 'encoding_format': {encoding_format!r}. Supported values "
                       "are 'float' and 'base64'.", param="encoding_format")
    dimensions = require_int(body, "dimensions", minimum=1)
    from course_lib.embeddings import EMBEDDING_DIM, embed

    if dimensions is not None and dimensions > EMBEDDING_DIM:
        raise ApiError(400, f"Invalid 'dimensions': {dimensions}. The sandbox's embedding model "
                       f"(all-MiniLM-L6-v2) has {EMBEDDING_DIM} dimensions.", param="dimensions")
    counts = [tokens.count_tokens(text, model) for text in texts]
    for index, count in enumerate(counts):
        if count > EMBEDDING_MAX_INPUT_TOKENS:
            raise ApiError(400, f"Invalid 'input[{index}]': {count} tokens; the maximum input "
                           f"length is {EMBEDDING_MAX_INPUT_TOKENS} tokens.",
                           param=f"input[{index}]", code="context_length_exceeded")
    if sum(counts) > EMBEDDING_MAX_REQUEST_TOKENS:
        raise ApiError(400, f"Requested {sum(counts)} tokens in one request; the maximum is "
                       f"{EMBEDDING_MAX_REQUEST_TOKENS} tokens per request.", param="input",
                       code="max_tokens_per_request")
    try:
        fault = state.faults.decide(model, request.headers.get("x-sandbox-fault"))
    except ValueError as exc:
        raise ApiError(400, str(exc), param="X-Sandbox-Fault") from None
    record = state.record(RequestRecord(
        request_id=f"emb-{uuid.uuid4().hex[:24]}", endpoint="embeddings", model=model,
        prompt_tokens=sum(counts), fault=fault.kind if fault else None))
    if fault is not None and fault.kind == "hang":
        await _hang(state, request)
        record.status, record.cancelled = 504, True
        raise ApiError(504, "The sandbox simulated a request that never answered.",
                       type="server_error", code="timeout")
    if fault is not None:
        await state.sleep(0.02)
        error = _fault_error(fault, state.time_scale)
        record.status = error.status
        raise error
    rng = state.next_rng()
    vectors = await anyio.to_thread.run_sync(state.embedding_memo.embed, texts, embed)
    if dimensions is not None and dimensions < EMBEDDING_DIM:
        # Shortened like OpenAI's v3 models: keep the leading dimensions, then re-normalise.
        vectors = vectors[:, :dimensions]
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    await state.sleep(profile.time_to_first_token(sum(counts), 0, rng))
    data = []
    for index, vector in enumerate(vectors):
        value: Any = (
            base64.b64encode(vector.astype("<f4").tobytes()).decode()
            if encoding_format == "base64" else [float(x) for x in vector]
        )
        data.append({"object": "embedding", "index": index, "embedding": value})
    record.duration_s = time.monotonic() - started
    return JSONResponse({
        "object": "list",
        "data": data,
        "model": _resolved_model_name(model),
        "usage": {"prompt_tokens": sum(counts), "total_tokens": sum(counts)},
    }, headers={"x-request-id": record.request_id})


def _model_object(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "course-sandbox"}


async def list_models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [_model_object(m) for m in MODEL_PROFILES]})


async def retrieve_model(request: Request) -> Response:
    name = request.path_params["model"]
    if name not in MODEL_PROFILES:
        raise ApiError(404, f"The model '{name}' does not exist.", param="model",
                       code="model_not_found")
    return JSONResponse(_model_object(name))


async def stats(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    records = [asdict(r) for r in list(state.records)]
    return JSONResponse({
        "time_scale": state.time_scale,
        "requests": len(records),
        "completion_tokens_generated": sum(r["completion_tokens"] for r in records),
        "records": records[-int(request.query_params.get("last", "200")):],
    })


async def index(request: Request) -> Response:
    return JSONResponse({"sandbox": SIMULATOR_HEADER, "openai_base_url": "/v1",
                         "endpoints": ["/v1/chat/completions", "/v1/embeddings", "/v1/models",
                                       "/sandbox/stats"]})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"Unknown URL: {request.method} {request.url.path}.",
               405: f"Method {request.method} is not allowed on {request.url.path}."}.get(
        exc.status_code, str(exc.detail))
    return error_response(ApiError(exc.status_code, message))


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client closed the connection while we read its body; nobody is left to answer.
    return Response(status_code=499)


async def _unexpected(request: Request, exc: Exception) -> Response:
    return error_response(ApiError(500, f"The sandbox failed unexpectedly: {exc!r}.",
                                   type="server_error", code="internal_error"))


class _SimulatorHeader:
    """ASGI middleware: every response says it comes from a simulator."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-simulator", SIMULATOR_HEADER.encode())]
            await send(message)

        await self.app(scope, receive, send_with_header)


def create_app(state: SandboxState | None = None) -> Starlette:
    """The sandbox as an ASGI app (``state`` holds its settings, faults and records)."""
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/models/{model:path}", retrieve_model, methods=["GET"]),
            Route("/sandbox/stats", stats, methods=["GET"]),
        ],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected,
        },
    )
    app.state.sandbox = state or SandboxState()
    app.add_middleware(_SimulatorHeader)
    return app
