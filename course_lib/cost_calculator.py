"""The live cost calculator of notebook 01: sliders and a model menu, the month's bill beside them.

Every change recomputes with :func:`course_lib.cost_model.estimate` (pure arithmetic, tested on
its own) and redraws the chart; this module only wires widgets to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from course_lib.cost_model import (
    OUTPUT_PARTS,
    PART_LABELS,
    CalculatorSettings,
    MonthlyEstimate,
    chat_models,
    estimate,
    format_usd,
)
from course_lib.plots.breakdown import cost_breakdown_figure
from course_lib.pricing import DAYS_PER_MONTH

__all__ = ["CostCalculator", "calculator_figure"]


@dataclass(frozen=True)
class _Slider:
    name: str
    description: str
    minimum: int
    maximum: int
    step: int


_SLIDERS: tuple[_Slider, ...] = (
    _Slider("users_per_day", "users / day", 0, 20_000, 100),
    _Slider("messages_per_user", "messages / user", 1, 50, 1),
    _Slider("system_prompt_tokens", "system prompt", 0, 4_000, 50),
    _Slider("retrieved_docs_tokens", "RAG docs", 0, 8_000, 100),
    _Slider("user_message_tokens", "user message", 0, 2_000, 10),
    _Slider("answer_tokens", "answer", 0, 2_000, 10),
)


@dataclass
class CostCalculator:
    """Sliders and a model menu on the left, the month's bill and where it goes on the right.

    Build it with :meth:`build`, show :attr:`widget`. Every change recomputes with
    :func:`estimate` and redraws the chart in :attr:`chart` (an ``ipywidgets.Output``). It is
    drawn once with the starting settings when built, so it also renders where no front end
    moves the sliders (nbval, a static export). :attr:`latest` is the estimate on screen;
    ``controls`` maps each setting's name to its widget, which is also how tests move a slider.
    """

    controls: dict[str, widgets.ValueWidget]
    summary: widgets.HTML
    chart: widgets.Output
    widget: widgets.Box
    days: int = DAYS_PER_MONTH  # not a slider: a month is a month
    latest: MonthlyEstimate = field(init=False)

    @classmethod
    def build(
        cls, settings: CalculatorSettings | None = None, models: Sequence[str] | None = None
    ) -> CostCalculator:
        start = settings or CalculatorSettings()
        choices = list(models) if models is not None else chat_models()
        if start.model not in choices:
            raise ValueError(f"the starting model {start.model!r} is not among {choices}")
        estimate(start)  # bad settings fail here, with a clear error, before any widget exists
        style = {"description_width": "110px"}
        layout = widgets.Layout(width="340px")
        controls: dict[str, widgets.ValueWidget] = {}
        for slider in _SLIDERS:
            value = getattr(start, slider.name)
            controls[slider.name] = widgets.IntSlider(
                value=value, min=min(slider.minimum, value), max=max(slider.maximum, value),
                step=slider.step,
                description=slider.description, continuous_update=False, style=style,
                layout=layout,
            )
        controls["model"] = widgets.Dropdown(
            options=choices, value=start.model, description="model", style=style, layout=layout
        )
        summary = widgets.HTML()
        chart = widgets.Output(layout=widgets.Layout(min_width="520px"))
        box = widgets.HBox([
            widgets.VBox(list(controls.values())),
            widgets.VBox([summary, chart]),
        ])
        calculator = cls(controls, summary, chart, box, days=start.days)
        for control in controls.values():
            control.observe(calculator._on_change, names="value")
        calculator.refresh()
        return calculator

    @property
    def settings(self) -> CalculatorSettings:
        """The settings the controls show right now."""
        values: dict[str, Any] = {name: control.value for name, control in self.controls.items()}
        return CalculatorSettings(**values, days=self.days)

    def refresh(self) -> MonthlyEstimate:
        """Recompute from the controls and redraw; returns the new estimate."""
        self.latest = estimate(self.settings)
        self.summary.value = _summary_html(self.latest)
        figure = calculator_figure(self.latest)
        with self.chart:
            self.chart.clear_output(wait=True)
            display(figure)
        # Shown once, inside the Output; closing keeps pyplot from showing it a second time.
        plt.close(figure)
        return self.latest

    def _on_change(self, _change: Mapping[str, Any]) -> None:
        self.refresh()


def calculator_figure(monthly: MonthlyEstimate) -> Figure:
    """The calculator's chart: the month's bill by part, input and output in their colours.

    6 inches wide (620 px once cropped): beside the 340 px of controls it fits the 968 px a
    notebook's output has at 1400 px with JupyterLab's file browser open.
    """
    parts = {PART_LABELS[part]: cost for part, cost in monthly.by_part().items()
             if part != "framing"}
    _, ax = plt.subplots(figsize=(6.0, 0.5 * len(parts) + 1.9), layout="constrained")
    return cost_breakdown_figure(
        parts,
        title=f"A month on {monthly.model}: {format_usd(monthly.total_usd)}",
        output_parts=[PART_LABELS[part] for part in OUTPUT_PARTS],
        ax=ax,
    )


def _summary_html(monthly: MonthlyEstimate) -> str:
    conversation = monthly.per_conversation
    return (
        f"<b>{monthly.traffic.conversations_per_day:,}</b> conversations a day x "
        f"{monthly.traffic.days} days = <b>{monthly.conversations:,}</b> a month<br>"
        f"one conversation: {format_usd(conversation.total_usd)} "
        f"(input {format_usd(conversation.input_usd)}, "
        f"output {format_usd(conversation.output_usd)})<br>"
        f"<b>a month: {format_usd(monthly.total_usd)}</b>, "
        f"{float(conversation.input_share):.0%} of it input tokens"
    )
