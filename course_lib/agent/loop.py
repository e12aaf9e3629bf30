"""The tool-calling loop: model -> tools (all at once) -> model -> a streamed answer.

The lesson's query "需要同时调用 搜索知识库 + 查工单状态 + 检索用户信息" is, in a real agent, the
*model's* decision. The loop, on the official ``openai`` client:

1. send the conversation with the tool definitions (``stream=True`` with
   ``stream_options={"include_usage": True}``, so every round is billed from its own usage and
   its first token is timed);
2. when the answer is ``tool_calls``, run them **concurrently** with
   :func:`course_lib.tools.run_tools` (per-tool and total timeouts, one tool's failure kept to
   itself); a failed or timed-out tool becomes a ``role: "tool"`` message saying so;
3. append the assistant's message and one tool message per call, and call the model again;
4. when the answer is text, it has been streamed (``on_text`` sees each piece as it arrives):
   return it with every round's usage, timing and cost.

What this costs that calling the tools from code does not: the tool definitions are input
tokens in *every* round, the tool calls are output tokens, the results are input tokens of the
next round, and the user waits for **two** round trips to the model, not one. Rounds are bounded
(``max_rounds``): a model that keeps asking for tools gets :class:`RoundLimitError`, not a loop
that runs up the bill. Cost is priced by the course's one rule, :func:`course_lib.pricing.
usage_cost_usd`, and also recorded in a :class:`course_lib.tracker.CostTracker` if one is given.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import openai
from openai.lib.streaming.chat import ChatCompletionStreamState

from course_lib.fallback import AsyncFallbackClient
from course_lib.pricing import TokenCounts, usage_cost_usd, usage_tokens
from course_lib.tools import ToolCall, ToolResult, run_tools, run_tools_serially, tool_call
from course_lib.tracker import CostTrackerBase

from ..arguments import require_int
from .toolbox import Toolbox, result_content

__all__ = ["AgentLoopResult", "ModelRound", "RoundLimitError", "ToolCallOutcome",
           "run_agent_loop", "second_round_messages"]

Clock = Callable[[], float]


class RoundLimitError(RuntimeError):
    """The model still asked for tools after ``max_rounds`` requests; ``rounds`` holds them."""

    def __init__(self, max_rounds: int, rounds: Sequence[ModelRound]) -> None:
        self.max_rounds = max_rounds
        self.rounds = tuple(rounds)
        asked = [call.name for call in rounds[-1].tool_calls] if rounds else []
        super().__init__(
            f"the model was still asking for tools ({asked}) after max_rounds={max_rounds} "
            f"requests; raise max_rounds if the task needs more rounds, or check for a tool "
            f"whose result never satisfies the model")


@dataclass(frozen=True)
class ToolCallOutcome:
    """One call the model asked for: its id, name and arguments, and how it ended."""

    id: str
    name: str
    arguments: str
    result: ToolResult
    content: str  # what the tool message sent back

    @property
    def status(self) -> str:
        return self.result.status

    @property
    def duration_s(self) -> float | None:
        return self.result.duration


@dataclass(frozen=True)
class ModelRound:
    """One request to the model and, if it asked for tools, the tool phase after it.

    Times are seconds since the loop started (``started_s``) or durations: ``ttft_s`` from
    sending the request to its first token (text or tool-call arguments), ``model_s`` to its
    last chunk, ``tools_s`` for running the calls it asked for (``None`` for the final answer),
    starting at ``tools_started_s``; the calls' own ``started``/``finished`` count from there.
    ``sent_messages`` is how many messages of :attr:`AgentLoopResult.messages` it was sent.
    """

    index: int
    started_s: float
    ttft_s: float | None
    model_s: float
    finish_reason: str | None
    usage: TokenCounts
    cost_usd: Decimal
    sent_messages: int
    tool_calls: tuple[ToolCallOutcome, ...] = ()
    tools_s: float | None = None
    tools_started_s: float | None = None
    model: str = ""  # the model that answered (through a fallback chain, maybe another one)
    requests_sent: int = 1  # with retries through a chain, more than one
    used_fallback: bool = False
    response_id: str = ""  # the completion's id (the sandbox's request id)


@dataclass(frozen=True)
class AgentLoopResult:
    """The streamed answer, the conversation that led to it, and what each round cost."""

    text: str
    model: str
    rounds: tuple[ModelRound, ...]
    messages: tuple[dict[str, Any], ...]
    total_s: float

    @property
    def tool_calls(self) -> tuple[ToolCallOutcome, ...]:
        return tuple(call for r in self.rounds for call in r.tool_calls)

    @property
    def usage(self) -> TokenCounts:
        """Tokens billed over all rounds."""
        return TokenCounts(*(sum(r.usage[i] for r in self.rounds) for i in range(3)))

    @property
    def cost_usd(self) -> Decimal:
        return sum((r.cost_usd for r in self.rounds), Decimal(0))

    @property
    def ttft_s(self) -> float | None:
        """Seconds from the start of the loop to the first token of the answer's text (None:
        not streamed, the first text was the whole answer)."""
        final = self.rounds[-1]
        return None if final.ttft_s is None else final.started_s + final.ttft_s

    @property
    def tools_s(self) -> float:
        return sum(r.tools_s or 0.0 for r in self.rounds)

    @property
    def model_s(self) -> float:
        return sum(r.model_s for r in self.rounds)

    def rounds_table(self) -> str:
        """One line per round trip: messages sent, first token, model time, the tool phase
        after it, tokens in and out, cost."""
        lines = [f"{'round':5} {'messages':>8} {'1st token':>9} {'model':>7} {'tools':>7} "
                 f"{'in':>5} {'out':>4}  cost (USD)"]
        for r in self.rounds:
            ttft = "-" if r.ttft_s is None else f"{1000 * r.ttft_s:.0f}ms"
            tools = "-" if r.tools_s is None else f"{1000 * r.tools_s:.0f}ms"
            lines.append(f"{r.index + 1:<5} {r.sent_messages:8} {ttft:>9} "
                         f"{1000 * r.model_s:5.0f}ms {tools:>7} {r.usage.input_tokens:5} "
                         f"{r.usage.output_tokens:4}  {r.cost_usd}")
        return "\n".join(lines)

    @property
    def requests_sent(self) -> int:
        return sum(r.requests_sent for r in self.rounds)

    @property
    def used_fallback(self) -> bool:
        return any(r.used_fallback for r in self.rounds)

    def timeline(self) -> list[ToolResult]:
        """Every model request and tool call as a span on the loop's clock, for a Gantt chart:
        model requests are named ``model, round N``, tools keep their names and results."""
        spans: list[ToolResult] = []
        for r in self.rounds:
            spans.append(ToolResult(f"model, round {r.index + 1}", "ok", started=r.started_s,
                                    finished=r.started_s + r.model_s))
            for call in r.tool_calls:
                at = r.tools_started_s or 0.0
                result = call.result
                spans.append(dataclasses.replace(
                    result, started=None if result.started is None else at + result.started,
                    finished=None if result.finished is None else at + result.finished))
        return spans


async def _not_offered(name: str, offered: Sequence[str]) -> Any:
    raise LookupError(f"the model called {name!r}, which is not among the tools offered "
                      f"({list(offered)})")


async def _bad_arguments(name: str, arguments: str, why: str) -> Any:
    raise ValueError(f"{name}: arguments {arguments!r} are not a JSON object ({why})")


def _to_call(toolbox: Toolbox, name: str, arguments: str) -> ToolCall:
    """A :class:`ToolCall` for the model's request; a request that cannot run becomes a call
    that fails with the reason, so it is reported like any other failing tool."""
    if name not in toolbox.handlers:
        return tool_call(name or "?", _not_offered, name, toolbox.names)
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError as error:
        return tool_call(name, _bad_arguments, name, arguments, str(error))
    if not isinstance(parsed, dict):
        return tool_call(name, _bad_arguments, name, arguments, type(parsed).__name__)
    return tool_call(name, toolbox.handlers[name], **parsed)


def _assistant_asks(content: str | None, calls: Sequence[tuple[str, str, str]]
                    ) -> dict[str, Any]:
    """The assistant message asking for ``(id, name, arguments)`` calls."""
    return {"role": "assistant", "content": content, "tool_calls": [
        {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}
        for id_, name, arguments in calls]}


def _tool_message(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


async def second_round_messages(messages: Sequence[Mapping[str, Any]], toolbox: Toolbox,
                                calls: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The conversation the loop's second request sends when the model asks for ``calls``
    (tool name -> arguments) in its first answer: ``messages``, the assistant's tool calls, and
    the tools' results, run here through ``toolbox``. A :class:`course_lib.request_plan.
    RequestPlan` prices the second round trip with it before the loop sends anything."""
    asked = [(f"call_{index}", name, json.dumps(dict(arguments)))
             for index, (name, arguments) in enumerate(calls.items())]
    results = await run_tools([_to_call(toolbox, name, arguments)
                               for _, name, arguments in asked])
    return [*(dict(m) for m in messages), _assistant_asks(None, asked),
            *(_tool_message(id_, result_content(r))
              for (id_, _, _), r in zip(asked, results, strict=True))]


