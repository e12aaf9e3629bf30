"""Output that would give a card away, held back until the learner has answered it.

Under "Run All" every cell runs, and a measurement printed three cells below a card would answer
it before the learner has thought. Wrap such a cell's output::

    with socratic.after_answer("05.q2"):
        for query in queries:
            print(router.route(query))

The code runs as usual (its asserts still check the claim); what it prints or displays, figures
included, is kept in the kernel and shown in place only once card ``05.q2`` is settled: its
answer revealed, a right guess, or a quiz solved. Until then the cell shows a note naming the
card, and a button that reveals the card's answer and shows the output. Nothing is sent to the
page before that. The state comes from the progress file, so a cell re-run after the card was
answered shows its output at once.

Outside IPython (a plain ``python`` process) there is no "Run All" and nothing is held.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import ipywidgets as widgets
from IPython import get_ipython
from IPython.display import display

from course_lib.socratic.feedback import Reply
from course_lib.socratic.progress import ProgressStore, default_store
from course_lib.socratic.validation import check_card_id


class _Recorder:
    """Collects, in order, what a block of code prints and displays, as notebook outputs."""

    def __init__(self) -> None:
        self.outputs: list[dict[str, Any]] = []

    def write(self, text: str) -> int:
        if self.outputs and self.outputs[-1].get("name") == "stdout":
            self.outputs[-1]["text"] += text
        elif text:
            self.outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        return len(text)

    def flush(self) -> None:
        pass

    def display(self, data: dict[str, Any], metadata: dict[str, Any] | None) -> None:
        self.outputs.append(
            {"output_type": "display_data", "data": data, "metadata": metadata or {}}
        )


class _RecordingPublisher:
    """Stands in for the shell's display publisher: ``display()`` inside the block lands here."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder

    def publish(self, data: dict[str, Any], metadata: dict[str, Any] | None = None,
                *args: Any, **kwargs: Any) -> None:
        self._recorder.display(data, metadata)

    def clear_output(self, wait: bool = False) -> None:
        self._recorder.outputs.clear()


class HeldOutput:
    """What a ``with after_answer(card_id):`` block produced, shown once the card is settled."""

    def __init__(self, *card_ids: str, progress: ProgressStore | None = None) -> None:
        if not card_ids:
            raise ValueError("after_answer needs the id of the card the output answers")
        self.card_ids = tuple(check_card_id(card_id) for card_id in card_ids)
        self.progress = progress or default_store()
        self._recorder = _Recorder()
        self._shell = get_ipython()
        self._saved: tuple[Any, Any] | None = None
        names = " and ".join(f"<code>{card_id}</code>" for card_id in self.card_ids)
        self.note = widgets.HTML(
            f"<p>🔒 This output answers {names}. It appears here once you have answered "
            "or revealed the answer above.</p>"
        )
        self.show_button = widgets.Button(
            description=f"Reveal {' and '.join(self.card_ids)} and show", icon="eye",
            layout=widgets.Layout(width="auto"),
        )
        self.show_button.on_click(lambda _button: self._reveal_card())
        self.output = widgets.Output()
        self.widget = widgets.VBox([widgets.HBox([self.note, self.show_button]), self.output])
        self.widget.add_class("course-socratic-held")

    @property
    def shown(self) -> bool:
        """Whether the held output is on the page."""
        return bool(self.output.outputs)

    def __enter__(self) -> HeldOutput:
        if self._shell is not None:
            self._before = _open_figures()
            self._saved = (sys.stdout, self._shell.display_pub)
            sys.stdout = self._recorder  # type: ignore[assignment]
            self._shell.display_pub = _RecordingPublisher(self._recorder)
        return self

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._saved is None:
            return
        try:
            if error_type is None:
                _show_new_figures(self._before)  # into the recorder, before the inline backend
        finally:
            sys.stdout, self._shell.display_pub = self._saved
            self._saved = None
        if error_type is not None:
            # A failing cell must show everything it printed: debugging beats suspense.
            self._release()
            display(self)
            return
        if self._settled():
            self._release()
        else:
            self.progress.subscribe(self._on_progress_change)
        display(self)

    def _settled(self) -> bool:
        return all(self.progress.get(card_id).settled for card_id in self.card_ids)

    def _reveal_card(self) -> None:
        # The learner asked for the answer: each card (in its own cell) redraws from the record.
        for card_id in self.card_ids:
            self.progress.record(card_id, revealed=True)

    def _on_progress_change(self, card_id: str | None) -> None:
        if card_id in self.card_ids and self._settled():
            self.progress.unsubscribe(self._on_progress_change)
            self._release()

    def _release(self) -> None:
        self.output.outputs = tuple(self._recorder.outputs)
        self.note.layout.display = "none"
        self.show_button.layout.display = "none"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = str(self)
        return bundle

    def __str__(self) -> str:
        """The note while the output is held; once shown, the text it printed."""
        if self.shown:
            return "".join(out.get("text", "") for out in self.output.outputs).rstrip("\n")
        return Reply(
            f"🔒 This output answers {' and '.join(self.card_ids)}; it is shown once answered "
            "or revealed (card.reveal())."
        )


def after_answer(*card_ids: str, progress: ProgressStore | None = None) -> HeldOutput:
    """Hold what the ``with`` block prints and displays until every card named is settled."""
    return HeldOutput(*card_ids, progress=progress)


def _open_figures() -> set[int]:
    pyplot = sys.modules.get("matplotlib.pyplot")
    return set(pyplot.get_fignums()) if pyplot is not None else set()


def _show_new_figures(before: set[int]) -> None:
    """Display and close the figures the block drew, so they are held with its text."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    for number in pyplot.get_fignums():
        if number not in before:
            figure = pyplot.figure(number)
            display(figure)
            pyplot.close(figure)
