"""Notebooks as committed: valid, outputs stripped except the outputs nbval checks, listed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted(
    (ROOT / "exercises").rglob("*.ipynb"))
CHECK_MARK = "NBVAL_CHECK_OUTPUT"


def code_cells(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in notebook["metadata"], "saved widget state is committed"
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def test_there_are_notebooks() -> None:
    assert (ROOT / "notebooks" / "00_start_here.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_outputs_are_stripped_except_checked_cells(path: Path) -> None:
    for index, cell in enumerate(code_cells(path)):
        source = "".join(cell["source"])
        if CHECK_MARK in source:
            # nbval treats a checked cell without an execution count as never run, and fails.
            assert cell.get("execution_count") is not None, f"cell {index} lost its count"
            # An empty expected output would make the check vacuous: nbval would compare
            # nothing. Regenerate with scripts/refresh_notebook.py.
            assert cell["outputs"], f"cell {index} is checked by nbval but has no expected output"
            assert all(o["output_type"] != "error" for o in cell["outputs"])
        else:
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"
            assert not cell["outputs"], f"cell {index} has committed outputs"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")),
                         ids=lambda p: p.name)
def test_every_notebook_is_on_the_readme_map(path: Path) -> None:
    assert f"`{path.stem}`" in (ROOT / "README.md").read_text(encoding="utf-8")


def visible_code(path: Path) -> list[tuple[int, str]]:
    """(cell number, source) of each code cell a learner sees (not collapsed away)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(index, "".join(cell["source"])) for index, cell in enumerate(cells)
            if cell["cell_type"] == "code"
            and not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden", False)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_visible_cell_shows_an_answer(path: Path) -> None:
    """Cards and quizzes come from the question bank: a cell names the card and passes values.

    ``answer=`` beside ``ask(`` (or a Choice marked right) in a cell is the answer on screen
    before the learner asks for it.
    """
    for index, source in visible_code(path):
        assert not ("answer=" in source and "ask(" in source), (
            f"cell {index} holds a card's answer: move it to course_lib/questions/")
        for built_by_hand in ("Choice(", "Quiz(", "QuestionCard(", "NumericGuess("):
            assert built_by_hand not in source, (
                f"cell {index} builds a card by hand ({built_by_hand}): use socratic.ask(...)")


def _paragraphs_with_bare_dollars(markdown: str) -> list[str]:
    # JupyterLab needs two backslashes: its Markdown renderer turns "\$" into "$" before MathJax
    # reads the page, so a single one does not stop the typesetting (jupyterlab/jupyterlab#8645,
    # and tests/browser/test_cards.py watches for it).
    prose = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", markdown, flags=re.S))
    return [paragraph for paragraph in re.split(r"\n\s*\n", prose)
            if len(re.findall(r"(?<!\\\\)\$", paragraph)) >= 2]


def test_the_dollar_check_finds_what_jupyterlab_would_typeset() -> None:
    assert _paragraphs_with_bare_dollars("costs $1,200 and $1,237.50") != []
    assert _paragraphs_with_bare_dollars(r"costs \$1,200 and \$1,237.50") != []
    assert _paragraphs_with_bare_dollars(r"costs \\$1,200 and \\$1,237.50") == []
    assert _paragraphs_with_bare_dollars("one $5\n\nand one $6, and `$a $b` in code") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_money_in_markdown_is_never_typeset_as_maths(path: Path) -> None:
    """JupyterLab reads text between two ``$`` as TeX: write ``\\\\$`` for money."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            found = _paragraphs_with_bare_dollars("".join(cell["source"]))
            assert not found, f"cell {index}: write \\\\$ for money in: {found[0][:120]!r}"


MAX_CELL_LINES = 40  # a cell a learner reads in one look; harness code lives in course_lib
MAX_NOTEBOOK_LINES = 350  # a lesson first and a lab second


def code_line_counts(path: Path) -> list[tuple[int, int]]:
    """(cell number, lines) of every code cell, hidden ones included: collapsing a cell's input
    hides it from the learner's eye, not from the reader who opens the notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(index, len("".join(cell["source"]).splitlines()))
            for index, cell in enumerate(cells) if cell["cell_type"] == "code"]


def test_the_line_counts_count_every_line() -> None:
    counts = dict(code_line_counts(ROOT / "notebooks" / "00_start_here.ipynb"))
    cells = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text("utf-8"))["cells"]
    first_code = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    assert counts[first_code] == "".join(cells[first_code]["source"]).count("\n") + 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_cell_is_a_wall(path: Path) -> None:
    walls = [(index, lines) for index, lines in code_line_counts(path) if lines > MAX_CELL_LINES]
    assert not walls, (f"cells longer than {MAX_CELL_LINES} lines (cell number, lines): {walls}; "
                       "move the harness into course_lib so the experiment is one call")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_notebook_shows_at_most_350_lines_of_code(path: Path) -> None:
    total = sum(lines for _, lines in code_line_counts(path))
    assert total <= MAX_NOTEBOOK_LINES, (
        f"{total} lines of code, over {MAX_NOTEBOOK_LINES}: move harness code into course_lib, "
        "or advanced material into a deep dive explained in words")
