"""What a benchmark produces: two quantities, their ratio, the goal, and whether it was met.

A row compares *ours* (the course's implementation) with a *peer* (a library, the lesson's code,
or a reference figure) through one ratio whose direction is part of its name: ``ours/peer`` for
"at most 1.5x the peer's time", ``peer/ours`` for "at least 50x faster", ``achieved/ideal`` for
how much of a predicted speedup was delivered. A goal is a bound on that ratio.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from benchmarks.timing import Timing

__all__ = [
    "Config",
    "Goal",
    "Measurement",
    "Quantity",
    "Status",
    "failed",
    "not_available",
    "slowdown_row",
    "speedup_row",
]

Status = Literal["measured", "not available", "failed"]
Comparison = Literal["<=", ">=", ">"]
_SYMBOLS: Mapping[str, str] = {"<=": "≤", ">=": "≥", ">": ">"}


@dataclass(frozen=True)
class Config:
    """How big a run is: the full benchmark, or tiny sizes that only check the harness works."""

    quick: bool = False

    def pick(self, full: Any, quick: Any) -> Any:
        """``full`` normally, ``quick`` under ``--quick``."""
        return quick if self.quick else full


@dataclass(frozen=True)
class Quantity:
    """One side of a comparison: a figure with its unit and every sample behind it.

    ``unit`` is ``"s/op"`` (seconds per operation), ``"s"``, ``"x"`` (a speedup), ``"tokens/s"``
    or ``"ratio"``. ``samples`` are the repetitions (or per-request times) the figure was taken
    from, in the same unit; ``extra`` holds related figures (a p95 next to a p50).
    """

    label: str
    value: float
    unit: str
    samples: tuple[float, ...] = ()
    extra: Mapping[str, float] = field(default_factory=dict)
    # Set for a figure that was not measured: "model" (a latency model's prediction) or
    # "budget" (a goal's allowance).
    reference: str = ""

    @classmethod
    def timed(cls, label: str, timing: Timing, *, unit: str = "s/op") -> Quantity:
        """The best repetition of ``timing``, keeping every repetition as samples."""
        return cls(label, timing.best, unit, timing.repetitions,
                   {"median": timing.median, "operations": float(timing.operations)})

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "unit": self.unit,
                "samples": list(self.samples), "extra": dict(self.extra),
                "reference": self.reference or None}


@dataclass(frozen=True)
class Goal:
    """``ratio <op> threshold``, e.g. ``Goal(">=", 50)`` for "at least 50x faster".

    ``source`` says where the goal comes from: the benchmark brief, or a claim a notebook
    asserts (those are re-checked here on bigger samples).
    """

    op: Comparison
    threshold: float
    source: str = "brief"

    def __post_init__(self) -> None:
        if self.op not in _SYMBOLS:
            raise ValueError(f"op must be one of {sorted(_SYMBOLS)}, got {self.op!r}")
        if not (math.isfinite(self.threshold) and self.threshold > 0):
            raise ValueError(f"threshold must be a positive number, got {self.threshold!r}")

    def met(self, ratio: float) -> bool:
        if self.op == "<=":
            return ratio <= self.threshold
        if self.op == ">=":
            return ratio >= self.threshold
        return ratio > self.threshold

    def margin(self, ratio: float) -> float:
        """How far past the goal ``ratio`` is: above 1 when met, below 1 when not."""
        if ratio <= 0:
            return 0.0
        return self.threshold / ratio if self.op == "<=" else ratio / self.threshold

    def describe(self) -> str:
        return f"{_SYMBOLS[self.op]} {self.threshold:g}"

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "threshold": self.threshold, "text": self.describe(),
                "source": self.source}


@dataclass(frozen=True)
class Measurement:
    """One row of the report.

    ``profile`` (not serialised) returns a text profile of where *our* side spends its time;
    it is called only when the goal is not met, after every timing is done.
    """

    name: str
    group: str
    title: str
    status: Status = "measured"
    ours: Quantity | None = None
    peer: Quantity | None = None
    ratio: float | None = None
    ratio_kind: str = ""
    goal: Goal | None = None
    note: str = ""
    profile: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.status == "measured" and self.ratio is None:
            raise ValueError(f"{self.name}: a measured row needs a ratio")
        if self.ratio is not None and not math.isfinite(self.ratio):
            raise ValueError(f"{self.name}: ratio must be finite, got {self.ratio}")

    @property
    def met(self) -> bool | None:
        """True / False against the goal; None when there is no goal or nothing was measured."""
        if self.status != "measured" or self.goal is None or self.ratio is None:
            return None
        return self.goal.met(self.ratio)

    @property
    def verdict(self) -> str:
        if self.status != "measured":
            return self.status
        if self.met is None:
            return "report"
        return "met" if self.met else "NOT MET"

    def to_json(self, profile_path: str | None = None) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "title": self.title,
            "status": self.status,
            "ours": self.ours.to_json() if self.ours else None,
            "peer": self.peer.to_json() if self.peer else None,
            "ratio": self.ratio,
            "ratio_kind": self.ratio_kind,
            "goal": self.goal.to_json() if self.goal else None,
            "met": self.met,
            "note": self.note,
            "profile": profile_path,
        }


def speedup_row(
    name: str, group: str, title: str, ours: Quantity, peer: Quantity, *,
    goal: Goal | None = None, note: str = "", profile: Callable[[], str] | None = None,
) -> Measurement:
    """A row whose ratio is ``peer/ours``: how many times faster ours is."""
    return Measurement(name, group, title, ours=ours, peer=peer, ratio=peer.value / ours.value,
                       ratio_kind="peer/ours", goal=goal, note=note, profile=profile)


def slowdown_row(
    name: str, group: str, title: str, ours: Quantity, peer: Quantity, *,
    goal: Goal | None = None, note: str = "", profile: Callable[[], str] | None = None,
) -> Measurement:
    """A row whose ratio is ``ours/peer``: ours in multiples of the peer's time."""
    return Measurement(name, group, title, ours=ours, peer=peer, ratio=ours.value / peer.value,
                       ratio_kind="ours/peer", goal=goal, note=note, profile=profile)


def not_available(group: str, reason: str) -> Measurement:
    """The row for a group whose code does not exist (yet)."""
    return Measurement(group, group, f"{group}: not available", status="not available",
                       note=reason)


def failed(group: str, reason: str) -> Measurement:
    """The row for a group that raised while measuring."""
    return Measurement(group, group, f"{group}: failed", status="failed", note=reason)
