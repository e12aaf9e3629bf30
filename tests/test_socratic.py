"""Tests for course_lib.socratic: question cards, quizzes, held output and saved progress.

They check widget *state* (what is visible, what a button says, what was saved), by clicking
the real ipywidgets buttons and setting the real input widgets; the browser tests check that the
same widgets render, reveal and restore in JupyterLab.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
import nbformat
import pytest
from IPython.lib.pretty import pretty
from nbclient import NotebookClient

from course_lib import socratic
from course_lib.socratic import (
    Choice,
    NumericGuess,
    ProgressStore,
    ProgressWarning,
    QuestionCard,
    Quiz,
    markdown_to_html,
    parse_number,
    widget_card,
)
from course_lib.socratic.widget_card import is_shown

matplotlib.use("Agg")

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A string that appears nowhere else, so "the answer leaked" cannot be a coincidence.
ANSWER = "About **\\$1,200** a month, ANSWER-SENTINEL-7f3a"
ANSWER_MARK = "ANSWER-SENTINEL-7f3a"


@pytest.fixture(autouse=True)
def progress_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test saves progress in its own temporary file, never in the learner's home."""
    path = tmp_path / "progress" / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS_PATH", str(path))
    return path


def make_card(**overrides: object) -> QuestionCard:
    arguments: dict[str, object] = {
        "card_id": "01.q1",
        "question": "What does a month of the support bot cost?",
        "answer": ANSWER,
        "question_zh": "你的 Agent 一个月花多少钱?",
        "hints": ("Count the conversations.", "Price one conversation.", "Multiply."),
    }
    arguments.update(overrides)
    return QuestionCard(**arguments)  # type: ignore[arg-type]


def numeric_card(expected: float = 1200, **overrides: object) -> QuestionCard:
    return make_card(guess=NumericGuess(expected, rel_tol=0.25, unit="USD"), **overrides)


def saved_cards(path: Path) -> dict[str, dict[str, object]]:
    return json.loads(path.read_text(encoding="utf-8"))["cards"]


def fresh(**changes: object) -> dict[str, object]:
    """A card's saved record: the defaults with ``changes``."""
    record: dict[str, object] = {
        "answered": False, "correct": None, "revealed": False, "hints_seen": 0, "guess": None,
        "feedback": None, "picks": [], "self_assessment": None,
    }
    record.update(changes)
    return record


# -- reveal ---------------------------------------------------------------------------------


def test_reveal_button_shows_the_answer_and_saves_progress(progress_path: Path) -> None:
    """Before the click the answer is hidden and not even sent to the page; after it, it shows."""
    card = make_card()
    assert not is_shown(card.answer_view)
    assert ANSWER_MARK not in card.answer_view.value

    card.reveal_button.click()

    assert is_shown(card.answer_view)
    assert "<strong>$1,200</strong>" in card.answer_view.value
    assert ANSWER_MARK in card.answer_view.value
    assert card.reveal_button.disabled
    assert saved_cards(progress_path)["01.q1"]["revealed"] is True


def test_reveal_method_returns_the_answer_text() -> None:
    """Without widgets, reveal() hands back the answer itself."""
    card = make_card()
    assert card.reveal() == ANSWER
    assert is_shown(card.answer_view)


# -- hints ----------------------------------------------------------------------------------


def test_hints_appear_one_at_a_time_and_stop_at_the_last(progress_path: Path) -> None:
    """Each click shows exactly one more hint; the button says which one comes next."""
    card = make_card()
    assert not is_shown(card.hints_view)
    assert card.hint_button is not None
    assert card.hint_button.description == "Hint 1 of 3"

    card.hint_button.click()
    assert is_shown(card.hints_view)
    assert "Count the conversations." in card.hints_view.value
    assert "Price one conversation." not in card.hints_view.value
    assert card.hint_button.description == "Hint 2 of 3"

    card.hint_button.click()
    card.hint_button.click()
    assert "Hint 3 of 3" in card.hints_view.value
    assert card.hint_button.disabled
    shown = card.hints_view.value

    assert card.hint().startswith("No more hints: all 3 are shown")
    assert card.hints_view.value == shown
    assert saved_cards(progress_path)["01.q1"]["hints_seen"] == 3


def test_hint_method_names_its_position() -> None:
    """hint() returns text like "hint 2 of 3: ..." for a terminal or a test."""
    card = make_card()
    assert card.hint() == "hint 1 of 3: Count the conversations."
    assert card.hint() == "hint 2 of 3: Price one conversation."


