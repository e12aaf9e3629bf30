"""Tests for course_lib.socratic: question cards, quizzes and saved progress.

They check widget *state* (what is visible, what a button says, what was saved), by clicking
the real ipywidgets buttons; the browser tests check that the same widgets render in JupyterLab.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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
    TextGuess,
    markdown_to_html,
    parse_number,
    widget_card,
)
from course_lib.socratic.widget_card import is_shown

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# A string that appears nowhere else, so "the answer leaked" cannot be a coincidence.
ANSWER = "About **$1,200** a month, ANSWER-SENTINEL-7f3a"
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


def saved_cards(path: Path) -> dict[str, dict[str, object]]:
    return json.loads(path.read_text(encoding="utf-8"))["cards"]


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
    assert "Hint 1 of 3" in card.hints_view.value
    assert "Price one conversation." not in card.hints_view.value
    assert card.hint_button.description == "Hint 2 of 3"

    card.hint_button.click()
    assert "Price one conversation." in card.hints_view.value
    assert "Multiply." not in card.hints_view.value

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


def test_numeric_guess_from_the_card_records_the_verdict(progress_path: Path) -> None:
    """Typing into the box and clicking Check shows feedback and saves answered + verdict."""
    card = make_card(guess=NumericGuess(1200, rel_tol=0.25, unit="USD"))
    assert card.guess_input is not None and card.check_button is not None
    assert not is_shown(card.feedback_view)

    card.guess_input.value = "$4.8k"
    card.check_button.click()

    assert is_shown(card.feedback_view)
    assert "too high by 4.0x" in card.feedback_view.value
    assert saved_cards(progress_path)["01.q1"] == {
        "answered": True,
        "correct": False,
        "revealed": False,
        "hints_seen": 0,
    }
    assert card.guess("1,100 USD").correct is True
    assert saved_cards(progress_path)["01.q1"]["correct"] is True


def test_unreadable_guess_is_explained_and_not_recorded(progress_path: Path) -> None:
    """Text that is not a number gets a clear message and does not count as an answer."""
    card = make_card(guess=NumericGuess(1200))
    feedback = card.guess("about a thousand")
    assert feedback.correct is None
    assert "Could not read 'about a thousand' as a number" in feedback.message
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


# -- free-text guesses ----------------------------------------------------------------------


def make_text_guess() -> TextGuess:
    return TextGuess(
        {
            "parallel calls": ("parallel", "concurrent", "并行"),
            "the slowest tool": ("slowest", "longest", "max"),
            "error handling": ("error", "timeout"),
        }
    )


def test_text_guess_reports_the_missed_concepts() -> None:
    """The feedback lists what was mentioned and what was not, and admits it is not a grade."""
    feedback = make_text_guess().check("Run them in PARALLEL; total time is the Longest one.")
    assert feedback.correct is False
    assert feedback.missed == ("error handling",)
    assert "2 of 3 ideas" in feedback.message
    assert "Not mentioned: error handling" in feedback.message
    assert "not a grade" in feedback.message


def test_text_guess_matches_whole_words_not_substrings() -> None:
    """The router trap: "terror" must not count as "error", nor "maximum" as "max"."""
    feedback = make_text_guess().check("A reign of terror, at maximum volume, in parallel.")
    assert feedback.missed == ("the slowest tool", "error handling")


def test_text_guess_accepts_inflections_hyphens_and_chinese() -> None:
    """Plural and -ed forms count, hyphens are spaces, and Chinese words match inside a sentence."""
    box = TextGuess({"errors": "error", "first token": "time to first token", "并行": "并行"})
    feedback = box.check("Timeouts and errors; the time-to-first-token; 三个工具并行调用")
    assert feedback.correct is True
    assert feedback.missed == ()


def test_empty_text_guess_is_not_checked() -> None:
    """An empty box asks for an answer instead of reporting every concept missed."""
    feedback = make_text_guess().check("   ")
    assert feedback.correct is None
    assert feedback.missed == ()


def test_text_guess_on_a_card_uses_a_text_area(progress_path: Path) -> None:
    """A free-text card takes a paragraph and records the keyword verdict."""
    card = make_card(guess=make_text_guess())
    assert card.guess_input is not None
    assert card.guess_input.__class__.__name__ == "Textarea"
    card.guess("in parallel, bounded by the slowest, with a timeout")
    assert "✓ You mention all 3 ideas" in card.feedback_view.value
    assert saved_cards(progress_path)["01.q1"]["correct"] is True


def test_guess_on_a_card_without_a_guess_box_is_an_error() -> None:
    """Calling guess() on a think-only card is a mistake worth hearing about."""
    with pytest.raises(ValueError, match="has no guess box"):
        make_card().guess(3)


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

    quiz.choice_buttons[0].click()

    assert is_shown(quiz.explanation_views[0])
    assert "Not quite" in quiz.explanation_views[0].value
    assert "the weak model is enough" in quiz.explanation_views[0].value
    assert not is_shown(quiz.explanation_views[1])
    assert quiz.choice_buttons[0].button_style == "danger"
    assert saved_cards(progress_path)["05.q2"]["correct"] is False


def test_quiz_with_two_right_choices_is_solved_when_both_are_found(progress_path: Path) -> None:
    """Right picks are explained too; the quiz is solved only once every right choice is found."""
    quiz = make_quiz()
    quiz.choice_buttons[1].click()
    assert "Right" in quiz.explanation_views[1].value
    assert "contains the keyword" in quiz.explanation_views[1].value
    assert quiz.choice_buttons[1].button_style == "success"
    assert not quiz.solved
    assert "1 of 2 right answers found" in quiz.status_view.value
    assert saved_cards(progress_path)["05.q2"]["correct"] is False

    reply = quiz.pick("how do I DECODE this?")
    assert reply.startswith("C. how do I decode this?\n✓ Right: Substring match")
    assert quiz.solved
    assert saved_cards(progress_path)["05.q2"]["correct"] is True


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
    assert all(
        getattr(child, "description", "") != "原文 / original wording"
        for child in card.widget.children
    )
    assert "no original wording" in card.original()


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


def test_progress_summary_counts_this_notebook_and_overall(progress_path: Path) -> None:
    """"Here" is the cards created in this session; "overall" is every done card on file."""
    progress_path.parent.mkdir(parents=True)
    progress_path.write_text(
        json.dumps(
            {
                "version": 1,
                "cards": {
                    "00.q1": {"answered": True, "correct": True, "revealed": False},
                    "00.q2": {"answered": False, "revealed": False, "hints_seen": 2},
                },
            }
        ),
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


def test_a_right_answer_stays_right() -> None:
    """A later wrong guess does not erase a right one: progress only ever grows."""
    store = ProgressStore(os.environ["COURSE_PROGRESS_PATH"])
    store.record("01.q1", answered=True, correct=True)
    assert store.record("01.q1", answered=True, correct=False).correct is True
    assert store.record("01.q2", answered=True, correct=False).correct is False


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
        '{"version": 1, "cards": {"01.q1": {"answered": "yes"}}}',
        '{"version": 99, "cards": {}}',
    ],
)
def test_corrupt_progress_file_is_set_aside_and_progress_starts_fresh(
    progress_path: Path, damage: str
) -> None:
    """A damaged file warns (never raises), is kept as .corrupt, and a valid file replaces it."""
    progress_path.parent.mkdir(parents=True)
    progress_path.write_text(damage, encoding="utf-8")

    card = make_card()
    with pytest.warns(ProgressWarning, match="corrupt"):
        card.reveal()

    assert progress_path.with_name("progress.json.corrupt").read_text(encoding="utf-8") == damage
    assert saved_cards(progress_path) == {
        "01.q1": {"answered": False, "correct": None, "revealed": True, "hints_seen": 0}
    }


def test_unwritable_progress_path_warns_once_and_keeps_going(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If progress cannot be saved, the notebook still works and remembers this session."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("COURSE_PROGRESS_PATH", str(blocker / "progress.json"))

    card = make_card()
    with pytest.warns(ProgressWarning, match="session only") as caught:
        card.hint()
        card.hint()
        card.reveal()
    assert len(caught) == 1
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
        (lambda: make_card(guess=42), "guess must be a NumericGuess"),
        (lambda: NumericGuess(100, rel_tol=-0.1), "rel_tol must be >= 0"),
        (lambda: NumericGuess(100, abs_tol=-1), "abs_tol must be >= 0"),
        (lambda: NumericGuess(float("nan")), "expected must be a finite number"),
        (lambda: NumericGuess("100"), "expected must be a number"),  # type: ignore[arg-type]
        (lambda: TextGuess({}), "concepts must be a non-empty dict"),
        (lambda: TextGuess({"speed": ()}), "concept 'speed' has no accepted words"),
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
    card = make_card(guess=NumericGuess(1200, unit="USD"))
    before = card._repr_mimebundle_()["text/plain"]
    card.hint()
    card.reveal()
    after = card._repr_mimebundle_()["text/plain"]

    for text in (before, after, str(card)):
        assert ANSWER_MARK not in text
        assert "1,200" not in text
        assert "What does a month of the support bot cost?" in text
        assert "3 hints available: card.hint()" in text
        assert "card.reveal()" in text
        assert "card.guess(" in text


def test_bundle_carries_the_widget_view_for_jupyterlab() -> None:
    """The bundle points JupyterLab at the card's ipywidgets model, so the widget renders."""
    card = make_card()
    bundle = card._repr_mimebundle_()
    assert bundle[WIDGET_VIEW]["model_id"] == card.widget.model_id
    assert bundle[WIDGET_VIEW]["version_major"] == 2


