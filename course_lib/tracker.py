"""Count what every LLM call costs, exactly, from many threads at once.

This is the lesson's "implementation 1": a cost-tracking middleware that every call reports to.
After each response, hand its usage to the tracker::

    tracker = CostTracker()
    response = client.chat.completions.create(model="gpt-4o", messages=messages)
    tracker.record_usage(response.model, response.usage)
    tracker.summary()["total_cost_usd"]       # Decimal('0.00825'), not a float

What it fixes in the lesson's Go ``CostTracker`` (ported faithfully in
``course_lib.lesson.cost_tracker``):

* **Exact money.** Costs come from :func:`course_lib.pricing.cost_usd` and are summed as
  integer pico-dollars (1e-12 USD, a unit in which every price in the table is a whole number),
  then reported as ``Decimal``. No float drift, and no rounding a $0.0000003 call down to $0.
* **Unknown models are refused**, with the pricing error, and nothing is recorded: a bill that
  silently counts a new model as $0 is worse than an exception.
* **One lock, one record.** A call's tokens, cost, model breakdown and time bucket move
  together, so a summary never sees the call counted but not yet paid for. Go's four separate
  atomics do not give that.
* **Projection by time window.** ``projected_monthly_usd`` is cost per second over the observed
  window (first to last call) times 30 days. The lesson's ``avgCost * calls * 30`` is the
  lifetime total times 30, whether the tracker has watched two hours or two weeks.

The same bookkeeping across *processes* lives in :mod:`course_lib.redis_tracker`. In a service
you would usually export these counters to a metrics system instead of keeping a summary in
memory: ``prometheus_client.Counter`` (thread-safe, but float) or OpenTelemetry's ``Counter``
with a cost attribute; the lesson's questions (exact units, refusal of unknown models, window
projections) apply to them just the same.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext
from typing import TypedDict

from course_lib.pricing import DAYS_PER_MONTH, CostBreakdown, cost_breakdown, usage_tokens

__all__ = [
    "DAYS_PER_MONTH",
    "CallCost",
    "Clock",
    "CostSummary",
    "CostTracker",
    "CostTrackerBase",
    "ModelBreakdown",
    "ProjectionPoint",
    "Snapshot",
    "Tally",
    "TimeBucket",
    "from_picodollars",
    "summary_table",
    "to_picodollars",
    "utc_now",
]

Clock = Callable[[], datetime]

PICODOLLARS_PER_USD = 10**12
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MONTH_US = DAYS_PER_MONTH * 86_400 * 1_000_000
# Precision for the derived figures (averages, shares, projections), which are quotients and
# cannot all be exact; sums never go through this context.
_QUOTIENT_DIGITS = 28


def utc_now() -> datetime:
    """The default clock: the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def to_picodollars(amount: Decimal) -> int:
    """``amount`` USD as a whole number of pico-dollars, refusing anything finer.

    Integer arithmetic is exact and needs no decimal context, and a Redis ``INCRBY`` can add it
    atomically. Every price in ``course_lib.pricing`` is a whole number of pico-dollars per
    token (the finest, batch-priced gpt-4o-mini cached input, is 37,500), so nothing is lost.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise TypeError(f"amount must be a finite Decimal, got {amount!r}")
    sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    magnitude = int("".join(map(str, digits)) or "0")
    shift = exponent + 12
    if shift >= 0:
        value = magnitude * 10**shift
    else:
        value, remainder = divmod(magnitude, 10**-shift)
        if remainder:
            raise ValueError(f"${amount} is not a whole number of pico-dollars (1e-12 USD)")
    return -value if sign else value


def from_picodollars(picodollars: int) -> Decimal:
    """A whole number of pico-dollars as an exact ``Decimal`` amount of USD."""
    if isinstance(picodollars, bool) or not isinstance(picodollars, int):
        raise TypeError(f"picodollars must be an int, got {picodollars!r}")
    exponent = -12
    while picodollars and picodollars % 10 == 0 and exponent < 0:  # 0.00825, not 0.008250000000
        picodollars //= 10
        exponent += 1
    # Built from a string: exact, whatever the decimal context.
    return Decimal(f"{picodollars}E{exponent if picodollars else 0}")


def _check_timestamp(name: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware (e.g. datetime.now(UTC)), got naive {value!r}: "
            "naive times from different machines cannot be put on one timeline"
        )
    return value


def _micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def _datetime(micros: int) -> datetime:
    return _EPOCH + micros * _MICROSECOND


# -- one call ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallCost:
    """One recorded call: when, which model, its tokens, and its cost split three ways.

    ``input_tokens`` includes the ``cached_input_tokens`` (OpenAI's convention); the fresh
    input is the rest. The three costs add up to :attr:`cost_usd` exactly.
    """

    at: datetime
    model: str
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    fresh_input_cost_usd: Decimal
    cached_input_cost_usd: Decimal
    output_cost_usd: Decimal

    @property
    def cost_usd(self) -> Decimal:
        return CostBreakdown(self.fresh_input_cost_usd, self.cached_input_cost_usd,
                             self.output_cost_usd).total_usd

    @classmethod
    def price(
        cls,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        *,
        at: datetime,
        batch: bool = False,
    ) -> CallCost:
        """Price one call with :func:`course_lib.pricing.cost_breakdown` (which validates it:
        an unknown model, bad counts, cached > input, output on an embedding model)."""
        _check_timestamp("at", at)
        parts = cost_breakdown(model, input_tokens, output_tokens, cached_input_tokens,
                               batch=batch)
        return cls(at, model, int(input_tokens), int(output_tokens), int(cached_input_tokens),
                   parts.fresh_input_usd, parts.cached_input_usd, parts.output_usd)


# -- running totals ---------------------------------------------------------------------------


@dataclass
class Tally:
    """Running totals for a group of calls (all, one model, one time bucket); money in pico-USD.

    The field names are also the Redis hash fields of :mod:`course_lib.redis_tracker`.
    """

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    fresh_input_picousd: int = 0
    cached_input_picousd: int = 0
    output_picousd: int = 0

    @staticmethod
    def increments(call: CallCost) -> dict[str, int]:
        """What recording ``call`` adds to each field."""
        return {
            "calls": 1,
            "input_tokens": call.input_tokens,
            "output_tokens": call.output_tokens,
            "cached_input_tokens": call.cached_input_tokens,
            "fresh_input_picousd": to_picodollars(call.fresh_input_cost_usd),
            "cached_input_picousd": to_picodollars(call.cached_input_cost_usd),
            "output_picousd": to_picodollars(call.output_cost_usd),
        }

    def add(self, increments: Mapping[str, int]) -> None:
        for name, amount in increments.items():
            setattr(self, name, getattr(self, name) + amount)

    @classmethod
    def from_fields(cls, values: Mapping[str, int]) -> Tally:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown tally fields: {', '.join(sorted(unknown))}")
        return cls(**values)

    def copy(self) -> Tally:
        return Tally(**vars(self))

    @property
    def cost_picousd(self) -> int:
        return self.fresh_input_picousd + self.cached_input_picousd + self.output_picousd

    @property
    def cost_usd(self) -> Decimal:
        return from_picodollars(self.cost_picousd)


@dataclass(frozen=True)
class TimeBucket:
    """The calls whose timestamps fall in ``[start, end)``: the dashboard's cost per hour."""

    start: datetime
    end: datetime
    calls: int
    cost_usd: Decimal
    fresh_input_cost_usd: Decimal
    cached_input_cost_usd: Decimal
    output_cost_usd: Decimal


class ModelBreakdown(TypedDict):
    """One model's share of the bill in :meth:`CostTrackerBase.summary`."""

    calls: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    fresh_input_cost_usd: Decimal
    cached_input_cost_usd: Decimal
    output_cost_usd: Decimal
    cost_usd: Decimal
    share_of_cost: Decimal | None  # of the total, 0..1; None while the total is $0


class CostSummary(TypedDict):
    """What :meth:`CostTrackerBase.summary` returns: a consistent snapshot of every total."""

    total_calls: int
    total_input_tokens: int
    total_output_tokens: int
    total_cached_input_tokens: int
    total_cost_usd: Decimal
    total_fresh_input_cost_usd: Decimal
    total_cached_input_cost_usd: Decimal
    total_output_cost_usd: Decimal
    avg_cost_per_call_usd: Decimal | None  # None before the first call
    by_model: dict[str, ModelBreakdown]
    first_call_at: datetime | None
    last_call_at: datetime | None
    window_seconds: float | None  # first to last call; None before the first call
    projected_monthly_usd: Decimal | None  # None while the window is too short
    projection_note: str  # how the projection was made, or why there is none


@dataclass(frozen=True)
class Snapshot:
    """Everything a tracker has counted, copied at one instant (under its lock)."""

    total: Tally
    by_model: dict[str, Tally]
    buckets: dict[int, Tally]  # bucket index (start // width, in µs since 1970) -> totals
    first_us: int | None
    last_us: int | None


def _quotient(numerator: int, denominator: int, *, scale: int = 0) -> Decimal:
    """``numerator / denominator * 10**scale``, rounded once, whatever the caller's context."""
    with localcontext(prec=_QUOTIENT_DIGITS):
        value = ((Decimal(numerator) / Decimal(denominator)).scaleb(scale)).normalize()
        # normalize() writes 300 as 3E+2; keep plain notation for whole numbers.
        return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def _describe(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds:.0f} s"


def _project(cost_picousd: int, window_us: int, min_window: timedelta
             ) -> tuple[Decimal | None, str]:
    """A month's cost from ``cost_picousd`` spent over ``window_us``, and how it was made."""
    min_us = min_window // _MICROSECOND
    if window_us <= 0 or window_us < min_us:
        return None, (
            f"the observed window ({_describe(window_us / 1e6)} from the first to the last call) "
            f"is shorter than the {_describe(min_us / 1e6)} minimum: too short to project a month "
            "from"
        )
    # Cost per second of observed window, times the seconds in 30 days. Integer numerator and
    # denominator: the only rounding is the final division's, at 28 significant digits.
    projected = _quotient(cost_picousd * _MONTH_US, window_us, scale=-12)
    note = (
        f"cost per second over the {_describe(window_us / 1e6)} from the first to the last call, "
        f"× {DAYS_PER_MONTH} days"
    )
    if window_us < 86_400 * 1_000_000:
        note += ("; a window shorter than a day over-weights the hours it covers (traffic has a "
                 "daily cycle)")
    return projected, note


@dataclass(frozen=True)
class ProjectionPoint:
    """What the projections said at the end of one time bucket, as the traffic came in."""

    at: datetime  # the end of the bucket, or the last call for the last one
    cost_so_far_usd: Decimal
    projected_monthly_usd: Decimal | None  # by window: cost so far per second x 30 days
    lifetime_total_x30_usd: Decimal  # the lesson's "avgCost * calls * 30"


def _breakdown(tally: Tally, total_picousd: int) -> ModelBreakdown:
    return ModelBreakdown(
        calls=tally.calls,
        input_tokens=tally.input_tokens,
        output_tokens=tally.output_tokens,
        cached_input_tokens=tally.cached_input_tokens,
        fresh_input_cost_usd=from_picodollars(tally.fresh_input_picousd),
        cached_input_cost_usd=from_picodollars(tally.cached_input_picousd),
        output_cost_usd=from_picodollars(tally.output_picousd),
        cost_usd=tally.cost_usd,
        share_of_cost=_quotient(tally.cost_picousd, total_picousd) if total_picousd else None,
    )


# -- the trackers -----------------------------------------------------------------------------


class CostTrackerBase(ABC):
    """What every cost tracker offers; subclasses decide where the totals live.

    ``clock`` stamps calls recorded without an explicit ``at`` (inject a fake one in tests, or
    to replay a day); it must return timezone-aware datetimes. ``bucket`` is the width of the
    time buckets (one hour: the dashboard's cost per hour). ``min_projection_window`` is the
    shortest first-to-last window :meth:`summary` will project a month from.
    """

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        bucket: timedelta = timedelta(hours=1),
        min_projection_window: timedelta = timedelta(hours=1),
    ) -> None:
        if not callable(clock):
            raise TypeError(f"clock must be callable, got {clock!r}")
        if not isinstance(bucket, timedelta) or bucket < timedelta(seconds=1):
            raise ValueError(f"bucket must be a timedelta of at least 1 second, got {bucket!r}")
        if bucket % timedelta(seconds=1):
            raise ValueError(f"bucket must be a whole number of seconds, got {bucket!r}")
        if not isinstance(min_projection_window, timedelta) or min_projection_window < timedelta(0):
            raise ValueError(
                f"min_projection_window must be a non-negative timedelta, got "
                f"{min_projection_window!r}"
            )
        self._clock = clock
        self.bucket = bucket
        self._bucket_us = bucket // _MICROSECOND
        self.min_projection_window = min_projection_window

    # -- recording ----------------------------------------------------------------------------

    def record_call(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        *,
        at: datetime | None = None,
        batch: bool = False,
    ) -> CallCost:
        """Record one call and return what it cost.

        ``at`` defaults to the tracker's clock; pass the event's own time to replay traffic.
        An unknown model or a bad count raises (the pricing module's error) and records nothing.
        """
        when = self._clock() if at is None else at
        call = CallCost.price(model, input_tokens, output_tokens, cached_input_tokens,
                              at=_check_timestamp("the clock's time" if at is None else "at",
                                                  when),
                              batch=batch)
        self._add(call, Tally.increments(call), _micros(call.at))
        return call

    def record_usage(self, model: str, usage: object, *, at: datetime | None = None,
                     batch: bool = False) -> CallCost:
        """Record a call from its usage report (read by :func:`course_lib.pricing.usage_tokens`:
        an openai usage object, a stream's usage chunk, or the same as a dict)."""
        input_tokens, output_tokens, cached = usage_tokens(usage)
        return self.record_call(model, input_tokens, output_tokens, cached, at=at, batch=batch)

    def record_response(self, response: object, *, at: datetime | None = None,
                        batch: bool = False) -> CallCost:
        """Record a chat or embeddings response by its own ``model`` and ``usage``.

        ``response.model`` is the dated snapshot that answered (``gpt-4o-2024-08-06`` for a
        ``gpt-4o`` request): what the provider bills, since an alias can move to a snapshot with
        another price.
        """
        model = getattr(response, "model", None)
        if not isinstance(model, str):
            raise TypeError(f"{type(response).__name__} has no 'model' to price the call by")
        return self.record_usage(model, getattr(response, "usage", None), at=at, batch=batch)

    @abstractmethod
    def _add(self, call: CallCost, increments: Mapping[str, int], at_us: int) -> None:
        """Add one priced call to the totals, atomically."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """A consistent copy of every total."""

    # -- reading ------------------------------------------------------------------------------

    def summary(self) -> CostSummary:
        """Every total, the per-model breakdown, the window and the monthly projection."""
        snap = self.snapshot()
        total = snap.total
        if snap.first_us is None or snap.last_us is None:
            window = None
            projected, note = None, "no calls yet: nothing to project from"
        else:
            window = (snap.last_us - snap.first_us) / 1e6
            projected, note = _project(total.cost_picousd, snap.last_us - snap.first_us,
                                       self.min_projection_window)
        return CostSummary(
            total_calls=total.calls,
            total_input_tokens=total.input_tokens,
            total_output_tokens=total.output_tokens,
            total_cached_input_tokens=total.cached_input_tokens,
            total_cost_usd=total.cost_usd,
            total_fresh_input_cost_usd=from_picodollars(total.fresh_input_picousd),
            total_cached_input_cost_usd=from_picodollars(total.cached_input_picousd),
            total_output_cost_usd=from_picodollars(total.output_picousd),
            avg_cost_per_call_usd=(_quotient(total.cost_picousd, total.calls, scale=-12)
                                   if total.calls else None),
            by_model={model: _breakdown(tally, total.cost_picousd)
                      for model, tally in sorted(snap.by_model.items(),
                                                 key=lambda item: -item[1].cost_picousd)},
            first_call_at=None if snap.first_us is None else _datetime(snap.first_us),
            last_call_at=None if snap.last_us is None else _datetime(snap.last_us),
            window_seconds=window,
            projected_monthly_usd=projected,
            projection_note=note,
        )

    def time_buckets(self) -> list[TimeBucket]:
        """Cost per time bucket (per hour by default), oldest first, quiet buckets as zeros."""
        return _buckets(self.snapshot().buckets, self._bucket_us)

    def projection_history(self) -> list[ProjectionPoint]:
        """Both monthly projections at the end of every time bucket, oldest first.

        Replays the tracker's own buckets: at the end of hour *k*, the window projection is the
        cost so far per second since the first call (to the end of that hour) times 30 days,
        and the lesson's figure is the cost so far times 30. Watching both through a day shows
        which one can be trusted before the day is over.
        """
        snap = self.snapshot()
        if snap.first_us is None or snap.last_us is None:
            return []
        points = []
        cost_so_far = 0
        for index in range(min(snap.buckets), max(snap.buckets) + 1):
            cost_so_far += snap.buckets.get(index, Tally()).cost_picousd
            at_us = min((index + 1) * self._bucket_us, snap.last_us)
            projected, _ = _project(cost_so_far, at_us - snap.first_us, self.min_projection_window)
            points.append(ProjectionPoint(
                at=_datetime(at_us),
                cost_so_far_usd=from_picodollars(cost_so_far),
                projected_monthly_usd=projected,
                lifetime_total_x30_usd=from_picodollars(cost_so_far * DAYS_PER_MONTH),
            ))
        return points


def _buckets(buckets: Mapping[int, Tally], width_us: int) -> list[TimeBucket]:
    if not buckets:
        return []
    out = []
    for index in range(min(buckets), max(buckets) + 1):
        tally = buckets.get(index, Tally())
        out.append(TimeBucket(
            start=_datetime(index * width_us),
            end=_datetime((index + 1) * width_us),
            calls=tally.calls,
            cost_usd=tally.cost_usd,
            fresh_input_cost_usd=from_picodollars(tally.fresh_input_picousd),
            cached_input_cost_usd=from_picodollars(tally.cached_input_picousd),
            output_cost_usd=from_picodollars(tally.output_picousd),
        ))
    return out


class CostTracker(CostTrackerBase):
    """The in-process tracker: one lock guards every total, so records never interleave.

    Why a lock and not "Python's GIL makes it safe": ``self.total += cost_usd(...)`` loads
    ``self.total``, *calls* ``cost_usd`` (a point where CPython may switch threads), then
    stores; a thread that ran in between has its update overwritten. Notebook 03 shows it.
    For several processes, use :class:`course_lib.redis_tracker.RedisCostTracker`.
    """

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        bucket: timedelta = timedelta(hours=1),
        min_projection_window: timedelta = timedelta(hours=1),
    ) -> None:
        super().__init__(clock=clock, bucket=bucket, min_projection_window=min_projection_window)
        self._lock = threading.Lock()
        self._total = Tally()
        self._by_model: dict[str, Tally] = {}
        self._buckets: dict[int, Tally] = {}
        self._first_us: int | None = None
        self._last_us: int | None = None

    def _add(self, call: CallCost, increments: Mapping[str, int], at_us: int) -> None:
        # Pricing happened before the lock: only the additions are serialised.
        bucket = at_us // self._bucket_us
        with self._lock:
            self._total.add(increments)
            self._by_model.setdefault(call.model, Tally()).add(increments)
            self._buckets.setdefault(bucket, Tally()).add(increments)
            self._first_us = at_us if self._first_us is None else min(self._first_us, at_us)
            self._last_us = at_us if self._last_us is None else max(self._last_us, at_us)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(
                total=self._total.copy(),
                by_model={model: tally.copy() for model, tally in self._by_model.items()},
                buckets={index: tally.copy() for index, tally in self._buckets.items()},
                first_us=self._first_us,
                last_us=self._last_us,
            )

    def __repr__(self) -> str:
        snap = self.snapshot()
        return (f"<CostTracker: {snap.total.calls} calls, ${snap.total.cost_usd} over "
                f"{len(snap.by_model)} models>")


def summary_table(summary: CostSummary) -> str:
    """A summary as the dashboard's table: one row per model, the total, the window and the
    projected month (or why there is none)."""
    lines = [f"{'model':24} {'calls':>6} {'input':>9} {'cached':>9} {'output':>8} "
             f"{'cost':>12} {'share':>6}"]
    for model, row in summary["by_model"].items():
        lines.append(f"{model:24} {row['calls']:6,} {row['input_tokens']:9,} "
                     f"{row['cached_input_tokens']:9,} {row['output_tokens']:8,} "
                     f"${row['cost_usd']:>11.6f} {float(row['share_of_cost']):6.1%}")
    lines.append(f"{'total':24} {summary['total_calls']:6,} {summary['total_input_tokens']:9,} "
                 f"{summary['total_cached_input_tokens']:9,} "
                 f"{summary['total_output_tokens']:8,} ${summary['total_cost_usd']:>11.6f}")
    first, last = summary["first_call_at"], summary["last_call_at"]
    if first is not None and last is not None and summary["window_seconds"] is not None:
        lines.append(f"\nwindow    : {first:%a %H:%M} to {last:%a %H:%M} "
                     f"({summary['window_seconds'] / 3600:.1f} h)")
    projected = summary["projected_monthly_usd"]
    month = "none" if projected is None else f"${projected:.2f} a month"
    lines.append(f"projected : {month} ({summary['projection_note']})")
    return "\n".join(lines)