def test_card_without_hints_has_no_hint_button() -> None:
    """No hints means no button that would do nothing, and hint() points to reveal()."""
    card = make_card(hints=())
    assert card.hint_button is None
    assert "card.reveal()" in card.hint()


# -- numeric guesses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guess", "verdict", "wording"),
    [
        (100, True, "exactly right"),
        (105, True, "within 5% of the answer"),
        (91, True, "within 9% of the answer"),
        (320, False, "too high by 3.2x"),
        (130, False, "too high by 30%"),
        (25, False, "too low by 4.0x"),
        (80, False, "too low by 20%"),
    ],
)
def test_numeric_guess_feedback(guess: float, verdict: bool, wording: str) -> None:
    """Inside 10% is accepted; outside, far misses read as ratios and near ones as percentages."""
    feedback = NumericGuess(100, rel_tol=0.1).check(guess)
    assert feedback.correct is verdict
    assert wording in feedback.message


def test_numeric_guess_with_absolute_tolerance() -> None:
    """abs_tol accepts guesses near an answer of 0, where a relative tolerance cannot."""
    box = NumericGuess(0, rel_tol=0, abs_tol=5, unit="ms")
    assert box.check(4).correct is True
    missed = box.check(12)
    assert missed.correct is False
    assert "too high by 12 ms" in missed.message
    assert "±5 ms allowed" in missed.message


def test_check_button_shows_feedback_and_saves_the_guess(progress_path: Path) -> None:
    """Clicking Check shows the feedback and saves the guess, its feedback and the verdict."""
    card = numeric_card()
    assert not is_shown(card.feedback_view)

    card.guess_input.value = "$4.8k"  # what the box holds after the learner leaves it
    card.check_button.click()

    assert is_shown(card.feedback_view)
    assert "too high by 4.0x" in card.feedback_view.value
    saved = saved_cards(progress_path)["01.q1"]
    assert saved == fresh(answered=True, correct=False, guess="$4.8k",
                          feedback=saved["feedback"])
    assert "too high by 4.0x" in str(saved["feedback"])


def test_pressing_enter_in_the_box_submits_the_guess(progress_path: Path) -> None:
    """The one-line box sends its value on Enter (continuous_update off): that checks it."""
    card = numeric_card()
    assert card.guess_input.__class__.__name__ == "Text"
    assert card.guess_input.continuous_update is False

    card.guess_input.value = "1,100 USD"  # the value change Enter sends to the kernel

    assert "✓ within 8% of the answer" in card.feedback_view.value
    assert saved_cards(progress_path)["01.q1"]["correct"] is True


def test_the_verdict_on_file_is_the_verdict_on_the_guess_shown(progress_path: Path) -> None:
    """A right guess, then a wrong one: file and card both say wrong (no stale "correct")."""
    card = numeric_card()
    assert card.guess(1200).correct is True
    assert card.guess(9000).correct is False
    saved = saved_cards(progress_path)["01.q1"]
    assert (saved["guess"], saved["correct"]) == ("9000", False)
    assert "too high" in card.feedback_view.value
    assert saved["answered"] is True


def test_a_saved_guess_is_judged_again_when_the_expected_value_changes(
    progress_path: Path,
) -> None:
    """The stale-feedback bug: a card rebuilt with a new expected value never shows old feedback."""
    numeric_card(expected=1200).guess(1200)
    rebuilt = numeric_card(expected=5000)
    assert rebuilt.guess_input.value == "1200"
    assert "too low by 4.2x" in rebuilt.feedback_view.value
    assert saved_cards(progress_path)["01.q1"]["correct"] is False


def test_unreadable_guess_is_explained_and_not_recorded(progress_path: Path) -> None:
    """Text that is not a number gets a clear message and does not count as an answer."""
    card = numeric_card()
    feedback = card.guess("about a thousand")
    assert feedback.correct is None
    assert "Could not read 'about a thousand' as a number" in feedback.message
    assert "Could not read" in card.feedback_view.value
    assert not progress_path.exists()


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("1,200", "", 1200.0),
        ("1_200", "", 1200.0),
        ("$1.2k", "", 1200.0),
        ("3M", "", 3_000_000.0),
        ("300 ms", "ms", 300.0),
        ("2.2x", "x", 2.2),
        ("80%", "", 0.8),
        ("80%", "%", 80.0),
        (" -4.5 ", "", -4.5),
        ("", "", None),
        ("nan", "", None),
        ("twelve", "", None),
        (True, "", None),
    ],
)
def test_parse_number_reads_what_people_type(text: object, unit: str, value: float | None) -> None:
    """Commas, currency signs, k/M suffixes and the card's unit are all understood."""
    assert parse_number(text, unit) == value


