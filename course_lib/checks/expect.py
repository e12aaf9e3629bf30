"""Small tools the exercise checks share: call the learner's code, compare, describe the input.

Every check calls the learner's function through :func:`call_learner`, so the three ways it can
go wrong are told apart once, here: a stub still raising ``NotImplementedError`` ("not done
yet"), an exception on some input ("your function raised ... on this input"), and a wrong value
(:func:`expect_equal`). Nothing here knows the right answers: each check brings its own.
"""

from __future__ import annotations

import asyncio
import numbers
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from course_lib.checks.result import CheckFailure, NotDoneYet

__all__ = [
    "call_learner",
    "describe_call",
    "expect",
    "expect_equal",
    "run_coroutine",
    "short_repr",
]

T = TypeVar("T")

_REPR_LIMIT = 90


def short_repr(value: object, limit: int = _REPR_LIMIT) -> str:
    """``repr(value)``, cut in the middle when long, saying how long a long string or list was."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value):,} items)" if isinstance(value, list | tuple | dict) else ""
    if isinstance(value, str):
        size = f" ({len(value):,} characters)"
    keep = (limit - 5) // 2
    return f"{text[:keep]} … {text[-keep:]}{size}"


def describe_call(name: str, *args: object, **kwargs: object) -> str:
    """How a call looks in code: ``lcs_length('ab', 'b')``, long arguments shortened."""
    parts = [short_repr(arg) for arg in args]
    parts += [f"{key}={short_repr(value)}" for key, value in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _name_of(function: object) -> str:
    return getattr(function, "__name__", None) or type(function).__name__


def call_learner(function: Callable[..., T], *args: Any, call: str | None = None,
                 **kwargs: Any) -> T:
    """``function(*args, **kwargs)``, with the learner's exceptions turned into a verdict.

    ``NotImplementedError`` becomes :class:`NotDoneYet` (the stub is still there); any other
    exception becomes a :class:`CheckFailure` that shows the call which raised it.
    """
    shown = call or describe_call(_name_of(function), *args, **kwargs)
    try:
        return function(*args, **kwargs)
    except NotImplementedError as error:
        raise NotDoneYet(f"{_name_of(function)}: {error}") from None
    except CheckFailure:
        raise
    except Exception as error:
        raise CheckFailure(
            f"your code raised {type(error).__name__} on this input",
            call=shown,
            got=f"{type(error).__name__}: {error}",
            hint="Run the call above in a cell of its own to see the whole traceback.",
        ) from error


def expect(condition: bool, problem: str, *, call: str | None = None,
           expected: str | None = None, got: str | None = None,
           hint: str | None = None) -> None:
    """Raise a :class:`CheckFailure` with these details unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(problem, call=call, expected=expected, got=got, hint=hint)


def expect_equal(got: object, expected: object, *, call: str, problem: str | None = None,
                 hint: str | None = None) -> None:
    """Fail unless ``got == expected`` (and both have the same type, so ``1.0`` is not ``1``)."""
    same = type(got) is type(expected) and got == expected
    if isinstance(expected, int) and not isinstance(expected, bool):
        # numpy integers are fine; True is not 1, and 1.0 is not a count.
        same = (isinstance(got, numbers.Integral) and not isinstance(got, bool)
                and got == expected)
    if not same:
        raise CheckFailure(problem or "wrong answer for this input", call=call,
                           expected=short_repr(expected), got=short_repr(got), hint=hint)


def run_coroutine(factory: Callable[[], Awaitable[T]], *, timeout: float, call: str) -> T:
    """Run ``factory()`` on a fresh event loop in its own thread and return its result.

    A notebook cell already runs inside ipykernel's event loop, where ``asyncio.run`` refuses to
    start; a thread of its own has no loop yet. If the coroutine has not finished after
    ``timeout`` seconds, the check fails (the thread is a daemon and is abandoned: Python cannot
    kill a thread, only the coroutine could cancel itself).
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(_awaited(factory))
        except BaseException as error:  # re-raised in the caller's thread below
            outcome["error"] = error

    thread = threading.Thread(target=target, name=f"check: {call}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise CheckFailure(
            f"it did not finish within {timeout:g} s",
            call=call,
            hint="Something waits forever: a tool that never returns needs a timeout, and an "
                 "`await` on something that is never set hangs.",
        )
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, NotImplementedError):
            raise NotDoneYet(str(error)) from None
        if isinstance(error, CheckFailure | NotDoneYet):
            raise error
        raise CheckFailure(
            f"your code raised {type(error).__name__} on this input",
            call=call,
            got=f"{type(error).__name__}: {error}",
            hint="Run the call above in a cell of its own (with `await`) to see the traceback.",
        ) from error
    return outcome["value"]


async def _awaited(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()
