"""One link of a fallback chain: which model, how many tries, how long each, and its request.

The lesson hard-codes its fallback (``fallbackReq.Model = "gpt-4o-mini"``): the same request,
with the model name overwritten. That breaks as soon as the secondary is not an OpenAI model
(another provider, a self-hosted model) or needs a different request (a shorter prompt, a
smaller ``max_tokens``, no tools). Here every link names its own model, and may *adapt* the
caller's request to itself::

    chain = [
        ChainLink("gpt-4o", max_attempts=3, attempt_timeout_s=20),
        ChainLink("gpt-4o-mini", max_attempts=2, attempt_timeout_s=10,
                  adapt=lambda request: {**request, "max_tokens": 400}),
    ]

A link may also carry its own ``client`` (another provider or region); otherwise the chain's
client is used. A link's context window comes from the model registry
(:mod:`course_lib.models`), so a "context too long" error can skip to a link that takes more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from course_lib import models

__all__ = ["RESERVED_REQUEST_KEYS", "ChainLink"]

# The chain decides these per attempt; a caller who passes them would be silently overridden.
RESERVED_REQUEST_KEYS = frozenset({"model", "timeout", "stream"})


@dataclass(frozen=True)
class ChainLink:
    """A model to try, with its own retry budget, per-attempt timeout and request.

    ``attempt_timeout_s`` bounds one attempt (None: only the chain's total deadline bounds it);
    ``context_window`` (tokens) lets a "context too long" error skip straight to a link with a
    larger window: by default the registry's figure for ``model``, None for a model the
    registry does not know (pass it for a self-hosted model, or one your client maps to
    another); ``adapt`` turns the caller's request into this link's request;
    ``name`` labels the link in results (default: the model).
    """

    model: str
    max_attempts: int = 3
    attempt_timeout_s: float | None = 30.0
    context_window: int | None = None
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    client: Any = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"ChainLink model must be a non-empty string, got {self.model!r}")
        if not isinstance(self.max_attempts, int) or isinstance(self.max_attempts, bool) or (
            self.max_attempts < 1
        ):
            raise ValueError(f"ChainLink({self.model!r}): max_attempts must be an integer >= 1, "
                             f"got {self.max_attempts!r}")
        timeout = self.attempt_timeout_s
        if timeout is not None and (
            not isinstance(timeout, int | float) or not math.isfinite(timeout) or timeout <= 0
        ):
            raise ValueError(f"ChainLink({self.model!r}): attempt_timeout_s must be a number of "
                             f"seconds > 0 or None, got {timeout!r}")
        if self.context_window is None:
            object.__setattr__(self, "context_window", models.context_window(self.model))
        window = self.context_window
        if window is not None and (not isinstance(window, int) or isinstance(window, bool)
                                   or window < 1):
            raise ValueError(f"ChainLink({self.model!r}): context_window must be a number of "
                             f"tokens >= 1 or None, got {window!r}")
        if self.adapt is not None and not callable(self.adapt):
            raise ValueError(f"ChainLink({self.model!r}): adapt must be a function from request "
                             f"to request, got {self.adapt!r}")

    @property
    def label(self) -> str:
        """How results and errors name this link."""
        return self.name or self.model

    def request_for(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """This link's request: the caller's, adapted, with the link's model."""
        adapted = dict(request)
        if self.adapt is not None:
            adapted = self.adapt(dict(request))
            if not isinstance(adapted, Mapping):
                raise TypeError(f"ChainLink({self.label!r}).adapt must return the request as a "
                                f"dict, got {type(adapted).__name__}")
            adapted = dict(adapted)
            reserved = RESERVED_REQUEST_KEYS & adapted.keys()
            if reserved:
                raise ValueError(f"ChainLink({self.label!r}).adapt set {sorted(reserved)}: the "
                                 "model and timeout come from the link, streaming from the "
                                 "method called")
        adapted["model"] = self.model
        return adapted

    def accepts_longer_context_than(self, other: ChainLink) -> bool:
        """Can this link take a prompt that ``other`` rejected as too long?"""
        if self.context_window is None:
            return False
        return other.context_window is None or self.context_window > other.context_window
