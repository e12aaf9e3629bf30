"""Notebooks as committed: valid, outputs stripped except the outputs nbval checks, listed."""

from __future__ import annotations

import json
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
