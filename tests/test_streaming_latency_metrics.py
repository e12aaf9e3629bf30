"""TTFT, TPOT, ITL and e2e (course_lib.streaming.latency_metrics), with p50/p95/p99.

Expected values are worked out by hand in each test (percentiles by linear interpolation:
position ``(n - 1) * q / 100`` between the sorted samples). The sandbox test asserts lower bounds
only: a busy machine can make the sandbox late, never early.
"""

from __future__ import annotations

import asyncio
import math
import time

import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib import llm
from course_lib.sandbox.profiles import MODEL_PROFILES
from course_lib.streaming import (
    LatencySummary,
    RequestLatency,
    request_latency,
    start_stream_server,
    stream_chat,
    summarize_latency,
    time_completion,
)
from course_lib.streaming.client import ReceivedEvent, StreamResult
from course_lib.streaming.events import DoneEvent, TokenEvent
from course_lib.tracker import CostTracker

# --- one request ------------------------------------------------------------------------------


def test_one_request_worked_by_hand() -> None:
    # Sent at 10.0 s; four text chunks at 10.5, 10.6, 10.8 and 11.1 s, one token each.
    latency = request_latency([10.5, 10.6, 10.8, 11.1], 4, start_s=10.0)
    assert latency.ttft_s == pytest.approx(0.5)
    assert latency.e2e_s == pytest.approx(1.1)
    assert latency.itl_s == pytest.approx((0.1, 0.2, 0.3))
    assert latency.tpot_s == pytest.approx(0.6 / 3)  # (1.1 - 0.5) / (4 - 1)


def test_tpot_counts_tokens_while_itl_counts_chunks() -> None:
    # The same four chunks carrying six tokens (two chunks held two tokens each).
    latency = request_latency([10.5, 10.6, 10.8, 11.1], 6, start_s=10.0)
    assert latency.tpot_s == pytest.approx(0.6 / 5)  # (1.1 - 0.5) / (6 - 1)
    assert latency.itl_s == pytest.approx((0.1, 0.2, 0.3))  # three gaps, whatever the tokens


def test_one_token_has_ttft_and_e2e_but_no_tpot() -> None:
    latency = request_latency([0.25], 1)
    assert (latency.ttft_s, latency.e2e_s, latency.itl_s) == (0.25, 0.25, ())
    assert latency.tpot_s is None  # (e2e - ttft) / 0 is undefined, not 0


@pytest.mark.parametrize(("arrivals", "tokens", "start", "message"), [
    ([], 3, 0.0, "no chunk with text arrived"),
    ([0.5], 0, 0.0, "output_tokens must be at least 1"),
    ([0.5], -2, 0.0, "output_tokens must be at least 1"),
    ([0.5, 0.4], 2, 0.0, "non-decreasing"),
    ([0.5], 1, 1.0, "before the request was sent"),
    ([float("nan")], 1, 0.0, "finite"),
    ([0.5, float("inf")], 2, 0.0, "finite"),
])
def test_bad_arrivals_are_refused_with_the_reason(arrivals, tokens, start, message) -> None:
    with pytest.raises(ValueError, match=message):
        request_latency(arrivals, tokens, start_s=start)


@pytest.mark.parametrize("tokens", [2.0, "3", True])
def test_output_tokens_must_be_an_int(tokens) -> None:
    with pytest.raises(TypeError, match="output_tokens must be an int"):
        request_latency([0.1, 0.2], tokens)


# --- many requests ----------------------------------------------------------------------------


