"""A learner's first "Run All": every exercise notebook runs through, its checks say what is left.

Each learner notebook is executed as committed (all stubs in place) in a real kernel. No cell
may raise: a check of a stub reports "not done yet" instead, with the stub's own message, so
the learner can run everything and see the to-do list; cells that use the learner's code on
real data say the same. (The solutions are run by nbval: ``pytest exercises/solutions``.)
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.test_exercises_support import ROOT, build_script

LEARNER_NOTEBOOKS = sorted((ROOT / "exercises").glob("ex[0-9][0-9]_*.ipynb"))
CHECK_CELL = re.compile(r'check\("(ex\d\d\.q\d+)", \w+\)')


def _text_of(outputs: list) -> str:
    parts = []
    for output in outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            parts.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts)


def test_every_exercise_has_a_learner_notebook() -> None:
    assert [path.stem for path in LEARNER_NOTEBOOKS] == [
        path.stem for path in build_script().sources()]


@pytest.mark.slow
@pytest.mark.parametrize("path", LEARNER_NOTEBOOKS, ids=lambda path: path.stem)
def test_run_all_on_the_stubs_reports_not_done(path: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "sandbox")  # never a billed endpoint
    monkeypatch.setenv("COURSE_PROGRESS_PATH", str(tmp_path / "progress.json"))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [(index, _text_of(cell.outputs)) for index, cell in enumerate(code)
              if any(output.output_type == "error" for output in cell.outputs)]
    assert not errors, f"Run All on the stubs raised: {errors}"

    checks = [(CHECK_CELL.fullmatch(cell.source.strip()), cell) for cell in code]
    checks = [(match.group(1), cell) for match, cell in checks if match]
    assert checks, "no check cells found"
    for check_id, cell in checks:
        report = _text_of(cell.outputs)
        assert f"⏳ {check_id}" in report and "not done yet" in report, report
        assert "to do:" in report, f"{check_id} does not repeat the stub's message:\n{report}"
        assert f'hint("{check_id}")' in report

    # Each ✏️ cell's stub explains what to write; the learner must see that (for a class, the
    # message of __init__, which raises first).
    every_output = "\n".join(_text_of(cell.outputs) for cell in code)
    for cell in code:
        if build_script().BANNER not in cell.source:
            continue
        messages = re.findall(r'NotImplementedError\(\s*"([^"]{10,60})', cell.source)
        assert any(message in every_output for message in messages), (
            f"no stub message of this cell reached the learner: {messages}")
    assert "Traceback" not in every_output
