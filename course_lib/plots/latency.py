"""Latency timelines: what happened when, drawn as a Gantt chart in milliseconds.

The lesson's second question, "用户感受到的延迟从哪里来?" (where does the latency users feel come
from?), is best answered by looking at a timeline: how long the user waits before the first
token, how long the text takes to stream, and which tool calls block one another. Each bar is a
span of measured time on a lane (a row: one tool, one request, one way of answering); markers
are instants such as "first text" or "all text".

The functions take spans that were measured elsewhere and only draw them, so notebook 02 (first
text vs all text; serial vs parallel tools), 08 (concurrent tools) and 09 (streaming) share one
look. Tracing tools such as OpenTelemetry with a Jaeger or Perfetto viewer draw the same picture
from production spans.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

__all__ = ["TimelineBar", "TimelineMarker", "timeline_comparison_figure", "timeline_figure"]

_BAR_HEIGHT = 0.6


def _finite(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{what} must be a number of milliseconds, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return float(value)


@dataclass(frozen=True)
class TimelineBar:
    """A span of time on one lane, from ``start_ms`` to ``end_ms``.

    ``label`` is written on the bar (its duration when empty); ``kind`` groups bars by colour
    and names them in the legend ("waiting for the first token", "text streaming", a tool name).
    """

    lane: str
    start_ms: float
    end_ms: float
    label: str = ""
    kind: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.lane, str) or not self.lane.strip():
            raise ValueError(f"a bar needs a lane name, got {self.lane!r}")
        start = _finite(f"bar {self.lane!r}: start_ms", self.start_ms)
        end = _finite(f"bar {self.lane!r}: end_ms", self.end_ms)
        if end < start:
            raise ValueError(f"bar {self.lane!r} ends ({end} ms) before it starts ({start} ms)")

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms

    @property
    def text(self) -> str:
        """What is written on the bar."""
        return self.label or f"{self.duration_ms:,.0f} ms"


@dataclass(frozen=True)
class TimelineMarker:
    """An instant: a diamond on one lane, or with ``lane=None`` a line across every lane."""

    at_ms: float
    label: str
    lane: str | None = None

    def __post_init__(self) -> None:
        _finite(f"marker {self.label!r}: at_ms", self.at_ms)


def _lanes(bars: Sequence[TimelineBar]) -> list[str]:
    """Lane names in order of first appearance: the first lane is drawn at the top."""
    lanes: list[str] = []
    for bar in bars:
        if bar.lane not in lanes:
            lanes.append(bar.lane)
    return lanes


def _checked_bars(what: str, bars: Sequence[TimelineBar]) -> list[TimelineBar]:
    bars = list(bars)
    if not bars:
        raise ValueError(f"{what}: nothing to draw, the list of bars is empty")
    for index, bar in enumerate(bars):
        if not isinstance(bar, TimelineBar):
            raise TypeError(f"{what}: item {index} is a {type(bar).__name__}, not a TimelineBar")
    return bars


def _colours(bars: Sequence[TimelineBar], chosen: Mapping[str, str] | None) -> dict[str, str]:
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    kinds: list[str] = []
    for bar in bars:
        kind = bar.kind or bar.lane
        if kind not in kinds:
            kinds.append(kind)
    colour_of = {kind: palette[i % len(palette)] for i, kind in enumerate(kinds)}
    return colour_of | dict(chosen or {})


def _fits_inside(ax: Axes, bar: TimelineBar, x_span: float) -> bool:
    # About 0.7 em per character at 9 pt plus a margin, against the bar's width in points; the
    # axes are measured before the layout shrinks them for the legend, hence the 0.85.
    axes_width_pt = 0.85 * ax.get_position().width * ax.figure.get_figwidth() * 72
    return bar.duration_ms / x_span * axes_width_pt >= len(bar.text) * 6.5 + 10


def _draw(ax: Axes, bars: list[TimelineBar], markers: Sequence[TimelineMarker],
          colour_of: Mapping[str, str], x_span: float, *, legend: bool = True) -> None:
    lanes = _lanes(bars)
    row = {lane: index for index, lane in enumerate(lanes)}
    legend_seen: set[str] = set()
    for bar in bars:
        kind = bar.kind or bar.lane
        y = row[bar.lane]
        ax.barh(y, bar.duration_ms, left=bar.start_ms, height=_BAR_HEIGHT, color=colour_of[kind],
                label=kind if bar.kind and kind not in legend_seen else None)
        legend_seen.add(kind)
        followed = any(other.lane == bar.lane and other is not bar
                       and other.start_ms >= bar.end_ms for other in bars)
        if _fits_inside(ax, bar, x_span):
            ax.text(bar.start_ms + bar.duration_ms / 2, y, bar.text, ha="center", va="center",
                    fontsize=9, color="white")
        elif not followed:
            ax.text(bar.end_ms, y, f" {bar.text}", ha="left", va="center", fontsize=9)
        else:  # another bar follows on this lane: write below, where there is room
            ax.text(bar.start_ms, y + _BAR_HEIGHT / 2, bar.text, ha="left", va="top", fontsize=8)
    for marker in markers:
        if not isinstance(marker, TimelineMarker):
            raise TypeError(f"markers must be TimelineMarker, got {type(marker).__name__}")
        if marker.lane is None:
            ax.axvline(marker.at_ms, color="0.3", linestyle="--", linewidth=1)
            ax.annotate(marker.label, (marker.at_ms, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -3), textcoords="offset points", va="top", fontsize=9)
            continue
        if marker.lane not in row:
            raise ValueError(f"marker {marker.label!r} is on lane {marker.lane!r}, which has no "
                             f"bars; lanes are {lanes}")
        y = row[marker.lane]
        ax.plot([marker.at_ms], [y], marker="D", color="black", markersize=6, linestyle="none")
        # Above the bar (lanes run downwards, so "above" is y minus half a bar).
        ax.annotate(marker.label, (marker.at_ms, y - _BAR_HEIGHT / 2), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=9)
    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(len(lanes) - 0.4, -0.75)  # first lane on top, room above it for marker labels
    ax.spines[["top", "right"]].set_visible(False)
    if legend and any(bar.kind for bar in bars):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)


def _x_limits(bars: Sequence[TimelineBar], markers: Sequence[TimelineMarker]
              ) -> tuple[float, float]:
    """From 0 (or the earliest start) to a little past the last instant, leaving room for labels."""
    ends = [bar.end_ms for bar in bars] + [marker.at_ms for marker in markers]
    left = min(0.0, *(bar.start_ms for bar in bars))
    right = max(max(ends), left + 1.0)
    return left, right + 0.12 * (right - left)


def timeline_figure(
    bars: Sequence[TimelineBar],
    *,
    markers: Sequence[TimelineMarker] = (),
    title: str = "",
    xlabel: str = "time (ms)",
    colours: Mapping[str, str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A Gantt chart of ``bars``, one row per lane, with optional ``markers``.

    ``colours`` maps a kind (or a lane, for bars without a kind) to a colour. The figure is made
    with pyplot, so a notebook shows it at the end of the cell.
    """
    checked = _checked_bars("timeline_figure", bars)
    markers = list(markers)
    if ax is None:
        figure, ax = plt.subplots(figsize=(9, 0.6 * len(_lanes(checked)) + 1.6),
                                  layout="constrained")
    else:
        figure = ax.figure  # type: ignore[assignment]
    left, right = _x_limits(checked, markers)
    ax.set_xlim(left, right)
    _draw(ax, checked, markers, _colours(checked, colours), right - left)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return figure


