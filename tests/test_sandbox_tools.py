"""Function calling in the sandbox, through the official client with strict validation.

The simulated model decides from the conversation which Kitewing support tools to call, with
arguments taken from the text; results come back as ``tool`` messages and the next answer uses
them; streamed tool calls assemble into the same calls; usage is exact; malformed tool
conversations get OpenAI's 400s.
"""

from __future__ import annotations

import json
import time

import openai
import pytest

from course_lib import sandbox, tokens
from course_lib.datasets import load_knowledge_base
from course_lib.sandbox.support_tools import SUPPORT_TOOL_DEFINITIONS

pytestmark = pytest.mark.timing

TOOLS = [dict(tool) for tool in SUPPORT_TOOL_DEFINITIONS]
SYSTEM = {"role": "system", "content": "You are Kitewing's support assistant."}
THREE_AT_ONCE = ("I'm user 42 and my ticket #10427 is still open. How do I reconnect Slack "
                 "notifications?")
WEATHER = {"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather in a given location",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                   "required": ["location"]}}}


@pytest.fixture(scope="module")
def sb():
    with sandbox.start(time_scale=0, seed=3) as handle:
        yield handle


@pytest.fixture()
def client(sb):
    sb.time_scale = 0
    with openai.OpenAI(base_url=sb.base_url, api_key="test", max_retries=0,
                       _strict_response_validation=True) as c:
        yield c


def ask(client, text: str, **options):
    messages = [SYSTEM, {"role": "user", "content": text}]
    return messages, client.chat.completions.create(model="gpt-4o", messages=messages,
                                                     **{"tools": TOOLS, **options})


def calls_of(response) -> list[tuple[str, dict]]:
    return [(c.function.name, json.loads(c.function.arguments))
            for c in response.choices[0].message.tool_calls or ()]


def answered(messages, response, results: dict[str, str]) -> list[dict]:
    """``messages`` + the assistant's tool calls + one tool message per call (by tool name)."""
    message = response.choices[0].message
    return [*messages, message.model_dump(exclude_none=True),
            *({"role": "tool", "tool_call_id": call.id, "content": results[call.function.name]}
              for call in message.tool_calls)]


TICKET = json.dumps({"id": 10427, "user_id": 42, "subject": "Slack integration setup",
                     "status": "on_hold", "priority": "high", "assignee": "Dana"})
PROFILE = json.dumps({"id": 42, "name": "Ryan Smith", "workspace": "Onyxworks Ventures",
                      "plan": "Business", "role": "Owner", "open_tickets": 2})
SEARCH = json.dumps({"query": "reconnect Slack", "hits": [{"id": "kb-041", "score": 0.71},
                                                          {"id": "kb-040", "score": 0.65}]})
RESULTS = {"search_kb": SEARCH, "ticket_status": TICKET, "user_profile": PROFILE}


# --- deciding the calls -----------------------------------------------------------------------


def test_a_question_that_needs_three_tools_gets_three_parallel_calls(client) -> None:
    _, response = ask(client, THREE_AT_ONCE)
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert calls_of(response) == [
        ("search_kb", {"query": "How do I reconnect Slack notifications?"}),
        ("ticket_status", {"ticket_id": 10427}),
        ("user_profile", {"user_id": 42}),
    ]
    ids = [call.id for call in choice.message.tool_calls]
    assert len(set(ids)) == 3 and all(i.startswith("call_") for i in ids)
    assert all(call.type == "function" for call in choice.message.tool_calls)


@pytest.mark.parametrize(("text", "expected"), [
    ("What's the status of ticket 10512?", [("ticket_status", {"ticket_id": 10512})]),
    ("Any news on tickets #10512 and #10600?",
     [("ticket_status", {"ticket_id": 10512}), ("ticket_status", {"ticket_id": 10600})]),
    ("我的工单 10427 怎么样了?", [("ticket_status", {"ticket_id": 10427})]),
    ("How do I reset my password?", [("search_kb", {"query": "How do I reset my password?"})]),
    ("Which plan am I on? I am user 17.", [("user_profile", {"user_id": 17})]),
])
def test_arguments_come_from_the_text(client, text, expected) -> None:
    assert calls_of(ask(client, text)[1]) == expected


