"""The sandbox's HTTP application: OpenAI's chat, embeddings and models endpoints.

Served by uvicorn (see ``server.py``); the official ``openai`` client talks to it unchanged.
Every body is parsed once into a typed request (:mod:`.protocol`, on the shared edge of
:mod:`course_lib.http_edge`), so every malformed request is a 4xx JSON error in OpenAI's shape.
Usage is exact (prompt tokens counted by :mod:`course_lib.tokens` with OpenAI's rules, output
tokens by the model's tiktoken encoding), latency follows :mod:`.profiles`, failures come from
:mod:`.faults`, answers from :mod:`.answers` and, with tools, :mod:`.tool_calls` and
:mod:`.tool_results`; the chat endpoint itself is :mod:`.chat`.

Sandbox-only extras, never needed by ordinary code:

* request header ``X-Sandbox-Fault: 429|500|503|hang|cut`` fails that one request;
* request field ``"sandbox": {"answer_tokens": N}`` (``extra_body`` in the client) makes the
  answer exactly N tokens long (lengthened with related knowledge-base answers), for latency
  experiments that need a long answer;
* ``GET /sandbox/stats?last=N``: what the sandbox generated, per request (including streams that
  a client abandoned), so a notebook can show tokens never generated.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import asdict
from typing import Any

import anyio
import numpy as np
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from course_lib import tokens
from course_lib.http_edge import (
    ApiError,
    error_response,
    http_exception,
    parse_model,
    read_json,
    unexpected_error,
)
from course_lib.sandbox.chat import (
    SYSTEM_FINGERPRINT,
    chat_completions,
    fail,
    hang,
    resolved_model_name,
)
from course_lib.sandbox.profiles import MODEL_PROFILES
from course_lib.sandbox.protocol import (
    MAX_BODY_BYTES,
    StatsQuery,
    check_dimensions,
    check_embedding_tokens,
    embedding_profile,
    embedding_texts,
    parse_embedding_request,
    requested_fault,
)
from course_lib.sandbox.serve_as import simulated_request
from course_lib.sandbox.state import RequestRecord, SandboxState, SimulatedStreamCut

__all__ = ["MODEL_OWNER", "SIMULATOR_HEADER", "SYSTEM_FINGERPRINT", "RequestRecord",
           "SandboxState", "SimulatedStreamCut", "create_app"]

SIMULATOR_HEADER = "course_lib.sandbox: a local simulator, not a real model"
MODEL_OWNER = "course-sandbox"  # the owned_by of every model in GET /v1/models


async def embeddings(request: Request) -> Response:
    from course_lib.embeddings import EMBEDDING_DIM, embed

    state: SandboxState = request.app.state.sandbox
    started = time.monotonic()
    body, served_as = simulated_request(await read_json(request, max_bytes=MAX_BODY_BYTES),
                                        state.serve_as)
    call = parse_embedding_request(body)
    profile = embedding_profile(call.model)
    encoding = tokens.encoding_for(call.model)
    check_dimensions(call.dimensions, EMBEDDING_DIM)
    texts = embedding_texts(call, encoding)
    counts = [len(encoding.encode(text, disallowed_special=())) for text in texts]
    check_embedding_tokens(counts)
    fault = state.faults.decide(call.model, requested_fault(request.headers))
    record = state.record(RequestRecord(
        request_id=f"emb-{uuid.uuid4().hex[:24]}", endpoint="embeddings",
        model=served_as or call.model,
        prompt_tokens=sum(counts), fault=fault.kind if fault else None))
    if fault is not None and fault.kind == "hang":
        raise await hang(state, request, record)
    if fault is not None:
        raise await fail(state, fault, record, 0.02)
    rng = state.next_rng()
    vectors = await anyio.to_thread.run_sync(state.embedding_memo.embed, texts, embed)
    if call.dimensions is not None and call.dimensions < EMBEDDING_DIM:
        # Shortened like OpenAI's v3 models: keep the leading dimensions, then re-normalise.
        vectors = vectors[:, : call.dimensions]
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    ttft = profile.time_to_first_token(sum(counts), 0, rng)
    record.planned_ttft_s = ttft * state.time_scale
    await state.sleep(ttft)
    as_base64 = call.encoding_format == "base64"
    data = [{"object": "embedding", "index": index,
             "embedding": base64.b64encode(vector.astype("<f4").tobytes()).decode() if as_base64
             else [float(x) for x in vector]}
            for index, vector in enumerate(vectors)]
    record.duration_s = time.monotonic() - started
    return JSONResponse({
        "object": "list",
        "data": data,
        "model": served_as or resolved_model_name(call.model),
        "usage": {"prompt_tokens": sum(counts), "total_tokens": sum(counts)},
    }, headers={"x-request-id": record.request_id})


def _model_object(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": MODEL_OWNER}


def _served(request: Request) -> list[str]:
    state: SandboxState = request.app.state.sandbox
    return list(state.serve_as) or list(MODEL_PROFILES)


async def list_models(request: Request) -> Response:
    return JSONResponse({"object": "list", "data": [_model_object(m) for m in _served(request)]})


async def retrieve_model(request: Request) -> Response:
    name = request.path_params["model"]
    if name not in _served(request):
        raise ApiError(404, f"The model `{name[:256]}` does not exist or you do not have access "
                       "to it.", param="model", code="model_not_found")
    return JSONResponse(_model_object(name))


async def stats(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    query = parse_model(StatsQuery, dict(request.query_params), strict=False)
    records = [asdict(r) for r in list(state.records)]
    return JSONResponse({
        "time_scale": state.time_scale,
        "requests": len(records),
        "completion_tokens_generated": sum(r["completion_tokens"] for r in records),
        "records": records[len(records) - query.last:] if query.last else [],
    })


async def index(request: Request) -> Response:
    return JSONResponse({"sandbox": SIMULATOR_HEADER, "openai_base_url": "/v1",
                         "endpoints": ["/v1/chat/completions", "/v1/embeddings", "/v1/models",
                                       "/sandbox/stats"]})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _client_gone(request: Request, exc: Exception) -> Response:
    # The client closed the connection while we read its body; nobody is left to answer.
    return Response(status_code=499)


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
            HTTPException: http_exception,
            ClientDisconnect: _client_gone,
            Exception: unexpected_error,
        },
    )
    app.state.sandbox = state or SandboxState()
    app.add_middleware(_SimulatorHeader)
    return app
