"""A running sandbox's settings, clocks and records, shared by every request it serves."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import deque
from dataclasses import dataclass, field

from course_lib.sandbox.caches import EmbeddingMemo, PrefixCache
from course_lib.sandbox.faults import FaultInjector
from course_lib.time_scale import check_time_scale

__all__ = ["MAX_RECORDS", "RequestRecord", "SandboxState", "SimulatedStreamCut"]

MAX_RECORDS = 50_000  # /sandbox/stats keeps the latest requests, not all of them


class SimulatedStreamCut(ConnectionAbortedError):
    """Raised inside a stream to break its connection on purpose (the ``cut`` fault)."""


@dataclass
class RequestRecord:
    """What the sandbox did for one request (``/sandbox/stats`` and ``handle.requests``).

    ``planned_ttft_s`` is the wait before the first token the sandbox scheduled, in wall-clock
    seconds (the time scale applied): a measurement can be compared with it, so a loaded machine
    shows up as lateness rather than as a different latency model.
    """

    request_id: str
    endpoint: str
    model: str
    status: int = 200
    stream: bool = False
    prompt_tokens: int = 0
    cached_tokens: int = 0
    planned_completion_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: int = 0
    finish_reason: str | None = None
    planned_ttft_s: float | None = None
    fault: str | None = None
    cancelled: bool = False
    entry_id: str | None = None
    started_at: float = field(default_factory=time.time)
    duration_s: float = 0.0


class _Pacer:
    def __init__(self, state: SandboxState) -> None:
        self._state = state
        self._loop = asyncio.get_running_loop()
        self._due = self._loop.time()

    async def wait(self, seconds: float) -> None:
        self._due += seconds * self._state.time_scale
        delay = self._due - self._loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class SandboxState:
    """Settings and live state shared by every request of one sandbox."""

    time_scale: float = 1.0
    seed: int = 0
    hang_seconds: float = 60.0
    faults: FaultInjector = field(default_factory=FaultInjector)
    records: deque[RequestRecord] = field(default_factory=lambda: deque(maxlen=MAX_RECORDS))
    shutting_down: asyncio.Event | None = None
    prefix_cache: PrefixCache = field(default_factory=PrefixCache)
    embedding_memo: EmbeddingMemo = field(default_factory=EmbeddingMemo)
    # Served name -> simulated model (:mod:`.serve_as`); empty: the registry's own names.
    serve_as: dict[str, str] = field(default_factory=dict)
    _sequence: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.time_scale = check_time_scale(self.time_scale)

    def next_rng(self) -> random.Random:
        # Seeded per request number: one seed reproduces the same latency sequence.
        return random.Random(self.seed * 1_000_003 + next(self._sequence))

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of model time, scaled; at time scale 0 not at all."""
        scaled = seconds * self.time_scale
        if scaled > 0:
            await asyncio.sleep(scaled)

    def pacer(self) -> _Pacer:
        """A clock for a stream: each wait is measured from the stream's start, not from the
        previous wake-up, so the event loop's small lateness does not pile up over 300 tokens."""
        return _Pacer(self)

    def record(self, record: RequestRecord) -> RequestRecord:
        self.records.append(record)
        return record
