"""A multiple-choice quiz in which every choice, right or wrong, explains itself when picked.

A wrong choice is the most teachable moment of a quiz, so each :class:`Choice` carries its own
explanation, and the learner may keep picking until they find the right answer(s). Which choices
are right lives in the question bank, never in the notebook cell; the picks are saved in the
progress file, so the quiz looks the same after a re-run or a reload, and "Start over" clears
them.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from course_lib.socratic.feedback import Reply
from course_lib.socratic.markdown import markdown_to_html
from course_lib.socratic.progress import CardProgress, ProgressStore, default_store
from course_lib.socratic.validation import check_card_id, require_text
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

_LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class Choice:
    """One answer on offer: its text, whether it is right, and why (shown once picked)."""

    text: str
    correct: bool
    explanation: str

    def __post_init__(self) -> None:
        require_text("choice text", self.text)
        if not isinstance(self.correct, bool):
            raise ValueError(
                f"choice {self.text!r}: correct must be True or False, got {self.correct!r}"
            )
        require_text(f"explanation of choice {self.text!r}", self.explanation)


class Quiz(WidgetCard):
    """A question with lettered choices (A, B, C, ...); one or more of them are right.

    In a notebook, click a letter; anywhere else call ``quiz.pick("B")`` (a letter or the
    choice's text). The quiz is solved once every right choice has been picked.
    """

    def __init__(
        self,
        card_id: str,
        question: str,
        choices: Sequence[Choice],
        *,
        question_zh: str | None = None,
        progress: ProgressStore | None = None,
    ) -> None:
        self.card_id = check_card_id(card_id)
        self.question = require_text("question", question)
        self.question_zh = None if question_zh is None else require_text("question_zh", question_zh)
        self.choices = _checked_choices(self.card_id, choices)
        self.right = frozenset(i for i, choice in enumerate(self.choices) if choice.correct)
        self.progress = progress or default_store()
        self.widget = self._build_widget()
        self.progress.register(self.card_id)
        self._draw()
        self.progress.subscribe(self._on_progress_change)

    @property
    def picked(self) -> list[int]:
        """The choices picked so far, in order, as indexes (0 is A)."""
        return _indexes(self.progress.get(self.card_id), len(self.choices))

    @property
    def solved(self) -> bool:
        """Every right choice has been picked."""
        return self.right <= set(self.picked)

    def pick(self, choice: str) -> Reply:
        """Pick a choice by letter ("B") or text; show and return its explanation."""
        index = self._index_of(choice)
        picked = self.picked
        if index not in picked:
            picked.append(index)
            self.progress.record(
                self.card_id, answered=True, correct=self.right <= set(picked),
                picks=tuple(_LETTERS[i] for i in picked),
            )
        chosen = self.choices[index]
        verdict = "✓ Right" if chosen.correct else "✗ Not quite"
        return Reply(
            f"{_LETTERS[index]}. {chosen.text}\n{verdict}: {chosen.explanation}\n{self._status()}"
        )

    def start_over(self) -> Reply:
        """Forget the picks, here and in the progress file."""
        self.progress.reset(self.card_id)
        return Reply(f"Quiz {self.card_id} starts over: no choice is picked any more.")

    def plain_text(self) -> str:
        """The question and its choices, with how to pick; never which choices are right."""
        lines = [f"🤔 Quiz {self.card_id}", self.question.strip(), ""]
        lines += [f"{_LETTERS[i]}. {choice.text}" for i, choice in enumerate(self.choices)]
        lines += ["", self._instruction(), ""]
        lines.append("(No interactive widgets here: call these methods on the quiz object.)")
        if self.original_wording is not None:
            lines.append(f"- {ORIGINAL_WORDING_LABEL}: quiz.original()")
        lines.append('- pick a choice and read why: quiz.pick("A")')
        lines.append("- start over: quiz.start_over()")
        return "\n".join(lines)

    def _instruction(self) -> str:
        if len(self.right) == 1:
            return "Pick one answer."
        return f"{len(self.right)} answers are right: find them all."

    def _status(self) -> str:
        found = len(self.right & set(self.picked))
        if self.solved:
            return "✓ Solved." if len(self.right) == 1 else f"✓ Solved: all {found} found."
        if len(self.right) == 1:
            return "Not yet: try another choice."
        return f"{found} of {len(self.right)} right answers found: keep going."

    def _index_of(self, choice: object) -> int:
        if isinstance(choice, str):
            key = choice.strip()
            letters = _LETTERS[: len(self.choices)]
            if len(key) == 1 and key.upper() in letters:
                return letters.index(key.upper())
            for index, candidate in enumerate(self.choices):
                if _comparable(candidate.text) == _comparable(key):
                    return index
        raise ValueError(
            f"quiz {self.card_id} has no choice {choice!r}: "
            f"pick a letter A-{_LETTERS[len(self.choices) - 1]} or a choice's text"
        )

    def _build_widget(self) -> widgets.VBox:
        self.question_view = markdown_widget(self.question, "course-socratic-question")
        self.question_view.value = question_heading(self.card_id) + self.question_view.value
        parts: list[widgets.Widget] = [self.question_view]
        if self.question_zh is not None:
            self.original_wording = OriginalWording(self.question_zh)
            parts += [self.original_wording.toggle, self.original_wording.view]
        parts.append(markdown_widget(self._instruction(), "course-socratic-instruction"))

        self.choice_buttons: list[widgets.Button] = []
        self.explanation_views: list[widgets.HTML] = []
        for index, choice in enumerate(self.choices):
            letter = _LETTERS[index]
            button = widgets.Button(
                description=letter,
                tooltip=f"pick {letter}",
                layout=widgets.Layout(
                    width="auto", min_width="3em", flex="0 0 auto", margin="0 0.6em 0 0"
                ),
            )
            button.on_click(lambda _button, letter=letter: self.pick(letter))
            explanation = markdown_widget("", "course-socratic-explanation")
            hide(explanation)
            self.choice_buttons.append(button)
            self.explanation_views.append(explanation)
            parts += [
                widgets.HBox(
                    [button, markdown_widget(choice.text, "course-socratic-choice")],
                    layout=widgets.Layout(align_items="center"),
                ),
                explanation,
            ]
        self.status_view = markdown_widget("", "course-socratic-status")
        hide(self.status_view)
        self.start_over_button = widgets.Button(
            description="Start over", icon="undo", tooltip="forget this quiz's saved picks"
        )
        self.start_over_button.on_click(lambda _button: self.start_over())
        parts += [self.status_view, self.start_over_button]
        return card_frame(parts, "course-socratic-quiz")

    def _on_progress_change(self, card_id: str | None) -> None:
        if card_id == self.card_id:
            self._draw()

    def _draw(self) -> None:
        """Make every choice show what the progress file says: picked (and why) or not yet."""
        picked = set(self.picked)
        for index, choice in enumerate(self.choices):
            button, view = self.choice_buttons[index], self.explanation_views[index]
            if index in picked:
                button.button_style = "success" if choice.correct else "danger"
                button.icon = "check" if choice.correct else "times"
                verdict = "✓ **Right.**" if choice.correct else "✗ **Not quite.**"
                view.value = markdown_to_html(f"{verdict} {choice.explanation}")
                show(view)
            else:  # the explanation is not sent to the page before the choice is picked
                button.button_style = ""
                button.icon = ""
                view.value = ""
                hide(view)
        if picked:
            self.status_view.value = markdown_to_html(self._status())
            show(self.status_view)
        else:
            self.status_view.value = ""
            hide(self.status_view)


def _indexes(progress: CardProgress, count: int) -> list[int]:
    """The saved picks as indexes; letters past the last choice (an edited bank) are dropped."""
    letters = list(_LETTERS[:count])
    return [letters.index(letter) for letter in progress.picks if letter in letters]


def _comparable(text: str) -> str:
    return " ".join(text.casefold().split())


def _checked_choices(card_id: str, choices: Sequence[Choice]) -> tuple[Choice, ...]:
    if isinstance(choices, str | bytes):
        raise ValueError(f"quiz {card_id}: choices must be a list of Choice, not a string")
    checked = tuple(choices)
    if len(checked) < 2:
        raise ValueError(f"quiz {card_id} needs at least 2 choices, got {len(checked)}")
    if len(checked) > len(_LETTERS):
        raise ValueError(f"quiz {card_id} has {len(checked)} choices; at most 26 fit A-Z")
    for position, choice in enumerate(checked, start=1):
        if not isinstance(choice, Choice):
            raise ValueError(
                f"quiz {card_id}: choice {position} must be a Choice, got {type(choice).__name__}"
            )
    if not any(choice.correct for choice in checked):
        raise ValueError(
            f"quiz {card_id} has no correct choice: mark at least one with correct=True"
        )
    seen: set[str] = set()
    for choice in checked:
        key = _comparable(choice.text)
        if key in seen:
            raise ValueError(f"quiz {card_id} has a duplicate choice text: {choice.text!r}")
        seen.add(key)
    return checked