# -- free-text answers ----------------------------------------------------------------------


def test_free_text_is_saved_not_graded(progress_path: Path) -> None:
    """A free-text card takes a paragraph and saves it; no keyword verdict of any kind."""
    card = make_card()
    assert card.free_text
    assert card.guess_input.__class__.__name__ == "Textarea"
    # "The GIL makes += safe" was once graded right by keywords: now nothing is graded.
    feedback = card.guess("The GIL makes += safe")
    assert feedback.correct is None
    assert "saved" in card.feedback_view.value
    assert "✓" not in card.feedback_view.value and "✗" not in card.feedback_view.value
    assert saved_cards(progress_path)["01.q1"] == fresh(
        answered=True, guess="The GIL makes += safe", feedback=feedback.message)


def test_after_the_reveal_your_answer_sits_beside_the_model_answer(progress_path: Path) -> None:
    """The reveal shows the learner's words (escaped) next to the answer, then asks for a rating."""
    card = make_card()
    assert not is_shown(card.assessment_row)
    card.guess_input.value = "They care when <b>text</b> starts"
    card.reveal_button.click()

    compared = card.answer_view.value
    assert "Your answer" in compared and "They care when &lt;b&gt;text&lt;/b&gt; starts" in compared
    assert compared.index("Your answer") < compared.index(ANSWER_MARK)
    assert is_shown(card.assessment_row)

    card.assessment_buttons["partly"].click()
    assert card.assessment_buttons["partly"].button_style == "warning"
    assert card.assessment_buttons["got_it"].button_style == ""
    assert saved_cards(progress_path)["01.q1"]["self_assessment"] == "partly"


def test_assess_in_the_text_interface(progress_path: Path) -> None:
    """card.assess() rates the answer once revealed; before that, or with a typo, it says why."""
    card = make_card()
    with pytest.raises(ValueError, match="reveal the answer first"):
        card.assess("got_it")
    card.reveal()
    with pytest.raises(ValueError, match="'got_it', 'partly', 'missed'"):
        card.assess("mostly")
    assert card.assess("missed") == "Saved: ✗ Missed it."
    assert saved_cards(progress_path)["01.q1"]["self_assessment"] == "missed"
    with pytest.raises(ValueError, match="nothing to rate"):
        numeric_card(card_id="01.q2").assess("got_it")


# -- saved progress, shown again ------------------------------------------------------------


def test_a_rerun_card_shows_everything_the_file_records() -> None:
    """Re-running the cell (a new card, same id) shows the guess, feedback, hints and answer."""
    first = numeric_card()
    first.guess("$4.8k")
    first.hint()
    first.reveal()

    again = numeric_card()
    assert again.guess_input.value == "$4.8k"
    assert "too high by 4.0x" in again.feedback_view.value and is_shown(again.feedback_view)
    assert "Count the conversations." in again.hints_view.value
    assert again.hint_button is not None and again.hint_button.description == "Hint 2 of 3"
    assert ANSWER_MARK in again.answer_view.value and again.reveal_button.disabled


def test_a_rerun_free_text_card_shows_the_rating() -> None:
    card = make_card()
    card.guess("first token")
    card.reveal()
    card.assess("got_it")
    again = make_card()
    assert again.guess_input.value == "first token"
    assert "first token" in again.answer_view.value and is_shown(again.assessment_row)
    assert again.assessment_buttons["got_it"].button_style == "success"


def test_two_views_of_one_card_stay_in_step() -> None:
    """The card in an old cell output follows what the learner does in the new one."""
    old, new = numeric_card(), numeric_card()
    new.guess(1200)
    assert "✓" in old.feedback_view.value and old.guess_input.value == "1200"
    new.start_over()
    assert old.guess_input.value == "" and not is_shown(old.feedback_view)


