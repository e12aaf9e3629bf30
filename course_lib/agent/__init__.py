"""The end-to-end support agent of notebook 10: the lesson's playbook, measured.

One module per concept:

==================== ===========================================================================
``prompts``          the verbose and the compressed prompt, and the facts both must carry
``customers``        which customer (and ticket) a traffic user stands for
``context``          the tool phase: knowledge base, ticket, profile; serial or concurrent
``turn``             :class:`TurnRecord`: one answered (or failed) message, timed and billed
``toolbox``          :class:`Toolbox`: the tools a model may call, by name, and their code
``loop``             :func:`run_agent_loop`: model, tools run concurrently, model, streamed answer
``naive``            :class:`NaiveAgent`: the lesson's starting point
``levers``           :class:`Levers`: the playbook's levers as switches; ablation ladders
``optimized``        :class:`OptimizedAgent`: cache, routing, fallback, concurrent tools,
                     streaming and compression, each switchable
``routing``          notebook 05's operating router, rebuilt by the same procedure
``replay``           replay a trace through an agent; p50/p95, success, $/month, quality
``playbook``         the lesson's two tables, with the measured figure beside each range
==================== ===========================================================================
"""

from course_lib.agent.context import ARTICLES_PER_TURN, SupportContext, gather_context
from course_lib.agent.customers import Customer, CustomerDirectory
from course_lib.agent.levers import LEVER_LABELS, LEVER_NAMES, Levers, ladder
from course_lib.agent.loop import (
    AgentLoopResult,
    ModelRound,
    RoundLimitError,
    ToolCallOutcome,
    run_agent_loop,
)
from course_lib.agent.naive import NaiveAgent, require_no_sdk_retries
from course_lib.agent.optimized import (
    ArrivalClock,
    ChainSettings,
    OptimizedAgent,
    StreamEndedEarlyError,
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
    "ARTICLES_PER_TURN",
    "COST_LEVERS",
    "LATENCY_LEVERS",
    "LEVER_LABELS",
    "LEVER_NAMES",
    "PROMPT_STYLES",
    "Agent",
    "AgentLoopResult",
    "AgentSummary",
    "ArrivalClock",
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
    "ServedFrom",
    "StreamEndedEarlyError",
    "SupportContext",
    "ToolCallOutcome",
    "Toolbox",
    "TurnRecord",
    "build_messages",
    "completeness",
    "format_change",
    "format_playbook",
    "gather_context",
    "ladder",
    "missing_facts",
    "percentile",
    "replay",
    "require_no_sdk_retries",
    "required_facts",
    "result_content",
    "run_agent_loop",
    "strong_references",
    "summarize",
    "support_cache_policy",
    "support_toolbox",
    "system_prompt",
]
