"""What a check says: passed, not done yet, or not yet right (and why), as text and as HTML.

A check never raises at the learner: it *reports*, so "Run All" goes through a notebook whose
stubs are still empty. The report of a failure names the input that failed, what was expected
and what came back, and a hint aimed at that failure, never the solution.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from IPython import get_ipython
from IPython.display import display

__all__ = ["CheckFailure", "CheckNotPassedError", "CheckResult", "NotDoneYet", "Status"]

NOT_DONE_ADVICE = (
    "Replace the `raise NotImplementedError(...)` in the ✏️ YOUR CODE cell, run that cell, "
    "then run this check again."
)


def _code_spans(escaped: str) -> str:
    """`code` in an already-escaped sentence, as <code>: the only markup a summary uses."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


class Status(Enum):
    """The three verdicts a check can give."""

    PASSED = "passed"
    NOT_DONE = "not done yet"
    FAILED = "not yet right"


class CheckFailure(Exception):
    """Raised inside a check when the learner's code gave a wrong answer.

    ``problem`` is one sentence; ``call`` shows the input as code (``lcs_length('ab', 'b')``);
    ``expected`` and ``got`` are shown with ``repr``-like text chosen by the check; ``hint``
    points at the likely cause without giving the answer away.
    """

    def __init__(
        self,
        problem: str,
        *,
        call: str | None = None,
        expected: str | None = None,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.call = call
        self.expected = expected
        self.got = got
        self.hint = hint


class NotDoneYet(Exception):
    """The learner's code raised ``NotImplementedError``: the ✏️ cell is still a stub."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CheckNotPassedError(AssertionError):
    """Raised by :meth:`CheckResult.raise_unless_passed` (solution notebooks use it in CI)."""


@dataclass
class CheckResult:
    """The outcome of one ``check("exNN.qK", fn)``: a verdict and the lines that explain it."""

    check_id: str
    title: str
    status: Status
    summary: str
    call: str | None = None
    expected: str | None = None
    got: str | None = None
    hint: str | None = None
    more_help: str | None = None
    todo: str | None = None
    _shown_in_cell: int | None = field(default=None, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def raise_unless_passed(self) -> None:
        """Raise :class:`CheckNotPassedError` with the report unless the check passed.

        Learner notebooks never call it (a failed check must not stop "Run All"); the generated
        solution notebooks do, so nbval fails in CI the day a solution stops passing.
        """
        if not self.passed:
            raise CheckNotPassedError(self.text())

    # -- rendering ------------------------------------------------------------------------------

    def _rows(self) -> list[tuple[str, str]]:
        rows = [
            ("to do", self.todo),
            ("input", self.call),
            ("expected", self.expected),
            ("got", self.got),
            ("hint", self.hint),
            ("more help", self.more_help),
        ]
        return [(label, value) for label, value in rows if value]

    def headline(self) -> str:
        icon = {Status.PASSED: "✅", Status.NOT_DONE: "⏳", Status.FAILED: "❌"}[self.status]
        return f"{icon} {self.check_id} · {self.title}: {self.status.value}"

    def text(self) -> str:
        """The report as plain text (what nbval, a terminal and a test see)."""
        lines = [self.headline(), f"   {self.summary}"]
        width = max((len(label) for label, _ in self._rows()), default=0)
        for label, value in self._rows():
            first, *rest = value.splitlines() or [""]
            lines.append(f"   {label + ':':<{width + 1}} {first}")
            lines.extend(f"   {'':<{width + 1}} {line}" for line in rest)
        return "\n".join(lines)

    def html(self) -> str:
        """The report as a small, escaped HTML block (what JupyterLab shows)."""
        colour = {Status.PASSED: "#2e7d32", Status.NOT_DONE: "#9e7700",
                  Status.FAILED: "#c62828"}[self.status]
        # JupyterLab styles tables in rendered HTML (right-aligned, striped): undo that here.
        cell = "text-align:left;vertical-align:top;border:none;background:none;padding:0.1em"
        rows = "".join(
            f"<tr style='background:none'><td style='{cell};padding-right:1em;"
            f"white-space:nowrap'><b>{html.escape(label)}</b></td><td style='{cell}'>"
            "<pre style='margin:0;padding:0;border:none;background:none;"
            f"white-space:pre-wrap'>{html.escape(value)}</pre></td></tr>"
            for label, value in self._rows()
        )
        return (
            f"<div class='course-check course-check-{self.status.name.lower()}' "
            f"style='border-left:4px solid {colour};padding:0.3em 0.8em;margin:0.3em 0'>"
            f"<div style='font-weight:bold'>{html.escape(self.headline())}</div>"
            f"<div>{_code_spans(html.escape(self.summary))}</div>"
            f"<table style='margin:0.3em 0 0 0;border:none'>{rows}</table></div>"
        )

    def __str__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": self.text(), "text/html": self.html()}

    def show(self) -> None:
        """Display the report once in the current cell (printed when there is no IPython)."""
        shell = get_ipython()
        if shell is None:
            print(self.text())
            return
        display(self._repr_mimebundle_(), raw=True)
        self._shown_in_cell = shell.execution_count

    def _ipython_display_(self) -> None:
        # check() shows the report and returns it; a bare check(...) as a cell's last line
        # would otherwise show it twice.
        shell = get_ipython()
        if shell is not None and self._shown_in_cell == shell.execution_count:
            return
        display(self._repr_mimebundle_(), raw=True)