@dataclass(frozen=True)
class _Sent:
    """One round's answer: the completion, who answered, and its times from sending."""

    final: Any
    model: str
    ttft_s: float | None
    model_s: float
    requests_sent: int = 1
    used_fallback: bool = False


async def _read_stream(chunks: Any, on_text: Callable[[str], None] | None, clock: Clock,
                       sent_at: float) -> tuple[Any, float | None]:
    """Assemble raw chunks into the completion the SDK would have returned; time the first."""
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    first: float | None = None
    async for chunk in chunks:
        state.handle_chunk(chunk)
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if first is None and (delta.content or delta.tool_calls):
                first = clock() - sent_at
            if delta.content and on_text is not None:
                on_text(delta.content)
    return state.get_final_completion(), first


async def _send_round(client: openai.AsyncOpenAI, chain: AsyncFallbackClient | None,
                      request: dict[str, Any], *, stream: bool,
                      on_text: Callable[[str], None] | None, clock: Clock) -> _Sent:
    """Send one round, streamed or not, straight to ``client`` or through ``chain``."""
    sent_at = clock()
    model = request.pop("model")
    if chain is not None and stream:
        committed = await chain.stream(**request)  # returns at the first token, after retries
        final, ttft = await _read_stream(committed, on_text, clock, sent_at)
        sent = sum(1 for a in committed.attempts if a.outcome != "skipped")
        return _Sent(final, committed.model, ttft, clock() - sent_at, sent,
                     committed.used_fallback)
    if chain is not None:
        result = await chain.create(**request)
        return _Sent(result.response, result.model, None, clock() - sent_at,
                     result.requests_sent, result.used_fallback)
    if stream:
        chunks = await client.chat.completions.create(
            model=model, stream=True, stream_options={"include_usage": True}, **request)
        final, ttft = await _read_stream(chunks, on_text, clock, sent_at)
        return _Sent(final, model, ttft, clock() - sent_at)
    final = await client.chat.completions.create(model=model, **request)
    return _Sent(final, model, None, clock() - sent_at)