def test_start_over_forgets_the_card_here_and_on_file(progress_path: Path) -> None:
    card = numeric_card()
    card.guess(900)
    card.hint()
    card.reveal()
    card.start_over_button.click()
    assert "01.q1" not in saved_cards(progress_path)
    assert card.guess_input.value == "" and not is_shown(card.feedback_view)
    assert not is_shown(card.hints_view) and card.hint_button.description == "Hint 1 of 3"
    assert not is_shown(card.answer_view) and ANSWER_MARK not in card.answer_view.value
    assert not card.reveal_button.disabled


def test_guess_twice_with_the_same_text_is_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaving the box and clicking Check both send the text: one check, one saved record."""
    card = numeric_card()
    writes: list[dict] = []
    record = card.progress.record
    monkeypatch.setattr(card.progress, "record",
                        lambda card_id, **changes: writes.append(changes) or record(card_id,
                                                                                    **changes))
    card.guess_input.value = "1000"
    card.check_button.click()
    assert len(writes) == 1


# -- quizzes --------------------------------------------------------------------------------


def make_quiz(**overrides: object) -> Quiz:
    arguments: dict[str, object] = {
        "card_id": "05.q2",
        "question": "Which query does the lesson's router send to the strong model?",
        "choices": [
            Choice("hello", False, "Short and simple: the weak model is enough."),
            Choice("debug this code", True, "It contains the keyword 'code'."),
            Choice("how do I decode this?", True, "Substring match: 'decode' contains 'code'."),
        ],
        "question_zh": "路由会选择哪个模型?",
    }
    arguments.update(overrides)
    return Quiz(**arguments)  # type: ignore[arg-type]


def test_quiz_explains_a_wrong_choice(progress_path: Path) -> None:
    """A wrong pick shows its own explanation, marked wrong, and only that one."""
    quiz = make_quiz()
    assert not any(is_shown(view) for view in quiz.explanation_views)
    assert not any(view.value for view in quiz.explanation_views)  # not even sent to the page

    quiz.choice_buttons[0].click()

    assert is_shown(quiz.explanation_views[0])
    assert "Not quite" in quiz.explanation_views[0].value
    assert "the weak model is enough" in quiz.explanation_views[0].value
    assert not is_shown(quiz.explanation_views[1])
    assert quiz.choice_buttons[0].button_style == "danger"
    assert saved_cards(progress_path)["05.q2"] == fresh(answered=True, correct=False,
                                                         picks=["A"])


def test_quiz_with_two_right_choices_is_solved_when_both_are_found(progress_path: Path) -> None:
    """Right picks are explained too; the quiz is solved only once every right choice is found."""
    quiz = make_quiz()
    quiz.choice_buttons[1].click()
    assert "Right" in quiz.explanation_views[1].value
    assert quiz.choice_buttons[1].button_style == "success"
    assert not quiz.solved
    assert "1 of 2 right answers found" in quiz.status_view.value
    assert saved_cards(progress_path)["05.q2"]["correct"] is False

    reply = quiz.pick("how do I DECODE this?")
    assert reply.startswith("C. how do I decode this?\n✓ Right: Substring match")
    assert quiz.solved
    assert saved_cards(progress_path)["05.q2"]["correct"] is True
    assert saved_cards(progress_path)["05.q2"]["picks"] == ["B", "C"]


def test_quiz_picks_are_shown_again_and_start_over_clears_them() -> None:
    make_quiz().pick("A")
    again = make_quiz()
    assert again.picked == [0] and again.choice_buttons[0].button_style == "danger"
    assert "the weak model is enough" in again.explanation_views[0].value
    again.start_over_button.click()
    assert again.picked == [] and not is_shown(again.explanation_views[0])
    assert again.explanation_views[0].value == "" and not is_shown(again.status_view)


def test_quiz_pick_by_letter_and_unknown_choice() -> None:
    """pick() takes a letter in either case; anything else names the valid letters."""
    quiz = make_quiz()
    assert quiz.pick("a").startswith("A. hello\n✗ Not quite")
    with pytest.raises(ValueError, match="A-C"):
        quiz.pick("D")


def test_quiz_plain_text_lists_choices_but_not_which_are_right() -> None:
    """The text fallback shows the choices and how to pick, never a verdict or explanation."""
    text = make_quiz()._repr_mimebundle_()["text/plain"]
    assert "A. hello\nB. debug this code\nC. how do I decode this?" in text
    assert "2 answers are right" in text
    assert 'quiz.pick("A")' in text
    for explanation in ("weak model", "contains the keyword", "Substring match", "✓", "✗"):
        assert explanation not in text


# -- the original wording -------------------------------------------------------------------


def test_original_wording_toggle_shows_and_hides_the_chinese() -> None:
    """The Chinese question is hidden until the toggle is pressed, and hides again after."""
    card = make_card()
    original = card.original_wording
    assert original is not None
    assert original.toggle.description == "原文 / original wording"
    assert "你的 Agent 一个月花多少钱?" in original.view.value
    assert not is_shown(original.view)

    original.toggle.value = True
    assert is_shown(original.view)
    original.toggle.value = False
    assert not is_shown(original.view)

    assert card.original() == "你的 Agent 一个月花多少钱?"
    assert original.toggle.value is True


def test_card_without_original_wording_has_no_toggle() -> None:
    """No Chinese text, no toggle in the card."""
    card = make_card(question_zh=None)
    assert card.original_wording is None
    assert "no original wording" in card.original()


# -- held output ----------------------------------------------------------------------------


class FakeShell:
    """Just enough of IPython for after_answer: a display publisher it can swap."""

    def __init__(self, page: list[object]) -> None:
        self.page = page
        self.display_pub = self  # the page itself

    def publish(self, data: dict, metadata: dict | None = None, **kwargs: object) -> None:
        self.page.append(data)

    def display(self, *objects: object, **kwargs: object) -> None:
        """IPython's display(): format each object, hand it to the current publisher."""
        for obj in objects:
            if self.display_pub is self:
                self.page.append(obj)
            else:
                self.display_pub.publish({"text/plain": repr(obj)}, {})


