"""``POST /v1/chat/completions``: parse the request, plan the answer, write it as JSON or as SSE.

1. **Parse** (:mod:`.protocol`): the body becomes a :class:`~.protocol.ChatRequest`, or a 4xx.
2. **Plan** (:func:`plan_answer`): what the simulated model says (text from :mod:`.answers` or
   from the tool results in the conversation, or tool calls from :mod:`.tool_calls`), its exact
   usage, and its schedule: the time to first token, then one interval per output token. A
   tool-calling answer is paced the same way over its function names and argument tokens.
3. **Write**: :func:`json_response` waits the whole schedule and sends one body;
   :func:`sse_response` sends each token as it is due, as ``chat.completion.chunk`` events
   (tool calls as ``delta.tool_calls`` pieces the SDK assembles), ending with ``data: [DONE]``.

Faults (:mod:`.faults`) are decided between parsing and planning: a 429/500/503 answers at
once, a ``hang`` never answers, a ``cut`` breaks a stream after a few tokens.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from course_lib import models, tokens
from course_lib.http_edge import ApiError, read_json
from course_lib.sandbox.answers import compose_answer, related_answers
from course_lib.sandbox.faults import Fault
from course_lib.sandbox.profiles import ModelProfile
from course_lib.sandbox.protocol import (
    MAX_BODY_BYTES,
    ChatRequest,
    chat_profile,
    check_context_window,
    message_text,
    parse_chat_request,
    requested_fault,
)
from course_lib.sandbox.serve_as import simulated_request
from course_lib.sandbox.state import RequestRecord, SandboxState, SimulatedStreamCut
from course_lib.sandbox.tool_calls import PlannedCall, decide_tool_calls
from course_lib.sandbox.tool_results import answer_from_tool_results, tool_outcomes

__all__ = ["ChatPlan", "chat_completions", "json_response", "plan_answer", "resolved_model_name",
           "sse_response"]

SYSTEM_FINGERPRINT = "fp_course_sandbox"
_ROLE_DELTA = {"role": "assistant", "content": "", "refusal": None}


@dataclass(frozen=True)
class Token:
    """One output token of a plan: the model seconds since the token before it (0 for the
    first, which comes at the time to first token) and what a stream sends once it is
    generated (None: nothing yet, e.g. half of a Chinese character)."""

    delay_s: float
    delta: dict[str, Any] | None


@dataclass(frozen=True)
class ChatPlan:
    """Everything about one answer except how it is sent."""

    base: dict[str, Any]
    message: dict[str, Any]
    finish_reason: str
    usage: dict[str, Any]
    ttft_s: float
    tokens: tuple[Token, ...]
    opening: dict[str, Any] | None  # a text stream's first chunk: the role, no content yet

    @property
    def seconds(self) -> float:
        """Model seconds from the request to the last token."""
        return self.ttft_s + sum(token.delay_s for token in self.tokens)


def resolved_model_name(model: str) -> str:
    # The API answers "gpt-4o" requests as the dated snapshot the alias points at.
    return models.resolve(model)


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


def _rendered_prompt(chat: ChatRequest) -> str:
    # An approximation of how the prompt is laid out, used only to find shared prefixes.
    parts = [f"{m.role}\n{getattr(m, 'name', None) or ''}\n{message_text(m)}\n"
             + "".join(f"{c.function.name}{c.function.arguments}"
                       for c in getattr(m, "tool_calls", None) or ())
             for m in chat.messages]
    if chat.tools:
        parts.insert(0, json.dumps(chat.tool_dicts(), sort_keys=True))
    return "".join(parts)


def _pieces(encoding: Any, token_ids: list[int]) -> list[str]:
    """Text of each token, keeping multi-byte characters whole (Chinese splits across tokens)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces = [decoder.decode(encoding.decode_single_token_bytes(t)) for t in token_ids]
    tail = decoder.decode(b"", final=True)
    if tail and pieces:
        pieces[-1] += tail
    return pieces


def _text_ids(chat: ChatRequest, profile: ModelProfile, encoding: Any
              ) -> tuple[list[int], str | None]:
    """The text answer as token ids (``answer_tokens`` long when asked for), and its entry."""
    user_turns = [m for m in chat.messages if m.role == "user"]
    query = message_text(user_turns[-1] if user_turns else chat.messages[-1])
    outcomes = tool_outcomes(chat)
    answer = (answer_from_tool_results(outcomes, profile.answer_style) if outcomes
              else compose_answer(query, profile.answer_style))
    ids = encoding.encode(answer.text, disallowed_special=())
    target = chat.answer_tokens
    if target is not None:
        for extra in related_answers(query, profile.answer_style, answer.entry_id):
            if len(ids) >= target:
                break
            ids += encoding.encode("\n\n" + extra, disallowed_special=())
        while len(ids) < target:  # a tiny knowledge base cannot run out
            ids += encoding.encode("\n\n" + answer.text, disallowed_special=())
        ids = ids[:target]
    return ids, answer.entry_id


