"""The tool-calling loop of ``course_lib.agent``, driven end to end through the official client.

The sandbox's simulated model asks for the Kitewing tools; the loop runs them (the real
``SupportTools``: embeddings and SQLite) concurrently, sends the results back and streams the
answer. Concurrency is proven with a barrier that only opens when all three tools are running at
once; usage is compared with the sandbox's request records and with ``course_lib.tokens``.
"""

from __future__ import annotations

import asyncio
import json

import openai
import pytest

from course_lib import pricing, tokens
from course_lib.agent import RoundLimitError, Toolbox, run_agent_loop, support_toolbox
from course_lib.tools import SupportTools, no_latency
from course_lib.tracker import CostTracker

pytestmark = pytest.mark.timing

SANDBOX_SEED = 3
MODEL = "gpt-4o"
USER_ID, TICKET_ID = 42, 10427
QUESTION = (f"I'm user {USER_ID} and my ticket #{TICKET_ID} is still open. How do I reconnect "
            "Slack notifications?")
MESSAGES = [{"role": "system", "content": "You are Kitewing's support assistant."},
            {"role": "user", "content": QUESTION}]
THREE = ["search_kb", "ticket_status", "user_profile"]
BARRIER_TIMEOUT_S = 5.0  # only reached if the three tools are never running at the same time


def run(coroutine):
    return asyncio.run(coroutine)


async def loop_with(sb, latency=None, **options):
    """One loop through a strict official client; (result, streamed pieces, toolbox)."""
    pieces: list[str] = []
    toolbox = support_toolbox(SupportTools(latency=latency or {
        name: no_latency for name in THREE}))
    async with openai.AsyncOpenAI(base_url=sb.base_url, api_key="test", max_retries=0,
                                  _strict_response_validation=True) as client:
        result = await run_agent_loop(client, MESSAGES, toolbox, model=MODEL,
                                      on_text=pieces.append, **options)
    return result, pieces, toolbox


def barrier_latency(parties: int):
    """A latency for each tool that returns only once ``parties`` tools are waiting at once."""
    barrier = asyncio.Barrier(parties)

    async def wait() -> float:
        await barrier.wait()
        return 0.0
    return wait


async def truth():
    """What the real tools say, asked directly (not through the loop)."""
    tools = SupportTools(latency={name: no_latency for name in THREE})
    return (await tools.ticket_status(TICKET_ID), await tools.user_profile(USER_ID),
            await tools.search_kb("How do I reconnect Slack notifications?"))