async def run_agent_loop(
    client: openai.AsyncOpenAI,
    messages: Sequence[Mapping[str, Any]],
    toolbox: Toolbox,
    *,
    model: str = "gpt-4o",
    max_rounds: int = 4,
    concurrent: bool = True,
    timeout_per_tool: float | None = None,
    total_tool_timeout: float | None = None,
    on_text: Callable[[str], None] | None = None,
    tracker: CostTrackerBase | None = None,
    clock: Clock = time.perf_counter,
    stream: bool = True,
    chain: AsyncFallbackClient | None = None,
    **options: Any,
) -> AgentLoopResult:
    """Answer ``messages`` with ``toolbox``'s tools, calling the model until it answers in text.

    ``concurrent=False`` runs each round's calls one after another (the baseline the lesson
    compares with). ``stream=False`` sends every round unstreamed: the first text is then the
    whole answer (``ttft_s`` is None). ``chain`` sends every round through a fallback chain
    (:class:`course_lib.fallback.AsyncFallbackClient`: retries, then the other model; its links
    name the models, so ``model`` is not used), and each round records the model that answered.
    ``options`` go to every request (``tool_choice``, ``temperature``, ...).
    """
    max_rounds = require_int("max_rounds", max_rounds, minimum=1)
    conversation = [dict(m) for m in messages]
    runner = run_tools if concurrent else run_tools_serially
    rounds: list[ModelRound] = []
    origin = clock()
    for index in range(max_rounds):
        sent = len(conversation)
        started = clock()
        reply = await _send_round(client, chain, {
            "model": model, "messages": list(conversation), "tools": toolbox.tools_param(),
            **options}, stream=stream, on_text=on_text, clock=clock)
        final = reply.final
        usage = usage_tokens(final.usage)
        cost = usage_cost_usd(reply.model, final.usage)
        if tracker is not None:
            tracker.record_usage(reply.model, final.usage)
        choice = final.choices[0]
        asked = list(choice.message.tool_calls or ())
        round_ = ModelRound(index, started - origin, reply.ttft_s, reply.model_s,
                            choice.finish_reason, usage, cost, sent, model=reply.model,
                            requests_sent=reply.requests_sent, used_fallback=reply.used_fallback,
                            response_id=getattr(final, "id", "") or "")
        if not asked:
            rounds.append(round_)
            text = choice.message.content or ""
            conversation.append({"role": "assistant", "content": text})
            return AgentLoopResult(text, reply.model, tuple(rounds), tuple(conversation),
                                   clock() - origin)
        calls = [(c.id, c.function.name, c.function.arguments) for c in asked]
        conversation.append(_assistant_asks(choice.message.content, calls))
        tools_started = clock()
        results = await runner([_to_call(toolbox, c.function.name, c.function.arguments)
                                for c in asked], timeout_per_tool=timeout_per_tool,
                               total_timeout=total_tool_timeout, clock=clock)
        tools_s = clock() - tools_started
        outcomes = tuple(ToolCallOutcome(c.id, c.function.name, c.function.arguments, r,
                                         result_content(r)) for c, r in zip(asked, results,
                                                                            strict=True))
        conversation += [_tool_message(o.id, o.content) for o in outcomes]
        rounds.append(dataclasses.replace(round_, tool_calls=outcomes, tools_s=tools_s,
                                          tools_started_s=tools_started - origin))
    raise RoundLimitError(max_rounds, rounds)
