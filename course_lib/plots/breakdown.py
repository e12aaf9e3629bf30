"""Where the money goes: bar charts of a bill split into its parts.

The lesson asks "成本的大头在哪里——input tokens 还是 output tokens?" (where is the bulk of the cost:
input or output tokens?). Token counts alone mislead, because output tokens cost four times as
much as input tokens on gpt-4o; these charts show dollars. Each function takes costs already
computed (by :mod:`course_lib.cost_model`) and only draws them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from course_lib.plots.readable import LABEL_PT, legend_below

__all__ = ["cost_breakdown_figure", "dollars", "stacked_cost_figure"]

Amount = Decimal | float | int

INPUT_COLOUR = "#4C72B0"
OUTPUT_COLOUR = "#DD8452"
# A segment narrower than this share of its bar gets no label inside it: the text would not fit.
_MIN_LABELLED_SHARE = 0.06


def dollars(value: float) -> str:
    """A chart label: cents for a dollar or more, three significant digits below ($0.00825)."""
    return f"${value:,.2f}" if abs(value) >= 1 or value == 0 else f"${value:.3g}"


def _amounts(what: str, costs: Mapping[str, Amount]) -> dict[str, float]:
    if not isinstance(costs, Mapping) or not costs:
        raise ValueError(f"{what} must be a non-empty mapping of name -> cost")
    checked = {}
    for name, cost in costs.items():
        if isinstance(cost, bool) or not isinstance(cost, Decimal | float | int):
            raise TypeError(f"{what}: cost of {name!r} must be a number, got {cost!r}")
        value = float(cost)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{what}: cost of {name!r} must be a finite amount >= 0, got {cost}")
        checked[str(name)] = value
    return checked


def _axes(ax: Axes | None, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    figure, new_ax = plt.subplots(figsize=(8, height), layout="constrained")
    return figure, new_ax


def cost_breakdown_figure(
    costs: Mapping[str, Amount],
    *,
    title: str,
    output_parts: Collection[str] = (),
    label: Callable[[float], str] = dollars,
    ax: Axes | None = None,
) -> Figure:
    """One horizontal bar per part, top to bottom in the order given, with its cost and share.

    Parts named in ``output_parts`` are drawn in the output colour, the rest in the input colour.
    The figure is made with pyplot, so a notebook shows it at the end of the cell.
    """
    amounts = _amounts("costs", costs)
    unknown = set(output_parts) - set(amounts)
    if unknown:
        raise ValueError(f"output_parts names parts that are not in costs: {sorted(unknown)}")
    figure, ax = _axes(ax, 0.55 * len(amounts) + 1.2)
    names = list(amounts)
    total = sum(amounts.values())
    colours = [OUTPUT_COLOUR if name in output_parts else INPUT_COLOUR for name in names]
    bars = ax.barh(range(len(names)), [amounts[n] for n in names], color=colours)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    for bar, name in zip(bars, names, strict=True):
        share = amounts[name] / total if total else 0.0
        ax.annotate(f" {label(amounts[name])}  ({share:.0%})", (bar.get_width(), bar.get_y()
                    + bar.get_height() / 2), va="center", fontsize=LABEL_PT, parse_math=False)
    ax.set_xlim(0, max(amounts.values()) * 1.45 or 1)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # readable ticks in a narrow figure
    ax.set_xlabel("USD")
    ax.set_title(title, parse_math=False)
    ax.spines[["top", "right"]].set_visible(False)
    if output_parts:  # under the axes: inside, it would cover whichever bar is longest
        legend_below(ax, [plt.Rectangle((0, 0), 1, 1, color=INPUT_COLOUR, label="input tokens"),
                          plt.Rectangle((0, 0), 1, 1, color=OUTPUT_COLOUR,
                                        label="output tokens")], ncol=2)
    return figure


def stacked_cost_figure(
    rows: Mapping[str, Mapping[str, Amount]],
    *,
    title: str,
    as_share: bool = False,
    colours: Mapping[str, str] | None = None,
    label: Callable[[float], str] = dollars,
    ax: Axes | None = None,
) -> Figure:
    """One horizontal bar per row (a scenario), its parts stacked left to right.

    A part has the same colour in every row (pass ``colours`` to choose them). Each segment is
    labelled with its share of the row, each bar with the row's total. With ``as_share=True``
    every bar is scaled to 100%, to compare where the money goes in bills of different sizes.
    """
    if not isinstance(rows, Mapping) or not rows:
        raise ValueError("rows must be a non-empty mapping of row name -> {part: cost}")
    checked = {str(row): _amounts(f"row {row!r}", parts) for row, parts in rows.items()}
    parts: list[str] = []
    for row_parts in checked.values():
        parts += [part for part in row_parts if part not in parts]
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour_of = {part: palette[i % len(palette)] for i, part in enumerate(parts)}
    colour_of |= dict(colours or {})
    figure, ax = _axes(ax, 0.7 * len(checked) + 1.6)
    widest = 0.0
    for y, row_parts in enumerate(checked.values()):
        total = sum(row_parts.values())
        left = 0.0
        for part in parts:
            if part not in row_parts:
                continue
            value = row_parts[part]
            share = value / total if total else 0.0
            width = share * 100 if as_share else value
            ax.barh(y, width, left=left, color=colour_of[part], label=part)
            if share >= _MIN_LABELLED_SHARE:
                ax.text(left + width / 2, y, f"{share:.0%}", ha="center", va="center",
                        fontsize=LABEL_PT, color="white")
            left += width
        ax.text(left, y, f"  {label(total)}", va="center", fontsize=LABEL_PT, parse_math=False)
        widest = max(widest, left)
    ax.set_yticks(range(len(checked)), list(checked))
    ax.invert_yaxis()
    ax.set_xlim(0, (widest or 1) * 1.25)
    if as_share:
        ax.set_xticks(range(0, 101, 20))  # the room to the right is for the totals, not 120%
    ax.set_xlabel("share of the cost (%)" if as_share else "USD")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))  # one legend entry per part, not per bar
    legend_below(ax, list(unique.values()), list(unique.keys()), ncol=min(len(unique), 4))
    return figure
