"""``make check``: run the learner's own exercise notebooks strictly and print one table.

    .venv/bin/python scripts/check_exercises.py                 # every exercises/exNN_*.ipynb
    .venv/bin/python scripts/check_exercises.py --exercise ex03 # one exercise (make check EX=ex03)

The learner's notebooks (never ``exercises/solutions/``) run under nbval, as they are, in one
pytest process, with the strict mode of :mod:`course_lib.checks.ci` switched on by environment
variables: a check that is ⏳ not done yet or ❌ not yet right fails its cell, and every check
writes its verdict to a results file. The table is built from those verdicts (only a check knows
whether a stub was still there or the answer was wrong), completed from pytest's JUnit report
for what no check could report: a check cell that never got to run its check (a NameError, a
crashed kernel) and any other cell that failed. The exit status is 0 only when every check of
every exercise run has passed and no cell failed.

Written to ``--report-dir`` (``artifacts/check`` by default; the course workflow uploads it):
``report.md`` (the table), ``report.json`` (the same rows, for tools), ``results.jsonl`` (the
checks' verdicts), ``junit.xml`` and ``pytest.log`` (nbval's full output). Under GitHub Actions
the table is also added to the run's summary page.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EXERCISES_DIR = ROOT / "exercises"
REPORT_DIR = ROOT / "artifacts" / "check"
CELL_TIMEOUT_S = 300  # a learner's cell that runs longer than this is reported, not waited on
KERNEL_STARTUP_TIMEOUT_S = 300  # nbval's 60 s is too short for a busy machine (measured)

ICONS = {"passed": "✅", "not_done": "⏳", "failed": "❌"}
_CHECK_CALL = re.compile(r'check\(\s*"(ex\d\d\.q\d+)"')
# Colour codes in IPython's tracebacks; JUnit XML writes the escape character as "#x1B".
_ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Row:
    """One line of the table: a check of an exercise (or a cell that failed on its own)."""

    exercise: str
    question: str
    status: str  # passed, not_done or failed
    detail: str

    @property
    def icon(self) -> str:
        return ICONS[self.status]

    @property
    def is_check(self) -> bool:
        return not self.question.startswith("code cell")


def exercise_notebooks(directory: Path, exercise: str | None = None) -> list[Path]:
    """The learner notebooks in ``directory`` (``exNN_*.ipynb``), all or the one named."""
    found = sorted(directory.glob("ex[0-9][0-9]_*.ipynb"))
    if exercise is None:
        return found
    chosen = [path for path in found if exercise in (path.stem, path.stem[:4])]
    if not chosen:
        known = ", ".join(path.stem[:4] for path in found) or "none"
        raise SystemExit(f"make check: there is no exercise {exercise!r} in {directory}; "
                         f"exercises: {known} (e.g. make check EX=ex03)")
    return chosen


def expected_checks(exercise: str) -> list[tuple[str, str]]:
    """``(check id, title)`` of every check the exercise ``exNN`` must pass, from the registry.

    The registry, not the notebook, decides: deleting a check cell does not make a check pass.
    """
    from course_lib.checks import all_checks

    return [(spec.check_id, spec.title) for spec in all_checks()
            if spec.check_id.startswith(exercise + ".")]


def read_verdicts(path: Path) -> dict[str, dict[str, str]]:
    """The last verdict each check wrote to the results file."""
    verdicts: dict[str, dict[str, str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                verdict = json.loads(line)
                verdicts[verdict["check_id"]] = verdict
    return verdicts


_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b.*")


def _error_line(text: str) -> str:
    """The line that names the exception in nbval's failure text.

    A cell that raised: the last line of its traceback. Anything else (a kernel that did not
    start): pytest's own ``E   RuntimeError: ...`` line, or the last line naming an exception.
    """
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines() if line.strip()]
    if "Traceback:" in lines:
        lines = lines[lines.index("Traceback:") + 1:]
        return lines[-1] if lines else "the cell failed"
    pytest_lines = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    named = [line for line in pytest_lines or lines if _EXCEPTION_LINE.match(line)]
    return (named or pytest_lines or lines or ["the cell failed"])[-1]


def failed_cells(junit: Path) -> dict[tuple[str, int], str]:
    """``{(notebook stem, code cell number): error line}`` for every cell nbval failed."""
    failures: dict[tuple[str, int], str] = {}
    if not junit.exists():
        return failures
    for case in ElementTree.parse(junit).iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        match = re.fullmatch(r"Cell (\d+)", case.get("name", ""))
        if problem is None or match is None:
            continue
        notebook = Path(case.get("file") or case.get("classname", "")).name
        failures[notebook.removesuffix(".ipynb"), int(match.group(1))] = _error_line(
            problem.text or problem.get("message", ""))
    return failures


def build_rows(notebook: Path, verdicts: dict[str, dict[str, str]],
               failures: dict[tuple[str, int], str]) -> list[Row]:
    """The rows of one exercise: each of its checks, then any other cell that failed."""
    exercise = notebook.stem
    code = [cell.source for cell in nbformat.read(notebook, as_version=4).cells
            if cell.cell_type == "code"]
    check_cells: dict[str, int] = {}
    for number, source in enumerate(code):
        for check_id in _CHECK_CALL.findall(source):
            check_cells.setdefault(check_id, number)
    rows = []
    for check_id, title in expected_checks(exercise[:4]):
        question = f"{check_id.split('.')[1]} · {title}"
        verdict = verdicts.get(check_id)
        if verdict is not None:
            rows.append(Row(exercise, question, verdict["status"], verdict["detail"]))
            continue
        cell = check_cells.get(check_id)
        if cell is None:
            detail = f'the notebook has no check("{check_id}", ...) cell: put it back'
        elif (exercise, cell) in failures:
            detail = f"the check could not run: {failures[exercise, cell]}"
        else:
            detail = "the check did not run (did an earlier cell stop the kernel?)"
        rows.append(Row(exercise, question, "failed", detail))
    others = [(cell, error) for (stem, cell), error in sorted(failures.items())
              if stem == exercise and cell not in check_cells.values()]
    while others:  # cells that failed alike in a row (a kernel that never started) share one
        first, error = others[0]
        same = 1
        while same < len(others) and others[same][1] == error:
            same += 1
        last = others[same - 1][0]
        where = f"code cell {first + 1}" if same == 1 else f"code cells {first + 1}-{last + 1}"
        rows.append(Row(exercise, where, "failed", error))
        others = others[same:]
    return rows


def format_table(rows: list[Row], *, markdown: bool = False, width: int = 200) -> str:
    """The rows as an aligned text table, or as a Markdown table."""
    header = ("exercise", "question", "", "first line of the report")
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|---|---|---|"]
        lines += [f"| {row.exercise} | {row.question} | {row.icon} | "
                  f"{row.detail.replace('|', chr(92) + '|')} |" for row in rows]
        return "\n".join(lines)
    exercise_w = max([len(header[0]), *(len(row.exercise) for row in rows)])
    question_w = min(max([len(header[1]), *(len(row.question) for row in rows)]), 50)
    room = max(width - exercise_w - question_w - 8, 30)

    def cut(text: str, size: int) -> str:
        return text if len(text) <= size else text[:size - 1] + "…"

    lines = [f"{header[0]:<{exercise_w}}  {header[1]:<{question_w}}      {header[3]}"]
    lines += [f"{row.exercise:<{exercise_w}}  {cut(row.question, question_w):<{question_w}}  "
              f"{row.icon}  {cut(row.detail, room)}" for row in rows]
    return "\n".join(lines)


def summary_line(rows: list[Row]) -> str:
    """``3 of 16 checks passed · 13 not done yet · 0 not yet right`` (and failed cells)."""
    checks = [row for row in rows if row.is_check]
    counts = {status: sum(row.status == status for row in checks) for status in ICONS}
    line = (f"{counts['passed']} of {len(checks)} checks passed · {counts['not_done']} not done "
            f"yet · {counts['failed']} not yet right")
    cells = sum(not row.is_check for row in rows)
    if cells:
        line += f" · {cells} other cell{'s' if cells > 1 else ''} failed"
    if rows and all(row.status == "passed" for row in rows):
        line += ": every check passes"
    return line


def run_nbval(notebooks: list[Path], report_dir: Path) -> int:
    """Run nbval over ``notebooks`` in strict mode; return pytest's exit status."""
    env = dict(os.environ, COURSE_CHECKS_STRICT="1",
               COURSE_CHECK_RESULTS=str(report_dir / "results.jsonl"))
    command = [sys.executable, "-m", "pytest", *map(str, notebooks), "--nbval-lax",
               "--nbval-current-env", f"--nbval-cell-timeout={CELL_TIMEOUT_S}",
               f"--nbval-kernel-startup-timeout={KERNEL_STARTUP_TIMEOUT_S}",
               "-p", "no:cacheprovider", "--color=no", "-q",
               f"--junitxml={report_dir / 'junit.xml'}", "-o", "junit_family=xunit1",
               f"--rootdir={notebooks[0].parent}"]
    with (report_dir / "pytest.log").open("w", encoding="utf-8") as log:
        return subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=notebooks[0].parent, check=False).returncode


