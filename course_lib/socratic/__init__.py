"""Socratic cards: the question, quiz and progress widgets every notebook uses.

Each notebook section starts from one of the lesson's questions. The card's text lives in the
question bank (``course_lib/questions/NN_notebook.toml``, see :mod:`course_lib.socratic.bank`);
the notebook cell only names the card and passes the values it computed::

    from course_lib import socratic

    socratic.ask("01.q1", monthly=lesson_month.total_usd, conversations=traffic.conversations)

A :class:`QuestionCard` poses the question (with the original Chinese wording a click away),
takes a numeric guess (tolerance feedback) or a free-text answer (rated by the learner after the
reveal), gives hints one at a time, and reveals the answer only when asked. A :class:`Quiz`
asks a multiple-choice question whose every choice explains itself. ``ask`` builds either, as
the bank says. Output that would answer a card is held back with
``with socratic.after_answer("05.q2"): ...`` until the card is answered.

Progress (guesses and their feedback, hints, reveals, self-assessments, quiz picks, and exercise
results) is saved in ``$COURSE_PROGRESS_PATH`` (default ``~/.course_lib/progress.json``), and
cards draw themselves from it. :func:`progress_summary` and :func:`progress_widget` report it.

Without a widget front end (nbval, ``jupyter nbconvert``, a terminal) a card prints as text
that says how to call ``card.guess(...)``, ``card.hint()``, ``card.reveal()`` and
``card.assess(...)``; it never prints the answer.
"""

from __future__ import annotations

from course_lib.socratic.bank import BankError, bank_card, load_bank
from course_lib.socratic.feedback import Feedback, Reply
from course_lib.socratic.held_output import HeldOutput, after_answer
from course_lib.socratic.markdown import markdown_to_html
from course_lib.socratic.numeric_guess import NumericGuess, parse_number
from course_lib.socratic.progress import (
    PROGRESS_PATH_ENV,
    CardProgress,
    ExerciseResult,
    ProgressStore,
    ProgressSummary,
    ProgressWarning,
    default_store,
    progress_summary,
    progress_widget,
)
from course_lib.socratic.question_card import QuestionCard
from course_lib.socratic.quiz import Choice, Quiz

__all__ = [
    "PROGRESS_PATH_ENV",
    "BankError",
    "CardProgress",
    "Choice",
    "ExerciseResult",
    "Feedback",
    "HeldOutput",
    "NumericGuess",
    "ProgressStore",
    "ProgressSummary",
    "ProgressWarning",
    "QuestionCard",
    "Quiz",
    "Reply",
    "after_answer",
    "ask",
    "bank_card",
    "default_store",
    "load_bank",
    "markdown_to_html",
    "parse_number",
    "progress_summary",
    "progress_widget",
]


def ask(card_id: str, /, **fields: object) -> QuestionCard | Quiz:
    """Build card ``card_id`` from the question bank with the notebook's ``fields``, show it.

    Every field the card's templates name must be passed, and no other (the error says which).
    Keep the result (``card = ask(...)``) to call its methods; a bare ``ask(...)`` as the last
    line of a cell still shows the card only once.
    """
    card = bank_card(card_id).build(fields)
    card.show_in_this_cell()
    return card
