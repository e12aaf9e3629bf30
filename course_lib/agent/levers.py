"""The levers of the lesson's playbook, each one a switch, so each can be measured alone.

The lesson's part 3 lists four cost levers (成本优化四板斧) and three latency levers
(延迟优化三板斧); the response cache is on both lists, so there are six. Five change how one
turn is answered and are switches here, with the fallback chain that an optimized agent cannot
go without; the sixth, batch embedding, changes how the knowledge base is *indexed* and is
measured on its own (notebook 10):

===================== ================================================================
``compressed_prompt`` Prompt 压缩(去冗余): the compact prompt style instead of the verbose one
``response_cache``    Prompt 缓存 / 响应缓存: answers stored and served again, TTL by kind
``model_routing``     模型路由: simple questions to gpt-4o-mini
``fallback``          retries, a fallback model and circuit breakers (reliability, not a
                      lesson lever, but the optimized agent cannot go without it)
``concurrent_tools``  并发 tool 调用: the three tools at once, each with a timeout
``streaming``         流式响应 SSE: the first token shown as soon as it exists
===================== ================================================================

An **ablation** switches them on one at a time, in an order (:func:`ladder`), and measures each
step against the one before: the marginal effect of a lever, on top of the ones already on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["LEVER_LABELS", "LEVER_NAMES", "Levers", "ladder"]

LEVER_LABELS: dict[str, str] = {
    "compressed_prompt": "prompt compression",
    "response_cache": "response cache",
    "model_routing": "model routing",
    "fallback": "fallback chain",
    "concurrent_tools": "concurrent tools",
    "streaming": "streaming",
}
LEVER_NAMES: tuple[str, ...] = tuple(LEVER_LABELS)


def _check_names(names: Iterable[str]) -> list[str]:
    names = list(names)
    unknown = sorted(set(names) - set(LEVER_NAMES))
    if unknown:
        raise ValueError(f"unknown lever(s) {unknown}; the levers are {list(LEVER_NAMES)}")
    return names


@dataclass(frozen=True)
class Levers:
    """Which levers are on (all of them by default: the optimized agent)."""

    compressed_prompt: bool = True
    response_cache: bool = True
    model_routing: bool = True
    fallback: bool = True
    concurrent_tools: bool = True
    streaming: bool = True

    @classmethod
    def none(cls) -> Levers:
        """Every lever off: the naive agent's behaviour."""
        return cls(**dict.fromkeys(LEVER_NAMES, False))

    def with_on(self, *names: str) -> Levers:
        return dataclasses.replace(self, **dict.fromkeys(_check_names(names), True))

    def with_off(self, *names: str) -> Levers:
        return dataclasses.replace(self, **dict.fromkeys(_check_names(names), False))

    @property
    def on(self) -> tuple[str, ...]:
        return tuple(name for name in LEVER_NAMES if getattr(self, name))

    def describe(self) -> str:
        return ", ".join(LEVER_LABELS[name] for name in self.on) or "no levers"


def ladder(steps: Sequence[Sequence[str]]) -> list[tuple[str, Levers]]:
    """Levers switched on step by step: ``[("naive", none), ("+ a", a), ("+ b", a+b), ...]``.

    Each step is a group of lever names switched on together (a group of one is the usual
    case; latency-only levers that leave the bill alone can share a step).
    """
    levers = Levers.none()
    rungs = [("naive", levers)]
    seen: set[str] = set()
    for group in steps:
        names = _check_names(group)
        if not names:
            raise ValueError("a ladder step must switch on at least one lever")
        repeated = sorted(seen & set(names))
        if repeated:
            raise ValueError(f"lever(s) {repeated} are switched on twice")
        seen.update(names)
        levers = levers.with_on(*names)
        rungs.append(("+ " + " + ".join(LEVER_LABELS[name] for name in names), levers))
    return rungs
