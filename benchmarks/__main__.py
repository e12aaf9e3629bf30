"""``python -m benchmarks``: run the benchmarks, print the table, write the results.

    python -m benchmarks                   # everything (a few minutes), results in benchmarks/
    python -m benchmarks --write-readme    # ... and refresh the table in README.md
    python -m benchmarks --only lcs,toposort
    python -m benchmarks --quick           # tiny sizes: checks the harness, not the goals

A full run writes ``benchmarks/results.json``, ``benchmarks/results.png`` and, for every goal not
met, ``benchmarks/profiles/<name>.txt``. A partial run (``--quick`` or ``--only``) writes to
``artifacts/bench/`` instead, so it never replaces the committed results of a full run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from benchmarks.chart import ratio_chart
from benchmarks.profiles import profile_path
from benchmarks.report import (
    markdown_table,
    replace_readme_block,
    run_metadata,
    text_table,
    write_json,
)
from benchmarks.results import Config, Measurement
from benchmarks.suite import GROUPS, GroupRun, load_group, run_groups, select_groups

ROOT = Path(__file__).resolve().parent.parent


def _group_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one group name")
    return names


def parse_args(argv: Sequence[str] | None, groups: Mapping[str, str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Side-by-side ratios against peer libraries and the lesson's own code.")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: checks that the harness runs, not the goals "
                             "(skips the whole-course run unless named with --only)")
    parser.add_argument("--only", type=_group_list, action="append", metavar="NAME[,NAME]",
                        help=f"run only these groups: {', '.join(groups)}")
    parser.add_argument("--out", type=Path, default=None,
                        help="where results.json, results.png and profiles/ go (default: "
                             "benchmarks/ for a full run, artifacts/bench/ for a partial one)")
    parser.add_argument("--write-readme", action="store_true",
                        help="rewrite the table between the bench markers in README.md "
                             "(full runs only)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.only = [name for names in args.only for name in names] if args.only else None
    if args.write_readme and (args.quick or args.only):
        parser.error("--write-readme needs a full run: the README shows the whole table, "
                     "measured together (drop --quick and --only)")
    return args


def _shown(path: Path, root: Path) -> str:
    """``path`` relative to the repository when it is inside it (for README links)."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def write_profiles(rows: Sequence[Measurement], directory: Path, root: Path,
                   log: Callable[[str], None]) -> dict[str, str]:
    """Profile every row whose goal was not met; remove stale profiles of rows now met."""
    written: dict[str, str] = {}
    for row in rows:
        path = profile_path(directory, row.name)
        if row.met is False and row.profile is not None:
            log(f"[bench] profiling {row.name} ...")
            try:
                text = row.profile()
            except Exception as error:  # a profile is an explanation, not a result
                text = f"profiling {row.name} failed: {type(error).__name__}: {error}\n"
            directory.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written[row.name] = _shown(path, root)
        elif row.status == "measured" and path.exists():
            path.unlink()
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()  # every goal met: no empty folder left behind
    return written


def main(
    argv: Sequence[str] | None = None,
    *,
    groups: Mapping[str, str] = GROUPS,
    loader: Callable[[str], GroupRun] = load_group,
    root: Path = ROOT,
) -> int:
    args = parse_args(argv, groups)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        names = select_groups(args.only, quick=args.quick, groups=groups)
    except ValueError as error:
        log(f"python -m benchmarks: {error}")
        return 2
    partial = args.quick or args.only is not None
    out: Path = args.out or (root / "artifacts" / "bench" if partial else root / "benchmarks")
    meta = run_metadata(quick=args.quick, only=args.only)
    started = time.perf_counter()
    rows = run_groups(names, Config(quick=args.quick), groups=groups, loader=loader, log=log)
    profiles = write_profiles(rows, out / "profiles", root, log)
    duration_s = time.perf_counter() - started

    write_json(out / "results.json", rows, meta=meta, duration_s=duration_s, profiles=profiles)
    kind = "quick run (sizes too small to judge goals)" if args.quick else "benchmarks"
    chart = ratio_chart(rows, out / "results.png",
                        title=f"LLM Cost & Latency Lab {kind}, {meta['date'][:10]}: "
                              "ratio vs goal")
    if args.quick:
        print("QUICK RUN: tiny sizes only check that the harness works; the verdicts below "
              "do not judge the goals.\n")
    print(text_table(rows))
    met = sum(row.met is True for row in rows)
    goals = sum(row.met is not None for row in rows)
    print(f"\n{met} of {goals} goals met in {duration_s:.0f} s; results in "
          f"{_shown(out / 'results.json', root)}")
    if args.write_readme:
        block = markdown_table(rows, meta=meta, profiles=profiles,
                               chart=_shown(chart, root) if chart else None)
        args.readme.write_text(replace_readme_block(args.readme.read_text(encoding="utf-8"),
                                                    block), encoding="utf-8")
        print(f"README table rewritten: {_shown(args.readme, root)}")
    return 1 if any(row.status == "failed" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
