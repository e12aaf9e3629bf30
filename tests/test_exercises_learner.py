"""A learner's first "Run All": every exercise notebook runs through, its checks say what is left.

The learner notebooks as committed (all stubs in place) are run once, by the fresh clone's
``make check`` (:mod:`tests.learner_runs`), in a real kernel under nbval. That run is strict: a
check that has not passed raises after showing its report. Strict mode is the *only* difference
from JupyterLab's "Run All" (``check()`` raises only through ``course_lib.checks.ci``, which
``test_exercises_checks`` pins), so if the check cells are the only cells that failed, and each
failed with ``CheckNotPassedError``, then "Run All" in JupyterLab goes through every cell and
shows a ⏳ report in each check cell. The reports themselves (⏳, "to do:" with the stub's own
message, the hint() pointer) are tested on the same stubs in ``test_exercises_checks``; here,
each check's verdict must be "not done yet" with that exercise's stub message.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import nbformat
import pytest

from tests.learner_runs import WAITS_FOR_RUNS, runs
from tests.test_exercises_support import ROOT, build_script

pytestmark = WAITS_FOR_RUNS

LEARNER_NOTEBOOKS = sorted((ROOT / "exercises").glob("ex[0-9][0-9]_*.ipynb"))
CHECK_CELL = re.compile(r'check\("(ex\d\d\.q\d+)", \w+\)')
STUB_MESSAGE = re.compile(r'NotImplementedError\(\s*"([^"]{10,60})')


def test_every_exercise_has_a_learner_notebook() -> None:
    assert [path.stem for path in LEARNER_NOTEBOOKS] == [
        path.stem for path in build_script().sources()]


def _cells_run(junit_text: str, stem: str) -> dict[int, str | None]:
    """``{code cell number: failure text or None}`` of one notebook in nbval's JUnit report."""
    cells: dict[int, str | None] = {}
    for case in ElementTree.fromstring(junit_text).iter("testcase"):
        if case.get("file") != f"{stem}.ipynb":
            continue
        number = int(case.get("name", "").removeprefix("Cell "))
        failure = case.find("failure")
        cells[number] = None if failure is None else (failure.text or "")
    return cells


@pytest.mark.slow
@pytest.mark.parametrize("path", LEARNER_NOTEBOOKS, ids=lambda path: path.stem)
def test_run_all_on_the_stubs_reports_not_done(path) -> None:
    fresh = runs()["fresh"]
    # The fresh clone's copy is this very notebook, cell for cell.
    copy = nbformat.read(fresh.exercises_dir / path.name, as_version=4)
    committed = nbformat.read(path, as_version=4)
    assert [c.source for c in copy.cells] == [c.source for c in committed.cells]

    code = [cell.source for cell in committed.cells if cell.cell_type == "code"]
    check_cells = {index: CHECK_CELL.fullmatch(source.strip()).group(1)
                   for index, source in enumerate(code) if CHECK_CELL.fullmatch(source.strip())}
    assert check_cells, "no check cells found"
    cells = _cells_run((fresh.report_dir / "junit.xml").read_text(encoding="utf-8"), path.stem)
    assert sorted(cells) == list(range(len(code))), "nbval did not run every cell"
    failed = {index for index, failure in cells.items() if failure is not None}
    assert failed == set(check_cells), (
        "only the check cells may fail (strictly) on the stubs; these others raised: "
        f"{sorted(failed - set(check_cells))}")
    for index in failed:
        assert "CheckNotPassedError" in cells[index] and "not done yet" in cells[index]

    verdicts = {v["check_id"]: v for v in fresh.verdicts()}
    for check_id in check_cells.values():
        assert verdicts[check_id]["status"] == "not_done", verdicts[check_id]
    # Each ✏️ cell's stub explains what to write; the learner must see that (for a class, the
    # message of __init__, which raises first).
    details = "\n".join(verdicts[check_id]["detail"] for check_id in check_cells.values())
    for source in code:
        if build_script().BANNER not in source:
            continue
        messages = STUB_MESSAGE.findall(source)
        assert any(message in details for message in messages), (
            f"no stub message of this cell reached the learner: {messages}")
