"""The exercise notebooks are generated from ``exercises/sources``: committed == regenerated.

The comparison is of cell types and sources only (not metadata, ids or outputs), so a notebook
opened and saved by JupyterLab still compares equal, while an edit made to a notebook instead of
its source (or a source edited without rebuilding) fails here with a diff and the command that
fixes it. The builder's format rules are tested on small sources written here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_exercises_support import ROOT, build_script

BUILD = build_script()
SOURCES = BUILD.sources()
EXPECTED_NAMES = ["ex01_cost_dashboard", "ex02_model_routing", "ex03_concurrent_tools",
                  "ex04_streaming", "ex05_algorithms"]


def test_there_is_one_source_per_exercise() -> None:
    # The lesson notebooks 00-12 link to these names: keep them.
    assert [path.stem for path in SOURCES] == EXPECTED_NAMES


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_committed_notebooks_match_their_source(source: Path) -> None:
    problems = BUILD.differences(source)
    assert not problems, (
        "\n\n".join(problems)
        + "\n\nregenerate with: .venv/bin/python scripts/build_exercises.py " + source.stem)


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_learner_notebook_has_stubs_and_no_solutions(source: Path) -> None:
    learner = BUILD.build_notebook(source, "learner")
    solution = BUILD.build_notebook(source, "solution")
    edit_cells = [c.source for c in learner.cells if BUILD.BANNER in c.source]
    assert edit_cells, "an exercise without a ✏️ YOUR CODE cell"
    for text in edit_cells:
        assert "raise NotImplementedError(" in text
    every_line = "\n".join(c.source for c in learner.cells)
    assert "### " not in every_line  # no marker survives
    assert "raise_unless_passed" not in every_line
    solution_text = "\n".join(c.source for c in solution.cells)
    assert "raise NotImplementedError(" not in solution_text
    checks = [c.source for c in solution.cells if c.source.startswith("check(")]
    assert checks and all(text.endswith(".raise_unless_passed()") for text in checks)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ex99_demo.py"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_SOURCE = '''# maintainer note
# %% [markdown]
# # Title
#
# Some *text*.

# %%
from course_lib.checks import check

# %%
# ✏️ YOUR CODE: write f.
def f(x):
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError("write f")
    ### END STUB


# %%
check("ex99.q1", f)
'''


def test_a_source_becomes_two_notebooks(tmp_path: Path) -> None:
    source = _write(tmp_path, GOOD_SOURCE)
    learner = BUILD.build_notebook(source, "learner")
    solution = BUILD.build_notebook(source, "solution")
    assert [(c.cell_type, c.source) for c in learner.cells] == [
        ("markdown", "# Title\n\nSome *text*."),
        ("code", "from course_lib.checks import check"),
        ("code", '# ✏️ YOUR CODE: write f.\ndef f(x):\n    raise NotImplementedError("write f")'),
        ("code", 'check("ex99.q1", f)'),
    ]
    assert solution.cells[0].source.startswith("> **Solution notebook**")
    assert [c.source for c in solution.cells[1:] if c.cell_type == "code"] == [
        "from course_lib.checks import check",
        "# ✏️ YOUR CODE: write f.\ndef f(x):\n    return x + 1",
        'check("ex99.q1", f).raise_unless_passed()',
    ]
    assert all(c.get("outputs", []) == [] for c in learner.cells)
    assert learner.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (GOOD_SOURCE.replace("    ### END SOLUTION\n", ""), "inside an open"),
        (GOOD_SOURCE.replace("    ### END STUB\n", ""), "never closed"),
        (GOOD_SOURCE.replace("# ✏️ YOUR CODE: write f.\n", ""), "banner"),
        (GOOD_SOURCE.replace('    raise NotImplementedError("write f")\n', "    pass\n"),
         "must raise NotImplementedError"),
        (GOOD_SOURCE.replace("### BEGIN STUB", "### BEGIN STUBS"), "misspelt marker"),
        (GOOD_SOURCE.replace("# Some *text*.", "Some *text*."), "must start with '# '"),
        (GOOD_SOURCE.replace("# %%\ncheck", "# %% [raw]\ncheck"), "unknown cell marker"),
        ("x = 1\n" + GOOD_SOURCE, "before the first"),
    ],
)
def test_a_broken_source_names_the_problem(tmp_path: Path, broken: str, message: str) -> None:
    source = _write(tmp_path, broken)
    with pytest.raises(BUILD.SourceError, match=message) as raised:
        BUILD.build_notebook(source, "learner")
    assert "ex99_demo.py" in str(raised.value)


def test_check_mode_reports_a_hand_edited_notebook(tmp_path: Path, monkeypatch) -> None:
    source = _write(tmp_path, GOOD_SOURCE)
    monkeypatch.setattr(BUILD, "LEARNER_DIR", tmp_path / "learner")
    monkeypatch.setattr(BUILD, "SOLUTIONS_DIR", tmp_path / "solutions")
    for variant, path in BUILD.targets(source).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        BUILD.nbformat.write(BUILD.build_notebook(source, variant), path)
    assert BUILD.differences(source) == []
    learner_path = BUILD.targets(source)["learner"]
    edited = BUILD.nbformat.read(learner_path, as_version=4)
    edited.cells[2].source = edited.cells[2].source.replace("write f", "write g")
    edited.metadata["widgets"] = {"noise": True}  # metadata never counts
    BUILD.nbformat.write(edited, learner_path)
    (problem,) = BUILD.differences(source)
    assert "write g" in problem and "write f" in problem


def test_the_build_script_lives_where_the_readme_says() -> None:
    assert (ROOT / "scripts" / "build_exercises.py").is_file()
