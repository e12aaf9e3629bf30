"""Where the time goes, for every goal that was not met: a cProfile report as text.

``pyinstrument`` (a sampling profiler) gives a more readable call tree when it is installed;
the standard library's ``cProfile`` is always there and is what this uses. cProfile adds a
fixed cost to every Python function call, so its absolute times are inflated; read the *shares*
(which functions take most of the time), not the seconds. It sees only the calling thread: work
done in the sandbox's server thread or in C code (big-integer arithmetic, ``list`` copies)
shows up as time spent *in* the Python function that triggered it.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["cprofile_text", "profile_path"]


def cprofile_text(run: Callable[[], Any], *, title: str, top: int = 20) -> str:
    """Profile one call of ``run``; the ``top`` functions by own time and by cumulative time."""
    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    out.write(f"{title}\n\ncProfile of one run (absolute times include cProfile's overhead).\n")
    for key, heading in (("tottime", "by own time (tottime)"),
                         ("cumulative", "by cumulative time (cumtime)")):
        out.write(f"\n=== top {top} functions {heading} ===\n")
        stats = pstats.Stats(profiler, stream=out)
        stats.strip_dirs().sort_stats(key).print_stats(top)
    return out.getvalue()


def profile_path(directory: Path, name: str) -> Path:
    """``directory/<name>.txt``, with the name made safe for a file name."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    return directory / f"{safe}.txt"
