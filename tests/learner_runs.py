"""Three learners' ``make check`` runs, made once per test session and shared by the tests.

Each learner is a copy of the exercise notebooks in a temporary folder, checked by the entry
point the Makefile runs (``scripts/check_exercises.py``):

* ``fresh``: a fresh clone, every stub still in place;
* ``solved``: every solution pasted into the ✏️ cells;
* ``one_reverted``: the same, with one exercise (:data:`REVERTED`) put back to its stubs.

nbval is the slow part, so the three runs start together (one process each) the first time a
test asks for them, and every test reads the same exit statuses, tables and report files.
Each folder also holds a ``solutions/`` notebook that raises: ``make check`` must never run it.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.test_exercises_support import ROOT, build_script

BUILD = build_script()
SCRIPT = ROOT / "scripts" / "check_exercises.py"
ALL = frozenset(source.stem for source in BUILD.sources())
REVERTED = "ex03_concurrent_tools"  # the exercise the third learner puts back to its stubs
SCENARIOS = {"fresh": frozenset(), "solved": ALL, "one_reverted": ALL - {REVERTED}}
# The three runs share two cores with each other and whatever else the machine does: minutes.
RUN_TIMEOUT_S = 1200
# For the modules whose tests wait for the runs: the first test to ask waits for all three.
WAITS_FOR_RUNS = pytest.mark.timeout(RUN_TIMEOUT_S + 60)


def learner_notebook(source: Path, solved: bool) -> nbformat.NotebookNode:
    """The learner's notebook built from ``source``, with the solutions pasted in if ``solved``.

    Pasting replaces each ✏️ YOUR CODE cell by the solution notebook's version of that cell and
    leaves every other cell as the learner has it (check cells without raise_unless_passed).
    """
    learner = BUILD.build_notebook(source, "learner")
    if solved:
        solution = BUILD.build_notebook(source, "solution")
        pasted = solution.cells[1:]  # after the "Solution notebook" banner
        for cell, answer in zip(learner.cells, pasted, strict=True):
            if BUILD.BANNER in cell.source:
                cell.source = answer.source
    return learner


@dataclass
class Run:
    """One ``make check`` run: its exit status, what it printed, and what it wrote."""

    status: int
    output: str
    report: dict
    report_dir: Path
    exercises_dir: Path

    def rows_of(self, exercise: str) -> list[dict]:
        return [row for row in self.report["rows"] if row["exercise"] == exercise]

    def verdicts(self) -> list[dict]:
        lines = (self.report_dir / "results.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def _prepare(folder: Path, solved: frozenset[str]) -> tuple[Path, Path]:
    exercises_dir, report_dir = folder / "exercises", folder / "report"
    exercises_dir.mkdir(parents=True)
    for source in BUILD.sources():
        nbformat.write(learner_notebook(source, source.stem in solved),
                       exercises_dir / f"{source.stem}.ipynb")
    (exercises_dir / "solutions").mkdir()
    never = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'raise RuntimeError("make check ran a solution notebook")')])
    nbformat.write(never, exercises_dir / "solutions" / "ex01_cost_dashboard.ipynb")
    return exercises_dir, report_dir


@functools.cache
def runs() -> dict[str, Run]:
    """The three learners' runs, started together and awaited (once per session)."""
    folder = Path(tempfile.mkdtemp(prefix="make-check-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    started = {}
    for name, solved in SCENARIOS.items():
        exercises_dir, report_dir = _prepare(folder / name, solved)
        env = dict(os.environ, COURSE_LLM_ENDPOINT="sandbox",
                   COURSE_PROGRESS_PATH=str(folder / name / "progress.json"))
        env.pop("GITHUB_STEP_SUMMARY", None)
        process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--exercises-dir", str(exercises_dir),
             "--report-dir", str(report_dir)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        started[name] = (process, exercises_dir, report_dir)
    done = {}
    for name, (process, exercises_dir, report_dir) in started.items():
        output, _ = process.communicate(timeout=RUN_TIMEOUT_S)
        report_file = report_dir / "report.json"
        assert report_file.exists(), f"{name}: no report written:\n{output}"
        report = json.loads(report_file.read_text(encoding="utf-8"))
        done[name] = Run(process.returncode, output, report, report_dir, exercises_dir)
    return done
