"""Build the exercise notebooks from their single source of truth, ``exercises/sources/*.py``.

    .venv/bin/python scripts/build_exercises.py            # write every exercise notebook
    .venv/bin/python scripts/build_exercises.py --check    # exit 1 if a committed one differs
    .venv/bin/python scripts/build_exercises.py ex05_algorithms

Each source is a Python file in the "percent" cell format that jupytext reads (jupytext itself
is not a dependency of the course; this parser handles the subset the sources use):

* ``# %% [markdown]`` starts a markdown cell; its lines are comments (``# text``).
* ``# %%`` starts a code cell.
* Comment lines before the first cell are notes for maintainers and are not copied.

Inside a code cell, two kinds of block (each marker alone on its line, at any indentation)
make the two notebooks differ:

* ``### BEGIN SOLUTION`` … ``### END SOLUTION``: only in the solution notebook;
* ``### BEGIN STUB`` … ``### END STUB``: only in the learner notebook (the stub that raises
  ``NotImplementedError("…what to write…")``).

A cell with either block must carry the ``# ✏️ YOUR CODE`` banner, and must have both blocks.
In the solution notebook every check line ``check("exNN.qK", thing)`` becomes
``check("exNN.qK", thing).raise_unless_passed()``, so nbval fails in CI when a solution stops
passing its check, while the learner's "Run All" never stops at a check.

Outputs are never written: both notebooks are committed stripped.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
SOURCES_DIR = ROOT / "exercises" / "sources"
LEARNER_DIR = ROOT / "exercises"
SOLUTIONS_DIR = ROOT / "exercises" / "solutions"

BANNER = "# ✏️ YOUR CODE"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_STUB, END_STUB = "### BEGIN STUB", "### END STUB"
MARKERS = {BEGIN_SOLUTION: END_SOLUTION, BEGIN_STUB: END_STUB}
VARIANTS = ("learner", "solution")

_CELL_MARK = re.compile(r"# %%(?P<rest>.*)")
_CHECK_LINE = re.compile(r'check\((?P<args>"ex\d\d\.q\d+", .+)\)')
_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class SourceError(ValueError):
    """A source file breaks the format; the message names the file and line."""


@dataclass(frozen=True)
class SourceCell:
    """One cell of a source file: its kind, its text, and the line where it starts."""

    kind: str  # "markdown" or "code"
    text: str
    line: int


def parse_source(text: str, name: str = "<source>") -> list[SourceCell]:
    """Split a percent-format source into cells (markers still in the code)."""
    cells: list[SourceCell] = []
    kind: str | None = None
    start = 0
    body: list[str] = []

    def finish() -> None:
        if kind is None:
            return
        if kind == "markdown":
            content = _markdown_lines(body, name, start)
        else:
            content = _strip_blank_edges(body)
        if not content:
            raise SourceError(f"{name}:{start}: empty {kind} cell")
        cells.append(SourceCell(kind, "\n".join(content), start))

    for number, line in enumerate(text.splitlines(), 1):
        match = _CELL_MARK.fullmatch(line.rstrip())
        if match:
            finish()
            rest = match.group("rest").strip()
            if rest == "[markdown]":
                kind = "markdown"
            elif rest == "":
                kind = "code"
            else:
                raise SourceError(f"{name}:{number}: unknown cell marker {line!r}; use '# %%' "
                                  "or '# %% [markdown]'")
            start, body = number, []
        elif kind is None:
            if line.strip() and not line.startswith("#"):
                raise SourceError(f"{name}:{number}: code before the first '# %%' cell marker")
        else:
            body.append(line.rstrip())
    finish()
    if not cells:
        raise SourceError(f"{name}: no cells (expected '# %%' markers)")
    return cells


def _strip_blank_edges(lines: list[str]) -> list[str]:
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), -1)
    return lines[first:last + 1]


def _markdown_line(line: str, name: str, number: int) -> str:
    if line == "#":
        return ""
    if line.startswith("# "):
        return line[2:]
    raise SourceError(f"{name}:{number}: a markdown line must start with '# ' (got {line!r})")


def _markdown_lines(body: list[str], name: str, start: int) -> list[str]:
    lines = []
    for offset, line in enumerate(body, 1):
        lines.append("" if not line.strip() else _markdown_line(line, name, start + offset))
    return _strip_blank_edges(lines)


def variant_source(cell: SourceCell, variant: str, name: str) -> str:
    """The code of ``cell`` as the ``variant`` ("learner" or "solution") notebook shows it."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    keep_block = BEGIN_SOLUTION if variant == "solution" else BEGIN_STUB
    lines = cell.text.splitlines()
    out: list[str] = []
    open_marker: str | None = None
    seen: set[str] = set()
    for offset, line in enumerate(lines):
        where = f"{name}:{cell.line + 1 + offset}"
        marker = line.strip()
        if marker in MARKERS:
            if open_marker is not None:
                raise SourceError(f"{where}: {marker!r} inside an open {open_marker!r} block")
            open_marker = marker
            seen.add(marker)
            continue
        if marker in MARKERS.values():
            if open_marker is None or MARKERS[open_marker] != marker:
                raise SourceError(f"{where}: {marker!r} without its BEGIN marker")
            open_marker = None
            continue
        if marker.startswith("###") and ("SOLUTION" in marker or "STUB" in marker):
            raise SourceError(f"{where}: misspelt marker {marker!r}")
        if open_marker is None or open_marker == keep_block:
            out.append(line)
        if variant == "solution" and open_marker is None and _CHECK_LINE.fullmatch(line):
            out[-1] = f"{line}.raise_unless_passed()"
    if open_marker is not None:
        raise SourceError(f"{name}:{cell.line}: {open_marker!r} is never closed")
    has_banner = BANNER in cell.text
    if seen and not has_banner:
        raise SourceError(f"{name}:{cell.line}: a cell with SOLUTION/STUB blocks needs the "
                          f"{BANNER!r} banner")
    if has_banner and seen != set(MARKERS):
        raise SourceError(f"{name}:{cell.line}: a {BANNER!r} cell needs both a SOLUTION and a "
                          "STUB block")
    if has_banner and "raise NotImplementedError(" not in _block(lines, BEGIN_STUB):
        raise SourceError(f"{name}:{cell.line}: the STUB block must raise NotImplementedError "
                          "with a message saying what to write")
    return "\n".join(_strip_blank_edges(out))


