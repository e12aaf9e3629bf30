"""Drive the course's JupyterLab in headless Chromium, the way a learner meets it.

`running_lab` starts JupyterLab through `scripts/lab.sh`, the same script `make lab` runs, so the
browser test sees the course exactly as a learner does: same root, same first notebook, same
settings overrides (no news pop-up). `chromium_browser` launches Debian's Chromium through
Playwright. The remaining helpers act on a Playwright page showing JupyterLab: open a notebook,
wait for the kernel, run every cell, and collect what went wrong.

Every wait is bounded, and every failure raises `LabScreenError`, whose message says what was on
screen (status bar, open dialog) and where the screenshot of that moment was saved, because a
CI log is all anyone will have when it fails there.

JupyterLab's own harness for this is Galata (`@jupyterlab/galata`); it is TypeScript on
Playwright Test, so the course keeps these few Python helpers next to its pytest suite instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "artifacts" / "browser"

CHROMIUM_PATH = Path("/usr/bin/chromium")
# Quiet, reproducible Chromium: no sandbox (CI runs as root), no GPU, and no background traffic
# to Google (updates, sync, QUIC probes) on a machine that may have no network at all.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1400, "height": 900}

KERNEL_DISPLAY_NAME = "Python 3 (ipykernel)"
STDERR_MIME = "application/vnd.jupyter.stderr"

# Settings for the throw-away user-settings folder. Autosave off: a test that runs every cell must
# never write outputs back into the course's notebooks. Windowing off: every cell stays attached
# to the page, so errors and widgets in cells below the fold are seen too.
_TEST_USER_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


class LabScreenError(AssertionError):
    """A browser step failed; the message describes the screen and names its screenshot."""


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens, how to get in, and where it logs."""

    base_url: str
    token: str
    log_path: Path
    runtime_dir: Path

    def url(self, path: str) -> str:
        """The browser URL for `path` under the server (e.g. `lab/tree/x.ipynb`), with token."""
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10.0) -> object:
        """Call the Jupyter REST API and return the decoded JSON (None for an empty reply)."""
        return self._call(method, f"api/{path.lstrip('/')}", timeout)

    def forget_layouts(self) -> None:
        """Delete every saved JupyterLab workspace, so the next page opens only what it asks for.

        JupyterLab restores the tabs a page left open into the next page it serves; a test that
        opened a notebook would otherwise decide what the next test's launch page shows.
        """
        listing = self._call("GET", "lab/api/workspaces")
        workspaces = listing.get("workspaces", {}) if isinstance(listing, dict) else {}
        for workspace_id in workspaces.get("ids", []):
            self._call("DELETE", f"lab/api/workspaces/{quote(workspace_id)}")

    def _call(self, method: str, path: str, timeout: float = 10.0) -> object:
        request = urllib.request.Request(
            f"{self.base_url}/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def launch_page(self) -> Path:
        """The page a learner's browser is sent to by `make lab`, which names the first notebook.

        Jupyter writes it into its runtime folder as a small HTML redirect (so the token never
        appears on a command line) when it is started with a file to open.
        """
        pages = sorted(self.runtime_dir.glob("jpserver-file-to-run-*-open.html"))
        if len(pages) != 1:
            raise FileNotFoundError(
                f"expected one launch page in {self.runtime_dir}, found {len(pages)}: "
                "does scripts/lab.sh still name the notebook to open?"
            )
        return pages[0]

    def shut_down_kernels(self) -> None:
        """End every notebook session and its kernel, so the next test starts from nothing."""
        sessions = self.api("GET", "sessions")
        if not isinstance(sessions, list):
            raise RuntimeError(f"/api/sessions answered {sessions!r}, not a list of sessions")
        for session in sessions:
            self.api("DELETE", f"sessions/{session['id']}")


@dataclass(frozen=True)
class CellOutput:
    """One output shown under a code cell: which cell (counting from 1) and its text."""

    cell_number: int
    text: str

    def __str__(self) -> str:
        # A traceback says where at the top and what at the bottom; keep both ends.
        lines = self.text.strip().splitlines()
        if len(lines) > 16:
            lines = [*lines[:6], "...", *lines[-8:]]
        shown = "\n    ".join(lines)
        return f"cell {self.cell_number}:\n    {shown}"


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_lab(
    course_root: Path = REPO_ROOT, startup_timeout: float = 90.0
) -> Iterator[LabServer]:
    """Start JupyterLab with `<course_root>/scripts/lab.sh`, yield it, then stop it and its kernels.

    Everything else the server would write (runtime files, checkpoints, user settings,
    workspaces, course progress) goes to a temporary folder, so neither the course folder nor a
    developer's own Jupyter setup is changed by the test, and that setup cannot leak into it.
    """
    launcher = course_root / "scripts" / "lab.sh"
    if not launcher.is_file():
        raise FileNotFoundError(f"no JupyterLab launcher at {launcher}")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS_DIR / "lab-server.log"
    port = free_port()
    token = secrets.token_hex(24)

    with tempfile.TemporaryDirectory(prefix="course-lab-") as scratch:
        home = Path(scratch)
        runtime_dir = home / "runtime"
        env = _isolated_env(home, runtime_dir)
        command = [
            "bash",
            str(launcher),
            "--no-browser",
            f"--port={port}",
            "--ServerApp.port_retries=0",  # a taken port must fail loudly, not move elsewhere
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
            # Opening a notebook makes a checkpoint copy beside it; keep that out of the course.
            f"--FileCheckpoints.root_dir={home / 'checkpoints'}",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=course_root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so we can stop all of it
            )
        server = LabServer(f"http://127.0.0.1:{port}", token, log_path, runtime_dir)
        try:
            _wait_until_serving(server, process, startup_timeout)
            yield server
        finally:
            _stop(server, process, runtime_dir)


def _isolated_env(home: Path, runtime_dir: Path) -> dict[str, str]:
    settings_dir = home / "user-settings"
    for relative, settings in _TEST_USER_SETTINGS.items():
        target = settings_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(settings), encoding="utf-8")
    env = dict(os.environ)
    env.update(
        JUPYTER_RUNTIME_DIR=str(runtime_dir),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        COURSE_PROGRESS_PATH=str(home / "progress.json"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_serving(server: LabServer, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode} before serving; "
                f"last lines of {server.log_path}:\n{_tail(server.log_path)}"
            )
        try:
            server.api("GET", "status", timeout=2.0)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"JupyterLab did not answer /api/status within {timeout:.0f} s; "
                f"last lines of {server.log_path}:\n{_tail(server.log_path)}"
            )
        time.sleep(0.25)