def test_summary_worked_by_hand_pools_itl_and_averages_tpot_per_request() -> None:
    short = request_latency([1.0, 2.0, 3.0], 3)  # TTFT 1, e2e 3, TPOT 1, gaps 1, 1
    long = request_latency([2.0, 2.5, 3.0, 3.5, 4.0, 4.5], 6)  # TTFT 2, e2e 4.5, TPOT 0.5
    summary = summarize_latency([short, long])
    assert summary.requests == 2
    # Two samples a < b: p = a + (b - a) * q / 100.
    assert (summary.ttft_s.p50, summary.ttft_s.p95, summary.ttft_s.p99) == pytest.approx(
        (1.5, 1.95, 1.99))
    assert (summary.e2e_s.p50, summary.e2e_s.p95, summary.e2e_s.p99) == pytest.approx(
        (3.75, 4.425, 4.485))
    assert (summary.tpot_s.p50, summary.tpot_s.p95, summary.tpot_s.p99) == pytest.approx(
        (0.75, 0.975, 0.995))
    # ITL pools the seven gaps [0.5 x5, 1, 1]: positions 3, 5.7 and 5.94 of the sorted list.
    assert summary.itl_s.samples == 7
    assert (summary.itl_s.p50, summary.itl_s.p95, summary.itl_s.p99) == pytest.approx(
        (0.5, 1.0, 1.0))
    # The long answer's many gaps outvote the short one: ITL's median is not TPOT's.
    assert summary.itl_s.p50 < summary.tpot_s.p50


def test_one_token_requests_are_left_out_of_tpot_and_counted() -> None:
    summary = summarize_latency([request_latency([0.7], 1), request_latency([1.0, 2.0, 3.0], 3)])
    assert summary.requests == 2 and summary.ttft_s.samples == 2
    assert summary.tpot_s.samples == 1 and summary.tpot_s.p50 == pytest.approx(1.0)
    only_one = summarize_latency([request_latency([0.7], 1)])
    assert only_one.tpot_s is None and only_one.itl_s is None
    assert "undefined" in only_one.table()


def test_summary_refuses_nothing_and_foreign_items() -> None:
    with pytest.raises(ValueError, match="at least one request"):
        summarize_latency([])
    with pytest.raises(TypeError, match="RequestLatency"):
        summarize_latency([(0.1, 0.2)])


def test_table_names_the_four_figures_in_the_unit_asked() -> None:
    summary = summarize_latency([request_latency([1.0, 2.0, 3.0], 3)])
    table = summary.table(to_ms=lambda s: s * 2000)  # e.g. a time scale of 0.5
    assert [line.split()[0] for line in table.splitlines()[1:]] == ["TTFT", "TPOT", "ITL", "e2e"]
    assert "2,000.0 ms" in table and "6,000.0 ms" in table  # TTFT 1 s and e2e 3 s, doubled


# --- properties -------------------------------------------------------------------------------

gaps = st.lists(st.floats(0, 5, allow_nan=False), min_size=0, max_size=40)


@st.composite
def requests(draw) -> tuple[float, list[float], int]:
    start = draw(st.floats(-1e3, 1e3, allow_nan=False))
    first = start + draw(st.floats(0, 10, allow_nan=False))
    arrivals = [first]
    for gap in draw(gaps):
        arrivals.append(arrivals[-1] + gap)
    tokens = draw(st.integers(1, 4)) * len(arrivals)
    return start, arrivals, tokens


@given(requests())
def test_ttft_plus_the_tokens_after_it_make_e2e(request_) -> None:
    start, arrivals, tokens = request_
    latency = request_latency(arrivals, tokens, start_s=start)
    assert latency.ttft_s >= 0 and latency.e2e_s >= latency.ttft_s
    assert len(latency.itl_s) == len(arrivals) - 1 and all(g >= 0 for g in latency.itl_s)
    assert math.isclose(latency.ttft_s + math.fsum(latency.itl_s), latency.e2e_s,
                        rel_tol=1e-9, abs_tol=1e-9)
    if tokens > 1:
        assert math.isclose(latency.ttft_s + (tokens - 1) * latency.tpot_s, latency.e2e_s,
                            rel_tol=1e-9, abs_tol=1e-9)


