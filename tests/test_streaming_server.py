"""The streaming endpoint over real HTTP: a real sandbox, real uvicorn, an SSE client reading it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import openai
import pytest

from course_lib import sandbox, tokens
from course_lib.pricing import cost_usd
from course_lib.streaming import create_stream_app, start_stream_server, stream_chat
from course_lib.streaming.app import MAX_OUTCOMES, StreamOutcome
from course_lib.streaming.client import read_sse
from course_lib.streaming.request import MAX_BODY_BYTES
from course_lib.streaming.server import StreamServerHandle
from course_lib.tokens import UnknownModelError
from course_lib.tracker import CostTracker

pytestmark = pytest.mark.timing

QUESTION = "How do I reset my password?"
MODEL = "gpt-4o"
SNAPSHOT = "gpt-4o-2024-08-06"  # what the sandbox (like the API) answers "gpt-4o" requests as
APP_ORIGIN = "https://support.example.com"


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.SandboxHandle]:
    with sandbox.start(time_scale=0, seed=11) as handle:
        yield handle


@pytest.fixture(autouse=True)
def fresh_sandbox(sb: sandbox.SandboxHandle) -> Iterator[None]:
    sb.faults.clear()
    sb.time_scale = 0
    yield
    sb.faults.clear()
    sb.faults.cut_after_tokens = 5
    sb.time_scale = 0


@contextmanager
def stream_server(sb: sandbox.SandboxHandle, **options) -> Iterator[tuple[StreamServerHandle,
                                                                          CostTracker]]:
    tracker = CostTracker()
    options.setdefault("heartbeat_s", 5.0)
    with start_stream_server(
        client=lambda: openai.AsyncOpenAI(base_url=sb.base_url, api_key="test", max_retries=0),
        tracker=tracker, model=MODEL, allowed_origins=[APP_ORIGIN], **options,
    ) as server:
        yield server, tracker


def ask(server: StreamServerHandle, **kwargs):
    return asyncio.run(stream_chat(server.url, QUESTION, **kwargs))


def wait_for(condition, timeout: float = 5.0) -> bool:
    """Poll until ``condition()`` holds: waiting for an event, not timing it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- a stream that works ----------------------------------------------------------------------


def test_tokens_then_done_with_exact_usage_billed(sb) -> None:
    with stream_server(sb, extra_body={"sandbox": {"answer_tokens": 20}}) as (server, tracker):
        result = ask(server)
        (outcome,) = server.state.wait_for_outcomes(1)
    record = sb.requests[-1]

    assert result.status_code == 200
    assert result.kinds == ["token"] * 20 + ["done"]
    assert result.ended == "done"
    done = result.done
    assert done.finish_reason == "stop"
    assert done.usage["prompt_tokens"] == record.prompt_tokens
    assert done.usage["completion_tokens"] == 20
    assert done.usage["estimated"] is False
    assert tokens.count_tokens(result.text, MODEL) == 20
    assert outcome.status == "completed" and outcome.tokens_relayed == 20
    summary = tracker.summary()
    assert summary["total_calls"] == 1
    assert summary["total_input_tokens"] == record.prompt_tokens
    assert summary["total_output_tokens"] == 20
    assert summary["total_cost_usd"] == cost_usd(SNAPSHOT, record.prompt_tokens, 20)
    assert done.usage["cost_usd"] == str(summary["total_cost_usd"])


def test_response_is_an_uncached_event_stream(sb) -> None:
    with stream_server(sb) as (server, _):
        raw = asyncio.run(read_sse(server.url + "/chat/stream", json_body={"message": QUESTION}))
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.headers["cache-control"] == "no-cache"
    assert raw.headers["x-accel-buffering"] == "no"
    assert "access-control-allow-origin" not in raw.headers  # no Origin sent, none echoed


# --- refused before the stream starts ---------------------------------------------------------