def test_replies_print_without_quotes_in_ipython() -> None:
    """hint(), reveal() and guess() read as plain text when a notebook shows them."""
    card = make_card(guess=NumericGuess(100))
    assert pretty(card.hint()) == "hint 1 of 3: Count the conversations."
    assert pretty(card.guess(100)) == "✓ exactly right — well reasoned."


def test_ask_shows_a_card_once_even_as_a_cells_last_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ask() displays the card; the cell's own display of the returned card is then skipped."""
    shown: list[object] = []
    monkeypatch.setattr(widget_card, "display", lambda *objects, **_: shown.extend(objects))
    cell = {"number": 7}
    monkeypatch.setattr(widget_card, "_current_cell", lambda: cell["number"])

    card = socratic.ask("01.q1", "How many calls a day?", ANSWER)
    assert shown == [card]
    card._ipython_display_()  # what IPython does with a cell's last value
    assert shown == [card]

    cell["number"] = 8  # showing the card again in a later cell works
    card._ipython_display_()
    assert len(shown) == 2
    assert shown[1][WIDGET_VIEW]["model_id"] == card.widget.model_id  # type: ignore[index]


@pytest.mark.slow
def test_cards_in_a_real_kernel_display_once_with_widget_and_text(progress_path: Path) -> None:
    """Run a notebook: a bare ask() gives exactly one output with the widget view and the text."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "from course_lib import socratic\n"
            f"socratic.ask('01.q1', 'How many calls a day?', {ANSWER!r}, hints=['Users x msgs'])"
        ),
        nbformat.v4.new_code_cell("socratic.progress_summary()"),
    ]
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()

    outputs = notebook.cells[0].outputs
    assert len(outputs) == 1
    data = outputs[0]["data"]
    assert WIDGET_VIEW in data
    assert "1 hint available: card.hint()" in data["text/plain"]
    assert ANSWER_MARK not in json.dumps(notebook.metadata)
    assert notebook.cells[1].outputs[0]["data"]["text/plain"] == (
        "0 of 1 question answered in this notebook / 0 overall"
    )


# -- markdown -------------------------------------------------------------------------------


def test_markdown_escapes_html_and_renders_the_subset() -> None:
    """Markup in card text is shown, never run; bold, code, lists and breaks are rendered."""
    rendered = markdown_to_html(
        """
        Is **<script>alert(1)</script>** safe? Key: `a|b` vs `**not bold**`
        second line

        - first
        - second
          continued
        1. one
        """
    )
    assert "<script>" not in rendered
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>" in rendered
    assert "<code>a|b</code>" in rendered
    assert "<code>**not bold**</code>" in rendered
    assert "safe? Key: <code>a|b</code> vs <code>**not bold**</code><br>second line</p>" in rendered
    assert "<ul><li>first</li><li>second continued</li></ul>\n<ol><li>one</li></ol>" in rendered


def test_markdown_links_only_to_web_addresses_and_keeps_code_blocks_verbatim() -> None:
    """http(s) links become anchors; other schemes stay text; fenced code is escaped, not parsed."""
    rendered = markdown_to_html(
        "[docs](https://platform.openai.com/docs) [x](javascript:alert(1))\n"
        "```\nif a < b && **c**:\n```"
    )
    assert '<a href="https://platform.openai.com/docs" target="_blank"' in rendered
    assert "javascript" not in rendered.split("</a>", 1)[0]
    assert "[x](javascript:alert(1))" in rendered
    assert "<pre><code>if a &lt; b &amp;&amp; **c**:</code></pre>" in rendered
