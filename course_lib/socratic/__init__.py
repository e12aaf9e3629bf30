"""Socratic cards: the question, quiz and progress widgets every notebook uses.

Each notebook section starts from one of the lesson's questions. A :class:`QuestionCard` poses
it (with the original Chinese wording a click away), lets the learner type a guess and get
feedback, gives hints one at a time, and reveals the answer only when asked::

    from course_lib import socratic

    card = socratic.ask(
        "01.q1",
        "A support bot has 1,000 users a day, each sending 5 messages. "
        "What does a month of GPT-4o cost?",
        answer=f"About **${monthly:,.0f}** a month: ...",
        question_zh="你的 Agent 一个月花多少钱?",
        hints=["How many conversations is that in 30 days?", "What does one conversation cost?"],
        guess=socratic.NumericGuess(monthly, rel_tol=0.25, unit="USD"),
    )

``monthly`` is computed by the notebook with ``course_lib.pricing``: cards hold no figures of
their own. A :class:`Quiz` asks a multiple-choice question whose every choice explains itself.
:func:`progress_summary` and :func:`progress_widget` report what the learner has done, saved in
``$COURSE_PROGRESS_PATH`` (default ``~/.course_lib/progress.json``).

Without a widget front end (nbval, ``jupyter nbconvert``, a terminal) a card prints as text
that says how to call ``card.guess(...)``, ``card.hint()`` and ``card.reveal()``.
"""

from __future__ import annotations

from course_lib.socratic.feedback import Feedback, Reply
from course_lib.socratic.numeric_guess import NumericGuess, parse_number
from course_lib.socratic.progress import (
    PROGRESS_PATH_ENV,
    CardProgress,
    ProgressStore,
    ProgressSummary,
    ProgressWarning,
    default_store,
    progress_summary,
    progress_widget,
)
from course_lib.socratic.question_card import QuestionCard
from course_lib.socratic.quiz import Choice, Quiz
from course_lib.socratic.safe_markdown import markdown_to_html
from course_lib.socratic.text_guess import TextGuess

__all__ = [
    "PROGRESS_PATH_ENV",
    "CardProgress",
    "Choice",
    "Feedback",
    "NumericGuess",
    "ProgressStore",
    "ProgressSummary",
    "ProgressWarning",
    "QuestionCard",
    "Quiz",
    "Reply",
    "TextGuess",
    "ask",
    "default_store",
    "markdown_to_html",
    "parse_number",
    "progress_summary",
    "progress_widget",
]


def ask(
    card_id: str,
    question: str,
    answer: str,
    *,
    question_zh: str | None = None,
    hints: str | tuple[str, ...] | list[str] = (),
    guess: NumericGuess | TextGuess | None = None,
    progress: ProgressStore | None = None,
) -> QuestionCard:
    """Build a :class:`QuestionCard`, display it, and return it.

    Keep the result (``card = ask(...)``) to call its methods; a bare ``ask(...)`` as the last
    line of a cell still shows the card only once.
    """
    card = QuestionCard(
        card_id,
        question,
        answer,
        question_zh=question_zh,
        hints=hints,
        guess=guess,
        progress=progress,
    )
    card.show_in_this_cell()
    return card