@pytest.mark.parametrize(("body", "status", "param", "code", "says"), [
    (b'{"message": "unterminated', 400, None, None, "could not parse the JSON body"),
    (b"\xff\xfe not utf-8", 400, None, None, "not UTF-8"),
    (b'["How do I reset my password?"]', 400, None, None, '{"message": "your question"}'),
    (b"{}", 400, "message", "missing_required_parameter",
     "Missing required parameter: 'message'."),
    (b'{"msg": "hello"}', 400, "message", "missing_required_parameter",
     "Missing required parameter: 'message'."),
    (b'{"message": "hi", "model": "gpt-4o"}', 400, "model", "unknown_parameter",
     "Unrecognized request argument supplied: model"),
    (b'{"message": ""}', 400, "message", "empty_string", "an empty string"),
    (b'{"message": "   "}', 400, "message", "empty_string", "only whitespace"),
    (b'{"message": 42}', 400, "message", "invalid_type",
     "Invalid type for 'message': expected a string, but got an integer instead."),
    (b'{"message": "\\ud800"}', 400, "message", "invalid_value", "lone surrogate"),
    (b'{"message": ' + b"7" * 5000 + b"}", 400, "message", "integer_above_max_value",
     "5000-digit integer"),
    (b'{"message": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, None, None, "nest more than"),
    (b'{"message": "' + b"x" * MAX_BODY_BYTES + b'"}', 413, None, "request_too_large",
     f"{MAX_BODY_BYTES:,} bytes"),
])
def test_bad_requests_get_a_json_error_before_any_stream(sb, body, status, param, code,
                                                         says) -> None:
    before = len(sb.requests)
    with stream_server(sb) as (server, tracker), httpx2.Client(timeout=10) as http:
        response = http.post(server.url + "/chat/stream", content=body,
                             headers={"content-type": "application/json"})
        (outcome,) = server.state.wait_for_outcomes(1)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param,
                                                               code)
    assert says in error["message"]
    assert outcome.status == "rejected" and outcome.http_status == status
    assert len(sb.requests) == before  # the model was never called
    assert tracker.summary()["total_calls"] == 0


def test_a_body_that_is_not_declared_json_is_refused(sb) -> None:
    """A text/plain POST is a CORS "simple request": browsers send it without a preflight."""
    before = len(sb.requests)
    with stream_server(sb) as (server, _), httpx2.Client(timeout=10) as http:
        response = http.post(server.url + "/chat/stream", content=b'{"message": "hi"}',
                             headers={"content-type": "text/plain",
                                      "origin": "https://evil.example"})
    assert response.status_code == 415
    assert response.json()["error"]["message"].startswith("Unsupported content type: 'text/plain'")
    assert "access-control-allow-origin" not in response.headers
    assert len(sb.requests) == before


@pytest.mark.parametrize(("fault", "status", "code"), [
    ("503", 503, "upstream_error"),
    ("500", 502, "upstream_error"),
    ("429", 429, "upstream_rate_limited"),
])
def test_model_failing_before_the_first_token_is_an_http_error(sb, fault, status, code) -> None:
    sb.faults.script(fault, model=MODEL)
    with stream_server(sb) as (server, tracker):
        result = ask(server)
        (outcome,) = server.state.wait_for_outcomes(1)
    assert result.ended == "http_error"
    assert result.status_code == status
    assert result.http_error["error"]["code"] == code
    assert outcome.status == "failed" and outcome.http_status == status
    assert tracker.summary()["total_calls"] == 0  # a refused request is not billed


def test_rate_limit_passes_retry_after_on(sb) -> None:
    sb.faults.script("429", model=MODEL)
    with stream_server(sb) as (server, _), httpx2.Client(timeout=10) as http:
        response = http.post(server.url + "/chat/stream", json={"message": QUESTION})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1  # whole seconds, rounded up


def test_stream_broken_before_the_first_token_is_still_an_http_error(sb) -> None:
    """The model accepted the request (200) and broke off at once: our headers are not sent."""
    sb.faults.cut_after_tokens = 0
    sb.faults.script("cut", model=MODEL)
    with stream_server(sb) as (server, tracker):
        result = ask(server)
        (outcome,) = server.state.wait_for_outcomes(1)
    assert result.status_code == 502
    assert result.http_error["error"]["code"] == "upstream_cut"
    # The model did read the prompt: that is billed, counted here.
    assert outcome.bill.estimated and outcome.bill.completion_tokens == 0
    assert outcome.bill.prompt_tokens == sb.requests[-1].prompt_tokens
    assert tracker.summary()["total_calls"] == 1


# --- failing after the stream started --------------------------------------------------------