def _stop(server: LabServer, process: subprocess.Popen, runtime_dir: Path) -> None:
    """Ask the server to shut down (it ends its kernels), then insist, then sweep up leftovers."""
    if process.poll() is None:
        # Already gone or wedged: the signals below deal with it.
        with suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            server.api("POST", "shutdown", timeout=5.0)
        for sig, grace in ((None, 20.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if sig is not None:
                _signal_group(process.pid, sig)
            try:
                process.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
    # Kernels run in sessions of their own, out of reach of the group signal; each one was
    # started with a connection file in our private runtime folder, which names it unambiguously.
    for pid in _pids_mentioning(str(runtime_dir)):
        _kill(pid)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _pids_mentioning(needle: str) -> list[int]:
    """Processes of this machine whose command line contains `needle` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited while we looked, or not ours to read
        if needle in cmdline:
            found.append(int(entry.name))
    return found


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(could not read the log: {error})"


# --- the browser --------------------------------------------------------------------------------


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Launch Debian's Chromium, headless, through Playwright (never Playwright's own download).

    Playwright gives every launch a fresh temporary `--user-data-dir` and deletes it on close,
    so no profile, cache or cookie survives from one run to the next.
    """
    if not CHROMIUM_PATH.exists():
        raise FileNotFoundError(
            f"{CHROMIUM_PATH} is missing: run `bash scripts/ensure_chromium.sh` (make test does)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM_PATH), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


# --- what is on screen --------------------------------------------------------------------------


def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows to `artifacts/browser/<name>.png` and return that path."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"screenshot name {name!r} must be letters, digits, '_', '-' or '.'")
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def status_bar_text(page: Page) -> str:
    """The status bar's items, as a learner reads them (e.g. `Python 3 (ipykernel) | Idle`)."""
    items = page.evaluate(
        """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                 .filter(item => item.checkVisibility()).map(item => item.textContent)"""
    )
    return " · ".join(_squash(item) for item in items if item.strip()) or "(status bar is empty)"


def describe_screen(page: Page, shot_name: str) -> str:
    """A few lines saying what is on screen now, with a screenshot saved for the details."""
    try:
        shot = str(screenshot(page, shot_name))
    except Exception as error:  # the description must survive a browser that is gone
        shot = f"(no screenshot: {error})"
    try:
        status = status_bar_text(page)
        dialogs = [_squash(text) for text in page.locator(".jp-Dialog").all_text_contents()]
    except Exception as error:
        status, dialogs = f"(unreadable: {error})", []
    lines = [f"status bar: {status}"]
    lines += [f"dialog open: {text[:300]}" for text in dialogs]
    lines.append(f"screenshot: {shot}")
    return "\n".join(lines)


def _fail(page: Page, what: str, shot_name: str) -> LabScreenError:
    return LabScreenError(f"{what}\n{describe_screen(page, shot_name)}")


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- notebooks ----------------------------------------------------------------------------------


def open_notebook(page: Page, server: LabServer, path: str, timeout: float = 60.0,
                  fresh_layout: bool = False) -> None:
    """Open the notebook at `path` (relative to the server's root) in JupyterLab.

    With `fresh_layout`, JupyterLab forgets the tabs an earlier test left open (`?reset`), so
    the notebook is the only one on screen.
    """
    url = server.url(f"lab/tree/{quote(path)}") + ("&reset" if fresh_layout else "")
    page.goto(url, timeout=timeout * 1000)
    wait_for_notebook_tab(page, Path(path).name, timeout)


def wait_for_notebook_tab(page: Page, file_name: str, timeout: float = 60.0) -> None:
    """Wait until the current main-area tab is the notebook `file_name`, its cells drawn."""
    current_tab = page.locator(
        "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"
    )
    try:
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").first.wait_for(
            state="visible", timeout=timeout * 1000
        )
        current_tab.filter(has_text=re.compile(rf"^{re.escape(file_name)}$")).first.wait_for(
            state="visible", timeout=10_000
        )
    except PlaywrightTimeoutError:
        raise _fail(
            page,
            f"notebook {file_name} did not open in a tab within {timeout:.0f} s",
            "open-failed",
        ) from None


def wait_for_kernel_idle(
    page: Page, timeout: float = 60.0, kernel_name: str = KERNEL_DISPLAY_NAME
) -> None:
    """Wait until the status bar reads `<kernel_name> | Idle`."""
    expected = f"{kernel_name} | Idle"
    try:
        page.wait_for_function(
            """expected => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                 .some(item => item.textContent.replace(/\\s+/g, ' ').trim() === expected)""",
            arg=expected,
            timeout=timeout * 1000,
        )
    except PlaywrightTimeoutError:
        raise _fail(
            page, f"status bar never read {expected!r} within {timeout:.0f} s", "kernel-not-idle"
        ) from None


def run_all_cells(page: Page) -> None:
    """Run every cell the way a learner does: menu Run → Run All Cells.

    Starts watching the prompts first, so `wait_for_execution_finished` can tell a run that
    already finished from one that never started.
    """
    page.evaluate(
        """() => {
             window.__courseSawQueuedCell = false;
             const queued = () => [...document.querySelectorAll('.jp-InputPrompt')]
               .some(prompt => prompt.textContent.includes('*'));
             new MutationObserver((_, observer) => {
               if (queued()) { window.__courseSawQueuedCell = true; observer.disconnect(); }
             }).observe(document.body, {subtree: true, childList: true, characterData: true});
           }"""
    )
    # Clicking a cell makes this notebook the current widget, which the Run menu acts on.
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    item = page.locator(".lm-Menu-item", has_text=re.compile(r"^Run All Cells"))
    try:
        item.wait_for(state="visible", timeout=10_000)
    except PlaywrightTimeoutError:
        raise _fail(page, "the Run menu has no 'Run All Cells' item", "run-menu") from None
    if "lm-mod-disabled" in (item.get_attribute("class") or ""):
        raise _fail(page, "'Run All Cells' is disabled in the Run menu", "run-menu")
    item.click()


def wait_for_execution_finished(
    page: Page, timeout: float = 120.0, kernel_name: str = KERNEL_DISPLAY_NAME
) -> None:
    """Wait until the run started by `run_all_cells` is over: no `[*]` prompt, kernel Idle."""
    try:
        page.wait_for_function("() => window.__courseSawQueuedCell === true", timeout=15_000)
    except PlaywrightTimeoutError:
        raise _fail(page, "Run All Cells did not queue any cell", "run-not-started") from None
    started = time.monotonic()
    try:
        page.wait_for_function(
            """() => ![...document.querySelectorAll('.jp-InputPrompt')]
                  .some(prompt => prompt.textContent.includes('*'))""",
            timeout=timeout * 1000,
        )
    except PlaywrightTimeoutError:
        busy = page.locator(".jp-CodeCell", has=page.locator(".jp-InputPrompt", has_text="*"))
        raise _fail(
            page,
            f"cells were still running after {timeout:.0f} s ({busy.count()} show [*])",
            "run-not-finished",
        ) from None
    remaining = max(5.0, timeout - (time.monotonic() - started))
    wait_for_kernel_idle(page, timeout=remaining, kernel_name=kernel_name)
    _wait_for_widgets_rendered(page, timeout=15.0)


def _wait_for_widgets_rendered(page: Page, timeout: float) -> None:
    """Widgets render after their cell finishes; give them a bounded moment to leave 'Loading'."""
    try:
        page.wait_for_function(
            """() => ![...document.querySelectorAll('.jp-OutputArea-output')]
                  .some(output => output.textContent.trim() === 'Loading widget...')""",
            timeout=timeout * 1000,
        )
    except PlaywrightTimeoutError:
        raise _fail(
            page,
            f"a widget still showed 'Loading widget...' after {timeout:.0f} s",
            "widget-loading",
        ) from None


def _code_cell_outputs(page: Page, selector: str) -> list[CellOutput]:
    """Outputs matching `selector` inside code cells, tagged with their cell's position."""
    found = page.evaluate(
        """selector => {
             const cells = [...document.querySelectorAll(
               '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
             return cells.flatMap((cell, index) =>
               [...cell.querySelectorAll(selector)].map(node => [index + 1, node.textContent]));
           }""",
        selector,
    )
    return [CellOutput(number, text) for number, text in found]


def error_outputs(page: Page) -> list[CellOutput]:
    """Tracebacks and anything else written to stderr, in cell order."""
    by_mime = _code_cell_outputs(page, f'.jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]')
    tracebacks = [
        output
        for output in _code_cell_outputs(
            page, ".jp-OutputArea-output.jp-RenderedText, .jp-OutputArea-output .jp-RenderedText"
        )
        if "Traceback" in output.text
    ]
    unique = {(output.cell_number, output.text): output for output in by_mime + tracebacks}
    return sorted(unique.values(), key=lambda output: output.cell_number)


def widget_errors(page: Page) -> list[CellOutput]:
    """Outputs where ipywidgets could not draw a widget (`Error displaying widget: ...`)."""
    return [
        output
        for output in _code_cell_outputs(page, ".jp-OutputArea-output")
        if "Error displaying widget" in output.text
    ]


def wait_for_widgets_rendered(page: Page, timeout: float = 30.0) -> None:
    """Wait until no output still reads 'Loading widget...' (after a run or a reload)."""
    _wait_for_widgets_rendered(page, timeout)


def notebook_text(page: Page) -> str:
    """Everything the current notebook shows, as a learner reads it (hidden parts excluded)."""
    return _squash(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").inner_text())


def save_notebook(page: Page, timeout: float = 30.0) -> None:
    """Save the current notebook (Ctrl+S) and wait until its tab is no longer marked unsaved."""
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    try:
        page.wait_for_function(
            """() => !document.querySelector(
                 '#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current.jp-mod-dirty')""",
            timeout=timeout * 1000,
        )
    except PlaywrightTimeoutError:
        raise _fail(page, f"the notebook was not saved within {timeout:.0f} s", "save") from None


def reload_notebook(page: Page, file_name: str, timeout: float = 60.0) -> None:
    """Reload the browser page, as a learner pressing F5 does, and wait for the notebook again."""
    page.reload(timeout=timeout * 1000)
    wait_for_notebook_tab(page, file_name, timeout)
    wait_for_kernel_idle(page, timeout)
    wait_for_widgets_rendered(page)


def outputs_text(page: Page) -> str:
    """What the current notebook's cells print and display (their outputs, not their code)."""
    texts = page.locator(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-OutputArea").all_inner_texts()
    return _squash(" ".join(texts))
