"""A local, OpenAI-compatible server you can measure: the course's stand-in for a real API.

The official ``openai`` client talks to it over real HTTP. It serves chat completions
(streaming and not), embeddings (real all-MiniLM-L6-v2 vectors) and the model list; reports
exact usage; simulates per-model latency under one time-scale setting; fails on demand; and
answers from the Kitewing support knowledge base. It is a simulator and says so in every
response (``x-simulator`` header, ``system_fingerprint``, ``owned_by``). Every malformed
request gets a 4xx JSON error in OpenAI's shape (:mod:`.protocol`).

    >>> from course_lib import sandbox
    >>> with sandbox.start(time_scale=0) as sb:          # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=sb.base_url, api_key="sandbox")

**Function calling**, for an agent loop built on the official client: offer the Kitewing support
tools with ``tools=list(SUPPORT_TOOL_DEFINITIONS)`` (their JSON Schemas; the tools themselves
are :class:`course_lib.tools.SupportTools`). The simulated model answers with
``finish_reason="tool_calls"`` and the calls the user's message needs, several at once
(:mod:`.tool_calls` says exactly when it calls which tool). Send each result back as
``{"role": "tool", "tool_call_id": call.id, "content": json.dumps(...)}`` after the assistant
message; the next answer is written from the results (:mod:`.tool_results` says which fields it
reads; a result that is an error message shows in the answer). ``tool_choice``,
``parallel_tool_calls`` and streaming work as with OpenAI; usage counts the tool definitions,
the calls and the results (:mod:`course_lib.tokens` documents the convention).

Standalone: ``python -m course_lib.sandbox --port 8765``.
"""

from course_lib.sandbox.app import RequestRecord, SandboxState, create_app
from course_lib.sandbox.faults import FAULT_KINDS, Fault, FaultInjector
from course_lib.sandbox.profiles import MODEL_PROFILES, ModelProfile
from course_lib.sandbox.server import SandboxHandle, start
from course_lib.sandbox.support_tools import SUPPORT_TOOL_DEFINITIONS
from course_lib.time_scale import default_time_scale

__all__ = [
    "FAULT_KINDS",
    "MODEL_PROFILES",
    "SUPPORT_TOOL_DEFINITIONS",
    "Fault",
    "FaultInjector",
    "ModelProfile",
    "RequestRecord",
    "SandboxHandle",
    "SandboxState",
    "create_app",
    "default_time_scale",
    "start",
]
