"""A learner's first session, end to end, in JupyterLab in a real browser.

The journey: `make lab` opens `00_start_here`; the learner runs every cell, meets a Socratic
card, clicks "Reveal answer" and reads the answer; then opens the algorithms exercise, runs
every cell of the untouched notebook, and sees each check report its stub as "not done yet"
(no traceback anywhere). Screenshots of each step go to `artifacts/browser/journey-*.png`, and
the time the whole journey took to `artifacts/browser/journey-timing.txt`.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.lab import (
    ARTIFACTS_DIR,
    LabServer,
    describe_screen,
    error_outputs,
    open_notebook,
    run_all_cells,
    screenshot,
    wait_for_execution_finished,
    wait_for_kernel_idle,
    wait_for_notebook_tab,
    widget_errors,
)

START_NAME = "00_start_here"
EXERCISE = "exercises/ex05_algorithms.ipynb"
EXERCISE_CHECKS = ("ex05.q1", "ex05.q2", "ex05.q3", "ex05.q4")


def _assert_clean(page: Page, what: str, shot: str) -> None:
    errors = error_outputs(page)
    assert not errors, (f"{what} wrote error output:\n" + "\n".join(map(str, errors)) + "\n"
                        + describe_screen(page, f"journey-{shot}-errors"))
    broken = widget_errors(page)
    assert not broken, (f"{what}: widgets failed to display:\n" + "\n".join(map(str, broken))
                        + "\n" + describe_screen(page, f"journey-{shot}-widgets"))


def _reveal_first_answer(page: Page) -> str:
    """Click the first card's "Reveal answer"; return the text that appeared in that card."""
    cards = page.locator(".jp-OutputArea-output .course-socratic")
    assert cards.count() >= 1, ("no Socratic card was rendered in 00_start_here\n"
                                + describe_screen(page, "journey-no-card"))
    card = cards.first
    button = card.locator("button", has_text="Reveal answer").first
    assert button.count() == 1, ("the first card has no 'Reveal answer' button\n"
                                 + describe_screen(page, "journey-no-reveal"))
    card.scroll_into_view_if_needed()
    before = {line.strip() for line in card.inner_text().splitlines() if line.strip()}
    button.click()
    try:
        page.wait_for_function(
            """([card, before]) => card.innerText.split('\\n').map(line => line.trim())
                 .some(line => line && !before.includes(line))""",
            arg=[card.element_handle(), sorted(before)],
            timeout=15_000,
        )
    except PlaywrightTimeoutError:
        raise AssertionError("clicking 'Reveal answer' showed no new text within 15 s\n"
                             + describe_screen(page, "journey-reveal-failed")) from None
    after = {line.strip() for line in card.inner_text().splitlines() if line.strip()}
    return "\n".join(sorted(after - before))


@pytest.mark.browser
def test_a_learner_meets_a_card_then_runs_an_untouched_exercise(
    lab_page: Page, lab_server: LabServer
) -> None:
    page = lab_page
    started = time.monotonic()

    # 1. `make lab` sends the browser to a page that opens the first notebook.
    page.goto(lab_server.launch_page().as_uri())
    wait_for_notebook_tab(page, f"{START_NAME}.ipynb")
    wait_for_kernel_idle(page)
    run_all_cells(page)
    wait_for_execution_finished(page)
    _assert_clean(page, f"Run All on {START_NAME}", "start")
    screenshot(page, "journey-1-start-run-all")

    # 2. A Socratic card: reveal its answer.
    revealed = _reveal_first_answer(page)
    assert len(revealed) > 20, f"the revealed answer is too short to be one: {revealed!r}"
    screenshot(page, "journey-2-answer-revealed")
    _assert_clean(page, "revealing the answer", "reveal")
    start_done = time.monotonic()

    # 3. The algorithms exercise, as committed: every check says what is left to do.
    open_notebook(page, lab_server, EXERCISE)
    wait_for_kernel_idle(page)
    run_all_cells(page)
    wait_for_execution_finished(page)
    _assert_clean(page, f"Run All on {EXERCISE}", "exercise")
    reports = page.locator(".jp-OutputArea-output .course-check-not_done")
    assert reports.count() == len(EXERCISE_CHECKS), (
        f"expected {len(EXERCISE_CHECKS)} 'not done yet' reports, found {reports.count()}\n"
        + describe_screen(page, "journey-exercise-reports"))
    for check_id, report in zip(EXERCISE_CHECKS, reports.all(), strict=True):
        report.scroll_into_view_if_needed()
        assert report.is_visible()
        text = " ".join(report.inner_text().split())
        assert re.search(rf"⏳ {re.escape(check_id)} · .+: not done yet", text), text
        assert "NotImplementedError" in text and f'hint("{check_id}")' in text, text
    assert page.locator(".jp-OutputArea-output .course-check-failed").count() == 0
    reports.first.scroll_into_view_if_needed()
    screenshot(page, "journey-3-exercise-not-done")
    finished = time.monotonic()

    timing = (f"journey: {finished - started:.1f} s in total; 00_start_here (run all + reveal) "
              f"{start_done - started:.1f} s; {EXERCISE} (open + run all) "
              f"{finished - start_done:.1f} s\n")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS_DIR / "journey-timing.txt").write_text(timing, encoding="utf-8")
    print(timing, end="")
