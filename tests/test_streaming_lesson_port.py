"""The lesson's Go StreamChatHandler, ported: its traps, demonstrated against a real sandbox."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import openai
import pytest

from course_lib import sandbox
from course_lib.lesson.stream_handler import (
    GoChannel,
    StreamEvent,
    create_lesson_stream_app,
    go_select,
)
from course_lib.streaming import read_sse, serve_app
from course_lib.streaming.server import StreamServerHandle

QUESTION = {"message": "How do I reset my password?"}
MODEL = "gpt-4o"


class AlwaysPick(random.Random):
    """A select "random" choice that always takes the n-th ready case (a scripted race)."""

    def __init__(self, position: int) -> None:
        super().__init__(0)
        self.position = position

    def randrange(self, stop, *args, **kwargs) -> int:  # type: ignore[override]
        return min(self.position, stop - 1)


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.SandboxHandle]:
    with sandbox.start(time_scale=0, seed=3) as handle:
        yield handle


@pytest.fixture(autouse=True)
def fresh_sandbox(sb) -> Iterator[None]:
    sb.faults.clear()
    sb.time_scale = 0
    yield
    sb.faults.clear()
    sb.time_scale = 0


@contextmanager
def lesson_server(sb, **options) -> Iterator[StreamServerHandle]:
    app = create_lesson_stream_app(
        lambda: openai.AsyncOpenAI(base_url=sb.base_url, api_key="test", max_retries=0),
        model=MODEL, **options)
    with serve_app(app) as server:
        yield server


def post(server: StreamServerHandle, **kwargs):
    return asyncio.run(read_sse(server.url + "/chat/stream", **kwargs))


def test_port_streams_token_events_and_done(sb) -> None:
    with lesson_server(sb) as server:
        raw = post(server, json_body=QUESTION)
    events = raw.json_events()
    assert raw.status_code == 200
    assert [e["type"] for e in events][-1] == "done"
    assert events[-1] == {"type": "done", "content": "", "done": True}
    # Go marshals every field: tokens carry "done": false, and the role-only first chunk and
    # the finish chunk go out as empty tokens.
    assert events[0] == {"type": "token", "content": "", "done": False}
    assert "".join(e["content"] for e in events if e["type"] == "token")


def test_port_allows_every_origin_even_without_a_preflight(sb) -> None:
    """`*` plus no content-type check: a foreign page's text/plain POST runs the model."""
    before = len(sb.requests)
    with lesson_server(sb) as server:
        raw = post(server, content=b'{"message": "How do I reset my password?"}',
                   headers={"content-type": "text/plain", "origin": "https://evil.example"})
    assert raw.status_code == 200
    assert raw.headers["access-control-allow-origin"] == "*"
    assert len(sb.requests) == before + 1  # the model ran, on the bill of whoever runs the port


def test_port_sends_an_empty_message_to_the_model(sb) -> None:
    with lesson_server(sb) as server:
        raw = post(server, json_body={})
    assert raw.status_code == 200
    assert sb.requests[-1].endpoint == "chat.completions"
    assert raw.json_events()[-1]["type"] == "done"


def test_port_answers_bad_json_with_plain_text_400(sb) -> None:
    with lesson_server(sb) as server, httpx2.Client(timeout=10) as http:
        response = http.post(server.url + "/chat/stream", content=b"{not json")
    assert response.status_code == 400
    assert response.text == "invalid request\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"


def test_port_stream_carries_no_usage_so_it_cannot_be_billed(sb) -> None:
    with lesson_server(sb) as server:
        raw = post(server, json_body=QUESTION)
    generated = sb.requests[-1].completion_tokens
    assert generated > 0
    assert all(set(e) == {"type", "content", "done"} for e in raw.json_events())


def test_port_loses_the_error_that_races_the_close_for_a_slow_client(sb) -> None:
    """Slow client: both select cases are ready; Go's choice of the closed tokenCh says done."""
    sb.faults.script("cut", model=MODEL)
    with lesson_server(sb, select_rng=AlwaysPick(0), flush_delay_s=0.01) as server:
        raw = post(server, json_body=QUESTION)
    assert sb.requests[-1].fault == "cut"
    assert raw.json_events()[-1]["type"] == "done"  # a broken answer reported as complete
    assert "error" not in [e["type"] for e in raw.json_events()]


def test_port_reports_the_error_when_the_race_goes_the_other_way(sb) -> None:
    sb.faults.script("cut", model=MODEL)
    with lesson_server(sb, select_rng=AlwaysPick(1), flush_delay_s=0.01) as server:
        raw = post(server, json_body=QUESTION)
    assert raw.json_events()[-1]["type"] == "error"


def test_port_reports_the_error_to_a_fast_client(sb) -> None:
    """A handler already waiting in select takes the first value sent: the error."""
    sb.faults.script("cut", model=MODEL)
    with lesson_server(sb, select_rng=AlwaysPick(0), flush_delay_s=0.0) as server:
        raw = post(server, json_body=QUESTION)
    assert raw.json_events()[-1]["type"] == "error"


def test_port_loses_about_half_the_errors_over_seeded_races(sb) -> None:
    sb.faults.script("cut", count=16, model=MODEL)
    with lesson_server(sb, select_rng=random.Random(2024), flush_delay_s=0.01) as server:
        endings = [post(server, json_body=QUESTION).json_events()[-1]["type"]
                   for _ in range(16)]
    lost = endings.count("done")
    assert set(endings) == {"done", "error"}
    # Seeded, so this is one fixed sequence of coin flips; for a fair coin, 16 flips land in
    # 3..13 more than 99.5% of the time, so another seed would pass too.
    assert 3 <= lost <= 13


# --- the Go model itself -----------------------------------------------------------------------


def test_go_select_picks_among_ready_cases_at_random() -> None:
    async def run() -> list[int]:
        picks = []
        rng = random.Random(5)
        for _ in range(200):
            a: GoChannel[int] = GoChannel(capacity=1)
            b: GoChannel[int] = GoChannel(capacity=1)
            await a.send(1)
            b.close()
            index, _, _ = await go_select([a, b], rng)
            picks.append(index)
        return picks

    picks = asyncio.run(run())
    assert 70 <= picks.count(0) <= 130


def test_parked_select_takes_the_first_value_sent() -> None:
    async def run() -> tuple[int, object, bool]:
        tokens: GoChannel[str] = GoChannel()
        errors: GoChannel[str] = GoChannel(capacity=1)
        waiting = asyncio.ensure_future(go_select([tokens, errors], AlwaysPick(0)))
        await asyncio.sleep(0)  # let the select park
        await errors.send("boom")
        tokens.close()
        return await waiting

    assert asyncio.run(run()) == (1, "boom", True)


def test_unbuffered_send_waits_for_its_receiver() -> None:
    async def run() -> bool:
        channel: GoChannel[str] = GoChannel()
        sending = asyncio.ensure_future(channel.send("x"))
        await asyncio.sleep(0)
        blocked = not sending.done()
        assert channel.receive_now() == ("x", True)
        await sending
        return blocked

    assert asyncio.run(run())


def test_go_json_escapes_html_characters() -> None:
    assert StreamEvent("token", "<b>&</b>").marshal() == (
        b'{"type":"token","content":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e","done":false}')
