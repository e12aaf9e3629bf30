"""One place that builds the ``openai`` client: the sandbox by default, a real endpoint on request.

Every notebook calls :func:`get_client` (or :func:`get_async_client`) and never hard-codes where
requests go. Which endpoint is chosen:

=============================== ==============================================================
``COURSE_LLM_ENDPOINT=sandbox`` always the local sandbox (``make test`` sets this, so tests
                                never spend money even when you have a key)
``COURSE_LLM_ENDPOINT=real``    the real endpoint; ``OPENAI_API_KEY`` must be set
unset or ``auto``               the real endpoint if ``OPENAI_API_KEY`` is set, else sandbox
=============================== ==============================================================

A real endpoint is OpenAI, or any OpenAI-compatible server (vLLM, llama.cpp, Ollama) at
``OPENAI_BASE_URL``. The sandbox is started once per process (kernel) on a free port and stopped
when the process exits.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import openai

from course_lib import sandbox

__all__ = [
    "Endpoint",
    "get_async_client",
    "get_client",
    "get_sandbox",
    "resolve_endpoint",
    "using_sandbox",
]

SANDBOX_API_KEY = "sandbox-no-key-needed"

_lock = threading.Lock()
_sandbox: sandbox.SandboxHandle | None = None


@dataclass(frozen=True)
class Endpoint:
    """Where requests go, and whether it is the simulator.

    The API key is left out of ``repr`` and ``str``, so printing an endpoint in a notebook, a
    log line or an error message never shows it.
    """

    kind: Literal["sandbox", "real"]
    base_url: str | None
    api_key: str = field(repr=False)

    def describe(self) -> str:
        if self.kind == "sandbox":
            return f"the course sandbox at {self.base_url} (a local simulator, no API key)"
        return f"a real endpoint at {self.base_url or 'https://api.openai.com/v1'}"


def get_sandbox() -> sandbox.SandboxHandle:
    """The sandbox of this process, started on first use (time scale from the environment)."""
    global _sandbox
    with _lock:
        if _sandbox is None:
            _sandbox = sandbox.start()
            atexit.register(_sandbox.stop)
        return _sandbox


def resolve_endpoint() -> Endpoint:
    """Decide where requests go, from ``COURSE_LLM_ENDPOINT`` and ``OPENAI_API_KEY``."""
    choice = os.environ.get("COURSE_LLM_ENDPOINT", "auto").strip().lower() or "auto"
    if choice not in ("auto", "sandbox", "real"):
        raise ValueError(
            f"COURSE_LLM_ENDPOINT must be 'auto', 'sandbox' or 'real', got {choice!r}"
        )
    api_key = os.environ.get("OPENAI_API_KEY", "").strip()
    if choice == "real" and not api_key:
        raise RuntimeError("COURSE_LLM_ENDPOINT=real needs OPENAI_API_KEY to be set")
    if choice == "real" or (choice == "auto" and api_key):
        return Endpoint("real", os.environ.get("OPENAI_BASE_URL") or None, api_key)
    return Endpoint("sandbox", get_sandbox().base_url, SANDBOX_API_KEY)


def using_sandbox() -> bool:
    """True when requests go to the simulator (sandbox-only demos check this)."""
    return resolve_endpoint().kind == "sandbox"


def get_client(**kwargs: Any) -> openai.OpenAI:
    """A synchronous ``openai.OpenAI`` client for the configured endpoint.

    Keyword arguments go to the client (``max_retries=0``, ``timeout=5`` ...).
    """
    endpoint = resolve_endpoint()
    return openai.OpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, **kwargs)


def get_async_client(**kwargs: Any) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` client for the configured endpoint."""
    endpoint = resolve_endpoint()
    return openai.AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, **kwargs)
