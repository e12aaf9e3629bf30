"""Measuring the learner's work so that a busy machine cannot change the verdict, and bounding it.

Where speed is the point of a task (a bound that saves work, a queue that keeps Kahn's algorithm
linear, a limiter that does not rebuild its log), a check compares the learner's code with
itself, in one of two ways:

* :func:`count_steps` counts the Python lines the learner's code executes (``sys.settrace``):
  an exact, deterministic count of operations, the same on any machine under any load;
* :func:`cpu_seconds` times a call in the CPU time of this thread (``time.thread_time``), which
  does not grow when other processes compete for the cores, as wall-clock time does. It is for
  costs that happen inside C code (``list.pop(0)`` moving a whole queue), which no line count
  sees. Its ``budget`` interrupts a call that has used more CPU than that, so a quadratic answer
  is judged in a second or two instead of running for half a minute.
"""

from __future__ import annotations

import gc
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

__all__ = ["StepCount", "count_steps", "cpu_seconds"]


@dataclass
class StepCount:
    """How many lines of code ran inside a :func:`count_steps` block."""

    lines: int = 0


@contextmanager
def count_steps(*, ignore_file: str) -> Iterator[StepCount]:
    """Count the Python lines executed in this thread, except those of ``ignore_file``.

    The checks pass their own module as ``ignore_file``, so only the learner's code (and the
    library code it calls) is counted, not the check's loop or its fake clock. A loop or a
    comprehension counts one line per iteration, so an O(n) pass over a list shows as n steps.
    """
    count = StepCount()
    previous = sys.gettrace()

    def on_line(frame: FrameType, event: str, arg: Any) -> Callable | None:
        if event == "line":
            count.lines += 1
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Callable | None:
        return None if frame.f_code.co_filename == ignore_file else on_line

    sys.settrace(on_call)
    try:
        yield count
    finally:
        sys.settrace(previous)


class _OverBudget(BaseException):
    """Raised inside the learner's code when it has used up its CPU budget.

    A ``BaseException``, like ``KeyboardInterrupt``, so that an ``except Exception`` in the
    learner's code cannot swallow it.
    """


def _can_interrupt() -> bool:
    # Signal handlers run in the main thread only (where a notebook runs its cells); elsewhere
    # (Windows, a worker thread) the call runs to the end, which is slower but just as right.
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def _interrupt_after(cpu_budget_s: float) -> Iterator[None]:
    if not _can_interrupt():
        yield
        return
    armed = True

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if armed:
            raise _OverBudget

    previous = signal.signal(signal.SIGPROF, interrupt)
    signal.setitimer(signal.ITIMER_PROF, cpu_budget_s)
    try:
        yield
    finally:
        armed = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def cpu_seconds(function: Callable[[], object], *, budget_s: float) -> tuple[float | None, object]:
    """``(CPU seconds, value)`` of ``function()``; ``(None, None)`` if it ran past ``budget_s``.

    Python's cycle collector is paused for the call: a full collection scans every object in the
    kernel (a notebook holds many), and its cost would blur the growth being measured.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with _interrupt_after(budget_s):
            started = time.thread_time()
            value = function()
            elapsed = time.thread_time() - started
    except _OverBudget:
        return None, None
    finally:
        if was_enabled:
            gc.enable()
    return elapsed, value
