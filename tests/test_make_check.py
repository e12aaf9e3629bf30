"""``make check``, the learner's command: strict nbval over their own exercise notebooks.

Three learners (:mod:`tests.learner_runs`): a fresh clone, which fails and says what is not done
yet; one who pasted every solution in, who passes; and the same with one exercise put back to
its stubs, who fails again. Each is one run of the entry point the Makefile uses, shared by the
tests below. The helpers that turn nbval's results into the table are tested on hand-made input.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.learner_runs import (
    ALL,
    BUILD,
    REVERTED,
    SCRIPT,
    WAITS_FOR_RUNS,
    Run,
    learner_notebook,
    runs,
)
from tests.test_exercises_support import ROOT

pytestmark = WAITS_FOR_RUNS


def check_script():
    """``scripts/check_exercises.py`` imported as a module, for its table and parsing helpers."""
    spec = importlib.util.spec_from_file_location("check_exercises", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh() -> Run:
    return runs()["fresh"]


@pytest.fixture(scope="module")
def solved() -> Run:
    return runs()["solved"]


@pytest.fixture(scope="module")
def one_reverted() -> Run:
    return runs()["one_reverted"]


def expected_ids() -> list[str]:
    from course_lib.checks import all_checks

    return [spec.check_id for spec in all_checks()]


# -- the three learners ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_fresh_clone_fails_and_says_what_is_not_done(fresh: Run) -> None:
    assert fresh.status == 1, fresh.output
    rows = fresh.report["rows"]
    assert [row["exercise"][:4] + "." + row["question"].split(" ")[0]
            for row in rows] == expected_ids()
    assert {row["status"] for row in rows} == {"not_done"}
    # Each row says what to write: the stub's own message, e.g. for ex05.q1.
    lcs = next(row for row in rows if row["exercise"] == "ex05_algorithms"
               and row["question"].startswith("q1 "))
    assert lcs["detail"].startswith("write lcs_length(a, b): ")
    assert "⏳" in fresh.output and "0 of 16 checks passed · 16 not done yet" in fresh.output
    assert fresh.report["passed"] is False


@pytest.mark.slow
def test_pasting_the_solutions_in_passes(solved: Run) -> None:
    assert solved.status == 0, solved.output
    assert len(solved.report["rows"]) == len(expected_ids())
    assert {row["status"] for row in solved.report["rows"]} == {"passed"}
    assert "16 of 16 checks passed" in solved.output and "every check passes" in solved.output
    assert solved.report["passed"] is True


@pytest.mark.slow
def test_one_exercise_back_to_its_stubs_fails_again(one_reverted: Run) -> None:
    assert one_reverted.status == 1, one_reverted.output
    reverted = one_reverted.rows_of(REVERTED)
    assert reverted and {row["status"] for row in reverted} == {"not_done"}
    others = [row for row in one_reverted.report["rows"] if row["exercise"] != REVERTED]
    assert others and {row["status"] for row in others} == {"passed"}
    assert "14 of 16 checks passed · 2 not done yet" in one_reverted.output


@pytest.mark.slow
def test_the_report_files_hold_the_same_table(fresh: Run) -> None:
    markdown = (fresh.report_dir / "report.md").read_text(encoding="utf-8")
    assert markdown.count("| ⏳ |") == len(expected_ids())
    assert sorted(v["check_id"] for v in fresh.verdicts()) == sorted(expected_ids())
    assert (fresh.report_dir / "junit.xml").exists()
    assert "Notebook cell execution failed" in (fresh.report_dir / "pytest.log").read_text(
        encoding="utf-8")


@pytest.mark.slow
def test_the_solutions_folder_is_never_run(solved: Run) -> None:
    # The run passed although solutions/ holds a notebook that raises; nbval saw only these:
    junit = (solved.report_dir / "junit.xml").read_text(encoding="utf-8")
    assert "make check ran a solution notebook" not in junit
    ran = set(re.findall(r'file="([^"]+)"', junit))
    assert ran == {f"{stem}.ipynb" for stem in ALL}
    assert sorted(solved.report["exercises"]) == sorted(ALL)


# -- what no check can report ---------------------------------------------------------------------


def test_a_check_that_could_not_run_and_a_broken_cell_are_rows(tmp_path: Path) -> None:
    script = check_script()
    source = BUILD.SOURCES_DIR / "ex05_algorithms.py"
    notebook = tmp_path / "ex05_algorithms.ipynb"
    nbformat.write(learner_notebook(source, solved=False), notebook)
    code_cells = [cell for cell in nbformat.read(notebook, as_version=4).cells
                  if cell.cell_type == "code"]
    q1_cell = next(i for i, cell in enumerate(code_cells) if 'check("ex05.q1"' in cell.source)
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        f'<testcase classname="ex05_algorithms.ipynb" name="Cell {q1_cell}" '
        'file="ex05_algorithms.ipynb"><failure message="Notebook cell execution failed">'
        "Traceback:\n#x1B[31mNameError#x1B[39m: name 'lcs_length' is not defined</failure>"
        '</testcase><testcase classname="ex05_algorithms.ipynb" name="Cell 0" '
        'file="ex05_algorithms.ipynb"><failure message="x">Traceback:\n'
        "ModuleNotFoundError: No module named 'course_lib'</failure></testcase>"
        "</testsuite></testsuites>", encoding="utf-8")
    verdicts = {"ex05.q2": {"check_id": "ex05.q2", "title": "t", "status": "passed",
                            "detail": "69 distances right"}}
    rows = script.build_rows(notebook, verdicts, script.failed_cells(junit))
    by_question = {row.question.split(" ")[0]: row for row in rows}
    assert by_question["q1"].status == "failed"
    assert by_question["q1"].detail == ("the check could not run: NameError: name 'lcs_length' "
                                        "is not defined")
    assert by_question["q2"].status == "passed"
    assert by_question["q3"].detail.startswith("the check did not run")
    cell_row = rows[-1]
    assert (cell_row.question, cell_row.status) == ("code cell 1", "failed")
    assert cell_row.detail == "ModuleNotFoundError: No module named 'course_lib'"
    assert "1 other cell failed" in script.summary_line(rows)


def test_a_kernel_that_never_started_is_one_row_per_check_and_one_for_the_rest(
        tmp_path: Path) -> None:
    script = check_script()
    notebook = tmp_path / "ex04_streaming.ipynb"
    nbformat.write(learner_notebook(BUILD.SOURCES_DIR / "ex04_streaming.py", solved=False),
                   notebook)
    cells = sum(cell.cell_type == "code" for cell in nbformat.read(notebook, as_version=4).cells)
    # What pytest writes when nbval's kernel does not answer: an error, not a cell's traceback.
    error = ("def wait_for_ready(...):\n&gt;       raise RuntimeError(msg)\n"
             "E       RuntimeError: Kernel didn't respond in 60 seconds\n\n"
             ".venv/lib/python3.11/site-packages/jupyter_client/client.py:211: RuntimeError")
    cases = "".join(f'<testcase classname="ex04_streaming.ipynb" name="Cell {n}" '
                    f'file="ex04_streaming.ipynb"><error message="failed on setup">{error}'
                    "</error></testcase>" for n in range(cells))
    junit = tmp_path / "junit.xml"
    junit.write_text(f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite>{cases}'
                     "</testsuite></testsuites>", encoding="utf-8")
    rows = script.build_rows(notebook, {}, script.failed_cells(junit))
    checks, rest = rows[:2], rows[2:]
    assert [row.detail for row in checks] == [
        "the check could not run: RuntimeError: Kernel didn't respond in 60 seconds"] * 2
    assert len(rest) == 1 and rest[0].question.startswith("code cells 1-")
    assert rest[0].detail == "RuntimeError: Kernel didn't respond in 60 seconds"


def test_a_deleted_check_cell_still_counts_as_not_passed(tmp_path: Path) -> None:
    script = check_script()
    notebook = learner_notebook(BUILD.SOURCES_DIR / "ex04_streaming.py", solved=True)
    notebook.cells = [cell for cell in notebook.cells if 'check("ex04.q2"' not in cell.source]
    path = tmp_path / "ex04_streaming.ipynb"
    nbformat.write(notebook, path)
    verdicts = {"ex04.q1": {"check_id": "ex04.q1", "title": "t", "status": "passed",
                            "detail": "8 bodies"}}
    rows = script.build_rows(path, verdicts, {})
    assert [row.status for row in rows] == ["passed", "failed"]
    assert 'has no check("ex04.q2", ...) cell' in rows[1].detail


def test_one_exercise_is_chosen_by_number_or_name(tmp_path: Path) -> None:
    script = check_script()
    for stem in ALL:
        (tmp_path / f"{stem}.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "ex03_concurrent_tools.ipynb").write_text("{}", encoding="utf-8")
    assert [p.name for p in script.exercise_notebooks(tmp_path, "ex03")] == [
        "ex03_concurrent_tools.ipynb"]
    assert script.exercise_notebooks(tmp_path, "ex03_concurrent_tools")[0].parent == tmp_path
    assert len(script.exercise_notebooks(tmp_path)) == len(ALL)
    with pytest.raises(SystemExit, match=r"no exercise 'ex9'.*ex01, ex02, ex03, ex04, ex05"):
        script.exercise_notebooks(tmp_path, "ex9")


def test_make_check_runs_this_entry_point_with_ex() -> None:
    shown = subprocess.run(["make", "-n", "-s", "check", "EX=ex03"], cwd=ROOT, text=True,
                           capture_output=True, check=True).stdout
    assert "scripts/check_exercises.py --exercise ex03" in shown
    every = subprocess.run(["make", "-n", "-s", "check"], cwd=ROOT, text=True,
                           capture_output=True, check=True).stdout
    assert "scripts/check_exercises.py" in every and "--exercise" not in every
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "check: $(INSTALLED)" in makefile  # the same install step as `make test`
