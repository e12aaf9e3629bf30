"""Simulated network latency for a remote tool, and the seam that lets tests replace it.

The support tools do real work (an embedding search, SQL queries) that takes a few milliseconds
on this machine. In production the same tools sit behind a network: a vector database, the
ticketing system's API, the user service, each a round trip of a few hundred milliseconds. That
round trip is what concurrency saves, so the course **simulates** it with ``asyncio.sleep`` and
says so wherever a number depends on it.

A latency is any ``async`` callable that waits and returns the simulated seconds it stood for.
:class:`SimulatedLatency` sleeps for a fixed time scaled by ``time_scale`` (0.1 runs ten times
faster; ratios such as serial/parallel survive the scaling). Tests inject their own latency that
waits on an ``asyncio.Event`` instead, so they control exactly when each tool finishes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from course_lib.time_scale import check_time_scale

__all__ = ["Latency", "SimulatedLatency", "never_answers", "no_latency"]

Latency = Callable[[], Awaitable[float]]


@dataclass(frozen=True)
class SimulatedLatency:
    """Wait ``ms * time_scale`` milliseconds, like a remote call would; returns the seconds."""

    ms: float
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.ms, bool) or not isinstance(self.ms, int | float):
            raise TypeError(f"ms must be a number, got {self.ms!r}")
        if not math.isfinite(self.ms) or self.ms < 0:
            raise ValueError(f"ms must be a finite number >= 0, got {self.ms!r}")
        check_time_scale(self.time_scale)

    @property
    def seconds(self) -> float:
        """The scaled wait in seconds."""
        return self.ms * self.time_scale / 1000

    async def __call__(self) -> float:
        await asyncio.sleep(self.seconds)
        return self.seconds

    def __str__(self) -> str:
        scale = "" if self.time_scale == 1 else f" x time scale {self.time_scale:g}"
        return f"simulated network latency {self.ms:g} ms{scale}"


async def no_latency() -> float:
    """No simulated network: the tool's own work only."""
    return 0.0


def never_answers(on_cleanup: Callable[[float], object]) -> Latency:
    """A remote service that never replies (a half-open connection, a stuck service): the wait
    lasts until the call is cancelled; its ``finally`` then reports ``time.perf_counter()`` to
    ``on_cleanup``, so a demonstration can tell whether, and when, the tool was cleaned up."""

    async def wait_forever() -> float:
        try:
            await asyncio.Event().wait()  # a reply that never comes
        finally:
            on_cleanup(time.perf_counter())
        return 0.0

    return wait_forever
