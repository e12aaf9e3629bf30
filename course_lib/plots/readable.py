"""What every course figure keeps to, so a learner can read it in JupyterLab at 1400 x 900.

With the file browser open (250 px), a notebook's output area at that window size is 968 px
wide (measured in Chromium). The inline backend draws at 100 dpi and crops to the drawing plus
0.1 inch on each side, so:

- a figure is at most :data:`MAX_WIDTH_IN` = 9.4 inches wide (960 px once cropped). A wider
  one is scaled down to fit, and every font in it shrinks by the same factor (a 16.8-inch
  figure prints 8-point text at under 5 points);
- no text is smaller than :data:`MIN_FONT_PT`; labels and legends use :data:`LABEL_PT`;
- a legend never sits on the data: :func:`legend_below` puts it under the axes, clear of the
  tick labels and the axis label, and constrained layout makes room for it;
- an axis that shows a share (a percentage, a fraction of calls) starts at zero, so bar heights
  and distances compare honestly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.legend import Legend
from matplotlib.transforms import ScaledTranslation

__all__ = ["LABEL_PT", "MAX_WIDTH_IN", "MIN_FONT_PT", "legend_below"]

MAX_WIDTH_IN = 9.4
MIN_FONT_PT = 9.0
LABEL_PT = 10.0
_GAP_PT = 4.0


def legend_below(ax: Axes, handles: Sequence[Any] | None = None,
                 labels: Sequence[str] | None = None, *, ncol: int | None = None,
                 **kwargs: Any) -> Legend:
    """A legend centred under ``ax``, just below its tick labels and axis label.

    The offset is measured in points from what is drawn below the axes (tick labels, the axis
    label), so it holds whatever size the layout later gives the axes. Keyword arguments go to
    ``Axes.legend``.
    """
    figure = ax.get_figure()
    renderer = figure.canvas.get_renderer()  # type: ignore[union-attr]
    below_px = ax.bbox.y0 - ax.get_tightbbox(renderer).y0  # type: ignore[union-attr]
    offset_in = (below_px / figure.dpi) + _GAP_PT / 72  # type: ignore[union-attr]
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    elif labels is None:
        labels = [handle.get_label() for handle in handles]
    count = len(handles)
    options: dict[str, Any] = {"loc": "upper center", "frameon": False, "fontsize": LABEL_PT,
                               "ncol": ncol or min(max(count, 1), 3)}
    options |= kwargs
    shift = ScaledTranslation(0, -offset_in, figure.dpi_scale_trans)  # type: ignore[union-attr]
    return ax.legend(handles, labels, bbox_to_anchor=(0.5, 0.0),
                     bbox_transform=ax.transAxes + shift, **options)