@pytest.fixture()
def shell(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Pretend to be in IPython; collect what reaches the page (display calls)."""
    from course_lib.socratic import held_output

    page: list[object] = []
    fake = FakeShell(page)
    monkeypatch.setattr(held_output, "get_ipython", lambda: fake)
    monkeypatch.setattr(held_output, "display", fake.display)
    return page


def test_held_output_waits_for_the_card_then_appears(shell: list[object]) -> None:
    """What the block prints reaches the page only once the card is revealed."""
    card = make_card()
    with socratic.after_answer("01.q1") as held:
        print("the month is $1,237.50")
    assert shell == [held]
    assert not held.shown and held.output.outputs == ()
    assert "1,237.50" not in held._repr_mimebundle_()["text/plain"]
    assert "answers 01.q1" in held._repr_mimebundle_()["text/plain"]

    card.reveal_button.click()

    assert held.shown
    assert held.output.outputs[0]["text"] == "the month is $1,237.50\n"
    assert held._repr_mimebundle_()["text/plain"] == "the month is $1,237.50"


def test_held_output_of_a_settled_card_shows_at_once(shell: list[object]) -> None:
    """A cell re-run after the quiz is solved (the file says so) shows its output directly."""
    make_quiz().pick("B")
    make_quiz().pick("C")
    with socratic.after_answer("05.q2") as held:
        print("routes")
    assert held.shown


def test_held_output_button_reveals_every_card_it_waits_for(shell: list[object]) -> None:
    first, second = make_card(card_id="01.q1"), make_card(card_id="01.q4")
    with socratic.after_answer("01.q1", "01.q4") as held:
        print("both")
    first.reveal()
    assert not held.shown  # one of two is not enough
    held.show_button.click()
    assert held.shown and second.reveal_button.disabled


def test_held_output_keeps_figures_too(shell: list[object]) -> None:
    """A figure the block draws is held with its text, in the order they were produced."""
    import matplotlib.pyplot as plt

    make_card()
    with socratic.after_answer("01.q1") as held:
        print("before")
        plt.figure()
        plt.plot([1, 2])
    assert plt.get_fignums() == []  # nothing left for the inline backend to draw
    assert held.output.outputs == ()
    socratic.default_store().record("01.q1", revealed=True)
    kinds = [output["output_type"] for output in held.output.outputs]
    assert kinds == ["stream", "display_data"]


def test_held_output_of_a_failing_block_is_shown(shell: list[object]) -> None:
    """A cell that raises must show what it printed: debugging beats suspense."""
    make_card()
    with pytest.raises(ZeroDivisionError), socratic.after_answer("01.q1") as held:
        print("half done")
        1 / 0  # noqa: B018
    assert held.shown and held.output.outputs[0]["text"] == "half done\n"


# -- progress -------------------------------------------------------------------------------


def test_progress_round_trip_through_the_file(progress_path: Path) -> None:
    """What one session saves, a new session (a new store on the same path) reads back."""
    card = make_card()
    card.hint()
    card.reveal()

    reloaded = ProgressStore(os.environ["COURSE_PROGRESS_PATH"])
    progress = reloaded.get("01.q1")
    assert (progress.revealed, progress.answered, progress.hints_seen) == (True, False, 1)
    assert progress.done
    assert reloaded.get("01.q9") == socratic.CardProgress()
    # The atomic write leaves no temporary files behind.
    assert [p.name for p in progress_path.parent.iterdir()] == ["progress.json"]


def test_a_version_1_file_is_read_and_rewritten_as_version_2(progress_path: Path) -> None:
    """A learner's old progress survives the upgrade: cards shown, the file migrated."""
    progress_path.parent.mkdir(parents=True)
    progress_path.write_text(json.dumps({"version": 1, "cards": {
        "00.q1": {"answered": True, "correct": True, "revealed": True, "hints_seen": 2}}}),
        encoding="utf-8")
    card = make_card(card_id="00.q1")
    assert card.reveal_button.disabled and "Hint 3 of 3" in card.hint_button.description
    card.guess("my words")
    saved = json.loads(progress_path.read_text(encoding="utf-8"))
    assert saved["version"] == 2 and saved["exercises"] == {}
    assert saved["cards"]["00.q1"]["hints_seen"] == 2
    assert saved["cards"]["00.q1"]["guess"] == "my words"


def test_progress_summary_counts_this_notebook_and_overall(progress_path: Path) -> None:
    """"Here" is the cards created in this session; "overall" is every done card on file."""
    progress_path.parent.mkdir(parents=True)
    progress_path.write_text(
        json.dumps({"version": 1, "cards": {
            "00.q1": {"answered": True, "correct": True, "revealed": False},
            "00.q2": {"answered": False, "revealed": False, "hints_seen": 2}}}),
        encoding="utf-8",
    )
    first = make_card(card_id="01.q1")
    make_card(card_id="01.q2")
    make_quiz(card_id="01.q3")
    assert str(socratic.progress_summary()) == (
        "0 of 3 questions answered in this notebook / 1 overall"
    )
    first.reveal()
    assert str(socratic.progress_summary()) == (
        "1 of 3 questions answered in this notebook / 2 overall"
    )


def test_progress_widget_updates_when_a_card_is_answered() -> None:
    """The progress line redraws itself after every click, without re-running its cell."""
    line = socratic.progress_widget()
    card = make_card()
    assert "0 of 1 question answered in this notebook / 0 overall" in line.value
    card.reveal_button.click()
    assert "1 of 1 question answered in this notebook / 1 overall" in line.value


def test_exercise_results_are_recorded_with_the_time(progress_path: Path) -> None:
    """record_exercise keeps the latest verdict per check, its first line and a UTC timestamp."""
    clock = iter([datetime(2026, 1, 5, 9, 0, tzinfo=UTC), datetime(2026, 1, 5, 10, 30, tzinfo=UTC)])
    store = ProgressStore(progress_path, clock=lambda: next(clock))
    store.record_exercise("ex01.q1", "failed", "❌ ex01.q1 · totals: not yet right\n   detail")
    store.record_exercise("ex01.q1", "passed", "✅ ex01.q1 · totals: passed")

    reread = ProgressStore(progress_path).exercises()
    assert reread["ex01.q1"] == socratic.ExerciseResult(
        "passed", "✅ ex01.q1 · totals: passed", "2026-01-05T10:30:00Z")
    assert json.loads(progress_path.read_text(encoding="utf-8"))["exercises"]["ex01.q1"][
        "at"] == "2026-01-05T10:30:00Z"
    with pytest.raises(ValueError, match="passed, failed, not_done"):
        store.record_exercise("ex01.q1", "done", "x")


def test_check_records_its_verdict_in_the_progress_file() -> None:
    """check("exNN.qK", fn) saves what it reported, so `make progress` can read it."""
    from course_lib.checks import check

    def stub(*args, **kwargs):
        raise NotImplementedError("your code here")

    result = check("ex05.q1", stub)
    saved = socratic.default_store().exercises()["ex05.q1"]
    assert saved.status == "not_done" and saved.summary == result.headline()


def test_progress_path_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cards save where $COURSE_PROGRESS_PATH points, and default to ~/.course_lib."""
    elsewhere = tmp_path / "elsewhere.json"
    monkeypatch.setenv("COURSE_PROGRESS_PATH", str(elsewhere))
    make_card().reveal()
    assert saved_cards(elsewhere)["01.q1"]["revealed"] is True

    monkeypatch.delenv("COURSE_PROGRESS_PATH")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert socratic.default_store().path == tmp_path / "home" / ".course_lib" / "progress.json"


@pytest.mark.parametrize(
    "damage",
    [
        "{not json",
        "[1, 2, 3]",
        '{"version": 2, "cards": {"01.q1": {"answered": "yes"}}}',
        '{"version": 2, "cards": {"01.q1": {"self_assessment": "great"}}}',
        '{"version": 2, "cards": {}, "exercises": {"ex01.q1": {"status": "won"}}}',
        '{"version": 99, "cards": {}}',
    ],
)
def test_corrupt_progress_file_is_set_aside_and_progress_starts_fresh(
    progress_path: Path, damage: str
) -> None:
    """A damaged file warns (never raises), is kept as .corrupt, and a valid file replaces it."""
    progress_path.parent.mkdir(parents=True)
    progress_path.write_text(damage, encoding="utf-8")

    with pytest.warns(ProgressWarning, match="corrupt"):
        card = make_card()
    card.reveal()

    assert progress_path.with_name("progress.json.corrupt").read_text(encoding="utf-8") == damage
    assert saved_cards(progress_path) == {"01.q1": fresh(revealed=True)}


def test_unwritable_progress_path_warns_once_and_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If progress cannot be saved, the notebook still works and remembers this session."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("COURSE_PROGRESS_PATH", str(blocker / "progress.json"))

    with pytest.warns(ProgressWarning, match="session only") as caught:
        card = make_card()
        card.hint()
        card.hint()
        card.reveal()
    assert len(caught) == 1
    assert card.hint_button.description == "Hint 3 of 3" and card.reveal_button.disabled
    assert str(socratic.progress_summary()) == (
        "1 of 1 question answered in this notebook / 1 overall"
    )


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: make_card(question="   "), "question is empty"),
        (lambda: make_card(answer=""), "answer is empty"),
        (lambda: make_card(card_id="q1"), "card_id 'q1' is not valid"),
        (lambda: make_card(hints=("ok", "")), "hints item 2 is empty"),
        (lambda: make_card(guess=42), "guess must be a NumericGuess or None"),
        (lambda: NumericGuess(100, rel_tol=-0.1), "rel_tol must be >= 0"),
        (lambda: NumericGuess(100, abs_tol=-1), "abs_tol must be >= 0"),
        (lambda: NumericGuess(float("nan")), "expected must be a finite number"),
        (lambda: NumericGuess("100"), "expected must be a number"),  # type: ignore[arg-type]
        (
            lambda: make_quiz(choices=[Choice("a", False, "no"), Choice("b", False, "no")]),
            "has no correct choice",
        ),
        (
            lambda: make_quiz(choices=[Choice("Same", True, "x"), Choice(" same ", False, "y")]),
            "duplicate choice text: ' same '",
        ),
        (lambda: make_quiz(choices=[Choice("only", True, "x")]), "at least 2 choices"),
        (lambda: Choice("a", "yes", "x"), "correct must be True or False"),  # type: ignore[arg-type]
        (lambda: Choice("a", True, " "), "explanation of choice 'a' is empty"),
        (lambda: socratic.after_answer(), "needs the id of the card"),
    ],
)
def test_bad_input_raises_value_error_naming_the_problem(build, problem: str) -> None:
    """Mistakes in a notebook fail when the cell runs, with a message saying what is wrong."""
    with pytest.raises(ValueError) as raised:
        build()
    assert problem in str(raised.value)


# -- the plain-text fallback and the widget bundle ------------------------------------------


def test_plain_text_fallback_never_contains_the_answer() -> None:
    """Without a front end the card explains itself, before and after reveal, minus the answer."""
    card = numeric_card()
    before = card._repr_mimebundle_()["text/plain"]
    card.hint()
    card.reveal()
    after = card._repr_mimebundle_()["text/plain"]

    for text in (before, after, str(card)):
        assert ANSWER_MARK not in text
        assert "1,200" not in text
        assert "What does a month of the support bot cost?" in text
        assert "3 hints available: card.hint()" in text
        assert "card.reveal()" in text and "card.guess(" in text and "card.start_over()" in text
    assert 'card.assess("got_it" | "partly" | "missed")' in str(make_card(card_id="02.q1"))


def test_bundle_carries_the_widget_view_for_jupyterlab() -> None:
    """The bundle points JupyterLab at the card's ipywidgets model, so the widget renders."""
    card = make_card()
    bundle = card._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == card.widget.model_id
    assert bundle[WIDGET_VIEW]["version_major"] == 2
    assert {"tex2jax_ignore", "mathjax_ignore"} <= set(card.widget._dom_classes)


def test_replies_print_without_quotes_in_ipython() -> None:
    """hint(), reveal() and guess() read as plain text when a notebook shows them."""
    card = make_card(guess=NumericGuess(100))
    assert pretty(card.hint()) == "hint 1 of 3: Count the conversations."
    assert pretty(card.guess(100)) == "✓ exactly right — well reasoned."


def test_ask_builds_the_card_from_the_bank_and_shows_it_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ask() fills the bank's templates with the notebook's values and displays the card once."""
    shown: list[object] = []
    monkeypatch.setattr(widget_card, "display", lambda *objects, **_: shown.extend(objects))
    cell = {"number": 7}
    monkeypatch.setattr(widget_card, "_current_cell", lambda: cell["number"])

    card = socratic.ask("01.q2", per_day=5000, per_month=150000, days=30)
    assert isinstance(card, QuestionCard) and shown == [card]
    assert "**5,000 a day** and 150,000 in 30 days" in card.reveal()
    assert card.guess_box is not None and card.guess_box.expected == 5000
    card._ipython_display_()  # what IPython does with a cell's last value
    assert shown == [card]

    cell["number"] = 8  # showing the card again in a later cell works
    card._ipython_display_()
    assert len(shown) == 2
    assert isinstance(socratic.ask("05.q2"), Quiz)


@pytest.mark.slow
def test_cards_in_a_real_kernel_display_once_with_widget_and_text(progress_path: Path) -> None:
    """Run a notebook: a bare ask() gives exactly one output with the widget view and the text."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from course_lib import socratic\n"
            "socratic.ask('01.q2', per_day=5000, per_month=150000, days=30)"
        ),
        nbformat.v4.new_code_cell(
            "with socratic.after_answer('01.q2'):\n    print('5,000 calls a day')"),
        nbformat.v4.new_code_cell("socratic.progress_summary()"),
    ]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()

    outputs = notebook.cells[0].outputs
    assert len(outputs) == 1
    data = outputs[0]["data"]
    assert WIDGET_VIEW in data
    assert "2 hints available: card.hint()" in data["text/plain"]
    held = notebook.cells[1].outputs
    assert len(held) == 1 and "answers 01.q2" in held[0]["data"]["text/plain"]
    assert "5,000" not in json.dumps(notebook.cells[1].outputs)
    assert notebook.cells[2].outputs[0]["data"]["text/plain"] == (
        "0 of 1 question answered in this notebook / 0 overall"
    )