@given(st.lists(requests(), min_size=1, max_size=12))
def test_percentiles_are_ordered_and_within_the_samples(drawn) -> None:
    measured = [request_latency(a, n, start_s=s) for s, a, n in drawn]
    summary = summarize_latency(measured)
    samples = {
        "TTFT": [r.ttft_s for r in measured],
        "TPOT": [r.tpot_s for r in measured if r.tpot_s is not None],
        "ITL": [g for r in measured for g in r.itl_s],
        "e2e": [r.e2e_s for r in measured],
    }
    for name, stats in summary.rows():
        if not samples[name]:
            assert stats is None
            continue
        assert stats.samples == len(samples[name])
        slack = 1e-9 * max(1.0, max(abs(v) for v in samples[name]))
        assert min(samples[name]) - slack <= stats.p50 <= stats.p95 + slack
        assert stats.p95 <= stats.p99 + slack <= max(samples[name]) + 2 * slack


# --- the streaming clients report it ----------------------------------------------------------


def test_the_sse_client_reports_latency_with_the_token_count_from_done() -> None:
    result = StreamResult(200, ended="done", total_s=0.9, events=[
        ReceivedEvent(0.1, None),  # a heartbeat is not text
        ReceivedEvent(0.3, TokenEvent("Click")),
        ReceivedEvent(0.5, TokenEvent(" Forgot password")),
        ReceivedEvent(0.8, DoneEvent({"completion_tokens": 4}, "stop")),
    ])
    latency = result.latency()
    assert (latency.ttft_s, latency.e2e_s, latency.output_tokens) == (0.3, 0.5, 4)
    assert latency.tpot_s == pytest.approx(0.2 / 3)
    stopped = StreamResult(200, ended="stopped", events=result.events[:2])
    with pytest.raises(ValueError, match="pass output_tokens"):
        stopped.latency()
    assert stopped.latency(output_tokens=1).tpot_s is None


@pytest.mark.timing
def test_through_the_official_client_against_the_sandbox(sb) -> None:
    """Streamed with include_usage: the figures are at least what the sandbox scheduled."""
    sb.time_scale = 0.2
    profile = MODEL_PROFILES["gpt-4o"]
    try:
        with openai.OpenAI(base_url=sb.base_url, api_key=llm.SANDBOX_API_KEY,
                           max_retries=0) as client:
            client.models.list()  # open the connection first
            timing = time_completion(
                client, stream=True, model="gpt-4o",
                messages=[{"role": "user", "content": "How do I reset my password?"}],
                extra_body={"sandbox": {"answer_tokens": 40}})
    finally:
        sb.time_scale = 0
    record = sb.requests[-1]
    latency = timing.latency
    assert isinstance(latency, RequestLatency)
    assert latency.output_tokens == record.completion_tokens == 40
    assert latency.ttft_s >= record.planned_ttft_s
    # Text chunk j carries token j or a later one, and each token waits at least half the
    # profile's interval (its jitter's floor) after the one before: measured from the request,
    # so a client that a busy machine delays can read in bursts but never see text early.
    shortest_interval = 0.5 / profile.tokens_per_second * 0.2
    assert latency.e2e_s >= record.planned_ttft_s + len(latency.itl_s) * shortest_interval
    assert latency.e2e_s <= timing.total_s  # the usage chunk and [DONE] come after the text
    assert latency.ttft_s + 39 * latency.tpot_s == pytest.approx(latency.e2e_s)
    summary = summarize_latency([latency])
    assert isinstance(summary, LatencySummary) and summary.itl_s.samples == len(latency.itl_s)


@pytest.mark.timing
def test_the_course_endpoint_stream_reports_latency(sb) -> None:
    sb.time_scale = 0.2
    try:
        with start_stream_server(
                client=lambda: openai.AsyncOpenAI(base_url=sb.base_url,
                                                  api_key=llm.SANDBOX_API_KEY, max_retries=0),
                tracker=CostTracker(), model="gpt-4o",
                extra_body={"sandbox": {"answer_tokens": 12}}) as server:
            started = time.perf_counter()
            result = asyncio.run(stream_chat(server.url, "How do I reset my password?"))
            waited = time.perf_counter() - started
    finally:
        sb.time_scale = 0
    latency = result.latency()
    record = sb.requests[-1]
    assert result.ended == "done" and latency.output_tokens == 12
    assert record.planned_ttft_s <= latency.ttft_s <= latency.e2e_s <= waited