def test_ids_the_conversation_names_are_used_when_the_question_is_about_the_account(
        client) -> None:
    context = {"role": "system", "content": "Customer: user 88. Latest ticket: #10903."}
    messages = [SYSTEM, context, {"role": "user", "content": "Any update on my ticket?"}]
    response = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert calls_of(response) == [("ticket_status", {"ticket_id": 10903})]
    messages[-1] = {"role": "user", "content": "Can I see my invoices for my plan?"}
    response = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert ("user_profile", {"user_id": 88}) in calls_of(response)


def test_small_talk_and_unknown_tools_get_a_text_answer(client) -> None:
    _, hello = ask(client, "hello there, thanks")
    assert hello.choices[0].finish_reason == "stop" and calls_of(hello) == []
    assert hello.choices[0].message.content
    # A tool the simulated model does not know, even for a question it could answer.
    _, weather = ask(client, "What's the weather in Paris? How do I reset my password?",
                     tools=[WEATHER])
    assert weather.choices[0].finish_reason == "stop" and calls_of(weather) == []
    # A known name with a schema that is not the known tool's is not that tool.
    renamed = {"type": "function", "function": {"name": "ticket_status", "parameters": {
        "type": "object", "properties": {"number": {"type": "string"}}}}}
    _, other = ask(client, "Status of ticket 10427?", tools=[renamed])
    assert calls_of(other) == []


def test_tool_choice_none_required_and_named(client) -> None:
    _, none = ask(client, THREE_AT_ONCE, tool_choice="none")
    assert calls_of(none) == [] and none.choices[0].finish_reason == "stop"
    _, required = ask(client, "hello there", tool_choice="required")
    assert [name for name, _ in calls_of(required)] == ["search_kb"]  # the first offered tool
    assert required.choices[0].finish_reason == "tool_calls"
    _, named = ask(client, THREE_AT_ONCE,
                   tool_choice={"type": "function", "function": {"name": "user_profile"}})
    assert calls_of(named) == [("user_profile", {"user_id": 42})]
    _, forced = ask(client, "What's the weather like in Paris?", tools=[*TOOLS, WEATHER],
                    tool_choice={"type": "function",
                                 "function": {"name": "get_current_weather"}})
    assert calls_of(forced) == [("get_current_weather",
                                 {"location": "What's the weather like in Paris?"})]


def test_without_parallel_calls_the_tools_come_one_round_trip_at_a_time(client) -> None:
    messages = [SYSTEM, {"role": "user", "content": THREE_AT_ONCE}]
    rounds = []
    for _ in range(4):
        response = client.chat.completions.create(model="gpt-4o", messages=messages,
                                                  tools=TOOLS, parallel_tool_calls=False)
        if response.choices[0].finish_reason != "tool_calls":
            break
        rounds.append(calls_of(response))
        messages = answered(messages, response, RESULTS)
    assert [len(r) for r in rounds] == [1, 1, 1]
    assert [r[0][0] for r in rounds] == ["search_kb", "ticket_status", "user_profile"]
    assert response.choices[0].finish_reason == "stop"


# --- answering from the results ---------------------------------------------------------------


def test_the_answer_after_the_results_uses_them(client) -> None:
    messages, first = ask(client, THREE_AT_ONCE)
    messages = answered(messages, first, RESULTS)
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    text = final.choices[0].message.content
    assert final.choices[0].finish_reason == "stop"
    kb = {entry.id: entry for entry in load_knowledge_base().entries}
    assert kb["kb-041"].answer_full in text  # the article the search found, not another
    assert "#10427" in text and "on hold" in text and "Dana" in text
    assert "Business plan" in text and "2 open tickets" in text
    weak = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    assert kb["kb-041"].answer_brief in weak.choices[0].message.content


def test_a_failed_tool_shows_in_the_answer(client) -> None:
    messages, first = ask(client, THREE_AT_ONCE)
    messages = answered(messages, first, {
        **RESULTS, "ticket_status": "error: the ticket service timed out after 2.0 s"})
    text = client.chat.completions.create(model="gpt-4o", messages=messages,
                                          tools=TOOLS).choices[0].message.content
    assert "I could not check ticket #10427: error: the ticket service timed out" in text
    assert "Business plan" in text


