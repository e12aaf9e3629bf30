"""The earliest a tool graph can finish, and which chain of tools decides it: DP over a DAG.

The lesson lists "规划工具调用顺序(依赖关系下的最优路径)" (planning the order of tool calls:
the best path under dependencies) as a use of dynamic programming. With unlimited concurrency
the question is not *which order*, but *how soon*: a tool can start once its last input has
finished, so

    earliest_finish[t] = duration[t] + max(earliest_finish[d] for d in inputs of t)   (0 if none)

Visit the tools in a topological order (:func:`course_lib.algorithms.topological_sort`, by way
of :func:`~course_lib.tools.dag.check_dependencies`) and every input's value is ready when a
tool needs it: one pass, ``O(tools + dependencies)``. That is the DP: the state is "earliest
finish of t", the transition the max over its inputs, the base case a tool without inputs, the
order the topological one. The whole turn ends at the largest earliest finish; following each
tool's latest-finishing input backwards from there gives the **critical path**, the chain with
no room to spare. Speeding up a tool off that chain does not shorten the turn at all; a pass in
reverse order gives each tool its **slack**, how much later it could finish without delaying
the turn.

The same recurrence measures a scheduler. Feed it the durations a real run recorded
(:func:`compare_with_critical_path`): the DP's makespan is what a perfect "start the moment the
inputs are ready" scheduler would have achieved *with those very durations*, so the ratio of the
two is a property of the scheduler alone. A loaded machine makes every tool slower, and the DP
sees the same slower tools, so the ratio holds where a wall-clock band would not.
:func:`~course_lib.tools.dag.run_dag` reaches ~1.0; the level-by-level baseline loses whatever
its levels wait for their slowest member.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .dag import check_dependencies
from .result import ToolResult

__all__ = ["CriticalPath", "ScheduleComparison", "compare_with_critical_path", "critical_path"]


@dataclass(frozen=True)
class CriticalPath:
    """Earliest start and finish of every tool, the turn's makespan and the chain that sets it.

    Times are in the unit of the durations (seconds from :func:`compare_with_critical_path`,
    milliseconds if you pass the lesson's milliseconds). ``slack[t]`` is how much later ``t``
    could finish without delaying the turn: 0 for every tool on ``path``.
    """

    durations: Mapping[str, float]
    deps: Mapping[str, tuple[str, ...]]
    earliest_start: Mapping[str, float]
    earliest_finish: Mapping[str, float]
    slack: Mapping[str, float]
    path: tuple[str, ...]

    @property
    def makespan(self) -> float:
        """When the last tool finishes if every tool starts as soon as its inputs are ready."""
        return max(self.earliest_finish.values(), default=0.0)

    def describe(self, unit: str = "ms", scale: float = 1.0) -> str:
        """One line, e.g. ``"user_profile -> search_kb: 350 ms"``."""
        return f"{' -> '.join(self.path)}: {self.makespan * scale:.0f} {unit}"


def critical_path(
    durations: Mapping[str, float], deps: Mapping[str, Sequence[str]] | None = None
) -> CriticalPath:
    """The DP over the topological order: earliest finishes, makespan, critical path, slack.

    ``durations`` maps each tool to how long it takes (any unit, >= 0); ``deps`` maps a tool to
    the tools whose results it needs, as for :func:`~course_lib.tools.dag.run_dag`. Ties are
    broken by order: the first input in ``deps`` order, and the first tool in ``durations``
    order, among equally late ones.

    >>> cp = critical_path({"search_kb": 200, "ticket_status": 300, "user_profile": 150},
    ...                    {"search_kb": ["user_profile"]})
    >>> cp.makespan, cp.path, cp.slack["ticket_status"]
    (350.0, ('user_profile', 'search_kb'), 50.0)
    """
    if not isinstance(durations, Mapping):
        raise TypeError(f"durations must be a dict of tool name -> duration, "
                        f"got {type(durations).__name__}")
    graph = check_dependencies(list(durations), deps or {})
    for name, duration in durations.items():
        if isinstance(duration, bool) or not isinstance(duration, int | float) or not (
                math.isfinite(duration) and duration >= 0):
            raise ValueError(f"the duration of {name!r} must be a finite number >= 0, "
                             f"got {duration!r}")
    start: dict[str, float] = {}
    finish: dict[str, float] = {}
    latest_input: dict[str, str | None] = {}
    for name in graph.order:  # every input comes earlier in this order: its finish is known
        inputs = graph.deps[name]
        critical_input = max(inputs, key=finish.__getitem__, default=None)  # first of the ties
        start[name] = 0.0 if critical_input is None else finish[critical_input]
        finish[name] = start[name] + float(durations[name])
        latest_input[name] = critical_input
    makespan = max(finish.values(), default=0.0)
    path: list[str] = []
    last = max(durations, key=finish.__getitem__, default=None)
    while last is not None:
        path.append(last)
        last = latest_input[last]
    # Backwards: the latest a tool may finish is the earliest latest-start of what needs it.
    latest_finish = dict.fromkeys(graph.order, makespan)
    for name in reversed(graph.order):
        latest_start = latest_finish[name] - float(durations[name])
        for dependency in graph.deps[name]:
            latest_finish[dependency] = min(latest_finish[dependency], latest_start)
    ordered = list(durations)
    return CriticalPath(
        durations=MappingProxyType({n: float(durations[n]) for n in ordered}),
        deps=graph.deps,
        earliest_start=MappingProxyType({n: start[n] for n in ordered}),
        earliest_finish=MappingProxyType({n: finish[n] for n in ordered}),
        slack=MappingProxyType({n: latest_finish[n] - finish[n] for n in ordered}),
        path=tuple(reversed(path)),
    )


@dataclass(frozen=True)
class ScheduleComparison:
    """A recorded run beside the best schedule its own durations allow.

    ``best`` is :func:`critical_path` over the durations the run recorded
    (``finished - started`` of each tool); ``measured_makespan_s`` is when the run's last tool
    finished. ``efficiency = best.makespan / measured_makespan_s`` is at most 1 (a schedule
    that respects the dependencies cannot beat the DP) and is 1.0 for a perfect "as soon as
    ready" scheduler. ``waits[t]`` is how long ``t`` sat ready but not started: its start minus
    its last input's finish (minus the run's start for a tool without inputs).
    """

    best: CriticalPath
    measured_makespan_s: float
    waits: Mapping[str, float]

    @property
    def efficiency(self) -> float:
        if self.measured_makespan_s == 0:
            return 1.0
        return self.best.makespan / self.measured_makespan_s

    @property
    def lost_s(self) -> float:
        """Seconds the scheduler added on top of the best schedule for these durations."""
        return self.measured_makespan_s - self.best.makespan


def compare_with_critical_path(
    results: Mapping[str, ToolResult], deps: Mapping[str, Sequence[str]] | None = None
) -> ScheduleComparison:
    """Compare a DAG run (``run_dag``'s or a baseline's results) with the DP's best schedule.

    Every tool must have run and succeeded: a skipped or failed tool has no duration to plan
    with, and a ``ValueError`` names it.
    """
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be the dict a DAG scheduler returns, "
                        f"got {type(results).__name__}")
    for name, result in results.items():
        if not isinstance(result, ToolResult):
            raise TypeError(f"results[{name!r}] is {type(result).__name__}, not a ToolResult")
        if not result.ok or result.started is None or result.finished is None:
            raise ValueError(f"{name!r} did not run to completion ({result.status}: "
                             f"{result.reason or 'no start time'}), so the run has no "
                             "schedule to compare")
    spans: dict[str, tuple[float, float]] = {
        name: (result.started, result.finished) for name, result in results.items()}  # type: ignore[misc]
    best = critical_path({name: end - begin for name, (begin, end) in spans.items()}, deps)
    waits = {name: begin - max((spans[d][1] for d in best.deps[name]), default=0.0)
             for name, (begin, _) in spans.items()}
    makespan = max((end for _, end in spans.values()), default=0.0)
    return ScheduleComparison(best, makespan, MappingProxyType(waits))
