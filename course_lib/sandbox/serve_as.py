"""Serving other names: the sandbox posing as a server of other models (Ollama, vLLM ...).

``python -m course_lib.sandbox --serve-as llama3.1:8b=gpt-4o,llama3.2:3b=gpt-4o-mini`` (or
``sandbox.start(serve_as=...)``) makes the sandbox serve **only** those names, each simulating a
model the sandbox knows: a request for ``llama3.1:8b`` is answered as ``gpt-4o`` is (same
tokens, usage and latency), and the answer says ``"model": "llama3.1:8b"``, as such a server's
would. A request for ``gpt-4o`` itself gets the ``404 model_not_found`` a server of other
models gives, which is what the course's model map (:mod:`course_lib.model_map`) is for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from course_lib.http_edge import ApiError
from course_lib.sandbox.profiles import MODEL_PROFILES

__all__ = ["parse_serve_as", "simulated_request"]

_NAME = re.compile(r"[^\s,=]+")


def parse_serve_as(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``served=simulated,...`` (or a mapping) as ``{served: simulated}``; a bad entry is a
    ``ValueError`` that names it."""
    if text is None:
        return {}
    pairs = (list(text.items()) if isinstance(text, Mapping)
             else [entry.partition("=")[::2] for entry in text.split(",")] if text.strip()
             else [])
    served: dict[str, str] = {}
    for name, simulated in pairs:
        entry = f"{name}={simulated}"
        name, simulated = name.strip(), simulated.strip()
        if not _NAME.fullmatch(name) or not simulated:
            raise ValueError(f"--serve-as entry {entry!r} is not served-name=simulated-model "
                             "(e.g. llama3.1:8b=gpt-4o)")
        if simulated not in MODEL_PROFILES:
            raise ValueError(f"--serve-as entry {entry!r}: the sandbox does not simulate "
                             f"{simulated!r} (it simulates: {', '.join(sorted(MODEL_PROFILES))})")
        if name in served:
            raise ValueError(f"--serve-as entry {entry!r}: {name!r} is served twice")
        served[name] = simulated
    return served


def simulated_request(body: Any, serve_as: Mapping[str, str]) -> tuple[Any, str | None]:
    """The body as the simulated model's request, and the name it was sent with (None when the
    sandbox serves its own names, or the body has no model for the parser to complain about)."""
    if not serve_as or not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return body, None
    served = body["model"]
    if served not in serve_as:
        raise ApiError(404, f"The model `{served[:256]}` does not exist or you do not have "
                       f"access to it. (The sandbox serves: {', '.join(sorted(serve_as))}.)",
                       param="model", code="model_not_found")
    return {**body, "model": serve_as[served]}, served
