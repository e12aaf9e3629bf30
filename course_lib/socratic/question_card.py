"""The question card: ask, let the learner think and answer, hint one step at a time, reveal.

This is the Socratic loop each notebook section opens with. The card never sends the answer to
the page until asked, hints come one at a time so the learner takes only as much help as they
need, and the lesson's original Chinese wording stays one click away.

Two kinds of answer box:

- a **numeric guess** (:class:`NumericGuess`) is checked against the value the notebook
  computed, with tolerance feedback ("too high by 3.2x");
- a **free-text answer** is not graded: once the answer is revealed, the card shows the
  learner's words beside the model answer and asks them to rate themselves (got it / partly /
  missed it). A keyword count cannot tell a right explanation from a wrong one that uses the
  same words; the learner, with the model answer in front of them, can.

Everything the learner does is saved in the progress file, and the card draws itself from that
record: re-running the cell or reloading the page shows the same card, and "Start over" clears
it.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from course_lib.socratic.feedback import Feedback, Reply
from course_lib.socratic.markdown import markdown_to_html
from course_lib.socratic.numeric_guess import NumericGuess
from course_lib.socratic.progress import (
    SELF_ASSESSMENTS,
    CardProgress,
    ProgressStore,
    default_store,
)
from course_lib.socratic.validation import check_card_id, require_text, text_items
from course_lib.socratic.widget_card import (
    ORIGINAL_WORDING_LABEL,
    OriginalWording,
    WidgetCard,
    card_frame,
    hide,
    markdown_widget,
    question_heading,
    show,
)

FREE_TEXT_PLACEHOLDER = "your answer, in a sentence or two"
SAVED_MESSAGE = "Your answer is saved. Reveal the answer when you want to compare it with yours."
# The three self-assessments, as the buttons name them and the colour each takes when chosen.
ASSESSMENT_LABELS = {"got_it": "✓ Got it", "partly": "≈ Partly", "missed": "✗ Missed it"}
_ASSESSMENT_STYLES = {"got_it": "success", "partly": "warning", "missed": "danger"}


class QuestionCard(WidgetCard):
    """One question with an answer box, progressive hints, a reveal button and "Start over".

    ``question`` and ``answer`` are Markdown. ``guess`` is a :class:`NumericGuess` for a
    figure to estimate, or ``None`` for a free-text answer. ``progress`` defaults to the store
    at ``$COURSE_PROGRESS_PATH``. Cards are usually built from the question bank by
    :func:`course_lib.socratic.ask`.

    In a notebook, use the buttons; anywhere else, the same steps are methods:
    :meth:`guess`, :meth:`hint`, :meth:`reveal`, :meth:`assess`, :meth:`start_over` and
    :meth:`original`. The parts of :attr:`widget` are attributes too (``hint_button``,
    ``answer_view``, ...), so tests can click them.
    """

    def __init__(
        self,
        card_id: str,
        question: str,
        answer: str,
        *,
        question_zh: str | None = None,
        hints: str | tuple[str, ...] | list[str] = (),
        guess: NumericGuess | None = None,
        progress: ProgressStore | None = None,
    ) -> None:
        self.card_id = check_card_id(card_id)
        self.question = require_text("question", question)
        self.answer = require_text("answer", answer)
        self.question_zh = None if question_zh is None else require_text("question_zh", question_zh)
        self.hints = text_items("hints", hints)
        if guess is not None and not isinstance(guess, NumericGuess):
            raise ValueError(
                f"guess must be a NumericGuess or None (a free-text answer), "
                f"got {type(guess).__name__}"
            )
        self.guess_box = guess
        self.progress = progress or default_store()
        self._drawing = False
        self.widget = self._build_widget()
        self.progress.register(self.card_id)
        self._recheck_saved_guess()
        self._draw()
        self.progress.subscribe(self._on_progress_change)

    @property
    def free_text(self) -> bool:
        """The answer box takes words, not a number, and the learner rates themselves."""
        return self.guess_box is None

    @property
    def state(self) -> CardProgress:
        """What the learner has done with this card, as the progress file records it."""
        return self.progress.get(self.card_id)

    # -- the learner's steps ------------------------------------------------------------------

    def guess(self, value: object) -> Feedback:
        """Check a numeric guess, or save a free-text answer, and show what the card says."""
        text = str(value).strip()
        saved = self.state
        if saved.feedback is not None and saved.guess == text:
            return Feedback(saved.correct, saved.feedback)  # the same answer twice (Enter, click)
        if self.guess_box is None:
            if not text:
                return Feedback(None, "Type your answer first.")
            feedback = Feedback(None, SAVED_MESSAGE)
            self.progress.record(self.card_id, answered=True, guess=text, feedback=feedback.message)
            return feedback
        feedback = self.guess_box.check(value)
        if feedback.correct is None:  # unreadable: say so, but it is not an answer
            self._show_feedback(feedback.message)
            return feedback
        self.progress.record(
            self.card_id, answered=True, correct=feedback.correct, guess=text,
            feedback=feedback.message,
        )
        return feedback

    def hint(self) -> Reply:
        """Show the next hint (on the card too) and return it, e.g. "hint 2 of 3: ..."."""
        total = len(self.hints)
        if total == 0:
            return Reply("This card has no hints; card.reveal() shows the answer.")
        seen = min(self.state.hints_seen, total)
        if seen == total:
            return Reply(f"No more hints: all {total} are shown. card.reveal() shows the answer.")
        self.progress.record(self.card_id, hints_seen=seen + 1)
        return Reply(f"hint {seen + 1} of {total}: {self.hints[seen]}")

    def reveal(self) -> Reply:
        """Show the answer on the card and return its text."""
        if not self.state.revealed:
            self.progress.record(self.card_id, revealed=True)
        return Reply(self.answer)

    def assess(self, verdict: str) -> Reply:
        """Rate your free-text answer against the model answer: "got_it", "partly" or "missed"."""
        if not self.free_text:
            raise ValueError(f"card {self.card_id} checks a number; there is nothing to rate")
        if verdict not in SELF_ASSESSMENTS:
            raise ValueError(
                f"rate your answer with one of {', '.join(map(repr, SELF_ASSESSMENTS))}, "
                f"got {verdict!r}"
            )
        if not self.state.revealed:
            raise ValueError("reveal the answer first (card.reveal()), then compare and rate")
        self.progress.record(self.card_id, self_assessment=verdict)
        return Reply(f"Saved: {ASSESSMENT_LABELS[verdict]}.")

    def start_over(self) -> Reply:
        """Forget this card's guess, hints, reveal and rating, here and in the progress file."""
        self.progress.reset(self.card_id)
        return Reply(f"Card {self.card_id} starts over: nothing of it is saved any more.")

    # -- the two faces ------------------------------------------------------------------------

    def plain_text(self) -> str:
        """The question and how to work with the card without widgets; never the answer."""
        lines = [f"🤔 Question {self.card_id}", self.question.strip(), ""]
        lines.append("(No interactive widgets here: call these methods on the card object.)")
        if self.original_wording is not None:
            lines.append(f"- {ORIGINAL_WORDING_LABEL}: card.original()")
        if self.guess_box is not None:
            unit = f" in {self.guess_box.unit}" if self.guess_box.unit else ""
            lines.append(f"- your estimate{unit}: card.guess(your_number)")
        else:
            lines.append('- your answer: card.guess("in a sentence or two")')
        if self.hints:
            count = len(self.hints)
            noun = "hint" if count == 1 else "hints"
            lines.append(f"- {count} {noun} available: card.hint() shows the next one")
        lines.append("- the answer: card.reveal()")
        if self.free_text:
            lines.append('- then rate yourself: card.assess("got_it" | "partly" | "missed")')
        lines.append("- start over: card.start_over()")
        return "\n".join(lines)

    # -- the widget ---------------------------------------------------------------------------

    def _build_widget(self) -> widgets.VBox:
        self.question_view = markdown_widget(self.question, "course-socratic-question")
        self.question_view.value = question_heading(self.card_id) + self.question_view.value
        parts: list[widgets.Widget] = [self.question_view]

        self.original_wording = None
        if self.question_zh is not None:
            self.original_wording = OriginalWording(self.question_zh)
            parts += [self.original_wording.toggle, self.original_wording.view]

        # The value reaches the kernel when the learner presses Enter (in the one-line box) or
        # leaves the box; clicking a button leaves it, so a button always sees the latest text.
        if self.guess_box is not None:
            self.guess_input: widgets.Text | widgets.Textarea = widgets.Text(
                placeholder=self.guess_box.placeholder, continuous_update=False,
                layout=widgets.Layout(width="60%"),
            )
            self.check_button = widgets.Button(description="Check my guess", icon="check")
        else:
            self.guess_input = widgets.Textarea(
                placeholder=FREE_TEXT_PLACEHOLDER, continuous_update=False,
                layout=widgets.Layout(width="60%", height="5em"),
            )
            self.check_button = widgets.Button(description="Save my answer", icon="save")
        self.guess_input.add_class("course-socratic-input")
        self.guess_input.observe(self._on_input, names="value")
        self.check_button.on_click(lambda _button: self.guess(self.guess_input.value))
        self.feedback_view = markdown_widget("", "course-socratic-feedback")
        hide(self.feedback_view)
        parts.append(widgets.HBox([self.guess_input, self.check_button]))

        self.hints_view = markdown_widget("", "course-socratic-hints")
        hide(self.hints_view)
        self.hint_button: widgets.Button | None = None
        buttons: list[widgets.Widget] = []
        if self.hints:
            self.hint_button = widgets.Button(icon="lightbulb-o")
            self.hint_button.on_click(lambda _button: self.hint())
            buttons.append(self.hint_button)
        self.reveal_button = widgets.Button(
            description="Reveal answer", button_style="warning", icon="eye"
        )
        self.reveal_button.on_click(lambda _button: self.reveal())
        self.start_over_button = widgets.Button(
            description="Start over", icon="undo", tooltip="forget this card's saved progress"
        )
        self.start_over_button.on_click(lambda _button: self.start_over())
        buttons += [self.reveal_button, self.start_over_button]

        # Empty until revealed: the answer is not sent to the page before the learner asks.
        self.answer_view = markdown_widget("", "course-socratic-answer")
        hide(self.answer_view)
        # Feedback goes below the buttons: leaving the answer box (the mousedown of a click on
        # Reveal) shows it, and above the buttons it would move them before the mouseup, so the
        # click would be lost.
        parts += [self.hints_view, widgets.HBox(buttons), self.feedback_view, self.answer_view]

        self.assessment_buttons: dict[str, widgets.Button] = {}
        self.assessment_row = widgets.HBox()
        if self.free_text:
            prompt = widgets.HTML("<p>How did your answer compare?</p>")
            for verdict, label in ASSESSMENT_LABELS.items():
                button = widgets.Button(description=label, layout=widgets.Layout(width="auto"))
                button.on_click(lambda _button, verdict=verdict: self.assess(verdict))
                self.assessment_buttons[verdict] = button
            self.assessment_row.children = [prompt, *self.assessment_buttons.values()]
            hide(self.assessment_row)
            parts.append(self.assessment_row)
        return card_frame(parts, "course-socratic-card")

    def _on_input(self, change: dict[str, Any]) -> None:
        if not self._drawing and str(change["new"]).strip():
            self.guess(change["new"])

    def _on_progress_change(self, card_id: str | None) -> None:
        if card_id == self.card_id:
            self._draw()

    def _recheck_saved_guess(self) -> None:
        """Judge a saved guess against today's expected value, so no verdict is ever stale."""
        saved = self.state
        if self.guess_box is None or saved.guess is None:
            return
        feedback = self.guess_box.check(saved.guess)
        if (feedback.correct, feedback.message) != (saved.correct, saved.feedback):
            self.progress.record(self.card_id, correct=feedback.correct, feedback=feedback.message)

    def _show_feedback(self, message: str | None) -> None:
        if message:
            self.feedback_view.value = markdown_to_html(message)
            show(self.feedback_view)
        else:
            self.feedback_view.value = ""
            hide(self.feedback_view)

    def _draw(self) -> None:
        """Make every part of the card show what the progress file says."""
        state = self.state
        self._drawing = True
        try:
            self.guess_input.value = state.guess or ""
        finally:
            self._drawing = False
        # Once revealed, a free-text answer is shown beside the model answer instead.
        self._show_feedback(None if self.free_text and state.revealed else state.feedback)
        self._draw_hints(min(state.hints_seen, len(self.hints)))
        if state.revealed:
            self.answer_view.value = self._answer_html(state)
            show(self.answer_view)
            self.reveal_button.disabled = True
            self.reveal_button.description = "Answer revealed"
        else:
            self.answer_view.value = ""
            hide(self.answer_view)
            self.reveal_button.disabled = False
            self.reveal_button.description = "Reveal answer"
        if self.free_text:
            (show if state.revealed else hide)(self.assessment_row)
            for verdict, button in self.assessment_buttons.items():
                chosen = state.self_assessment == verdict
                button.button_style = _ASSESSMENT_STYLES[verdict] if chosen else ""
                button.icon = "check" if chosen else ""

    def _answer_html(self, state: CardProgress) -> str:
        answer = "<p><strong>Answer</strong></p>" + markdown_to_html(self.answer)
        if not self.free_text:
            return answer
        yours = (
            "<p>" + html.escape(state.guess).replace("\n", "<br>") + "</p>"
            if state.guess
            else "<p><em>(you wrote nothing)</em></p>"
        )
        column = "flex:1 1 0;min-width:14em;padding:0 0.8em"
        return (
            "<div class='course-socratic-compare' style='display:flex;flex-wrap:wrap;gap:0.5em'>"
            f"<div class='course-socratic-yours' style='{column};border-right:1px solid #ddd'>"
            f"<p><strong>Your answer</strong></p>{yours}</div>"
            f"<div class='course-socratic-model' style='{column}'>{answer}</div></div>"
        )

    def _draw_hints(self, shown: int) -> None:
        total = len(self.hints)
        if self.hint_button is not None:
            if shown < total:
                self.hint_button.description = f"Hint {shown + 1} of {total}"
                self.hint_button.disabled = False
            else:
                self.hint_button.description = "All hints shown"
                self.hint_button.disabled = True
        if shown:
            self.hints_view.value = "".join(
                f"<div class='course-socratic-hint'><p><strong>Hint {number} of {total}</strong>"
                f"</p>{markdown_to_html(text)}</div>"
                for number, text in enumerate(self.hints[:shown], start=1)
            )
            show(self.hints_view)
        else:
            self.hints_view.value = ""
            hide(self.hints_view)