def _decide(chat: ChatRequest, profile: ModelProfile, encoding: Any
            ) -> tuple[list[PlannedCall], list[int], str | None]:
    calls = decide_tool_calls(chat)
    if calls:
        return calls, [], None
    ids, entry_id = _text_ids(chat, profile, encoding)
    return [], ids, entry_id


def _call_tokens(calls: list[PlannedCall], encoding: Any, limit: int | None
                 ) -> tuple[list[PlannedCall], list[list[int]], list[list[int]], bool]:
    """Each call's name and argument tokens, cut at ``limit`` tokens in all (a call whose name
    does not fit is dropped; the last one's arguments may stop short, as the API's do)."""
    kept, names, arguments, used = [], [], [], 0
    for call in calls:
        name_ids = encoding.encode(call.name, disallowed_special=())
        argument_ids = encoding.encode(call.arguments, disallowed_special=())
        if limit is not None and used + len(name_ids) > limit:
            return kept, names, arguments, True
        used += len(name_ids)
        room = len(argument_ids) if limit is None else min(len(argument_ids), limit - used)
        kept.append(call)
        names.append(name_ids)
        arguments.append(argument_ids[:room])
        used += room
        if room < len(argument_ids):
            return kept, names, arguments, True
    return kept, names, arguments, False


async def plan_answer(state: SandboxState, chat: ChatRequest, profile: ModelProfile,
                      prompt_tokens: int, record: RequestRecord, served_as: str | None = None
                      ) -> ChatPlan:
    """Decide what the model answers and when each token comes (see the module docstring).
    ``served_as``: the name the request used, when the sandbox serves other names."""
    encoding = tokens.encoding_for(chat.model)
    calls, text_ids, entry_id = await anyio.to_thread.run_sync(_decide, chat, profile, encoding)
    limit = chat.completion_limit
    prompt_ids = encoding.encode(_rendered_prompt(chat), disallowed_special=())
    cached = min(state.prefix_cache.lookup_and_store(chat.model, prompt_ids), prompt_tokens)
    rng = state.next_rng()
    ttft = profile.time_to_first_token(prompt_tokens, cached, rng)

    deltas: list[dict[str, Any] | None] = []
    if calls:
        kept, names, arguments, cut = _call_tokens(calls, encoding, limit)
        tool_calls = []
        for index, (call, name_ids, argument_ids) in enumerate(
                zip(kept, names, arguments, strict=True)):
            argument_text = encoding.decode(argument_ids)
            tool_calls.append({"id": call.id, "type": "function",
                               "function": {"name": call.name, "arguments": argument_text}})
            header: dict[str, Any] = {"tool_calls": [{
                "index": index, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": ""}}]}
            if index == 0:
                header = {"role": "assistant", "content": None, **header, "refusal": None}
            deltas += [None] * (len(name_ids) - 1) + [header]
            deltas += [{"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                       if piece else None for piece in _pieces(encoding, argument_ids)]
        finish_reason = "length" if cut else "tool_calls"
        message: dict[str, Any] = {"role": "assistant", "content": None if tool_calls else "",
                                   "refusal": None, "annotations": []}
        if tool_calls:
            message["tool_calls"] = tool_calls
        opening = None if tool_calls else _ROLE_DELTA
        record.tool_calls = len(tool_calls)
    else:
        finish_reason = "stop"
        if limit is not None and len(text_ids) > limit:
            text_ids, finish_reason = text_ids[:limit], "length"
        deltas = [{"content": piece} if piece else None
                  for piece in _pieces(encoding, text_ids)]
        message = {"role": "assistant", "content": encoding.decode(text_ids), "refusal": None,
                   "annotations": []}
        opening = _ROLE_DELTA
    delays = [profile.seconds_per_token(rng) if index else 0.0 for index in range(len(deltas))]
    record.cached_tokens = cached
    record.entry_id = entry_id
    record.planned_completion_tokens = len(deltas)
    record.planned_ttft_s = ttft * state.time_scale
    record.finish_reason = finish_reason
    base = {
        "id": record.request_id,
        "object": "chat.completion.chunk" if chat.stream else "chat.completion",
        "created": int(time.time()),
        "model": served_as or resolved_model_name(chat.model),
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "service_tier": "default",
    }
    return ChatPlan(base, message, finish_reason, _usage(prompt_tokens, cached, len(deltas)), ttft,
                    tuple(Token(d, delta) for d, delta in zip(delays, deltas, strict=True)),
                    opening)


async def json_response(state: SandboxState, plan: ChatPlan, record: RequestRecord,
                        started: float) -> Response:
    """The whole answer in one body, once its last token is due."""
    await state.sleep(plan.seconds)
    record.completion_tokens = len(plan.tokens)
    record.duration_s = time.monotonic() - started
    return JSONResponse({
        **plan.base,
        "choices": [{"index": 0, "message": plan.message, "logprobs": None,
                     "finish_reason": plan.finish_reason}],
        "usage": plan.usage,
    }, headers={"x-request-id": record.request_id})


def _chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None, include_usage: bool
           ) -> bytes:
    chunk = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                  "finish_reason": finish}]}
    if include_usage:
        chunk["usage"] = None
    return b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"


def sse_response(state: SandboxState, plan: ChatPlan, record: RequestRecord, started: float,
                 include_usage: bool, cut_after: int | None) -> Response:
    """The answer as server-sent events, each token when it is due.

    ``cut_after`` (the ``cut`` fault) breaks the connection before that token: the client sees
    the body end early, with no finish_reason and no ``[DONE]``.
    """

    async def events() -> AsyncIterator[bytes]:
        try:
            pacer = state.pacer()
            await pacer.wait(plan.ttft_s)
            if plan.opening is not None:
                yield _chunk(plan.base, plan.opening, None, include_usage)
            for index, token in enumerate(plan.tokens):
                if index:
                    await pacer.wait(token.delay_s)
                if cut_after is not None and index >= cut_after:
                    raise SimulatedStreamCut("sandbox fault: stream cut mid-answer")
                record.completion_tokens = index + 1
                if token.delta is not None:
                    yield _chunk(plan.base, token.delta, None, include_usage)
            yield _chunk(plan.base, {}, plan.finish_reason, include_usage)
            if include_usage:
                usage_chunk = {**plan.base, "choices": [], "usage": plan.usage}
                yield b"data: " + json.dumps(usage_chunk).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            record.cancelled = True  # the client went away: generation stops here
            raise
        finally:
            record.duration_s = time.monotonic() - started

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"x-request-id": record.request_id,
                                      "cache-control": "no-cache"})


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


