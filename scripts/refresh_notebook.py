"""Run notebooks top to bottom and keep only the outputs nbval checks.

    .venv/bin/python scripts/refresh_notebook.py notebooks/01_what_does_your_agent_cost.ipynb

Cells marked ``# NBVAL_CHECK_OUTPUT`` keep their fresh outputs: they are the expected values
nbval compares against on every test run, so they must be deterministic. Every other output and
execution count is stripped (checked cells keep theirs: nbval treats a cell without one as
never run), so diffs stay readable and no stale figure is committed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK_MARK = "NBVAL_CHECK_OUTPUT"


def strip(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    # Widget state saved by the run would be committed as ~100 KB of noise per notebook.
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if CHECK_MARK not in cell.source:
            cell.execution_count = None
            cell.outputs = []
        cell.metadata.pop("execution", None)
    return notebook


def refresh(path: Path, timeout: int) -> None:
    notebook = nbformat.read(path, as_version=4)
    os.environ.setdefault("COURSE_LLM_ENDPOINT", "sandbox")
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise SystemExit(f"{path}: cell {index} raised {output.get('ename')}: "
                                 f"{output.get('evalue')}")
    nbformat.write(strip(notebook), path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--strip-only", action="store_true",
                        help="do not run; only strip outputs outside checked cells")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if args.strip_only:
            nbformat.write(strip(nbformat.read(path, as_version=4)), path)
        else:
            refresh(path, args.timeout)
        print(f"refreshed {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