def write_reports(rows: list[Row], report_dir: Path, exercises: list[str]) -> None:
    """report.md and report.json in ``report_dir``; the table on the GitHub run's summary."""
    markdown = ("## make check\n\n" + format_table(rows, markdown=True) + "\n\n"
                + summary_line(rows) + "\n")
    (report_dir / "report.md").write_text(markdown, encoding="utf-8")
    report = {"passed": bool(rows) and all(row.status == "passed" for row in rows),
              "exercises": exercises, "summary": summary_line(rows),
              "rows": [dict(asdict(row), icon=row.icon) for row in rows]}
    (report_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with Path(step_summary).open("a", encoding="utf-8") as page:
            page.write(markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", help="one exercise: ex03 or ex03_concurrent_tools")
    parser.add_argument("--exercises-dir", type=Path, default=EXERCISES_DIR,
                        help="where the learner's notebooks are (default: exercises/)")
    parser.add_argument("--report-dir", type=Path, default=REPORT_DIR,
                        help="where the report goes (default: artifacts/check/)")
    args = parser.parse_args(argv)
    notebooks = exercise_notebooks(args.exercises_dir.resolve(), args.exercise or None)
    if not notebooks:
        raise SystemExit(f"make check: no exercise notebooks in {args.exercises_dir}")
    report_dir = args.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("results.jsonl", "junit.xml", "report.md", "report.json"):
        (report_dir / stale).unlink(missing_ok=True)
    names = ", ".join(path.stem for path in notebooks)
    print(f"make check: running {names} (strict: a check that has not passed fails)",
          flush=True)
    status = run_nbval(notebooks, report_dir)
    if status not in (0, 1):  # 1: some cells failed; anything else: pytest itself could not run
        print((report_dir / "pytest.log").read_text(encoding="utf-8"), file=sys.stderr)
        print(f"make check: pytest stopped with status {status}; its output is above",
              file=sys.stderr)
        return 2
    verdicts = read_verdicts(report_dir / "results.jsonl")
    failures = failed_cells(report_dir / "junit.xml")
    rows = [row for notebook in notebooks for row in build_rows(notebook, verdicts, failures)]
    write_reports(rows, report_dir, [path.stem for path in notebooks])
    shown = report_dir.relative_to(ROOT) if report_dir.is_relative_to(ROOT) else report_dir
    width = shutil.get_terminal_size((200, 24)).columns  # CI logs are not a terminal: wide
    print(f"\n{format_table(rows, width=width)}\n\n{summary_line(rows)}")
    print(f"details: the check cells in JupyterLab; nbval's output in {shown}/pytest.log")
    everything_passed = bool(rows) and all(row.status == "passed" for row in rows)
    return 0 if everything_passed and status == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