def test_three_tools_asked_at_once_run_concurrently_and_the_streamed_answer_uses_them(
        sb) -> None:
    async def scenario():
        latency = barrier_latency(3)
        return await loop_with(sb, {name: latency for name in THREE},
                               timeout_per_tool=BARRIER_TIMEOUT_S), await truth()

    (result, pieces, _), (ticket, profile, search) = run(scenario())
    first, final = result.rounds
    assert first.finish_reason == "tool_calls" and final.finish_reason == "stop"
    assert [call.name for call in first.tool_calls] == THREE
    assert [json.loads(call.arguments) for call in first.tool_calls] == [
        {"query": "How do I reconnect Slack notifications?"}, {"ticket_id": TICKET_ID},
        {"user_id": USER_ID}]
    # The barrier opened: each tool was waiting while the other two were.
    assert [call.status for call in first.tool_calls] == ["ok", "ok", "ok"]
    latest_start = max(call.result.started for call in first.tool_calls)
    assert all(call.result.finished > latest_start for call in first.tool_calls)
    assert all(call.duration_s is not None for call in first.tool_calls)
    # Every result went back as a tool message answering its call.
    tool_messages = [m for m in result.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == [c.id for c in first.tool_calls]
    # The streamed answer is written from the real tools' values.
    assert len(pieces) > 1 and "".join(pieces) == result.text
    assert f"#{TICKET_ID}" in result.text and ticket.status.replace("_", " ") in result.text
    assert f"{profile.plan} plan" in result.text
    assert search.hits[0].entry.answer_full in result.text
    assert result.messages[-1] == {"role": "assistant", "content": result.text}


def test_run_one_after_another_the_same_tools_never_meet_at_the_barrier(sb) -> None:
    async def scenario():
        latency = barrier_latency(3)
        return await loop_with(sb, {name: latency for name in THREE}, concurrent=False,
                               timeout_per_tool=0.2)

    result, _, _ = run(scenario())
    assert [call.status for call in result.tool_calls] == ["timeout"] * 3
    starts = [call.result.started for call in result.tool_calls]
    finishes = [call.result.finished for call in result.tool_calls]
    assert all(finishes[i] <= starts[i + 1] for i in range(2))  # no two ever overlapped
    assert result.rounds[-1].finish_reason == "stop"


def test_usage_is_exactly_what_the_sandbox_counted_and_is_priced_once(sb) -> None:
    tracker = CostTracker()
    result, _, toolbox = run(loop_with(sb, tracker=tracker))
    records = [r for r in sb.requests if r.endpoint == "chat.completions"]
    assert len(records) == len(result.rounds) == 2
    tools = toolbox.tools_param()
    for round_, record in zip(result.rounds, records, strict=True):
        sent = list(result.messages[:round_.sent_messages])
        assert round_.usage.input_tokens == record.prompt_tokens == tokens.count_chat_tokens(
            sent, MODEL, tools=tools)
        assert round_.usage.output_tokens == record.completion_tokens
        assert round_.cost_usd == pricing.cost_usd(MODEL, record.prompt_tokens,
                                                   record.completion_tokens)
    assistant = result.messages[result.rounds[1].sent_messages - 4]
    assert result.rounds[0].usage.output_tokens == tokens.count_tool_call_tokens(
        assistant["tool_calls"], MODEL)
    assert result.rounds[1].usage.output_tokens == tokens.count_tokens(result.text, MODEL)
    # The second round pays for the tool results as input.
    assert result.rounds[1].usage.input_tokens > result.rounds[0].usage.input_tokens + sum(
        tokens.count_tokens(call.content, MODEL) for call in result.tool_calls)
    assert result.usage.input_tokens == sum(r.prompt_tokens for r in records)
    assert tracker.summary()["total_cost_usd"] == result.cost_usd > 0


def test_timing_is_per_round_and_the_answer_starts_after_the_tools(sb) -> None:
    result, _, _ = run(loop_with(sb))
    for round_ in result.rounds:
        assert round_.ttft_s is not None and 0 < round_.ttft_s <= round_.model_s
    first, final = result.rounds
    assert final.started_s >= first.started_s + first.model_s + first.tools_s
    assert result.ttft_s == final.started_s + final.ttft_s
    assert result.total_s >= final.started_s + final.model_s
    # On one clock: the first request, then the three tools, then the second request.
    spans = result.timeline()
    assert [s.name for s in spans] == ["model, round 1", *THREE, "model, round 2"]
    assert spans[0].finished <= min(s.started for s in spans[1:4])
    assert max(s.finished for s in spans[1:4]) <= spans[4].started


def test_a_failing_tool_becomes_a_tool_message_and_the_loop_still_answers(sb) -> None:
    async def ticketing_down() -> float:
        raise ConnectionError("ticketing API is down")

    result, _, _ = run(loop_with(sb, {"search_kb": no_latency, "user_profile": no_latency,
                                      "ticket_status": ticketing_down}))
    by_name = {call.name: call for call in result.tool_calls}
    assert by_name["ticket_status"].status == "error"
    assert json.loads(by_name["ticket_status"].content)["error"] == (
        "ConnectionError: ticketing API is down")
    assert by_name["search_kb"].status == by_name["user_profile"].status == "ok"
    assert f"could not check ticket #{TICKET_ID}" in result.text
    assert "ticketing API is down" in result.text and "plan" in result.text


def test_a_timed_out_tool_becomes_a_tool_message_and_the_loop_still_answers(sb) -> None:
    async def never_answers() -> float:
        await asyncio.Event().wait()
        return 0.0

    result, _, _ = run(loop_with(sb, {"search_kb": no_latency, "ticket_status": no_latency,
                                      "user_profile": never_answers}, timeout_per_tool=0.2))
    by_name = {call.name: call for call in result.tool_calls}
    assert by_name["user_profile"].status == "timeout"
    assert json.loads(by_name["user_profile"].content)["tool_status"] == "timeout"
    assert "timed out after timeout_per_tool=0.2 s" in by_name["user_profile"].content
    assert "could not look up your account" in result.text
    assert f"#{TICKET_ID}" in result.text


def test_the_round_limit_raises_a_clear_error(sb) -> None:
    with pytest.raises(RoundLimitError, match=r"max_rounds=1") as raised:
        run(loop_with(sb, max_rounds=1))
    assert [call.name for call in raised.value.rounds[0].tool_calls] == THREE
    assert len(sb.requests) == 1  # nothing sent after the limit
    with pytest.raises(ValueError, match="max_rounds must be >= 1, got 0"):
        run(loop_with(sb, max_rounds=0))


def test_a_toolbox_needs_one_implementation_per_offered_tool() -> None:
    toolbox = support_toolbox(SupportTools(latency={name: no_latency for name in THREE}))
    assert toolbox.names == tuple(THREE)
    with pytest.raises(ValueError, match=r"no implementation for \['user_profile'\]"):
        Toolbox(toolbox.definitions, {k: v for k, v in toolbox.handlers.items()
                                      if k != "user_profile"})


def test_an_unstreamed_loop_bills_the_same_and_has_no_first_token_time(sb) -> None:
    streamed, _, _ = run(loop_with(sb))
    whole, pieces, _ = run(loop_with(sb, stream=False))
    assert whole.text == streamed.text and whole.usage == streamed.usage
    assert whole.ttft_s is None and pieces == [], "not streamed: nothing before the whole answer"
    chat = [r for r in sb.requests if r.endpoint == "chat.completions"][-4:]
    assert [r.stream for r in chat] == [True, True, False, False]
    assert [r.response_id for r in whole.rounds] == [r.request_id for r in chat[2:]]
