"""The results as people read them: a text table for the terminal, a Markdown table for the
README (rewritten between two markers, nothing else touched), and the JSON file for machines.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.results import Measurement, Quantity

__all__ = [
    "README_END",
    "README_START",
    "environment",
    "format_quantity",
    "format_ratio",
    "markdown_table",
    "replace_readme_block",
    "run_metadata",
    "text_table",
    "write_json",
]

README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"
HEADERS = ("benchmark", "ours", "peer", "ratio", "goal", "met?")
PEER_PACKAGES = ("cachetools", "limits", "rapidfuzz", "openai", "numpy", "onnxruntime")


def _seconds(value: float) -> str:
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def format_quantity(quantity: Quantity | None) -> str:
    """``1.31 µs/op``, ``2.26x``, ``4,787 tokens/s``; a figure that was not
    measured says what it is instead: ``(model)``, ``(budget)``."""
    if quantity is None:
        return ""
    value, unit = quantity.value, quantity.unit
    if unit == "s/op":
        text = _seconds(value) + "/op"
    elif unit == "s":
        text = _seconds(value)
    elif unit == "x":
        text = f"{value:.2f}x"
    elif unit == "tokens/s":
        text = f"{value:,.0f} tokens/s"
    else:
        text = f"{value:.3g} {unit}"
    return text + (f" ({quantity.reference})" if quantity.reference else "")


def format_ratio(ratio: float) -> str:
    """Three significant figures without scientific notation: 1,168 / 94.8 / 0.838 / 0.00335."""
    if ratio >= 100:
        return f"{ratio:,.0f}"
    if ratio >= 10:
        return f"{ratio:.1f}"
    if ratio >= 0.1:
        return f"{ratio:.2f}"
    return f"{ratio:.3g}"


def _cells(row: Measurement) -> tuple[str, ...]:
    if row.status != "measured" or row.ratio is None:
        return (row.title, "", "", "—", "", row.status)
    goal = "" if row.goal is None else row.goal.describe()
    return (row.title, format_quantity(row.ours), format_quantity(row.peer),
            f"{format_ratio(row.ratio)} {row.ratio_kind}", goal, row.verdict)


def text_table(rows: Sequence[Measurement]) -> str:
    """An aligned plain-text table, then one line per row that has a note."""
    table = [HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = []
    for index, line in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
                     .rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"  {row.name}: {row.note}" for row in rows if row.note]
    if notes:
        lines += ["", "notes:", *notes]
    return "\n".join(lines)


def _md(cell: str) -> str:
    return cell.replace("|", "\\|")


def markdown_table(rows: Sequence[Measurement], *, meta: Mapping[str, Any],
                   chart: str | None = None, profiles: Mapping[str, str] | None = None) -> str:
    """The README block: a one-line description of the run, the table, unmet goals, the chart."""
    env = meta["environment"]
    lines = [
        f"_Last full run: {meta['date'][:16].replace('T', ' ')} UTC, {env['implementation']} "
        f"{env['python']} on {env['system']} {env['machine']}, {env['cpu_count']} cores (load "
        f"average {env['load_average_1m']:.1f} at the start). Each ratio compares two timings "
        "from the same run (best of several repetitions after a warm-up); absolute times are "
        "context only. Regenerate with `python -m benchmarks --write-readme`._",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    lines += ["| " + " | ".join(_md(cell) for cell in _cells(row)) + " |" for row in rows]
    unmet = [row for row in rows if row.met is False or row.status != "measured"]
    if unmet:
        lines.append("")
        for row in unmet:
            where = (profiles or {}).get(row.name)
            profile = f" (profile: `{where}`)" if where else ""
            lines.append(f"- **{row.verdict}: {_md(row.title)}** — {_md(row.note)}{profile}")
    if chart:
        lines += ["", f"![benchmark ratios against their goals]({chart})"]
    return "\n".join(lines)


def replace_readme_block(text: str, block: str) -> str:
    """``text`` with everything between the bench markers replaced by ``block``.

    ValueError when the markers are missing, repeated or out of order: a README without them
    is left alone rather than guessed at.
    """
    starts, ends = text.count(README_START), text.count(README_END)
    if starts != 1 or ends != 1:
        raise ValueError(f"the README must contain {README_START} and {README_END} exactly once "
                         f"each (found {starts} and {ends})")
    head, rest = text.split(README_START)
    if README_END not in rest:
        raise ValueError(f"{README_END} comes before {README_START} in the README")
    _, tail = rest.split(README_END)
    return f"{head}{README_START}\n{block.strip()}\n{README_END}{tail}"


def environment() -> dict[str, Any]:
    """Python, platform, cores, load and the peer libraries' versions, for results.json."""
    versions = {}
    for package in PEER_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "system": platform.system(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "load_average_1m": load[0],
        "packages": versions,
    }


def run_metadata(*, quick: bool, only: Sequence[str] | None) -> dict[str, Any]:
    return {
        "generated_by": "python -m benchmarks",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "only": list(only) if only else None,
        "environment": environment(),
    }


def write_json(path: Path, rows: Sequence[Measurement], *, meta: Mapping[str, Any],
               duration_s: float, profiles: Mapping[str, str]) -> None:
    """Every measurement with its samples, ratio, goal and verdict, plus the run's metadata."""
    document = {
        **meta,
        "duration_s": duration_s,
        "summary": {
            "goals": sum(row.met is not None for row in rows),
            "met": sum(row.met is True for row in rows),
            "not_met": [row.name for row in rows if row.met is False],
            "not_available": [row.name for row in rows if row.status == "not available"],
            "failed": [row.name for row in rows if row.status == "failed"],
        },
        "measurements": [row.to_json(profiles.get(row.name)) for row in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
