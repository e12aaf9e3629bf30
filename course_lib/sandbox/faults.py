"""Failures on demand: the sandbox fails the way real providers fail, reproducibly.

Two ways to ask for a failure:

* **rates** (per sandbox, optionally per model): "30% of gpt-4o calls answer 503". Each decision
  comes from a random generator seeded with ``(seed, model, n)`` where ``n`` counts that model's
  requests, so the same seed gives the same sequence of failures run after run.
* **scripted** (per sandbox or per request): "the next 2 gpt-4o calls answer 429", or a request
  header ``X-Sandbox-Fault: 429`` on one call. Tests use these to make one exact failure.

Kinds of fault, and what a client sees:

========== ==================================================================================
``429``    HTTP 429 ``rate_limit_exceeded`` with ``Retry-After`` (and ``retry-after-ms``)
``500``    HTTP 500 ``server_error``
``503``    HTTP 503 ``server_error`` ("overloaded")
``hang``   no answer until the client gives up (or ``hang_seconds`` pass): a timeout
``cut``    a stream that stops mid-answer, without ``[DONE]`` (non-streaming calls: 500)
========== ==================================================================================
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FAULT_KINDS", "Fault", "FaultInjector", "FaultKind"]

FaultKind = Literal["429", "500", "503", "hang", "cut"]
FAULT_KINDS: tuple[FaultKind, ...] = ("429", "500", "503", "hang", "cut")


@dataclass(frozen=True)
class Fault:
    """One decided failure for one request."""

    kind: FaultKind
    retry_after_s: float = 1.0
    # For "cut": how many content tokens are sent before the stream breaks.
    cut_after_tokens: int = 5


@dataclass
class _RateRule:
    rates: dict[FaultKind, float]
    models: frozenset[str] | None


@dataclass
class FaultInjector:
    """Decides, per request, whether and how it fails. Thread-safe."""

    seed: int = 0
    retry_after_s: float = 1.0
    cut_after_tokens: int = 5
    _rules: list[_RateRule] = field(default_factory=list)
    _scripted: dict[str | None, deque[FaultKind | None]] = field(  # None: let one pass
        default_factory=lambda: defaultdict(deque)
    )
    _counters: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_rates(self, models: str | list[str] | None = None, **rates: float) -> None:
        """Fail a share of requests: ``set_rates("gpt-4o", r503=0.3, r429=0.1)``.

        Keyword names are the fault kind prefixed with ``r`` (``r429``, ``r500``, ``r503``,
        ``rhang``, ``rcut``). ``models=None`` applies to every model. Rules add up; shares must
        total at most 1 for any model.
        """
        parsed: dict[FaultKind, float] = {}
        for name, rate in rates.items():
            kind = name.removeprefix("r")
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault rate {name!r}; use one of "
                                 f"{', '.join('r' + k for k in FAULT_KINDS)}")
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {name} must be between 0 and 1, got {rate}")
            parsed[kind] = float(rate)  # type: ignore[index]
        model_set = None if models is None else frozenset(
            [models] if isinstance(models, str) else models
        )
        rule = _RateRule(parsed, model_set)
        with self._lock:
            # Rules add up, so the limit holds for what every model ends up with, across calls.
            for model, total in self._totals([*self._rules, rule]).items():
                if total > 1.0 + 1e-9:
                    who = "every model" if model is None else repr(model)
                    raise ValueError(f"fault rates for {who} would add up to {total:.3g}, more "
                                     "than 1, with the rates already set; clear() first to "
                                     "replace them")
            self._rules.append(rule)

    @staticmethod
    def _totals(rules: list[_RateRule]) -> dict[str | None, float]:
        """The summed fault rate per model named in ``rules``, and for any other model (None)."""
        named = {model for rule in rules if rule.models for model in rule.models}
        return {model: sum(sum(rule.rates.values()) for rule in rules
                           if rule.models is None or model in rule.models)
                for model in [*named, None]}

    def script(self, kind: FaultKind, count: int = 1, model: str | None = None, *,
               after: int = 0) -> None:
        """Make the next ``count`` requests (for ``model``, or any model) fail with ``kind``,
        once ``after`` requests have passed untouched (``after=2``: the third one fails)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {FAULT_KINDS}")
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"after must be a whole number of requests >= 0, got {after!r}")
        with self._lock:
            self._scripted[model].extend([None] * after + [kind] * count)

    def clear(self) -> None:
        """No more failures; request counters restart so a seed replays from the start."""
        with self._lock:
            self._rules.clear()
            self._scripted.clear()
            self._counters.clear()

    def decide(self, model: str, requested: str | None = None) -> Fault | None:
        """The fault for the next request to ``model`` (None: it succeeds).

        ``requested`` is a per-request fault from the ``X-Sandbox-Fault`` header; it wins.
        """
        if requested is not None:
            if requested not in FAULT_KINDS:
                raise ValueError(f"X-Sandbox-Fault must be one of {', '.join(FAULT_KINDS)}, "
                                 f"got {requested!r}")
            return self._fault(requested)  # type: ignore[arg-type]
        with self._lock:
            for key in (model, None):
                queue = self._scripted.get(key)
                if queue:
                    kind = queue.popleft()
                    return None if kind is None else self._fault(kind)
            index = self._counters[model]
            self._counters[model] += 1
            rules = [rule for rule in self._rules if rule.models is None or model in rule.models]
        if not rules:
            return None
        draw = self._rng(model, index).random()
        threshold = 0.0
        for rule in rules:
            for kind, rate in rule.rates.items():
                threshold += rate
                if draw < threshold:
                    return self._fault(kind)
        return None

    def _rng(self, model: str, index: int) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}|{model}|{index}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def _fault(self, kind: FaultKind) -> Fault:
        return Fault(kind, self.retry_after_s, self.cut_after_tokens)
