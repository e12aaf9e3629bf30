"""Batch embedding, drawn: how long each strategy took next to its ideal, and what each
request did over time.

:func:`strategy_times_figure` puts the measured time of each way of sending the same texts (one
per request, batched, batched and concurrent) beside its ideal: the simulated round trips alone
(what a real provider's waits cost). A log scale, because the strategies differ by orders of
magnitude.

:func:`attempt_timeline_figure` draws every request of one or more runs as a bar on its batch's
row, coloured by outcome, with shared rate-limit pauses shaded: concurrency shows as bars that
overlap, a retry as a second bar on the same row, a 429 pause as a band nobody sends in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from course_lib.batching.ideal import StrategyTiming
from course_lib.batching.report import BatchReport

__all__ = ["StrategyTiming", "attempt_timeline_figure", "strategy_times_figure"]

_OUTCOME_COLOURS = {"ok": "#4c9a2a", "429": "#e69f00"}
_ERROR_COLOUR = "#c0392b"
_PAUSE_COLOUR = "#f6d38f"


def strategy_times_figure(timings: Sequence[StrategyTiming], *, title: str = "") -> Figure:
    """Horizontal bars per strategy: the ideal (its simulated waits alone) and measured."""
    if not timings:
        raise ValueError("no strategies to draw")
    series = [
        ("ideal: the simulated round trips alone (a real provider's view)", "ideal_s", "#9ecae1"),
        ("measured on this machine", "measured_s", "#e6550d"),
    ]
    figure, ax = plt.subplots(figsize=(9, 1.1 * len(timings) + 1.4), layout="constrained")
    height = 0.8 / len(series)
    for offset, (label, attribute, colour) in enumerate(series):
        positions = [row + (offset - 0.5) * height for row in range(len(timings))]
        values = [getattr(timing, attribute) for timing in timings]
        ax.barh(positions, values, height=height * 0.95, color=colour, label=label)
        for position, value in zip(positions, values, strict=True):
            ax.text(value * 1.08, position, _seconds(value), va="center", fontsize=8)
    ax.set_yticks(range(len(timings)))
    ax.set_yticklabels([_label(t) for t in timings])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("seconds (log scale)")
    largest = max(getattr(t, a) for t in timings for _, a, _ in series)
    ax.set_xlim(right=largest * 4)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8,
              frameon=False)
    if title:
        ax.set_title(title)
    return figure


def _label(timing: StrategyTiming) -> str:
    return (f"{timing.name}\n{timing.requests:,} requests, "
            f"{timing.texts / timing.measured_s:,.0f} texts/s measured")


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def attempt_timeline_figure(runs: Mapping[str, BatchReport], *, title: str = "") -> Figure:
    """One panel per run: a bar per request on its batch's row, pauses shaded, shared x-axis."""
    if not runs:
        raise ValueError("no runs to draw")
    figure, axes = plt.subplots(
        len(runs), 1, sharex=True, layout="constrained", squeeze=False,
        figsize=(9, sum(0.13 * report.batches + 1.1 for report in runs.values()) + 0.6),
        height_ratios=[max(report.batches, 1) + 3 for report in runs.values()])
    outcomes: set[str] = set()
    paused = False
    for ax, (name, report) in zip(axes[:, 0], runs.items(), strict=True):
        for start, end in report.pauses:
            ax.axvspan(start * 1000, end * 1000, color=_PAUSE_COLOUR, alpha=0.6, lw=0)
            paused = True
        for record in report.timeline:
            outcomes.add(record.outcome)
            ax.barh(record.batch, max((record.end_s - record.start_s) * 1000, 0.3),
                    left=record.start_s * 1000, height=0.7, color=_colour(record.outcome))
        ax.set_ylim(report.batches - 0.5, -0.5)
        ax.set_ylabel("batch")
        ax.set_title(f"{name}: {_count(report.requests, 'request')}, "
                     f"{_count(report.retries, 'retry', 'retries')}, "
                     f"{report.elapsed_s * 1000:.0f} ms", fontsize=10, loc="left")
    axes[-1, 0].set_xlabel("milliseconds since the run started")
    handles = [Patch(color=_colour(o), label=_outcome_label(o)) for o in sorted(outcomes)]
    if paused:
        handles.append(Patch(color=_PAUSE_COLOUR, label="shared pause (Retry-After)"))
    axes[0, 0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                      frameon=False)
    if title:
        figure.suptitle(title)
    return figure


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def _colour(outcome: str) -> str:
    return _OUTCOME_COLOURS.get(outcome, _ERROR_COLOUR)


def _outcome_label(outcome: str) -> str:
    return {"ok": "200: vectors", "429": "429: rate limited"}.get(outcome, f"{outcome}: failed")