def test_cut_mid_stream_is_an_error_event_then_a_clean_close(sb) -> None:
    sb.faults.script("cut", model=MODEL)  # 5 tokens, then the connection breaks
    with stream_server(sb) as (server, tracker):
        raw_messages = []

        def keep(at, message):
            raw_messages.append(message)
            return False

        raw = asyncio.run(read_sse(server.url + "/chat/stream", json_body={"message": QUESTION},
                                   on_message=keep))
        (outcome,) = server.state.wait_for_outcomes(1)
    assert raw.status_code == 200
    assert not raw.broken  # our body ended properly, even though the model's did not
    events = raw.json_events()
    assert [e["type"] for e in events] == ["token"] * 5 + ["error"]
    assert events[-1]["code"] == "upstream_cut"
    assert events[-1]["message"]
    received = "".join(e["content"] for e in events[:-1])
    assert outcome.status == "failed" and outcome.error_code == "upstream_cut"
    assert outcome.bill.estimated
    assert outcome.bill.completion_tokens == tokens.count_tokens(received, MODEL)
    assert tracker.summary()["total_output_tokens"] == outcome.bill.completion_tokens


def test_5xx_after_the_first_heartbeat_is_an_error_event(sb) -> None:
    """Once a heartbeat has gone out, the status is 200 for good: the failure goes in the body."""
    sb.time_scale = 4.0  # the sandbox answers its 503 after 200 ms; heartbeats come every 10 ms
    sb.faults.script("503", model=MODEL)
    with stream_server(sb, heartbeat_s=0.01) as (server, _):
        result = ask(server)
    assert result.status_code == 200
    assert result.kinds[0] == "heartbeat"
    assert result.kinds[-1] == "error"
    assert "token" not in result.kinds
    assert result.error.code == "upstream_error"
    assert result.ended == "error"


# --- heartbeats -------------------------------------------------------------------------------


def test_heartbeats_are_sent_while_the_model_is_slow_to_start(sb) -> None:
    sb.time_scale = 1.0  # gpt-4o's first token takes ~0.4 s of model time (at least 0.2 s)
    with stream_server(sb, heartbeat_s=0.05,
                       extra_body={"sandbox": {"answer_tokens": 3}}) as (server, _):
        result = ask(server)
        (outcome,) = server.state.wait_for_outcomes(1)
    assert result.ended == "done"
    assert result.kinds[0] == "heartbeat"
    assert result.heartbeats_before_first_token >= 1
    assert outcome.heartbeats_before_first_token == result.heartbeats_before_first_token


def test_heartbeats_keep_a_short_client_read_timeout_alive(sb) -> None:
    """The client gives up after three heartbeats of silence; the model's first token is
    scheduled later than that, so only the heartbeats keep the connection alive.

    The premise is read from the schedule the sandbox recorded, not from a measured time, and
    the time base is long enough (heartbeats every 0.25 s) that a loaded machine's scheduling
    delays stay small beside it. A first request warms the relay (its model client and pooled
    connection), so the one measured spends its silence waiting for the model only."""
    heartbeat_s = 0.25
    read_timeout_s = 3 * heartbeat_s
    with stream_server(sb, heartbeat_s=heartbeat_s,
                       extra_body={"sandbox": {"answer_tokens": 3}}) as (server, _):
        assert ask(server).ended == "done"  # warm-up, at time scale 0
        sb.time_scale = 5.0  # gpt-4o's first token: at least 0.2 s x 5 of model time
        result = ask(server, timeout=read_timeout_s)
    record = sb.requests[-1]
    assert record.planned_ttft_s > read_timeout_s + heartbeat_s
    assert result.ended == "done", result
    assert result.heartbeats_before_first_token >= 2
    assert result.ttft_s >= record.planned_ttft_s


def test_a_5xx_closes_its_connection_and_the_next_request_gets_a_new_one(sb) -> None:
    """A kept-alive connection the server is about to drop must not be reused: every 5xx says
    ``Connection: close``, so ten failures in a row never reset the request after them."""
    with stream_server(sb) as (server, _), httpx2.Client(timeout=10) as http:
        for _ in range(10):
            sb.faults.script("500", model=MODEL)
            failed = http.post(server.url + "/chat/stream", json={"message": QUESTION})
            assert failed.status_code == 502
            assert failed.headers["connection"] == "close"
            after = http.post(server.url + "/chat/stream", json={"message": QUESTION})
            assert after.status_code == 200 and '"type":"done"' in after.text


def test_unknown_urls_and_methods_are_json_errors(sb) -> None:
    with stream_server(sb) as (server, _), httpx2.Client(timeout=10) as http:
        missing = http.get(server.url + "/nothing-here")
        wrong = http.get(server.url + "/chat/stream")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Unknown URL: GET /nothing-here."
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert wrong.json()["error"]["type"] == "invalid_request_error"


