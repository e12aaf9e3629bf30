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

A client for a real endpoint carries two things the sandbox's does not, both in its HTTP
transport (:mod:`course_lib.endpoint_transport`):

* the **model map** ``COURSE_MODELS`` (:mod:`course_lib.model_map`): a server that serves other
  models is sent their names, and answers with the course's names;
* the **budget guard** ``COURSE_BUDGET_USD`` (:mod:`course_lib.budget`): no request is sent
  that could take this process's spending past the budget.

The course's own sandbox reached by URL (``OPENAI_BASE_URL`` pointing at ``python -m
course_lib.sandbox``) is still treated as a real endpoint (mapped and guarded: that is how the
tests check both), but :meth:`Endpoint.describe` recognises it by its ``x-simulator`` header or
the ``owned_by`` of its models, and says it is the simulator.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2
import openai

from course_lib import budget, model_map, sandbox
from course_lib.endpoint_transport import AsyncGuardedTransport, GuardedTransport

__all__ = [
    "Endpoint",
    "get_async_client",
    "get_client",
    "get_sandbox",
    "is_course_sandbox",
    "resolve_endpoint",
    "started_sandbox",
    "tokenizer_differs",
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
        url = self.base_url or OPENAI_URL
        if self.base_url and is_course_sandbox(self.base_url):
            return (f"the course sandbox at {url} (a local simulator reached by URL: nothing is "
                    "billed there, but its requests are mapped and budgeted as on a real "
                    "endpoint)")
        return f"a real endpoint at {url}"


OPENAI_URL = "https://api.openai.com/v1"


def is_course_sandbox(base_url: str) -> bool:
    """Whether ``base_url`` is the course's sandbox: its ``x-simulator`` header, or models
    ``owned_by`` the course sandbox in ``GET /models``. Asked each time (a port can change
    hands); an endpoint that does not answer within two seconds is not the sandbox."""
    from course_lib.sandbox.app import MODEL_OWNER, SIMULATOR_HEADER

    try:
        response = httpx2.get(f"{base_url.rstrip('/')}/models", timeout=2.0)
    except httpx2.HTTPError:
        return False
    if response.headers.get("x-simulator") == SIMULATOR_HEADER:
        return True
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        return False
    return bool(data) and all(
        isinstance(m, dict) and m.get("owned_by") == MODEL_OWNER for m in data)


def started_sandbox() -> sandbox.SandboxHandle | None:
    """The sandbox of this process if it has started, else None (without starting it)."""
    with _lock:
        return _sandbox


def get_sandbox() -> sandbox.SandboxHandle:
    """The sandbox of this process, started on first use (time scale from the environment)."""
    global _sandbox
    with _lock:
        if _sandbox is None:
            _sandbox = sandbox.start()
            atexit.register(_sandbox.stop)
        return _sandbox


def _endpoint_kind() -> Literal["sandbox", "real"]:
    """Where requests go, decided from the environment alone (nothing is started)."""
    choice = os.environ.get("COURSE_LLM_ENDPOINT", "auto").strip().lower() or "auto"
    if choice not in ("auto", "sandbox", "real"):
        raise ValueError(
            f"COURSE_LLM_ENDPOINT must be 'auto', 'sandbox' or 'real', got {choice!r}"
        )
    api_key = os.environ.get("OPENAI_API_KEY", "").strip()
    if choice == "real" and not api_key:
        raise RuntimeError("COURSE_LLM_ENDPOINT=real needs OPENAI_API_KEY to be set")
    return "real" if choice == "real" or (choice == "auto" and api_key) else "sandbox"


def resolve_endpoint() -> Endpoint:
    """Decide where requests go, from ``COURSE_LLM_ENDPOINT`` and ``OPENAI_API_KEY``; on the
    sandbox, start it (the endpoint needs its address)."""
    if _endpoint_kind() == "real":
        return Endpoint("real", os.environ.get("OPENAI_BASE_URL") or None,
                        os.environ["OPENAI_API_KEY"].strip())
    return Endpoint("sandbox", get_sandbox().base_url, SANDBOX_API_KEY)


def using_sandbox() -> bool:
    """True when requests go to the simulator (sandbox-only demos check this). Asking does not
    start the sandbox."""
    return _endpoint_kind() == "sandbox"


def tokenizer_differs(model: str) -> str | None:
    """Why a check that assumes OpenAI's tokenizer for ``model`` cannot hold on this endpoint
    (the model map sends it as another model), or None when it can. Such a check prints the
    reason and skips: ``if (why := llm.tokenizer_differs("gpt-4o")): print("skipped:", why)``."""
    if using_sandbox():
        return None
    return model_map.tokenizer_differs(model)


def _real_endpoint_seam(kwargs: dict[str, Any]) -> tuple[model_map.ModelMap, budget.Budget]:
    if "http_client" in kwargs:
        raise TypeError("get_client() builds its own http_client for a real endpoint: it "
                        "carries the model map and the budget guard (course_lib.llm)")
    mapping = model_map.from_environment()
    model_map.install(mapping)
    return mapping, budget.current_budget()


def get_client(**kwargs: Any) -> openai.OpenAI:
    """A synchronous ``openai.OpenAI`` client for the configured endpoint.

    Keyword arguments go to the client (``max_retries=0``, ``timeout=5`` ...). For a real
    endpoint its transport maps model names and guards the budget (module docstring).
    """
    endpoint = resolve_endpoint()
    if endpoint.kind == "real":
        mapping, guard = _real_endpoint_seam(kwargs)
        kwargs["http_client"] = openai.DefaultHttpxClient(
            transport=GuardedTransport(mapping, guard))
    return openai.OpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, **kwargs)


def get_async_client(**kwargs: Any) -> openai.AsyncOpenAI:
    """An ``openai.AsyncOpenAI`` client for the configured endpoint (see :func:`get_client`)."""
    endpoint = resolve_endpoint()
    if endpoint.kind == "real":
        mapping, guard = _real_endpoint_seam(kwargs)
        kwargs["http_client"] = openai.DefaultAsyncHttpxClient(
            transport=AsyncGuardedTransport(mapping, guard))
    return openai.AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key, **kwargs)
