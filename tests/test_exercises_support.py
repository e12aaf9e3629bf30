"""Helpers the exercise tests share, and tests of the helpers themselves.

``load_solution("ex05_algorithms")`` runs the solution's ✏️ cells (after the notebook's first
code cell, its imports) and returns the names they define, so each exercise's tests can compare
the solution with wrong-but-plausible answers without starting a kernel.
``assert_fails`` runs a check on a wrong answer and asserts that it fails *helpfully*.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from course_lib.checks import CheckResult, Status, run_check

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def build_script() -> ModuleType:
    """``scripts/build_exercises.py``, imported as a module (``scripts`` is not a package)."""
    spec = importlib.util.spec_from_file_location("build_exercises",
                                                  ROOT / "scripts" / "build_exercises.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def load_solution(name: str) -> dict[str, Any]:
    """The names defined by the solution's first code cell and its ✏️ YOUR CODE cells."""
    build = build_script()
    notebook = build.build_notebook(build.SOURCES_DIR / f"{name}.py", "solution")
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    namespace: dict[str, Any] = {"__name__": f"solution_{name}"}
    for source in [code[0], *(text for text in code[1:] if build.BANNER in text)]:
        exec(compile(source, f"<{name} solution>", "exec"), namespace)
    return namespace


def assert_fails(check_id: str, wrong_answer: object, *, hint_words: list[str]) -> CheckResult:
    """Run ``check_id`` on a wrong answer; assert it fails, says why, and hints with these words."""
    result = run_check(check_id, wrong_answer)
    assert result.status is Status.FAILED, f"the wrong answer was not caught:\n{result.text()}"
    assert result.summary, result.text()
    assert result.hint, f"a failure without a hint:\n{result.text()}"
    for word in hint_words:
        assert word in result.hint, f"hint lacks {word!r}:\n{result.text()}"
    assert "Traceback" not in result.text()
    return result


def test_load_solution_defines_the_exercise_functions() -> None:
    names = load_solution("ex05_algorithms")
    assert callable(names["lcs_length"]) and names["lcs_length"]("ABCBDAB", "BDCABA") == 4
    assert isinstance(names["SlidingWindowLimiter"], type)
