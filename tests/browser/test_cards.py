"""Socratic cards in JupyterLab, in a real browser: the answer stays hidden until asked for,
and a card keeps what the learner did across a page reload.

Each test runs a notebook with "Run All", reads the page as a learner does, and checks that no
card's answer is on it; then it answers, reveals and picks through the widgets (typing a guess
and pressing Enter, clicking Reveal, rating a free-text answer, solving a quiz), saves the
notebook, reloads the page, and checks that every card shows its saved state. The notebook is a
scratch copy under `artifacts/browser/scratch/`, so saving never touches the course's own files.
Screenshots of each step go to `artifacts/browser/cards-*.png`.

The answer texts come from the question bank: the longest stretch of each answer (or quiz
explanation) that is plain text, with no field in it, is what must be absent before the reveal
and present after it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from course_lib.socratic.bank import load_bank
from tests.browser.lab import (
    ARTIFACTS_DIR,
    REPO_ROOT,
    LabServer,
    describe_screen,
    error_outputs,
    notebook_text,
    open_notebook,
    outputs_text,
    reload_notebook,
    run_all_cells,
    save_notebook,
    screenshot,
    wait_for_execution_finished,
    wait_for_kernel_idle,
    widget_errors,
)

BANK = load_bank()
SCRATCH = ARTIFACTS_DIR / "scratch"
NOTEBOOK_01 = "notebooks/01_what_does_your_agent_cost.ipynb"
NOTEBOOK_05 = "notebooks/05_model_routing.ipynb"
NOTEBOOK_09 = "notebooks/09_streaming_sse.ipynb"


def plain_stretches(template: str) -> list[str]:
    """The stretches of a Markdown template with no field in them, as the page shows them."""
    text = template.replace("\\$", "$")
    text = re.sub(r"\*\*|(?<!\w)\*|\*(?!\w)|`", "", text)
    return [" ".join(part.split()) for part in re.split(r"\{[^{}]*\}|\n\s*\n|\n\s*[-\d]+[.)]?\s",
                                                       text)]


def answer_mark(card_id: str) -> str:
    """A sentence of the card's answer (or of its first right choice's explanation)."""
    card = BANK[card_id]
    source = card.answer if card.answer is not None else next(
        choice.explanation for choice in card.choices if choice.correct)
    mark = max(plain_stretches(source), key=len)
    assert len(mark) >= 25, f"{card_id}: no plain sentence to look for in {source!r}"
    return mark[:80].rsplit(" ", 1)[0]


def cards_of(notebook: str) -> list[str]:
    prefix = notebook.split("_", 1)[0] + "."
    return sorted(card_id for card_id in BANK if card_id.startswith(prefix))


def card_locator(page: Page, card_id: str) -> Locator:
    heading = page.locator(".course-socratic-question code",
                           has_text=re.compile(rf"^{re.escape(card_id)}$"))
    return page.locator(".course-socratic", has=heading)


def scratch_copy(notebook: str) -> str:
    """Copy a course notebook where the test may save it; return its path under the root."""
    SCRATCH.mkdir(parents=True, exist_ok=True)
    target = SCRATCH / Path(notebook).name
    shutil.copyfile(REPO_ROOT / notebook, target)
    return str(target.relative_to(REPO_ROOT))


def run_all_and_check_nothing_is_given_away(page: Page, server: LabServer, notebook: str,
                                           shot: str) -> str:
    path = scratch_copy(notebook)
    open_notebook(page, server, path, fresh_layout=True)
    wait_for_kernel_idle(page)
    run_all_cells(page)
    wait_for_execution_finished(page, timeout=240)
    errors, broken = error_outputs(page), widget_errors(page)
    assert not errors and not broken, (
        f"Run All on {notebook}: " + "\n".join(map(str, errors + broken)) + "\n"
        + describe_screen(page, f"{shot}-errors"))
    screenshot(page, f"{shot}-run-all")
    text = notebook_text(page)
    shown = [card_id for card_id in cards_of(Path(notebook).stem) if answer_mark(card_id) in text]
    assert not shown, (f"after Run All on {notebook}, the answers of {shown} are on the page "
                       "before Reveal was clicked\n" + describe_screen(page, f"{shot}-spoiled"))
    return Path(path).name


def reveal(page: Page, card_id: str) -> None:
    card = card_locator(page, card_id)
    card.scroll_into_view_if_needed()
    card.locator("button", has_text="Reveal answer").click()
    expect(card).to_contain_text(answer_mark(card_id), timeout=15_000)
    expect(card.locator("button", has_text="Answer revealed")).to_be_disabled()
    assert card.locator("mjx-container").count() == 0, f"{card_id}'s money was typeset as maths"


@pytest.mark.browser
@pytest.mark.slow
def test_notebook_01_hides_answers_reveals_on_request_and_keeps_them_over_a_reload(
    lab_page: Page, lab_server: LabServer
) -> None:
    page = lab_page
    name = run_all_and_check_nothing_is_given_away(page, lab_server, NOTEBOOK_01, "cards-01")
    printed = outputs_text(page)
    assert "This output answers 01.q1" in printed and "a month, exact" not in printed
    assert "$1,237.50" not in printed  # the month (asserted in the notebook) is 01.q1's answer

    # Enter in the guess box submits the guess.
    card = card_locator(page, "01.q1")
    card.scroll_into_view_if_needed()
    box = card.locator(".course-socratic-input input")
    box.fill("5000")
    box.press("Enter")
    expect(card.locator(".course-socratic-feedback")).to_contain_text("too high",
                                                                      timeout=15_000)
    # Reveal shows the answer, and the output held for the card.
    reveal(page, "01.q1")
    expect(page.locator(".jp-OutputArea", has_text="a month, exact").first).to_be_visible(
        timeout=15_000)
    screenshot(page, "cards-01-revealed")

    save_notebook(page)
    reload_notebook(page, name)
    card = card_locator(page, "01.q1")
    card.scroll_into_view_if_needed()
    expect(card).to_contain_text(answer_mark("01.q1"))
    expect(card.locator(".course-socratic-input input")).to_have_value("5000")
    expect(card.locator(".course-socratic-feedback")).to_contain_text("too high")
    expect(card.locator("button", has_text="Answer revealed")).to_be_disabled()
    assert "a month, exact" in outputs_text(page)
    text = notebook_text(page)
    still_hidden = [c for c in cards_of("01_") if c != "01.q1" and answer_mark(c) in text]
    assert not still_hidden, f"the reload revealed {still_hidden}"
    assert not widget_errors(page), "\n".join(map(str, widget_errors(page)))
    screenshot(page, "cards-01-reloaded")


@pytest.mark.browser
@pytest.mark.slow
def test_notebook_05_quiz_and_free_text_answer_survive_a_reload(
    lab_page: Page, lab_server: LabServer
) -> None:
    page = lab_page
    name = run_all_and_check_nothing_is_given_away(page, lab_server, NOTEBOOK_05, "cards-05")
    assert "<- Can you help me decode my invoice?" not in outputs_text(page)

    # The quiz: pick every right choice; the held routes then appear.
    quiz = page.locator(".course-socratic-quiz", has=page.locator(
        ".course-socratic-question code", has_text=re.compile(r"^05\.q2$")))
    quiz.scroll_into_view_if_needed()
    for letter in ("B", "C", "D"):
        quiz.locator("button", has_text=re.compile(rf"^{letter}$")).click()
    expect(quiz.locator(".course-socratic-status")).to_contain_text("Solved", timeout=15_000)
    expect(quiz).to_contain_text(answer_mark("05.q2"))
    expect(page.locator(".jp-OutputArea", has_text="<- Can you help me decode my invoice?")
           .first).to_be_visible(timeout=15_000)

    # A free-text answer: typed, revealed beside the model answer, rated.
    card = card_locator(page, "05.q4")
    card.scroll_into_view_if_needed()
    card.locator(".course-socratic-input textarea").fill(
        "A trade-off: measure it with an A/B test on user satisfaction.")
    reveal(page, "05.q4")
    expect(card.locator(".course-socratic-yours")).to_contain_text("measure it with an A/B test")
    card.locator("button", has_text="Partly").click()
    expect(card.locator("button.mod-warning", has_text="Partly")).to_be_visible(timeout=15_000)
    screenshot(page, "cards-05-answered")

    save_notebook(page)
    reload_notebook(page, name)
    quiz = page.locator(".course-socratic-quiz", has=page.locator(
        ".course-socratic-question code", has_text=re.compile(r"^05\.q2$")))
    quiz.scroll_into_view_if_needed()
    expect(quiz.locator(".course-socratic-status")).to_contain_text("Solved")
    expect(quiz).to_contain_text(answer_mark("05.q2"))
    card = card_locator(page, "05.q4")
    card.scroll_into_view_if_needed()
    expect(card.locator(".course-socratic-yours")).to_contain_text("measure it with an A/B test")
    expect(card.locator("button.mod-warning", has_text="Partly")).to_be_visible()
    text = notebook_text(page)
    assert answer_mark("05.q1") not in text and answer_mark("05.q3") not in text
    assert not widget_errors(page), "\n".join(map(str, widget_errors(page)))
    screenshot(page, "cards-05-reloaded")


@pytest.mark.browser
@pytest.mark.slow
def test_notebook_09_cards_reconnect_after_a_reload(lab_page: Page, lab_server: LabServer) -> None:
    """Every card of 09 draws again after a reload: no "model not found"."""
    page = lab_page
    name = run_all_and_check_nothing_is_given_away(page, lab_server, NOTEBOOK_09, "cards-09")
    save_notebook(page)
    reload_notebook(page, name)
    broken = widget_errors(page)
    assert not broken, "\n".join(map(str, broken)) + "\n" + describe_screen(page, "cards-09-broken")
    for card_id in cards_of("09_"):
        expect(card_locator(page, card_id)).to_have_count(1)
    card_locator(page, "09.q2").scroll_into_view_if_needed()
    screenshot(page, "cards-09-reloaded")



@pytest.mark.browser
@pytest.mark.parametrize("notebook", [NOTEBOOK_01, "notebooks/03_cost_tracker.ipynb"])
def test_money_in_markdown_is_not_typeset_as_maths(
    lab_page: Page, lab_server: LabServer, notebook: str
) -> None:
    """No rendered markdown cell holds a MathJax element. A control cell with real maths, added
    last, proves MathJax ran over the page before the check."""
    page = lab_page
    open_notebook(page, lab_server, notebook, fresh_layout=True)
    last = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").last
    last.scroll_into_view_if_needed()
    last.click()
    for key in ("Escape", "b", "m", "Enter"):
        page.keyboard.press(key)
    page.keyboard.type("control: $x^2$ and $y$")
    page.keyboard.press("Shift+Enter")
    control = page.locator(".jp-MarkdownCell", has_text="control:")
    expect(control.locator("mjx-container").first).to_be_attached(timeout=30_000)
    typeset = page.evaluate(
        """() => [...document.querySelectorAll('.jp-MarkdownCell')]
             .map((cell, index) => [index, cell.querySelectorAll('mjx-container, .MathJax').length,
                                    cell.innerText.slice(0, 80)])
             .filter(([, count, text]) => count > 0 && !text.includes('control:'))"""
    )
    screenshot(page, f"cards-mathjax-{Path(notebook).stem}")
    assert not typeset, f"{notebook}: markdown cells typeset as maths: {typeset}"
