"""The course as a learner first meets it: JupyterLab in a real browser, on the first notebook."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.lab import (
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

START_NOTEBOOK = "notebooks/00_start_here.ipynb"
START_NAME = "00_start_here"


@pytest.mark.browser
def test_make_lab_opens_the_start_notebook_with_an_idle_kernel(
    lab_page: Page, lab_server: LabServer
) -> None:
    """The page `make lab` sends the browser to shows 00_start_here in a tab, kernel Idle."""
    lab_page.goto(lab_server.launch_page().as_uri())
    wait_for_notebook_tab(lab_page, f"{START_NAME}.ipynb")
    wait_for_kernel_idle(lab_page)

    toasts = [" ".join(t.split()) for t in lab_page.locator(".Toastify__toast").all_inner_texts()]
    assert not toasts, (
        f"a notification covers the first notebook: {toasts} (is jupyter/overrides.json "
        f"installed in .venv/share/jupyter/lab/settings?)\n"
        + describe_screen(lab_page, f"{START_NAME}-notification")
    )
    shot = screenshot(lab_page, f"{START_NAME}-opened")
    assert shot.stat().st_size > 0, f"empty screenshot at {shot}"


@pytest.mark.browser
def test_run_all_on_the_start_notebook_shows_no_errors(
    lab_page: Page, lab_server: LabServer
) -> None:
    """Run All finishes with no traceback, no stderr and every widget drawn; a card reveals."""
    open_notebook(lab_page, lab_server, START_NOTEBOOK)
    wait_for_kernel_idle(lab_page)
    run_all_cells(lab_page)
    wait_for_execution_finished(lab_page)

    errors = error_outputs(lab_page)
    assert not errors, (
        f"Run All on {START_NOTEBOOK} wrote error output:\n"
        + "\n".join(map(str, errors))
        + "\n"
        + describe_screen(lab_page, f"{START_NAME}-errors")
    )
    broken_widgets = widget_errors(lab_page)
    assert not broken_widgets, (
        f"widgets failed to display in {START_NOTEBOOK}:\n"
        + "\n".join(map(str, broken_widgets))
        + "\n"
        + describe_screen(lab_page, f"{START_NAME}-widget-errors")
    )
    screenshot(lab_page, f"{START_NAME}-run-all")

    reveal_buttons = lab_page.locator(".jp-OutputArea-output button", has_text="Reveal answer")
    if reveal_buttons.count():
        _assert_reveal_shows_an_answer(lab_page, reveal_buttons.first)


def _assert_reveal_shows_an_answer(page: Page, button: Locator) -> None:
    """Clicking 'Reveal answer' makes new text visible in the output that holds the button."""
    # Pin the card by position: the button may relabel itself once clicked ("Answer revealed"),
    # so a locator that goes through the button's text would lose the card.
    position = button.evaluate(
        """button => [...document.querySelectorAll('.jp-OutputArea-output')]
             .indexOf(button.closest('.jp-OutputArea-output'))"""
    )
    card = page.locator(".jp-OutputArea-output").nth(position)
    button.scroll_into_view_if_needed()
    visible_before = _visible_lines(card.inner_text())
    button.click()
    try:
        page.wait_for_function(
            """([card, before]) => card.innerText.split('\\n').map(line => line.trim())
                 .some(line => line && !before.includes(line))""",
            arg=[card.element_handle(), sorted(visible_before)],
            timeout=15_000,
        )
        answer_appeared = True
    except PlaywrightTimeoutError:
        answer_appeared = False
    assert answer_appeared, (
        "clicking 'Reveal answer' showed no new text in its card within 15 s; the card read:\n"
        + "\n".join(f"    {line}" for line in card.inner_text().strip().splitlines()[:15])
        + "\n"
        + describe_screen(page, f"{START_NAME}-reveal-failed")
    )
    revealed = _visible_lines(card.inner_text()) - visible_before
    screenshot(page, f"{START_NAME}-revealed")
    assert revealed, "the revealed answer vanished again"
    errors = error_outputs(page)
    assert not errors, (
        "revealing the answer wrote error output:\n"
        + "\n".join(map(str, errors))
        + "\n"
        + describe_screen(page, f"{START_NAME}-reveal-errors")
    )


def _visible_lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if line.strip()}
