"""``check("exNN.qK", fn)``: run one exercise check on the learner's code and report.

The report is friendly and specific: which input failed, what was expected and what came back,
and a hint aimed at that mistake. A stub that still raises ``NotImplementedError`` is reported
as "not done yet", not as a failure, and no check ever raises at the learner, so "Run All" on a
fresh exercise notebook goes through and shows what is left to do. ``make check`` switches on
the strict mode of :mod:`course_lib.checks.ci` instead, where a check that did not pass fails its
cell.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from IPython import get_ipython
from IPython.display import display

from course_lib.checks.ci import report_to_ci
from course_lib.checks.expect import short_repr
from course_lib.checks.hints import has_hints
from course_lib.checks.registry import get_check
from course_lib.checks.result import (
    NOT_DONE_ADVICE,
    CheckFailure,
    CheckResult,
    NotDoneYet,
    Status,
)
from course_lib.socratic.progress import default_store

__all__ = ["check", "preview", "preview_async", "run_check"]


def run_check(check_id: str, submission: object) -> CheckResult:
    """Run the check ``check_id`` on ``submission`` and return the verdict, without showing it."""
    spec = get_check(check_id)
    more_help = f'hint("{check_id}")' if has_hints(check_id) else None
    if not callable(submission):
        return CheckResult(
            check_id, spec.title, Status.FAILED,
            f"check() needs your function (or class) itself, got {type(submission).__name__}",
            got=short_repr(submission),
            hint="Pass it by name, without calling it: check(\"" + check_id + "\", my_function)"
                 ", not check(\"" + check_id + "\", my_function(...)).",
            more_help=more_help)
    try:
        summary = spec.run(submission)
    except (NotDoneYet, NotImplementedError) as not_done:
        message = not_done.message if isinstance(not_done, NotDoneYet) else str(not_done)
        return CheckResult(check_id, spec.title, Status.NOT_DONE, NOT_DONE_ADVICE,
                           todo=message or "(the stub gave no message)", more_help=more_help)
    except CheckFailure as failure:
        return CheckResult(check_id, spec.title, Status.FAILED, failure.problem,
                           call=failure.call, expected=failure.expected, got=failure.got,
                           hint=failure.hint, more_help=more_help)
    except Exception as error:  # the learner's object broke the check somewhere unexpected
        return CheckResult(
            check_id, spec.title, Status.FAILED,
            f"the check could not use what you passed: {type(error).__name__}: {error}",
            hint="Does your function take the arguments the task describes, and return what it "
                 "asks for?",
            more_help=more_help,
        )
    return CheckResult(check_id, spec.title, Status.PASSED, summary)


def check(check_id: str, submission: object) -> CheckResult:
    """Check ``submission`` (your function or class) against ``check_id`` and show the report.

    Returns the :class:`CheckResult`; its ``passed`` says whether the check passed. The verdict
    is saved in the progress file (``"passed"``, ``"failed"`` or ``"not_done"``).
    """
    result = run_check(check_id, submission)
    default_store().record_exercise(check_id, result.status.name.lower(), result.headline())
    result.show()
    report_to_ci(result)
    return result


def preview(function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call ``function(*args, **kwargs)`` and show its result, or say the stub is not done.

    For cells that *use* the learner's code on real data (draw the dashboard, route the day's
    traffic): with a stub, "Run All" prints a note instead of stopping at a traceback. Returns
    nothing, so the result is shown once even as a cell's last line.
    """
    try:
        value = function(*args, **kwargs)
    except NotImplementedError as error:
        _say_not_done(function, error)
        return
    _show(value)


async def preview_async(function: Callable[..., Awaitable[Any]], *args: Any,
                        **kwargs: Any) -> None:
    """:func:`preview` for an ``async`` function: ``await preview_async(try_tools)``."""
    try:
        value = await function(*args, **kwargs)
    except NotImplementedError as error:
        _say_not_done(function, error)
        return
    _show(value)


def _say_not_done(function: object, error: NotImplementedError) -> None:
    name = getattr(function, "__name__", "this function")
    print(f"⏳ {name} is not done yet ({error}); come back after its check passes.")


def _show(value: object) -> None:
    if value is None:
        return
    if isinstance(value, str) or get_ipython() is None:
        print(value)
        return
    display(value)
    # The inline backend draws every open pyplot figure again at the end of the cell.
    from matplotlib.figure import Figure

    if isinstance(value, Figure):
        import matplotlib.pyplot as plt

        plt.close(value)
