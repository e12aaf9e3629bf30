"""``make test-load``: the timing claims, checked on a machine that is busy with something else.

    .venv/bin/python scripts/under_load.py              # 3 runs, 4 busy processes
    .venv/bin/python scripts/under_load.py --runs 1 --busy 8 -- -k heartbeat

A teacher's laptop or a shared CI runner is a loaded machine, and a timing claim that holds only
on a quiet one is not a claim. Each run starts ``--busy`` CPU-bound processes (``while True:
pass``, one core each), then runs every test marked ``timing`` and every notebook and solution
under nbval, exactly as ``make test`` runs them, while those processes compete for the cores.
The busy processes are killed by PID when the run ends, however it ends. Runs stop at the first
failure; the table says how many runs in a row were green.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT_DIR = ROOT / "artifacts" / "under-load"
BUSY_LOOP = "while True: pass"


@dataclass(frozen=True)
class Run:
    number: int
    exit_status: int
    seconds: float
    load_average: float  # 1-minute load average when the run ended

    @property
    def green(self) -> bool:
        return self.exit_status == 0


def pytest_command(extra: list[str]) -> list[str]:
    """The timing tests and every notebook and solution, with ``make test``'s nbval options."""
    paths = ["tests", "notebooks"]
    if (ROOT / "exercises" / "solutions").is_dir():
        paths.append("exercises/solutions")
    return [sys.executable, "-m", "pytest", *paths, "--nbval-lax", "--nbval-current-env",
            "-p", "no:cacheprovider", "-q",
            "-m", "timing", *extra]  # the root conftest marks every notebook cell `timing`


def start_busy(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(count)]


def stop_busy(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.kill()
    for process in processes:
        process.wait()


def run_once(number: int, busy: int, extra: list[str]) -> Run:
    log = REPORT_DIR / f"run-{number}.log"
    processes = start_busy(busy)
    started = time.monotonic()
    try:
        with log.open("w", encoding="utf-8") as out:
            status = subprocess.call(pytest_command(extra), cwd=ROOT, stdout=out,
                                     stderr=subprocess.STDOUT)
    finally:
        stop_busy(processes)
    run = Run(number, status, time.monotonic() - started, os.getloadavg()[0])
    last_line = log.read_text(encoding="utf-8").strip().splitlines()[-1:] or ["(no output)"]
    print(f"run {number}: {'green' if run.green else 'FAILED'} in {run.seconds:.0f} s with {busy} "
          f"busy processes (load average {run.load_average:.1f} at the end): {last_line[0]}  "
          f"(log: {log.relative_to(ROOT)})", flush=True)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1].strip(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs in a row (default 3)")
    parser.add_argument("--busy", type=int, default=4, help="CPU-bound processes (default 4)")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, after --")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.busy < 0:
        parser.error(f"--runs must be >= 1 and --busy >= 0, got {args.runs} and {args.busy}")
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; {args.busy} busy processes during each of {args.runs} runs",
          flush=True)
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(run_once(number, args.busy, args.pytest_args))
        if not runs[-1].green:
            break
    green = next((i for i, run in enumerate(runs) if not run.green), len(runs))
    print(f"{green} of {args.runs} runs green in a row")
    return 0 if green == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
