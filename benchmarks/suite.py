"""The benchmark groups, in the order they run, and the loop that runs them.

Each group is a module with ``run(config) -> list[Measurement]``. A group whose code is missing
(an ``ImportError`` while importing it, say a ``course_lib`` module still being written)
becomes one "not available" row; a group that raises while measuring becomes one "failed" row.
Either way the other groups still run.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from benchmarks.results import Config, Measurement, failed, not_available

__all__ = ["GROUPS", "QUICK_SKIPS", "GroupRun", "load_group", "run_groups", "select_groups"]

GroupRun = Callable[[Config], list[Measurement]]

# Cheap, pure-Python groups first; the sandbox groups next; the whole course last, alone, so
# nothing else competes with it for the CPU.
GROUPS: Mapping[str, str] = MappingProxyType({
    "ttl_store": "benchmarks.ttl_store",
    "cache_hit": "benchmarks.cache_hit",
    "rate_limit": "benchmarks.rate_limit",
    "lcs": "benchmarks.lcs",
    "toposort": "benchmarks.toposort",
    "sandbox": "benchmarks.sandbox_overhead",
    "streaming": "benchmarks.streaming",
    "tools": "benchmarks.parallel_tools",
    "batching": "benchmarks.batching",
    "course": "benchmarks.course_run",
})

# Not part of a --quick run unless asked for by name: a full nbval run is not quick.
QUICK_SKIPS = frozenset({"course"})


def select_groups(only: Iterable[str] | None, *, quick: bool,
                  groups: Mapping[str, str] = GROUPS) -> list[str]:
    """The groups to run, in suite order; ValueError naming any unknown group."""
    if only is None:
        return [name for name in groups if not (quick and name in QUICK_SKIPS)]
    wanted = list(dict.fromkeys(only))
    unknown = [name for name in wanted if name not in groups]
    if unknown:
        raise ValueError(f"unknown benchmark group(s) {unknown}; the groups are "
                         f"{', '.join(groups)}")
    return [name for name in groups if name in wanted]


def load_group(module_name: str) -> GroupRun:
    """The ``run`` function of a group module (ImportError when its code is missing)."""
    run = getattr(importlib.import_module(module_name), "run", None)
    if not callable(run):
        raise TypeError(f"{module_name} has no run(config) function")
    return run  # type: ignore[no-any-return]


def run_groups(
    names: Iterable[str],
    config: Config,
    *,
    groups: Mapping[str, str] = GROUPS,
    loader: Callable[[str], GroupRun] = load_group,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[Measurement]:
    """Run each named group; every group yields rows, whatever happens to it."""
    rows: list[Measurement] = []
    for name in names:
        started = time.perf_counter()
        log(f"[bench] {name} ...")
        try:
            run = loader(groups[name])
        except ImportError as error:
            log(f"[bench] {name}: not available ({error})")
            rows.append(not_available(name, f"not available: {error}"))
            continue
        try:
            measured = run(config)
        except Exception as error:  # one broken group must not hide the others' results
            log(traceback.format_exc())
            rows.append(failed(name, f"{type(error).__name__}: {error}"))
            continue
        log(f"[bench] {name}: {len(measured)} row(s) in {time.perf_counter() - started:.1f} s")
        rows.extend(measured)
    return rows