def test_the_outcome_log_is_a_ring_buffer_with_counters() -> None:
    """A server that runs for a month keeps its latest outcomes, and counts all of them."""
    state = create_stream_app(tracker=CostTracker()).state.stream
    total = MAX_OUTCOMES + 250
    for index in range(total):
        status = "completed" if index % 5 else "rejected"
        state.log(StreamOutcome(status, 200 if index % 5 else 400, MODEL, tokens_relayed=index))
    kept = state.wait_for_outcomes(total, timeout=0)
    assert len(kept) == len(state.outcomes) == MAX_OUTCOMES
    assert [o.tokens_relayed for o in kept] == list(range(total - MAX_OUTCOMES, total))
    assert state.outcomes_logged == total
    assert state.outcome_counts == {"completed": total - total // 5, "rejected": total // 5}
    with pytest.raises(TimeoutError, match=f"only {total} of {total + 1}"):
        state.wait_for_outcomes(total + 1, timeout=0)


# --- the user leaves --------------------------------------------------------------------------


def test_disconnect_cancels_the_model_and_bills_what_was_generated(sb) -> None:
    sb.time_scale = 1.0  # 80 tokens/s: the planned 2,000-token answer would take 25 s
    with stream_server(sb, extra_body={"sandbox": {"answer_tokens": 2000}}) as (server, tracker):
        result = ask(server, stop_after_tokens=5)
        (outcome,) = server.state.wait_for_outcomes(1)
        record = sb.requests[-1]
        assert wait_for(lambda: record.cancelled)
        generated = record.completion_tokens
        # Another full request through the same sandbox: the cancelled one must not move.
        sb.time_scale = 0
        ask(server)
    assert result.ended == "stopped" and len(result.tokens) == 5
    assert record.planned_completion_tokens == 2000
    assert record.completion_tokens == generated
    assert generated < 100  # well below the planned answer: the model stopped
    assert outcome.status == "client_disconnected"
    bill = outcome.bill
    assert bill.estimated
    assert bill.model == SNAPSHOT
    assert bill.prompt_tokens == record.prompt_tokens  # counted here, as the sandbox counted
    # Counted from what the server relayed: at least what we read, at most what was generated
    # (+2: re-tokenising a cut-off word can take a token more than generating it did).
    assert tokens.count_tokens(result.text, MODEL) <= bill.completion_tokens <= generated + 2
    first = tracker.summary()
    assert first["total_calls"] == 2
    assert first["by_model"][SNAPSHOT]["output_tokens"] >= bill.completion_tokens


# --- CORS -------------------------------------------------------------------------------------


def preflight(http: httpx2.Client, url: str, origin: str) -> httpx2.Response:
    return http.options(url + "/chat/stream", headers={
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    })


def test_preflight_allows_the_configured_origin_and_refuses_others(sb) -> None:
    with stream_server(sb) as (server, _), httpx2.Client(timeout=10) as http:
        allowed = preflight(http, server.url, APP_ORIGIN)
        refused = preflight(http, server.url, "https://evil.example")
        post = http.post(server.url + "/chat/stream", json={"message": QUESTION},
                         headers={"origin": APP_ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert post.headers["access-control-allow-origin"] == APP_ORIGIN


@pytest.mark.parametrize(("origins", "problem"), [
    (["*"], "must not contain '\\*'"),
    (["https://support.example.com/"], "not an origin"),
    (["support.example.com"], "not an origin"),
    ("https://support.example.com", "a list of origins"),
])
def test_wildcard_and_malformed_origins_are_refused(origins, problem) -> None:
    with pytest.raises((ValueError, TypeError), match=problem):
        create_stream_app(tracker=CostTracker(), allowed_origins=origins)


def test_configuration_errors_are_named() -> None:
    with pytest.raises(UnknownModelError):
        create_stream_app(tracker=CostTracker(), model="gpt-7-imaginary")
    with pytest.raises(ValueError, match="heartbeat_s"):
        create_stream_app(tracker=CostTracker(), heartbeat_s=0)
    with pytest.raises(TypeError, match="record_usage"):
        create_stream_app(tracker=object())


# --- the page ---------------------------------------------------------------------------------


def test_the_page_and_its_script_are_served(sb) -> None:
    with stream_server(sb) as (server, _), httpx2.Client(timeout=10) as http:
        page = http.get(server.url + "/")
        script = http.get(server.url + "/stream.js")
        style = http.get(server.url + "/stream.css")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="answer"' in page.text and 'src="stream.js"' in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert "getReader()" in script.text
    assert style.status_code == 200