def test_a_new_question_calls_the_tools_again(client) -> None:
    messages, first = ask(client, "What's the status of ticket 10512?")
    messages = answered(messages, first, {"ticket_status": TICKET})
    done = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    messages += [done.choices[0].message.model_dump(exclude_none=True),
                 {"role": "user", "content": "And ticket 10512 again, please?"}]
    again = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert calls_of(again) == [("ticket_status", {"ticket_id": 10512})]


# --- streaming and usage ----------------------------------------------------------------------


def test_streamed_tool_calls_assemble_into_the_same_calls(client) -> None:
    messages = [SYSTEM, {"role": "user", "content": THREE_AT_ONCE}]
    plain = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    with client.chat.completions.stream(model="gpt-4o", messages=messages, tools=TOOLS,
                                        stream_options={"include_usage": True}) as stream:
        chunks = [event.chunk for event in stream if event.type == "chunk"]
        final = stream.get_final_completion()
    streamed = final.choices[0].message
    assert [(c.id, c.function.name, c.function.arguments) for c in streamed.tool_calls] == [
        (c.id, c.function.name, c.function.arguments)
        for c in plain.choices[0].message.tool_calls]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage.model_dump() == plain.usage.model_dump()
    # The arguments really arrive in pieces: more chunks than calls.
    pieces = [d for c in chunks for ch in c.choices for d in ch.delta.tool_calls or ()]
    assert len(pieces) > 2 * len(streamed.tool_calls)
    assert chunks[0].choices[0].delta.role == "assistant"


def test_usage_counts_tool_definitions_calls_and_results_exactly(client) -> None:
    messages, first = ask(client, THREE_AT_ONCE)
    assert first.usage.prompt_tokens == tokens.count_chat_tokens(messages, "gpt-4o", tools=TOOLS)
    assert first.usage.prompt_tokens > tokens.count_chat_tokens(messages, "gpt-4o")
    calls = [c.model_dump() for c in first.choices[0].message.tool_calls]
    assert first.usage.completion_tokens == tokens.count_tool_call_tokens(calls, "gpt-4o")
    messages = answered(messages, first, RESULTS)
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert final.usage.prompt_tokens == tokens.count_chat_tokens(messages, "gpt-4o", tools=TOOLS)
    # The second round trip pays for the first one's calls and for every result.
    results = sum(tokens.count_tokens(r, "gpt-4o") for r in RESULTS.values())
    assert final.usage.prompt_tokens > first.usage.prompt_tokens + results
    assert final.usage.completion_tokens == tokens.count_tokens(
        final.choices[0].message.content, "gpt-4o")


def test_max_tokens_cuts_the_arguments_with_finish_reason_length(client) -> None:
    _, full = ask(client, THREE_AT_ONCE)
    _, cut = ask(client, THREE_AT_ONCE, max_tokens=8)
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage.completion_tokens == 8 < full.usage.completion_tokens
    first = cut.choices[0].message.tool_calls[0]
    assert first.function.name == "search_kb"
    assert full.choices[0].message.tool_calls[0].function.arguments.startswith(
        first.function.arguments)


def test_a_tool_calling_turn_takes_its_time_to_first_token_plus_the_argument_tokens(sb) -> None:
    """Lower bounds only: the sandbox may be late on a loaded machine, never early."""
    sb.time_scale = 0.5
    profile = sandbox.MODEL_PROFILES["gpt-4o"]
    with openai.OpenAI(base_url=sb.base_url, api_key="t", max_retries=0) as c:
        c.models.list()
        started = time.perf_counter()
        arrivals = []
        for chunk in c.chat.completions.create(
                model="gpt-4o", messages=[SYSTEM, {"role": "user", "content": THREE_AT_ONCE}],
                tools=TOOLS, stream=True, stream_options={"include_usage": True}):
            arrivals.append(time.perf_counter() - started)
            usage = chunk.usage or None
    sb.time_scale = 0
    record = sb.requests[-1]
    assert record.tool_calls == 3 and record.finish_reason == "tool_calls"
    assert usage.completion_tokens == record.planned_completion_tokens
    assert arrivals[0] >= record.planned_ttft_s
    # Each further token waits at least half the profile's interval (its jitter's floor). Measured
    # from the request, not from the first chunk: a client that a busy machine delays reads the
    # first chunk late and the rest in a burst, but can never see the last one early.
    shortest_interval = 0.5 / profile.tokens_per_second * 0.5
    assert arrivals[-1] >= (record.planned_ttft_s
                            + (usage.completion_tokens - 3) * shortest_interval)


