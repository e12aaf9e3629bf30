"""The question card: ask, let the learner think and guess, hint one step at a time, reveal.

This is the Socratic loop each notebook section opens with. The card never shows the answer
until asked, hints come one at a time so the learner takes only as much help as they need, and
the lesson's original Chinese wording stays one click away.
"""

from __future__ import annotations

import ipywidgets as widgets

from course_lib.socratic.feedback import Feedback, Reply
from course_lib.socratic.numeric_guess import NumericGuess
from course_lib.socratic.progress import ProgressStore, default_store
from course_lib.socratic.safe_markdown import markdown_to_html
from course_lib.socratic.text_guess import TextGuess
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

GuessBox = NumericGuess | TextGuess


class QuestionCard(WidgetCard):
    """One question with optional guess box, progressive hints and a reveal button.

    ``question`` and ``answer`` are Markdown (bold, ``code``, lists, line breaks). ``guess`` is
    a :class:`NumericGuess` or :class:`TextGuess`, or ``None`` for a question to think about.
    ``progress`` defaults to the store at ``$COURSE_PROGRESS_PATH``.

    In a notebook, use the buttons; anywhere else, the same steps are methods:
    :meth:`guess`, :meth:`hint`, :meth:`reveal` and :meth:`original`. The parts of
    :attr:`widget` are attributes too (``hint_button``, ``answer_view``, ...), so tests can
    click them.
    """

    def __init__(
        self,
        card_id: str,
        question: str,
        answer: str,
        *,
        question_zh: str | None = None,
        hints: str | tuple[str, ...] | list[str] = (),
        guess: GuessBox | None = None,
        progress: ProgressStore | None = None,
    ) -> None:
        self.card_id = check_card_id(card_id)
        self.question = require_text("question", question)
        self.answer = require_text("answer", answer)
        self.question_zh = None if question_zh is None else require_text("question_zh", question_zh)
        self.hints = text_items("hints", hints)
        if guess is not None and not isinstance(guess, GuessBox):
            raise ValueError(
                f"guess must be a NumericGuess, a TextGuess or None, got {type(guess).__name__}"
            )
        self.guess_box = guess
        self.progress = progress or default_store()
        self.hints_shown = 0
        self.revealed = False
        self.last_feedback: Feedback | None = None
        self.widget = self._build_widget()
        self.progress.register(self.card_id)

    # -- the learner's steps ------------------------------------------------------------------

    def hint(self) -> Reply:
        """Show the next hint (on the card too) and return it, e.g. "hint 2 of 3: ..."."""
        total = len(self.hints)
        if total == 0:
            return Reply("This card has no hints; card.reveal() shows the answer.")
        if self.hints_shown == total:
            return Reply(f"No more hints: all {total} are shown. card.reveal() shows the answer.")
        self.hints_shown += 1
        self._draw_hints()
        self.progress.record(self.card_id, hints_seen=self.hints_shown)
        return Reply(f"hint {self.hints_shown} of {total}: {self.hints[self.hints_shown - 1]}")

    def reveal(self) -> Reply:
        """Show the answer on the card and return its text."""
        if not self.revealed:
            self.revealed = True
            self.answer_view.value = "<p><strong>Answer</strong></p>" + markdown_to_html(
                self.answer
            )
            show(self.answer_view)
            self.reveal_button.disabled = True
            self.reveal_button.description = "Answer revealed"
            self.progress.record(self.card_id, revealed=True)
        return Reply(self.answer)

    def guess(self, value: object) -> Feedback:
        """Check a guess (a number, or text for a free-text card) and show the feedback."""
        if self.guess_box is None or self.guess_input is None:
            raise ValueError(f"card {self.card_id} has no guess box: nothing to check")
        if self.guess_input.value != str(value):
            self.guess_input.value = str(value)
        feedback = self.guess_box.check(value)
        self.last_feedback = feedback
        self.feedback_view.value = markdown_to_html(feedback.message)
        show(self.feedback_view)
        if feedback.correct is not None:
            self.progress.record(self.card_id, answered=True, correct=feedback.correct)
        return feedback

    # -- the two faces ------------------------------------------------------------------------

    def plain_text(self) -> str:
        """The question and how to work with the card without widgets; never the answer."""
        lines = [f"🤔 Question {self.card_id}", self.question.strip(), ""]
        lines.append("(No interactive widgets here: call these methods on the card object.)")
        if self.original_wording is not None:
            lines.append(f"- {ORIGINAL_WORDING_LABEL}: card.original()")
        if isinstance(self.guess_box, NumericGuess):
            unit = f" in {self.guess_box.unit}" if self.guess_box.unit else ""
            lines.append(f"- your estimate{unit}: card.guess(your_number)")
        elif isinstance(self.guess_box, TextGuess):
            lines.append('- your answer: card.guess("in a sentence or two")')
        if self.hints:
            count = len(self.hints)
            noun = "hint" if count == 1 else "hints"
            lines.append(f"- {count} {noun} available: card.hint() shows the next one")
        lines.append("- the answer: card.reveal()")
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

        self.guess_input: widgets.Text | widgets.Textarea | None = None
        self.check_button: widgets.Button | None = None
        self.feedback_view = markdown_widget("", "course-socratic-feedback")
        hide(self.feedback_view)
        if self.guess_box is not None:
            numeric = isinstance(self.guess_box, NumericGuess)
            self.guess_input = (widgets.Text if numeric else widgets.Textarea)(
                placeholder=self.guess_box.placeholder, layout=widgets.Layout(width="60%")
            )
            self.check_button = widgets.Button(description="Check my guess", icon="check")
            self.check_button.on_click(lambda _button: self.guess(self.guess_input.value))
            parts += [widgets.HBox([self.guess_input, self.check_button]), self.feedback_view]

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
        buttons.append(self.reveal_button)

        self.answer_view = markdown_widget("", "course-socratic-answer")
        hide(self.answer_view)  # and empty: the answer is not sent to the page until revealed
        parts += [self.hints_view, widgets.HBox(buttons), self.answer_view]
        self._draw_hints()
        return card_frame(parts, "course-socratic-card")

    def _draw_hints(self) -> None:
        total = len(self.hints)
        if self.hint_button is not None:
            if self.hints_shown < total:
                self.hint_button.description = f"Hint {self.hints_shown + 1} of {total}"
            else:
                self.hint_button.description = "All hints shown"
                self.hint_button.disabled = True
        if self.hints_shown:
            shown = self.hints[: self.hints_shown]
            self.hints_view.value = "".join(
                f"<div class='course-socratic-hint'><p><strong>Hint {number} of {total}</strong>"
                f"</p>{markdown_to_html(text)}</div>"
                for number, text in enumerate(shown, start=1)
            )
            show(self.hints_view)