# -- markdown -------------------------------------------------------------------------------


def test_markdown_escapes_html_and_renders_commonmark() -> None:
    """Markup in card text is shown, never run; italic, bold, code, lists and dollars render."""
    rendered = markdown_to_html(
        """
        Is **<script>alert(1)</script>** safe? *Really*: **`a|b`** vs `**not bold**`
        costs \\$1,200 and \\$1,237.50

        - first
        - second
        """
    )
    assert "<script>" not in rendered
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>" in rendered
    assert "<em>Really</em>" in rendered
    assert "<strong><code>a|b</code></strong>" in rendered
    assert "<code>**not bold**</code>" in rendered
    assert "costs $1,200 and $1,237.50" in rendered
    assert "<ul>\n<li>first</li>\n<li>second</li>\n</ul>" in rendered


def test_markdown_links_only_to_safe_addresses_and_keeps_code_blocks_verbatim() -> None:
    """http(s) links open in a new tab; javascript: is not a link; fenced code is escaped."""
    rendered = markdown_to_html(
        "[docs](https://platform.openai.com/docs) [x](javascript:alert(1))\n\n"
        "```\nif a < b && **c**:\n```"
    )
    assert ('<a href="https://platform.openai.com/docs" target="_blank" '
            'rel="noopener noreferrer">docs</a>') in rendered
    assert 'href="javascript' not in rendered
    assert "[x](javascript:alert(1))" in rendered
    assert "<pre><code>if a &lt; b &amp;&amp; **c**:\n</code></pre>" in rendered
