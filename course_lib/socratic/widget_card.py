"""What every card shares: an ipywidgets view for JupyterLab and a plain-text face elsewhere.

Where a widget front end exists (JupyterLab, Notebook 7, VS Code) the display bundle's
``application/vnd.jupyter.widget-view+json`` entry draws the interactive card. Where none does
(nbval, ``jupyter nbconvert``, a terminal) the ``text/plain`` entry is shown instead: it says
how to use the card's methods and never contains the answer.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
from IPython import get_ipython
from IPython.display import display

from course_lib.socratic.feedback import Reply
from course_lib.socratic.markdown import markdown_to_html

ORIGINAL_WORDING_LABEL = "原文 / original wording"


def hide(widget: widgets.DOMWidget) -> None:
    """Take ``widget`` out of the layout (its state still exists)."""
    widget.layout.display = "none"


def show(widget: widgets.DOMWidget) -> None:
    """Put a hidden ``widget`` back into the layout."""
    widget.layout.display = None


def is_shown(widget: widgets.DOMWidget) -> bool:
    """Whether ``widget`` takes part in the layout (what a learner can see)."""
    return widget.layout.display != "none"


def markdown_widget(text: str, css_class: str) -> widgets.HTML:
    """An ``ipywidgets.HTML`` showing ``text`` rendered by :func:`markdown_to_html`."""
    view = widgets.HTML(value=markdown_to_html(text) if text else "")
    view.add_class(css_class)
    return view


def question_heading(card_id: str) -> str:
    """The line above every question: the lesson's 🤔 and the card id to quote when asking."""
    return f"<p><strong>🤔 Question</strong> <code>{html.escape(card_id)}</code></p>"


class OriginalWording:
    """The lesson's Chinese wording, behind a toggle so the English question stays uncluttered."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.toggle = widgets.ToggleButton(
            value=False,
            description=ORIGINAL_WORDING_LABEL,
            tooltip="show the question as the original lesson asks it",
            layout=widgets.Layout(width="auto", align_self="flex-start"),
        )
        self.view = markdown_widget(text, "course-socratic-original")
        hide(self.view)
        self.toggle.observe(self._on_toggle, names="value")

    def open(self) -> None:
        """Show the original wording (as if the toggle were pressed)."""
        self.toggle.value = True

    def _on_toggle(self, change: dict[str, Any]) -> None:
        if change["new"]:
            show(self.view)
        else:
            hide(self.view)


def card_frame(children: list[widgets.Widget], css_class: str) -> widgets.VBox:
    """The box around one card."""
    frame = widgets.VBox(
        children,
        layout=widgets.Layout(
            border="1px solid #c8c8c8", padding="0.4em 1em", margin="0.6em 0", width="auto"
        ),
    )
    frame.add_class("course-socratic")
    frame.add_class(css_class)
    # Card text has dollar amounts: tell JupyterLab's MathJax never to read them as TeX.
    frame.add_class("tex2jax_ignore")
    frame.add_class("mathjax_ignore")
    return frame


def _current_cell() -> int | None:
    shell = get_ipython()
    return None if shell is None else shell.execution_count


class WidgetCard:
    """Base for cards: subclasses set ``card_id`` and ``widget`` and write :meth:`plain_text`."""

    card_id: str
    widget: widgets.Box
    original_wording: OriginalWording | None = None
    _shown_in_cell: int | None = None

    def original(self) -> Reply:
        """Show the lesson's original (Chinese) wording of the question and return it."""
        if self.original_wording is None:
            return Reply("This card has no original wording.")
        self.original_wording.open()
        return Reply(self.original_wording.text)

    def plain_text(self) -> str:
        """The card as text, for places without widgets; never includes the answer."""
        raise NotImplementedError

    def show_in_this_cell(self) -> None:
        """Display the card, and skip the repeat if the cell's result is this same card.

        ``ask()`` both displays a card and returns it, so that ``card = ask(...)`` gives a
        handle; without this, a bare ``ask(...)`` as a cell's last line would show it twice.
        """
        display(self)
        self._shown_in_cell = _current_cell()

    def __str__(self) -> str:
        return self.plain_text()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.card_id!r})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = {}
        # A closed widget has no view left to draw; ipywidgets sets the method to None then.
        widget_bundle = getattr(self.widget, "_repr_mimebundle_", None)
        if callable(widget_bundle):
            bundle.update(widget_bundle(**kwargs))
        bundle["text/plain"] = self.plain_text()
        return bundle

    def _ipython_display_(self) -> None:
        if self._shown_in_cell is not None and self._shown_in_cell == _current_cell():
            return
        display(self._repr_mimebundle_(), raw=True)
