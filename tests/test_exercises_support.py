"""Helpers the exercise tests share, and tests of the helpers themselves.

``load_solution("ex05_algorithms")`` runs the solution's ✏️ cells (after the notebook's first
code cell, its imports, and the cells that only define things: functions, classes, constants)
and returns the names they define, so each exercise's tests can compare the solution with
wrong-but-plausible answers without starting a kernel.
``assert_fails`` runs a check on a wrong answer and asserts that it fails *helpfully*, and
within the course's budget: no check may keep a learner waiting more than 5 s for a wrong
answer. The budget is asserted in CPU time, which other processes competing for the cores do
not inflate; waits a check schedules on purpose (a barrier, a tool's deadline) are constants of
the check, far below it.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from course_lib.checks import CheckResult, Status, run_check

ROOT = Path(__file__).resolve().parent.parent
WRONG_ANSWER_BUDGET_S = 5.0


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


def _only_defines(source: str) -> bool:
    """Whether a cell only defines names: functions, classes, imports, literal constants."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import
                      | ast.ImportFrom):
            continue
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            try:
                ast.literal_eval(node.value)
            except ValueError:
                return False
            continue
        return False
    return True


def load_solution(name: str) -> dict[str, Any]:
    """The names defined by the solution's first code cell, its ✏️ YOUR CODE cells and the cells
    that only define names."""
    build = build_script()
    notebook = build.build_notebook(build.SOURCES_DIR / f"{name}.py", "solution")
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    namespace: dict[str, Any] = {"__name__": f"solution_{name}"}
    for source in [code[0], *(text for text in code[1:]
                              if build.BANNER in text or _only_defines(text))]:
        exec(compile(source, f"<{name} solution>", "exec"), namespace)
    return namespace


def assert_fails(check_id: str, wrong_answer: object, *, hint_words: list[str]) -> CheckResult:
    """Run ``check_id`` on a wrong answer; assert it fails, says why, and hints with these words."""
    started_cpu, started = time.process_time(), time.perf_counter()
    result = run_check(check_id, wrong_answer)
    cpu_s, wall_s = time.process_time() - started_cpu, time.perf_counter() - started
    assert result.status is Status.FAILED, f"the wrong answer was not caught:\n{result.text()}"
    assert cpu_s < WRONG_ANSWER_BUDGET_S, (
        f"{check_id} took {cpu_s:.1f} s of CPU ({wall_s:.1f} s) to reject this wrong answer")
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
