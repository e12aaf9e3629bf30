"""Latency timelines draw exactly the spans they are given, on the lanes they name."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
from matplotlib.lines import Line2D

from course_lib.plots.latency import (
    TimelineBar,
    TimelineMarker,
    timeline_comparison_figure,
    timeline_figure,
)

SERIAL = [
    TimelineBar("search_knowledge_base", 0, 200, kind="search_knowledge_base"),
    TimelineBar("get_ticket_status", 200, 500, kind="get_ticket_status"),
    TimelineBar("get_user_profile", 500, 650, kind="get_user_profile"),
]
PARALLEL = [
    TimelineBar("search_knowledge_base", 0, 200, kind="search_knowledge_base"),
    TimelineBar("get_ticket_status", 0, 300, kind="get_ticket_status"),
    TimelineBar("get_user_profile", 0, 150, kind="get_user_profile"),
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def spans(ax) -> list[tuple[float, float, float]]:
    """(lane row, start, end) of every bar drawn on ``ax``."""
    return [(patch.get_y() + patch.get_height() / 2, patch.get_x(),
             patch.get_x() + patch.get_width()) for patch in ax.patches]


def test_each_bar_is_drawn_from_its_start_to_its_end_on_its_lane() -> None:
    bars = [
        TimelineBar("streamed", 0, 400, kind="waiting"),
        TimelineBar("streamed", 400, 4150, kind="text arriving"),
        TimelineBar("not streamed", 0, 4100, kind="waiting"),
    ]
    figure = timeline_figure(bars, title="first text vs all text")
    ax = figure.axes[0]
    assert spans(ax) == [(0, 0, 400), (0, 400, 4150), (1, 0, 4100)]
    assert [label.get_text() for label in ax.get_yticklabels()] == ["streamed", "not streamed"]
    assert ax.yaxis_inverted()  # the first lane is on top
    assert ax.get_title() == "first text vs all text"


def test_bars_of_a_kind_share_a_colour_and_a_legend_entry() -> None:
    bars = [TimelineBar("a", 0, 10, kind="waiting"), TimelineBar("b", 0, 20, kind="waiting"),
            TimelineBar("b", 20, 30, kind="streaming")]
    ax = timeline_figure(bars).axes[0]
    colours = [patch.get_facecolor() for patch in ax.patches]
    assert colours[0] == colours[1] != colours[2]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["waiting", "streaming"]


def test_bars_are_labelled_with_their_duration_or_their_label() -> None:
    bars = [TimelineBar("tool", 0, 1234.4), TimelineBar("other", 0, 300, label="cache hit")]
    texts = [text.get_text().strip() for text in timeline_figure(bars).axes[0].texts]
    assert "1,234 ms" in texts
    assert "cache hit" in texts


def test_markers_sit_on_their_lane_or_span_every_lane() -> None:
    bars = [TimelineBar("streamed", 0, 400), TimelineBar("streamed", 400, 4150),
            TimelineBar("not streamed", 0, 4100)]
    markers = [TimelineMarker(400, "first text", "streamed"),
               TimelineMarker(4100, "all text", "not streamed"),
               TimelineMarker(5000, "deadline")]
    ax = timeline_figure(bars, markers=markers).axes[0]
    points = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines
              if isinstance(line, Line2D) and line.get_marker() == "D"]
    assert points == [(400, 0), (4100, 1)]
    vertical = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert [line.get_xdata()[0] for line in vertical] == [5000]
    assert {"first text", "all text", "deadline"} <= {text.get_text() for text in ax.texts}
    assert ax.get_xlim()[1] > 5000  # the last instant is inside the plot


def test_comparison_draws_each_panel_on_one_shared_time_axis() -> None:
    figure = timeline_comparison_figure(
        {"serial": SERIAL, "parallel": PARALLEL},
        markers={"serial": [TimelineMarker(650, "done")],
                 "parallel": [TimelineMarker(300, "done")]},
    )
    serial_ax, parallel_ax = figure.axes
    assert spans(serial_ax) == [(0, 0, 200), (1, 200, 500), (2, 500, 650)]
    assert spans(parallel_ax) == [(0, 0, 200), (1, 0, 300), (2, 0, 150)]
    assert serial_ax.get_shared_x_axes().joined(serial_ax, parallel_ax)
    assert serial_ax.get_xlim() == parallel_ax.get_xlim()
    assert serial_ax.get_xlim()[1] > 650
    # The same tool has the same colour in both panels, and the legend lists each tool once.
    assert [p.get_facecolor() for p in serial_ax.patches] == [
        p.get_facecolor() for p in parallel_ax.patches]
    assert [t.get_text() for t in figure.legends[0].get_texts()] == [
        "search_knowledge_base", "get_ticket_status", "get_user_profile"]


def test_an_existing_axes_is_drawn_on() -> None:
    figure, ax = plt.subplots()
    assert timeline_figure(SERIAL, ax=ax) is figure
    assert len(ax.patches) == 3


@pytest.mark.parametrize(("arguments", "error", "match"), [
    (("tool", 300, 200), ValueError, "ends .* before it starts"),
    (("tool", 0, math.nan), ValueError, "must be finite"),
    (("tool", 0, math.inf), ValueError, "must be finite"),
    (("tool", "0", 10), TypeError, "number of milliseconds"),
    (("", 0, 10), ValueError, "lane name"),
])
def test_bad_bars_are_refused(arguments, error, match) -> None:
    with pytest.raises(error, match=match):
        TimelineBar(*arguments)


def test_nothing_to_draw_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        timeline_figure([])
    with pytest.raises(ValueError, match="non-empty"):
        timeline_comparison_figure({})


def test_a_marker_on_a_lane_without_bars_is_refused() -> None:
    with pytest.raises(ValueError, match="lane 'nowhere'"):
        timeline_figure(SERIAL, markers=[TimelineMarker(10, "x", "nowhere")])


def test_markers_for_a_missing_panel_are_refused() -> None:
    with pytest.raises(ValueError, match="do not exist"):
        timeline_comparison_figure({"serial": SERIAL}, markers={"paralel": []})


def test_only_timeline_bars_are_drawn() -> None:
    with pytest.raises(TypeError, match="not a TimelineBar"):
        timeline_figure([(0, 200)])  # type: ignore[list-item]
