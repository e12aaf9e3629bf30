"""Concurrent tool calls for an agent turn: the lesson's implementation 6, made safe.

The lesson asks: "a query needs to search the knowledge base + check the ticket's status + fetch
the user's info at the same time: serial or concurrent?" (200 + 300 + 150 = 650 ms one after
another, max = 300 ms together). This package answers with working code:

- :func:`run_tools` (``runner``): concurrent calls on asyncio with per-tool and total timeouts,
  error isolation, cancellation, results in call order with start/finish times;
  :func:`run_tools_serially` is the baseline;
- :func:`run_blocking_tools` (``blocking``): the same for blocking functions, in threads, and
  why a thread that times out still runs;
- :func:`run_dag` (``dag``): a dependency graph of tools, each started as soon as its inputs are
  ready, cycles named, failed inputs skipping their dependents; ``dag_baselines`` holds the
  level-by-level schedule and the ``graphlib.TopologicalSorter`` loop for comparison;
- :func:`critical_path` (``critical_path``): the lesson's DP for tool-call order, earliest
  finish times and the critical path over the topological order, and
  :func:`compare_with_critical_path`, a recorded run against the best schedule its durations
  allow;
- :class:`SupportTools` (``support_tools``): the three real tools (knowledge-base search on real
  embeddings, ticket status and user profile from the shipped SQLite database), behind a
  **simulated** network latency (``latency``).

The lesson's Go ``RunToolsConcurrently``, ported with its traps, is
:func:`course_lib.lesson.parallel_tools.run_tools_concurrently`.
"""

from .blocking import run_blocking_tools
from .critical_path import (
    CriticalPath,
    ScheduleComparison,
    compare_with_critical_path,
    critical_path,
)
from .dag import (
    DependencyCycleError,
    Tool,
    ToolGraph,
    ToolInputs,
    check_dependencies,
    check_graph,
    run_dag,
)
from .dag_baselines import run_dag_by_levels, run_dag_graphlib
from .kb_search import KBHit, KnowledgeBaseIndex, default_kb_index
from .latency import Latency, SimulatedLatency, never_answers, no_latency
from .readonly_db import connect_read_only, fetch_all
from .result import TOOL_STATUSES, DependencyFailedError, ToolResult, ToolStatus
from .runner import ToolCall, run_tools, run_tools_serially, tool_call
from .support_tools import (
    LESSON_LATENCIES_MS,
    TOOL_NAMES,
    KBSearch,
    SupportTools,
    TicketStatus,
    UserProfile,
    support_db_path,
)

__all__ = [
    "LESSON_LATENCIES_MS",
    "TOOL_NAMES",
    "TOOL_STATUSES",
    "CriticalPath",
    "DependencyCycleError",
    "DependencyFailedError",
    "KBHit",
    "KBSearch",
    "KnowledgeBaseIndex",
    "Latency",
    "ScheduleComparison",
    "SimulatedLatency",
    "SupportTools",
    "TicketStatus",
    "Tool",
    "ToolCall",
    "ToolGraph",
    "ToolInputs",
    "ToolResult",
    "ToolStatus",
    "UserProfile",
    "check_dependencies",
    "check_graph",
    "compare_with_critical_path",
    "connect_read_only",
    "critical_path",
    "default_kb_index",
    "fetch_all",
    "never_answers",
    "no_latency",
    "run_blocking_tools",
    "run_dag",
    "run_dag_by_levels",
    "run_dag_graphlib",
    "run_tools",
    "run_tools_serially",
    "support_db_path",
    "tool_call",
]
