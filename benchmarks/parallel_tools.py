"""Concurrent tool calls: the speedup ``run_tools`` achieves over the serial baseline, as a share
of the ideal one.

The lesson's three tools (knowledge-base search on real embeddings, ticket status and user
profile from SQLite) behind their simulated network latencies of 200 / 300 / 150 ms, scaled.
Ideal speedup = sum / max of the latencies (650 / 300 = 2.17x); achieved = best serial turn /
best concurrent turn, both with the tools' real work included. Notebook 08 asserts that
concurrency delivers at least 90% of the ideal; this re-checks it on more repetitions.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity
from course_lib.tools import (
    LESSON_LATENCIES_MS,
    SupportTools,
    ToolCall,
    run_tools,
    run_tools_serially,
    tool_call,
)

GROUP = "tools"
USER_ID, TICKET_ID = 156, 10430
MESSAGE = "Any news on ticket #10430? We still can't turn on SSO with Okta."


def _calls(support: SupportTools) -> list[ToolCall]:
    return [tool_call("search_kb", support.search_kb, MESSAGE),
            tool_call("ticket_status", support.ticket_status, TICKET_ID),
            tool_call("user_profile", support.user_profile, USER_ID)]


async def _turn_seconds(calls: list[ToolCall], *, concurrent: bool) -> float:
    started = time.perf_counter()
    results = await (run_tools(calls) if concurrent else run_tools_serially(calls))
    elapsed = time.perf_counter() - started
    failed = [result.reason for result in results if not result.ok]
    if failed:
        raise AssertionError(f"tool calls failed: {failed}")
    return elapsed


def run(config: Config) -> list[Measurement]:
    time_scale = config.pick(0.5, 0.05)
    repeat = config.pick(5, 2)
    support = SupportTools(time_scale=time_scale)
    calls = _calls(support)

    async def measure() -> tuple[list[float], list[float]]:
        await _turn_seconds(calls, concurrent=False)  # warm-up: database, embedding model
        await _turn_seconds(calls, concurrent=True)
        serial, concurrent = [], []
        for _ in range(repeat):  # interleaved, so a slow moment hits both sides alike
            serial.append(await _turn_seconds(calls, concurrent=False))
            concurrent.append(await _turn_seconds(calls, concurrent=True))
        return serial, concurrent

    serial, concurrent = asyncio.run(measure())
    ideal = sum(LESSON_LATENCIES_MS.values()) / max(LESSON_LATENCIES_MS.values())
    achieved = min(serial) / min(concurrent)
    return [Measurement(
        f"{GROUP}.parallel_speedup", GROUP, "parallel tools (run_tools): achieved vs ideal speedup",
        ours=Quantity("achieved speedup (serial / run_tools)", achieved, "x",
                      extra={"serial_s": min(serial), "concurrent_s": min(concurrent)}),
        peer=Quantity("ideal speedup (sum / max of latencies)", ideal, "x", reference="model"),
        ratio=achieved / ideal, ratio_kind="achieved/ideal",
        goal=Goal(">=", 0.9, source="notebook 08's assertion"),
        profile=lambda: cprofile_text(lambda: asyncio.run(_turn_seconds(calls, concurrent=True)),
                                      title="one concurrent turn of the three tools"),
        note=f"latencies 200/300/150 ms x time scale {time_scale:g}; best of {repeat}; "
             f"serial {min(serial) * 1000:.0f} ms, concurrent {min(concurrent) * 1000:.0f} ms")]
