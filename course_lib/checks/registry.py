"""Where checks live: one module per exercise, each registering its checks by id.

``check("ex05.q2", fn)`` finds the check ``ex05.q2`` in :mod:`course_lib.checks.ex05_algorithms`,
importing that module on first use, so a notebook pays only for its own exercise's imports.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["EXERCISE_MODULES", "Check", "all_checks", "get_check", "register"]

CheckFunction = Callable[[Any], str]
"""Runs the learner's object through the check; returns a one-line summary of what passed, and
raises :class:`~course_lib.checks.result.CheckFailure` (or lets ``NotImplementedError`` out)."""

EXERCISE_MODULES: dict[str, str] = {
    "ex01": "course_lib.checks.ex01_cost_dashboard",
    "ex02": "course_lib.checks.ex02_model_routing",
    "ex03": "course_lib.checks.ex03_concurrent_tools",
    "ex04": "course_lib.checks.ex04_streaming",
    "ex05": "course_lib.checks.ex05_algorithms",
}
_CHECK_ID = re.compile(r"(ex\d\d)\.q\d+")


@dataclass(frozen=True)
class Check:
    """One registered check: its id (``ex05.q1``), a short title, and the function that runs it."""

    check_id: str
    title: str
    run: CheckFunction


_CHECKS: dict[str, Check] = {}


def register(check_id: str, title: str) -> Callable[[CheckFunction], CheckFunction]:
    """Decorator: register ``function`` as the check ``check_id`` (``exNN.qK``)."""
    if not _CHECK_ID.fullmatch(check_id):
        raise ValueError(f"check id {check_id!r} must look like 'ex05.q1'")

    def decorate(function: CheckFunction) -> CheckFunction:
        if check_id in _CHECKS and _CHECKS[check_id].run is not function:
            raise ValueError(f"check {check_id!r} is registered twice")
        _CHECKS[check_id] = Check(check_id, title, function)
        return function

    return decorate


def get_check(check_id: str) -> Check:
    """The check called ``check_id``; a ``KeyError`` naming the known ids if there is none."""
    if not isinstance(check_id, str):
        raise TypeError(f"a check id is a string like 'ex05.q1', got {check_id!r}")
    match = _CHECK_ID.fullmatch(check_id)
    if match is None:
        raise KeyError(f"{check_id!r} is not a check id: they look like 'ex05.q1'")
    exercise = match.group(1)
    if exercise not in EXERCISE_MODULES:
        raise KeyError(f"there is no exercise {exercise!r}; exercises are "
                       f"{', '.join(sorted(EXERCISE_MODULES))}")
    importlib.import_module(EXERCISE_MODULES[exercise])
    if check_id not in _CHECKS:
        known = sorted(c for c in _CHECKS if c.startswith(exercise + "."))
        raise KeyError(f"exercise {exercise} has no check {check_id!r}; its checks are "
                       f"{', '.join(known)}")
    return _CHECKS[check_id]


def all_checks() -> list[Check]:
    """Every check of every exercise, in id order (imports all the exercise modules)."""
    for module in EXERCISE_MODULES.values():
        importlib.import_module(module)
    return [_CHECKS[check_id] for check_id in sorted(_CHECKS)]
