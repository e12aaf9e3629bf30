"""The end-to-end support agent of notebook 10: the lesson's playbook, measured.

One module per concept:

==================== ===========================================================================
``prompts``          the verbose and the compressed prompt, and the facts both must carry
``customers``        which customer (and ticket) a traffic user stands for
``turn``             :class:`TurnRecord`: one answered (or failed) message, timed and billed
``toolbox``          :class:`Toolbox`: the tools a model may call, by name, and their code
``loop``             :func:`run_agent_loop`: model, tools run concurrently, model, streamed answer
``naive``            :class:`NaiveAgent`: the lesson's starting point (every lever off)
``levers``           :class:`Levers`: the playbook's levers as switches; ablation ladders
``optimized``        :class:`OptimizedAgent`: cache, routing, fallback, concurrent tools,
                     streaming and compression around the loop, each switchable
``replay``           replay a trace through an agent; p50/p95, success, $/month, quality
``experiment``       :func:`run_agent`, :func:`compare_batching`: each experiment, one call
``playbook``         the lesson's two tables, with the measured figure beside each range
==================== ===========================================================================
"""

from course_lib.agent.customers import Customer, CustomerDirectory
from course_lib.agent.experiment import (
    FAULTS,
    BatchComparison,
    Run,
    Setup,
    compare_batching,
    run_agent,
)
from course_lib.agent.levers import LEVER_LABELS, LEVER_NAMES, Levers, ladder
from course_lib.agent.loop import (
    AgentLoopResult,
    ModelRound,
    RoundLimitError,
    ToolCallOutcome,
    run_agent_loop,
)
from course_lib.agent.naive import NaiveAgent
from course_lib.agent.optimized import (
    ArrivalClock,
    ChainSettings,
    OptimizedAgent,
    require_no_sdk_retries,
    support_cache_policy,
)
from course_lib.agent.playbook import (
    COST_LEVERS,
    LATENCY_LEVERS,
    LessonRange,
    PlaybookRow,
    format_change,
    format_playbook,
)
from course_lib.agent.prompts import (
    PROMPT_STYLES,
    PromptStyle,
    build_messages,
    missing_facts,
    required_facts,
    system_prompt,
)
from course_lib.agent.replay import (
    Agent,
    AgentSummary,
    completeness,
    percentile,
    replay,
    strong_references,
    summarize,
)
from course_lib.agent.toolbox import Toolbox, result_content, support_toolbox
from course_lib.agent.turn import ServedFrom, TurnRecord

__all__ = [
    "COST_LEVERS",
    "FAULTS",
    "LATENCY_LEVERS",
    "LEVER_LABELS",
    "LEVER_NAMES",
    "PROMPT_STYLES",
    "Agent",
    "AgentLoopResult",
    "AgentSummary",
    "ArrivalClock",
    "BatchComparison",
    "ChainSettings",
    "Customer",
    "CustomerDirectory",
    "LessonRange",
    "Levers",
    "ModelRound",
    "NaiveAgent",
    "OptimizedAgent",
    "PlaybookRow",
    "PromptStyle",
    "RoundLimitError",
    "Run",
    "ServedFrom",
    "Setup",
    "ToolCallOutcome",
    "Toolbox",
    "TurnRecord",
    "build_messages",
    "compare_batching",
    "completeness",
    "format_change",
    "format_playbook",
    "ladder",
    "missing_facts",
    "percentile",
    "replay",
    "require_no_sdk_retries",
    "required_facts",
    "result_content",
    "run_agent",
    "run_agent_loop",
    "strong_references",
    "summarize",
    "support_cache_policy",
    "support_toolbox",
    "system_prompt",
]