def timeline_comparison_figure(
    panels: Mapping[str, Sequence[TimelineBar]],
    *,
    markers: Mapping[str, Sequence[TimelineMarker]] | None = None,
    title: str = "",
    xlabel: str = "time (ms)",
    colours: Mapping[str, str] | None = None,
) -> Figure:
    """Timelines stacked one above the other on the same time axis, e.g. serial vs parallel.

    ``panels`` maps a panel title to its bars; ``markers`` maps a panel title to its markers.
    A shared axis makes the comparison honest: the shorter timeline looks shorter.
    """
    if not isinstance(panels, Mapping) or not panels:
        raise ValueError("panels must be a non-empty mapping of panel title -> bars")
    checked = {str(name): _checked_bars(f"panel {name!r}", bars) for name, bars in panels.items()}
    marker_sets = {name: list((markers or {}).get(name, ())) for name in checked}
    unknown = set(markers or {}) - set(checked)
    if unknown:
        raise ValueError(f"markers given for panels that do not exist: {sorted(unknown)}")
    every_bar = [bar for bars in checked.values() for bar in bars]
    colour_of = _colours(every_bar, colours)
    limits = [_x_limits(bars, marker_sets[name]) for name, bars in checked.items()]
    left, right = min(lo for lo, _ in limits), max(hi for _, hi in limits)
    heights = [len(_lanes(bars)) + 1.2 for bars in checked.values()]
    figure, axes = plt.subplots(len(checked), 1, sharex=True, layout="constrained",
                                figsize=(9, 0.55 * sum(heights) + 1.0),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (name, bars) in zip(axes[:, 0], checked.items(), strict=True):
        ax.set_xlim(left, right)
        _draw(ax, bars, marker_sets[name], colour_of, right - left, legend=False)
        ax.set_title(name, loc="left", fontsize=10)
    kinds = list(dict.fromkeys(bar.kind for bar in every_bar if bar.kind))
    if kinds:  # one legend for every panel: the colours are shared
        figure.legend(handles=[Patch(color=colour_of[kind], label=kind) for kind in kinds],
                      loc="outside right upper", frameon=False, fontsize=9)
    axes[-1, 0].set_xlabel(xlabel)
    if title:
        figure.suptitle(title)
    return figure
