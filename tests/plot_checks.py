"""Checks a learner would make by eye, made by code: is a legend on the data, is text readable.

:func:`legend_overlaps` draws the figure and compares, in display pixels, every legend's box
with what the axes show: bars and spans (patches), every point along every line, every scatter
marker (its centre and radius), filled areas, and text written on the axes. Only the part of
each artist inside its axes counts, since matplotlib clips the rest away.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox


def _legends(figure: Figure) -> list[Legend]:
    found = [ax.get_legend() for ax in figure.axes if ax.get_legend() is not None]
    return [*found, *figure.legends]


def _clipped(box: Bbox, ax: Axes) -> Bbox | None:
    return Bbox.intersection(box, ax.bbox)


def _points_along(xy: np.ndarray, step_px: float = 2.0) -> np.ndarray:
    """The line's vertices plus points every ``step_px`` along each segment."""
    points = [xy[:1]]
    for start, end in itertools.pairwise(xy):
        if not (np.all(np.isfinite(start)) and np.all(np.isfinite(end))):
            continue
        steps = max(1, math.ceil(float(np.hypot(*(end - start))) / step_px))
        points.append(start + (end - start) * np.linspace(0, 1, steps + 1)[1:, None])
    joined = np.concatenate(points)
    return joined[np.all(np.isfinite(joined), axis=1)]


def data_boxes(ax: Axes, renderer: object) -> list[tuple[str, Bbox]]:
    """(what, display box) for everything drawn in ``ax``, clipped to the axes."""
    boxes: list[tuple[str, Bbox]] = []

    def add(what: str, box: Bbox | None) -> None:
        if box is not None and (clipped := _clipped(box, ax)) is not None:
            boxes.append((what, clipped))

    for patch in ax.patches:
        if patch.get_visible():
            add(f"patch {patch.get_label()!r}", patch.get_window_extent(renderer))
    for line in ax.lines:
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(np.column_stack(line.get_data()).astype(float))
        radius = line.get_markersize() / 2 * ax.figure.dpi / 72 if line.get_marker() else 0.0
        points = _points_along(xy)
        inside = ((points[:, 0] >= ax.bbox.x0) & (points[:, 0] <= ax.bbox.x1)
                  & (points[:, 1] >= ax.bbox.y0) & (points[:, 1] <= ax.bbox.y1))
        for x, y in points[inside]:  # only what is drawn: the rest is clipped away
            boxes.append((f"line {line.get_label()!r}",
                          Bbox.from_extents(x - radius, y - radius, x + radius, y + radius)))
    for collection in ax.collections:
        if not collection.get_visible():
            continue
        if isinstance(collection, PathCollection) and len(collection.get_offsets()):
            centres = collection.get_offset_transform().transform(collection.get_offsets())
            sizes = collection.get_sizes()
            for index, (x, y) in enumerate(centres):
                size = sizes[index % len(sizes)] if len(sizes) else 20.0
                radius = math.sqrt(size) / 2 * ax.figure.dpi / 72
                add(f"marker of {collection.get_label()!r}",
                    Bbox.from_extents(x - radius, y - radius, x + radius, y + radius))
        else:
            add(f"collection {collection.get_label()!r}", collection.get_window_extent(renderer))
    for text in ax.texts:
        if text.get_visible() and text.get_text().strip():
            add(f"text {text.get_text()!r}", text.get_window_extent(renderer))
    return boxes


def legend_overlaps(figure: Figure) -> list[str]:
    """What each legend covers; empty when every legend is clear of every axes' data."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    problems = []
    for legend in _legends(figure):
        legend_box = legend.get_window_extent(renderer)
        for ax in figure.axes:
            for what, box in data_boxes(ax, renderer):
                if legend_box.overlaps(box):
                    problems.append(f"the legend covers {what} in {ax.get_title()!r}")
    return problems


def small_texts(figure: Figure, minimum_pt: float) -> list[str]:
    """Every visible, non-empty text in the figure smaller than ``minimum_pt``."""
    figure.canvas.draw()
    return sorted({f"{text.get_text()!r} at {text.get_fontsize():g} pt"
                   for text in figure.findobj(Text)
                   if text.get_visible() and text.get_text().strip()
                   and text.get_fontsize() < minimum_pt})
