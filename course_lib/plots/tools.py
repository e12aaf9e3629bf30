"""Gantt charts of tool calls: one lane per tool, serial vs parallel vs a dependency graph.

Turns :class:`course_lib.tools.ToolResult` timings into bars for
:mod:`course_lib.plots.latency` and draws them. A support tool's bar is split in two, because
the two halves mean different things: the **simulated** network latency it waited out first
(what concurrency overlaps) and the **real** work that followed (an embedding search, an SQL
query), as the tool's output reports them. A tool that timed out is drawn up to the moment it
was stopped and labelled so; a skipped tool, which never ran, gets a label at the moment it was
skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from matplotlib.figure import Figure

from course_lib.tools.result import ToolResult

from .latency import TimelineBar, TimelineMarker, timeline_comparison_figure

__all__ = ["REAL_WORK", "SIMULATED_NETWORK", "tool_bars", "tool_runs_figure"]

SIMULATED_NETWORK = "simulated network latency"
REAL_WORK = "real work, measured (embedding search / SQL)"
_STATUS_KINDS = {"error": "failed", "timeout": "timed out (cancelled)", "skipped": "skipped"}
_COLOURS = {SIMULATED_NETWORK: "#9ecae1", REAL_WORK: "#08519c",
            "failed": "#d62728", "timed out (cancelled)": "#ff7f0e", "skipped": "#7f7f7f"}


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def tool_bars(results: Iterable[ToolResult],
              kinds: Mapping[str, str] | None = None) -> list[TimelineBar]:
    """Bars for one run's results, one lane per tool, in the results' order.

    ``kinds`` names what a tool without a simulated network is doing, by tool name, e.g.
    ``{"answer": "model call"}``; the default is :data:`REAL_WORK`.
    """
    kinds = dict(kinds or {})
    bars: list[TimelineBar] = []
    for result in results:
        if not isinstance(result, ToolResult):
            raise TypeError(f"expected ToolResult, got {type(result).__name__}")
        if result.finished is None:
            raise ValueError(f"{result.name!r} has no finish time to draw")
        end = _ms(result.finished)
        if result.started is None:  # skipped, or out of time before it could start
            kind = _STATUS_KINDS[result.status]
            bars.append(TimelineBar(result.name, end, end, label=kind, kind=kind))
            continue
        start = _ms(result.started)
        if not result.ok:
            kind = _STATUS_KINDS[result.status]
            bars.append(TimelineBar(result.name, start, end,
                                    label=f"{kind} at {end - start:,.0f} ms", kind=kind))
            continue
        simulated = getattr(result.value, "simulated_latency_s", None)
        if simulated is None:  # a tool without a simulated network: one bar for all of it
            bars.append(TimelineBar(result.name, start, end,
                                    kind=kinds.get(result.name, REAL_WORK)))
            continue
        network_end = min(end, start + _ms(simulated))
        bars.append(TimelineBar(result.name, start, network_end,
                                label=f"{end - start:,.0f} ms", kind=SIMULATED_NETWORK))
        bars.append(TimelineBar(result.name, network_end, end, label=" ", kind=REAL_WORK))
    return bars


def tool_runs_figure(
    runs: Mapping[str, Sequence[ToolResult] | Mapping[str, ToolResult]],
    *,
    title: str = "",
    kinds: Mapping[str, str] | None = None,
) -> Figure:
    """Several runs of tools stacked on one time axis, each with a line where its turn ended.

    ``runs`` maps a panel title ("serial", "parallel", "DAG") to that run's results, as a list
    (from ``run_tools``) or a dict (from ``run_dag``); ``kinds`` is as for :func:`tool_bars`.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty mapping of panel title -> results")
    panels: dict[str, list[TimelineBar]] = {}
    markers: dict[str, list[TimelineMarker]] = {}
    for name, results in runs.items():
        listed = list(results.values()) if isinstance(results, Mapping) else list(results)
        if not listed:
            raise ValueError(f"run {name!r} has no results to draw")
        panels[name] = tool_bars(listed, kinds)
        done = max(_ms(r.finished) for r in listed if r.finished is not None)
        markers[name] = [TimelineMarker(done, f"turn done: {done:,.0f} ms")]
    return timeline_comparison_figure(panels, markers=markers, title=title, colours=_COLOURS)
