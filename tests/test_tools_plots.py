"""course_lib.plots.tools: tool results become the bars they measured, simulated part labelled."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import matplotlib
import matplotlib.pyplot as plt
import pytest

from course_lib.plots.tools import REAL_WORK, SIMULATED_NETWORK, tool_bars, tool_runs_figure
from course_lib.tools import DependencyFailedError, ToolResult

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def remote(name: str, started: float, finished: float, simulated: float) -> ToolResult:
    return ToolResult(name, "ok", value=SimpleNamespace(simulated_latency_s=simulated),
                      started=started, finished=finished)


def test_a_support_tool_is_split_into_simulated_network_then_real_work() -> None:
    bars = tool_bars([remote("ticket_status", 0.010, 0.315, simulated=0.300)])
    assert [(b.lane, b.kind) for b in bars] == [("ticket_status", SIMULATED_NETWORK),
                                                 ("ticket_status", REAL_WORK)]
    network, work = bars
    assert (network.start_ms, network.end_ms) == pytest.approx((10, 310))
    assert (work.start_ms, work.end_ms) == pytest.approx((310, 315))
    assert network.label == "305 ms"  # the tool's whole duration, written once


def test_failures_are_drawn_as_what_happened() -> None:
    skipped = ToolResult("search_kb", "skipped", finished=0.151,
                         error=DependencyFailedError("search_kb", "user_profile", "error", "x"))
    timed_out = ToolResult("ticket_status", "timeout", error=TimeoutError("t"),
                           started=0.0, finished=0.5)
    plain = ToolResult("answer", "ok", value="text", started=0.4, finished=1.6)
    bars = tool_bars([skipped, timed_out, plain], kinds={"answer": "model call"})
    assert [(b.lane, round(b.start_ms), round(b.end_ms), b.kind) for b in bars] == [
        ("search_kb", 151, 151, "skipped"),
        ("ticket_status", 0, 500, "timed out (cancelled)"),
        ("answer", 400, 1600, "model call"),
    ]
    assert bars[1].label == "timed out (cancelled) at 500 ms"


def test_bad_input_is_rejected() -> None:
    with pytest.raises(TypeError, match="expected ToolResult"):
        tool_bars(["search_kb"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="no finish time"):
        tool_bars([ToolResult("a", "ok", value=1)])
    with pytest.raises(ValueError, match="non-empty mapping"):
        tool_runs_figure({})
    with pytest.raises(ValueError, match="'serial' has no results"):
        tool_runs_figure({"serial": []})


def test_one_panel_per_run_each_marked_where_its_turn_ended() -> None:
    serial = [remote("a", 0.0, 0.2, 0.2), remote("b", 0.2, 0.5, 0.3)]
    parallel = {"a": remote("a", 0.0, 0.2, 0.2), "b": remote("b", 0.0, 0.3, 0.3)}
    figure = tool_runs_figure({"serial": serial, "parallel": parallel})
    axes = figure.axes
    assert [ax.get_title(loc="left") for ax in axes] == ["serial", "parallel"]
    texts = [[t.get_text() for t in ax.texts] for ax in axes]
    assert "turn done: 500 ms" in texts[0]
    assert "turn done: 300 ms" in texts[1]