# --- malformed tool conversations -------------------------------------------------------------


CALL = {"id": "call_1", "type": "function",
        "function": {"name": "ticket_status", "arguments": '{"ticket_id": 10427}'}}
ASK = {"role": "user", "content": "ticket 10427?"}


@pytest.mark.parametrize(("body", "param", "message"), [
    ({"messages": [ASK, {"role": "tool", "tool_call_id": "call_1", "content": "x"}]},
     "messages.[1].role", "Invalid parameter: messages with role 'tool' must be a response to "
     "a preceeding message with 'tool_calls'."),
    ({"messages": [ASK, {"role": "assistant", "content": None, "tool_calls": [CALL]},
                   {"role": "tool", "tool_call_id": "call_9", "content": "x"}]},
     "messages.[2].tool_call_id", "Invalid parameter: 'tool_call_id' of 'call_9' not found in "
     "'tool_calls' of previous message."),
    ({"messages": [ASK, {"role": "assistant", "content": None, "tool_calls": [CALL]}, ASK]},
     "messages.[1].role", "An assistant message with 'tool_calls' must be followed by tool "
     "messages responding to each 'tool_call_id'. The following tool_call_ids did not have "
     "response messages: call_1"),
    ({"messages": [ASK], "tools": TOOLS,
      "tool_choice": {"type": "function", "function": {"name": "refund"}}},
     "tool_choice", "Tool choice 'refund' not found in 'tools' parameter."),
    ({"messages": [ASK], "tool_choice": "auto"}, "tool_choice",
     "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
     "specified."),
    ({"messages": [ASK], "parallel_tool_calls": True}, "parallel_tool_calls",
     "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when "
     "'tools' are specified."),
    ({"messages": [ASK], "tools": [{"type": "function", "function": {"description": "x"}}]},
     "tools[0].function.name", "Missing required parameter: 'tools[0].function.name'."),
    ({"messages": [ASK], "tools": [{"type": "function", "function": {"name": "no spaces"}}]},
     "tools[0].function.name", "Invalid 'tools[0].function.name': string does not match "
     "pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."),
    ({"messages": [ASK, {"role": "assistant", "content": None,
                         "tool_calls": [{**CALL, "function": "ticket_status"}]},
                   {"role": "tool", "tool_call_id": "call_1", "content": "x"}]},
     "messages[1].tool_calls[0].function", "Invalid type for 'messages[1].tool_calls[0]"
     ".function': expected an object, but got a string instead."),
    ({"messages": [ASK], "tools": TOOLS, "tool_choice": "always"}, "tool_choice",
     "Invalid value: 'always'. Supported values are: 'none', 'auto', and 'required'."),
    ({"messages": [ASK], "tools": [TOOLS[0]] * 129}, "tools",
     "Invalid 'tools': array too long. Expected an array with maximum length 128, but got an "
     "array with length 129 instead."),
    ({"messages": [ASK], "tools": []}, "tools", "Invalid 'tools': empty array."),
])
def test_malformed_tool_conversations_get_openais_400(client, body, param, message) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", **body)
    error = info.value.body
    assert error["param"] == param
    assert error["message"].startswith(message)


def test_arguments_and_results_are_any_text(client) -> None:
    """The API does not parse them, so neither may a deeply nested one break the sandbox."""
    deep = "[" * 20_000 + "]" * 20_000
    messages = [ASK, {"role": "assistant", "content": None,
                      "tool_calls": [{**CALL, "function": {"name": "ticket_status",
                                                           "arguments": deep}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": deep}]
    again = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert calls_of(again) == [("ticket_status", {"ticket_id": 10427})]  # that call was no use
    answer = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS,
                                            tool_choice="none")
    assert "I could not check ticket" in answer.choices[0].message.content
