"""The harness notebook 08 runs its experiments with: the turn's calls, a tool that never
answers, the port's abandoned tasks, a user who leaves, and the second round trip planned."""

from __future__ import annotations

import asyncio
import json

import openai

from course_lib.agent import run_agent_loop, support_toolbox
from course_lib.agent.loop import second_round_messages
from course_lib.lesson import parallel_tools as lesson
from course_lib.tools import (
    SupportTools,
    never_answers,
    no_latency,
    run_dag,
    run_tools,
    tool_call,
)

THREE = ["search_kb", "ticket_status", "user_profile"]
USER_ID, TICKET_ID = 156, 10430  # Hina: a Team plan, and her open SSO ticket
MESSAGE = "Any news on ticket #10430? We still can't turn on SSO with Okta."


def quick_tools(**latency) -> SupportTools:
    return SupportTools(latency={name: latency.get(name, no_latency) for name in THREE})


def test_the_turns_calls_are_the_three_tools_with_their_arguments():
    calls = quick_tools().turn_calls(MESSAGE, TICKET_ID, USER_ID)
    assert [(c.name, c.args) for c in calls] == [
        ("search_kb", (MESSAGE,)), ("ticket_status", (TICKET_ID,)), ("user_profile", (USER_ID,))]
    results = asyncio.run(run_tools(calls))
    assert [r.status for r in results] == ["ok"] * 3


def test_the_plan_aware_graph_searches_for_the_users_plan():
    results = asyncio.run(run_dag(quick_tools().plan_aware_graph(MESSAGE, TICKET_ID, USER_ID),
                                  {"search_kb": ["user_profile"]}))
    assert results["search_kb"].value.plan == results["user_profile"].value.plan == "Team"


def test_a_service_that_never_answers_is_cleaned_up_only_when_cancelled():
    cleanups: list[float] = []
    tools = quick_tools(ticket_status=never_answers(cleanups.append))

    async def scenario():
        task = asyncio.create_task(tools.ticket_status(TICKET_ID))
        await asyncio.sleep(0.05)
        still_waiting = not task.done() and not cleanups
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return still_waiting, task.cancelled()

    assert asyncio.run(scenario()) == (True, True)
    assert len(cleanups) == 1


def test_the_ports_abandoned_tasks_are_listed_and_can_be_cancelled():
    cleanups: list[float] = []
    calls = quick_tools(ticket_status=never_answers(cleanups.append)).turn_calls(
        MESSAGE, TICKET_ID, USER_ID)

    async def scenario():
        returned, waited = await lesson.wait_at_most(
            0.2, lesson.run_tools_concurrently(lesson.from_tool_calls(calls)))
        running = [task.get_name() for task in lesson.unowned_tasks()]
        await lesson.cancel_unowned()
        return returned, waited, running, lesson.unowned_tasks()

    returned, waited, running, after = asyncio.run(scenario())
    assert returned is None and waited >= 0.2
    assert running == ["lesson-tool:ticket_status"] and after == []
    assert len(cleanups) == 1


def test_wait_at_most_returns_the_value_when_the_turn_ends_in_time():
    async def quick():
        return "done"
    value, waited = asyncio.run(lesson.wait_at_most(5, quick()))
    assert value == "done" and waited < 5


def test_a_user_who_leaves_cancels_the_turn_and_record_ending_says_how_each_tool_ended():
    calls = quick_tools(ticket_status=never_answers(lambda at: None)).turn_calls(
        MESSAGE, TICKET_ID, USER_ID)
    log: dict[str, str] = {}
    asyncio.run(lesson.cancel_after(0.3, run_tools(
        [tool_call(c.name, lesson.record_ending(log, c)) for c in calls])))
    assert log == {"search_kb": "finished", "ticket_status": "cancelled",
                   "user_profile": "finished"}


def test_the_planned_second_round_is_what_the_loop_sends(sb):
    toolbox = support_toolbox(quick_tools())
    messages = [{"role": "system", "content": "You are Kitewing's support assistant."},
                {"role": "user", "content": f"I'm user {USER_ID} and my ticket #{TICKET_ID} is "
                                            "still open. How do I turn on SSO with Okta?"}]

    async def scenario():
        async with openai.AsyncOpenAI(base_url=sb.base_url, api_key="test",
                                      max_retries=0) as client:
            turn = await run_agent_loop(client, messages, toolbox, model="gpt-4o-mini")
        asked = {c.name: json.loads(c.arguments) for c in turn.tool_calls}
        planned = await second_round_messages(messages, toolbox, asked)
        return turn, planned

    turn, planned = asyncio.run(scenario())
    sent = list(turn.messages[:turn.rounds[1].sent_messages])
    assert len(planned) == len(sent) == len(messages) + 1 + 3
    assert [m["role"] for m in planned] == [m["role"] for m in sent]
    assert [m["content"] for m in planned[3:]] == [m["content"] for m in sent[3:]]
    planned_calls = [(c["function"]["name"], json.loads(c["function"]["arguments"]))
                     for c in planned[2]["tool_calls"]]
    assert planned_calls == [(c["function"]["name"], json.loads(c["function"]["arguments"]))
                             for c in sent[2]["tool_calls"]]
    table = turn.rounds_table().splitlines()
    assert len(table) == 1 + len(turn.rounds) and table[1].startswith("1 ")