def _block(lines: list[str], begin: str) -> str:
    inside, found = False, []
    for line in lines:
        if line.strip() == begin:
            inside = True
        elif line.strip() == MARKERS[begin]:
            inside = False
        elif inside:
            found.append(line)
    return "\n".join(found)


def build_notebook(source: Path, variant: str) -> nbformat.NotebookNode:
    """The ``variant`` notebook built from ``source``, outputs empty, ids deterministic."""
    name = _shown(source)
    cells = parse_source(source.read_text(encoding="utf-8"), name)
    notebook = new_notebook()
    notebook.metadata = {
        "kernelspec": dict(_KERNELSPEC),
        "language_info": {"name": "python"},
        "course_exercise": {"source": name, "variant": variant},
    }
    if variant == "solution":
        notebook.cells.append(new_markdown_cell(
            f"> **Solution notebook**, generated from `{name}` by "
            "`scripts/build_exercises.py`: do not edit it by hand. The learner's version is "
            f"`exercises/{source.stem}.ipynb`; try it there first."))
    for cell in cells:
        if cell.kind == "markdown":
            notebook.cells.append(new_markdown_cell(cell.text))
        else:
            code = new_code_cell(variant_source(cell, variant, name))
            code.outputs, code.execution_count = [], None
            notebook.cells.append(code)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"c{index:02d}"
    nbformat.validate(notebook)
    return notebook


def targets(source: Path) -> dict[str, Path]:
    """Where the learner and solution notebooks built from ``source`` are committed."""
    return {"learner": LEARNER_DIR / f"{source.stem}.ipynb",
            "solution": SOLUTIONS_DIR / f"{source.stem}.ipynb"}


def sources(names: list[str] | None = None) -> list[Path]:
    """The exercise sources, all of them or those named (``ex05_algorithms``)."""
    found = sorted(SOURCES_DIR.glob("ex[0-9][0-9]_*.py"))
    if not names:
        return found
    by_name = {path.stem: path for path in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise SystemExit(f"no source for {', '.join(missing)}; sources: {', '.join(by_name)}")
    return [by_name[name] for name in names]


def cell_sources(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What the sync check compares: each cell's type and source, nothing else."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def differences(source: Path) -> list[str]:
    """Unified diffs between the committed notebooks and what ``source`` builds (empty: synced)."""
    problems = []
    for variant, path in targets(source).items():
        wanted = cell_sources(build_notebook(source, variant))
        if not path.exists():
            problems.append(f"{_shown(path)} is missing")
            continue
        have = cell_sources(nbformat.read(path, as_version=4))
        if have != wanted:
            diff = difflib.unified_diff(
                [f"[{kind}] {line}" for kind, text in have for line in text.splitlines()],
                [f"[{kind}] {line}" for kind, text in wanted for line in text.splitlines()],
                f"{_shown(path)} (committed)", f"{_shown(path)} (built)",
                lineterm="", n=1)
            problems.append("\n".join(diff))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="exercise names, e.g. ex05_algorithms")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed notebook differs")
    args = parser.parse_args(argv)
    status = 0
    for source in sources(args.names):
        if args.check:
            for problem in differences(source):
                print(problem, file=sys.stderr)
                status = 1
            continue
        for variant, path in targets(source).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(build_notebook(source, variant), path)
            print(f"wrote {_shown(path)}", file=sys.stderr)
    if args.check and status:
        print("run: .venv/bin/python scripts/build_exercises.py", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
