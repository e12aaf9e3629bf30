"""The whole course, timed: nbval over every notebook and every exercise solution.

This is what a teacher's CI pays for the notebooks: each one executed top to bottom in a fresh
kernel, against the local sandbox, in a subprocess with ``COURSE_LLM_ENDPOINT=sandbox`` so no
real endpoint is ever called. Two goals on a 2-core machine:

* the whole course in at most :data:`BUDGET_S` of wall time, run as a teacher's CI would run
  it: one pytest-xdist worker per core (``-n 2 --dist loadfile``: each notebook stays whole in
  one kernel, two notebooks at a time). A notebook spends much of its time waiting out simulated
  latency, so two at a time use the cores that one leaves idle;
* no notebook over :data:`NOTEBOOK_BUDGET_S` (setup, cells and teardown), measured in a second
  run with one notebook at a time (what ``make test`` pays for each).

Where the time goes is pytest's own ``--durations`` report, kept as each row's profile.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.results import Config, Goal, Measurement, Quantity

GROUP = "course"
BUDGET_S = 120.0
NOTEBOOK_BUDGET_S = 20.0
WORKERS = 2  # one per core of the course's 2-core CI machines
ROOT = Path(__file__).resolve().parent.parent
QUICK_NOTEBOOK = "notebooks/00_start_here.ipynb"


def course_paths(root: Path = ROOT, *, quick: bool = False) -> list[str]:
    """What nbval runs: every notebook, and the exercise solutions once they exist."""
    if quick:
        return [QUICK_NOTEBOOK]
    paths = ["notebooks"]
    solutions = root / "exercises" / "solutions"
    if solutions.is_dir() and any(solutions.rglob("*.ipynb")):
        paths.append("exercises/solutions")
    return paths


# One line of pytest's --durations report: "27.75s call     notebooks/07_x.ipynb::Cell 5".
_DURATION = re.compile(r"^(?P<seconds>\d+(?:\.\d+)?)s\s+(?:setup|call|teardown)\s+"
                       r"(?P<file>[^\s:]+)::.*$", re.MULTILINE)


def seconds_per_file(durations_report: str) -> dict[str, float]:
    """Total seconds per notebook from pytest's ``--durations`` lines, slowest first."""
    totals: dict[str, float] = {}
    for match in _DURATION.finditer(durations_report):
        totals[match["file"]] = totals.get(match["file"], 0.0) + float(match["seconds"])
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def _where_the_time_goes(output: str, wall_s: float, workers: int = 1) -> str:
    """Each notebook's seconds, as a share of the workers' time (wall time x workers)."""
    per_file = seconds_per_file(output)
    accounted = sum(per_file.values())
    capacity = wall_s * workers
    lines = [f"{'seconds':>8}  {'share':>6}  notebook (setup + cells + teardown), share of "
             f"{workers} worker(s) x {wall_s:.1f} s"]
    lines += [f"{seconds:8.1f}  {seconds / capacity:6.1%}  {name}"
              for name, seconds in per_file.items()]
    lines.append(f"{capacity - accounted:8.1f}  {(capacity - accounted) / capacity:6.1%}  "
                 "outside any test (pytest and worker start-up, collection, a worker idle)")
    slowest = [match.group(0) for match in _DURATION.finditer(output)][:15]  # pytest sorts them
    return "\n".join([*lines, "", "slowest steps (pytest --durations):", *slowest])


def _summary(output: str) -> str:
    """pytest's last line, e.g. ``2 failed, 224 passed in 196.71s``."""
    lines = [line.strip("= ") for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


@dataclass(frozen=True)
class _NbvalRun:
    """One pytest run over the course: its command, wall time, output and what failed."""

    command: list[str]
    wall_s: float
    returncode: int
    output: str
    load: float
    workers: int

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    def report(self) -> str:
        profile = _where_the_time_goes(self.output, self.wall_s, self.workers)
        return (f"$ python {' '.join(self.command[1:])}\nwall {self.wall_s:.1f} s, exit "
                f"{self.returncode}, {os.cpu_count()} cores, load average {self.load:.1f} at "
                f"the start; {_summary(self.output)}\n\n{profile}\n")

    def note(self, paths: list[str]) -> str:
        text = (f"{' + '.join(paths)}, {self.workers} at a time; {_summary(self.output)}; "
                f"{os.cpu_count()} cores, load average {self.load:.1f} at the start")
        if not self.passed:
            failures = re.findall(r"^FAILED (.+?)(?: - .*)?$", self.output, flags=re.MULTILINE)
            text += f"; FAILED: {', '.join(failures) or 'see profile'}"
        return text


def _nbval(paths: list[str], workers: int) -> _NbvalRun:
    with tempfile.TemporaryDirectory(prefix="course-bench-") as scratch:
        env = {**os.environ, "COURSE_LLM_ENDPOINT": "sandbox",
               "COURSE_PROGRESS_PATH": str(Path(scratch) / "progress.json")}
        parallel = ["-n", str(workers), "--dist", "loadfile"] if workers > 1 else []
        command = [sys.executable, "-m", "pytest", *paths, *parallel, "--nbval-lax",
                   "--nbval-current-env", "-q", "-p", "no:cacheprovider", "--durations=0",
                   "--durations-min=0", "--color=no"]
        load = os.getloadavg()[0]
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                   check=False)
        wall_s = time.perf_counter() - started
    return _NbvalRun(command, wall_s, completed.returncode, completed.stdout + completed.stderr,
                     load, workers)


def run(config: Config) -> list[Measurement]:
    paths = course_paths(quick=config.quick)
    # The whole course as a teacher's CI runs it, two at a time; then each notebook alone, one
    # at a time, for its own time (beside another notebook it would also pay for that one).
    together = _nbval(paths, 1 if config.quick else WORKERS)
    alone = together if config.quick else _nbval(paths, 1)
    per_file = seconds_per_file(alone.output)
    slowest_name, slowest_s = next(iter(per_file.items()), ("no notebook", 0.0))
    return [
        Measurement(
            f"{GROUP}.nbval_wall_time", GROUP,
            f"whole course under nbval ({together.workers} at a time): wall time vs "
            f"{BUDGET_S:.0f} s budget",
            ours=Quantity("nbval wall time" + ("" if together.passed else " (with failures)"),
                          together.wall_s, "s", (together.wall_s,),
                          {"exit_code": float(together.returncode),
                           "one at a time, wall s": alone.wall_s}),
            peer=Quantity("the goal's budget", BUDGET_S, "s", reference="budget"),
            ratio=together.wall_s / BUDGET_S, ratio_kind="wall/budget",
            goal=(Goal("<=", 1.0, source=f"brief: ≤ {BUDGET_S:.0f} s on 2 cores")
                  if not config.quick else None),
            profile=together.report, note=together.note(paths)),
        Measurement(
            f"{GROUP}.slowest_notebook", GROUP,
            f"slowest notebook under nbval, run alone: its time vs {NOTEBOOK_BUDGET_S:.0f} s "
            "budget",
            ours=Quantity(slowest_name + ("" if alone.passed else " (with failures)"),
                          slowest_s, "s", (slowest_s,),
                          {f"{name} s": seconds for name, seconds in per_file.items()}),
            peer=Quantity("the goal's budget", NOTEBOOK_BUDGET_S, "s", reference="budget"),
            ratio=slowest_s / NOTEBOOK_BUDGET_S, ratio_kind="time/budget",
            goal=(Goal("<=", 1.0, source=f"brief: no notebook over {NOTEBOOK_BUDGET_S:.0f} s")
                  if not config.quick else None),
            profile=alone.report, note=alone.note(paths)),
    ]
