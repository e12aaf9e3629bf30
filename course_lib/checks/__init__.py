"""Exercise checks: ``check("ex05.q1", lcs_length)`` reports passed, not done yet, or not yet
right, with the input that failed, what was expected, what came back, and a hint.

Each exercise in ``exercises/`` has a module of checks here (``ex01_cost_dashboard`` ...
``ex05_algorithms``). A check tests *behaviour* on inputs whose right answers it knows
independently: hand-computed values, or an independent oracle (``rapidfuzz``, ``graphlib``, a
brute-force model), never the course's own implementation of the same function.
``hint("ex05.q1")`` gives progressive hints (:mod:`course_lib.checks.hints`).

nbgrader's autograded cells play the same role in a graded course; here the checks are plain
functions, so they run in any kernel, in pytest and in CI.
"""

from course_lib.checks.hints import HINTS, hint, reset_hints
from course_lib.checks.registry import EXERCISE_MODULES, Check, all_checks, get_check, register
from course_lib.checks.result import (
    CheckFailure,
    CheckNotPassedError,
    CheckResult,
    NotDoneYet,
    Status,
)
from course_lib.checks.runner import check, preview, preview_async, run_check

__all__ = [
    "EXERCISE_MODULES",
    "HINTS",
    "Check",
    "CheckFailure",
    "CheckNotPassedError",
    "CheckResult",
    "NotDoneYet",
    "Status",
    "all_checks",
    "check",
    "get_check",
    "hint",
    "preview",
    "preview_async",
    "register",
    "reset_hints",
    "run_check",
]
