"""The learner's CI: strict checks, and a results file that ``make check`` turns into a table.

In JupyterLab a check never raises: "Run All" on a fresh exercise goes through and shows what is
left to do. ``make check`` runs the same notebooks under nbval with two environment variables,
so the notebooks themselves never change:

* ``COURSE_CHECKS_STRICT=1``: a check that is not passed (⏳ not done yet, or ❌ not yet right)
  raises :class:`~course_lib.checks.result.CheckNotPassedError` after showing its report, so
  nbval fails that cell;
* ``COURSE_CHECK_RESULTS=path``: each check appends its verdict to ``path``, one JSON object a
  line: ``{"check_id", "title", "status", "detail"}``, ``status`` one of ``passed``,
  ``not_done`` and ``failed``, ``detail`` the first line of what the report says.

The check writes its own verdict because only the check knows it: nbval sees a failed cell, not
whether its stub was still there (⏳) or its answer wrong (❌), and its traceback buries the one
line a learner needs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from course_lib.checks.result import CheckNotPassedError, CheckResult, Status

__all__ = ["RESULTS_ENV", "STRICT_ENV", "report_to_ci", "strict_mode", "verdict_line"]

STRICT_ENV = "COURSE_CHECKS_STRICT"
RESULTS_ENV = "COURSE_CHECK_RESULTS"
_STATUS_NAMES = {Status.PASSED: "passed", Status.NOT_DONE: "not_done", Status.FAILED: "failed"}


def strict_mode() -> bool:
    """Whether ``COURSE_CHECKS_STRICT`` asks for checks that fail their cell (``1``) or not."""
    value = os.environ.get(STRICT_ENV, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(f"{STRICT_ENV} must be 1 (strict) or 0, got {value!r}")


def verdict_line(result: CheckResult) -> dict[str, str]:
    """What the results file holds for ``result``: its id, title, status and first line."""
    detail = result.todo if result.status is Status.NOT_DONE and result.todo else result.summary
    first_line = next((line.strip() for line in detail.splitlines() if line.strip()), "")
    name, _, message = first_line.partition(": ")
    if message and name.isidentifier() and name in message:
        first_line = message  # "lcs_length: write lcs_length(a, b): ..." says the name once
    return {"check_id": result.check_id, "title": result.title,
            "status": _STATUS_NAMES[result.status], "detail": first_line}


def report_to_ci(result: CheckResult) -> None:
    """Append ``result`` to the results file, if one is named; if strict, fail unless it passed."""
    path = os.environ.get(RESULTS_ENV)
    if path:
        with Path(path).open("a", encoding="utf-8") as results:
            results.write(json.dumps(verdict_line(result), ensure_ascii=False) + "\n")
    if strict_mode() and not result.passed:
        raise CheckNotPassedError(result.text())
