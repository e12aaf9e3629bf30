"""A local, OpenAI-compatible server you can measure: the course's stand-in for a real API.

The official ``openai`` client talks to it over real HTTP. It serves chat completions
(streaming and not), embeddings (real all-MiniLM-L6-v2 vectors) and the model list; reports
exact usage; simulates per-model latency under one time-scale setting; fails on demand; and
answers from the Kitewing support knowledge base. It is a simulator and says so in every
response (``x-simulator`` header, ``system_fingerprint``, ``owned_by``).

    >>> from course_lib import sandbox
    >>> with sandbox.start(time_scale=0) as sb:          # doctest: +SKIP
    ...     client = openai.OpenAI(base_url=sb.base_url, api_key="sandbox")

Standalone: ``python -m course_lib.sandbox --port 8765``.
"""

from course_lib.sandbox.app import RequestRecord, SandboxState, create_app
from course_lib.sandbox.faults import FAULT_KINDS, Fault, FaultInjector
from course_lib.sandbox.profiles import MODEL_PROFILES, ModelProfile
from course_lib.sandbox.server import SandboxHandle, default_time_scale, start

__all__ = [
    "FAULT_KINDS",
    "MODEL_PROFILES",
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