async def hang(state: SandboxState, request: Request, record: RequestRecord) -> ApiError:
    """Answer nothing until the client leaves, the sandbox stops, or ``hang_seconds`` pass."""
    deadline = time.monotonic() + state.hang_seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected() or (
            state.shutting_down is not None and state.shutting_down.is_set()
        ):
            break
        await asyncio.sleep(0.02)
    record.status, record.cancelled = 504, True
    return ApiError(504, "The sandbox simulated a request that never answered.",
                    type="server_error", code="timeout")


async def fail(state: SandboxState, fault: Fault, record: RequestRecord, pause_s: float
               ) -> ApiError:
    """The error a 429/500/503 fault answers with, after ``pause_s`` of model time."""
    await state.sleep(pause_s)
    error = _fault_error(fault, state.time_scale)
    record.status = error.status
    return error


async def chat_completions(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    started = time.monotonic()
    body, served_as = simulated_request(await read_json(request, max_bytes=MAX_BODY_BYTES),
                                        state.serve_as)
    chat = parse_chat_request(body)
    profile = chat_profile(chat.model)
    wanted_fault = requested_fault(request.headers)
    prompt_tokens = tokens.count_chat_tokens(chat.message_dicts(), chat.model,
                                             tools=chat.tool_dicts())
    check_context_window(prompt_tokens, chat.completion_limit, profile)

    fault = state.faults.decide(chat.model, wanted_fault)
    record = state.record(RequestRecord(
        request_id=f"chatcmpl-{uuid.uuid4().hex[:24]}", endpoint="chat.completions",
        model=served_as or chat.model, stream=bool(chat.stream), prompt_tokens=prompt_tokens,
        fault=fault.kind if fault else None,
    ))
    try:
        if fault is not None and (fault.kind in ("429", "500", "503")
                                  or (fault.kind == "cut" and not chat.stream)):
            raise await fail(state, fault, record, 0.05)
        if fault is not None and fault.kind == "hang":
            raise await hang(state, request, record)
        plan = await plan_answer(state, chat, profile, prompt_tokens, record, served_as)
    finally:
        record.duration_s = time.monotonic() - started
    if not chat.stream:
        return await json_response(state, plan, record, started)
    cut_after = fault.cut_after_tokens if fault is not None and fault.kind == "cut" else None
    return sse_response(state, plan, record, started, chat.include_usage, cut_after)
