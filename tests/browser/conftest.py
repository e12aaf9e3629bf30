"""Fixtures for the browser tests: one JupyterLab and one Chromium for the package, a page each.

Package scope, not session scope: Playwright's sync API runs an event loop in the main thread
while the browser is open, and every later test that calls ``asyncio.run`` would fail.

The server is started from the course root, through its own `scripts/lab.sh`. To develop these
tests against a stand-in course (a folder holding `scripts/lab.sh`, `.venv` and the notebooks),
point `COURSE_BROWSER_ROOT` at it; screenshots still go to this repository's `artifacts/browser/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.lab import (
    REPO_ROOT,
    VIEWPORT,
    LabServer,
    chromium_browser,
    running_lab,
)


@pytest.fixture(scope="session")
def course_root() -> Path:
    """The course folder JupyterLab is started from: this repository unless overridden."""
    override = os.environ.get("COURSE_BROWSER_ROOT")
    root = Path(override).resolve() if override else REPO_ROOT
    if not (root / "scripts" / "lab.sh").is_file():
        raise pytest.UsageError(f"COURSE_BROWSER_ROOT={root} has no scripts/lab.sh")
    return root


@pytest.fixture(scope="package")
def lab_server(course_root: Path) -> Iterator[LabServer]:
    """JupyterLab, started the way `make lab` starts it, for the browser tests."""
    with running_lab(course_root) as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for the browser tests."""
    with chromium_browser() as launched:
        yield launched


@pytest.fixture()
def lab_page(browser: Browser, lab_server: LabServer) -> Iterator[Page]:
    """A page in a fresh browser context; afterwards its kernels are shut down and the tabs it
    left open forgotten."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
        lab_server.shut_down_kernels()
        lab_server.forget_layouts()
