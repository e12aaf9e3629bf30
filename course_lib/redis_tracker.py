"""One exact cost total shared by every process: the tracker's counters in Redis.

A lock in :class:`course_lib.tracker.CostTracker` serialises threads of one process. Run the
agent as four worker processes (gunicorn, Celery, several pods) and each has its own lock and
its own totals; nobody sees the whole bill. The counters have to live somewhere all of them
reach, and every update has to be one indivisible step there.

Redis gives both: ``HINCRBY`` adds an integer to a hash field atomically on the server (it runs
commands one at a time), so two processes that add at the same instant both count. That is the
cross-process version of Go's ``atomic.Int64.Add``. Two details make it exact:

* **Integers only.** Money is added as integer **pico-dollars** (1e-12 USD), a unit in which
  every price per token is whole; ``HINCRBYFLOAT`` would bring back float rounding.
* **One transaction per call.** A call adds to the totals, its model's counters and its hour's
  bucket, and may move the first/last timestamps: about twenty commands sent as one
  ``MULTI``/``EXEC``, so a reader never sees half a call. Summaries read inside one transaction
  too, so they are a consistent snapshot.

Keys, under ``prefix`` (one per tracked service, e.g. ``"costs:support-bot"``):

====================================== =========================================================
``{prefix}:total``                     hash: the :class:`~course_lib.tracker.Tally` fields
``{prefix}:by_model``                  hash: ``"{field}:{model}"`` → value
``{prefix}:buckets:{width}s``          hash: ``"{field}:{bucket index}"`` → value
``{prefix}:window``                    sorted set: ``first``/``last`` scored in µs since 1970,
                                       moved only earlier/later (``ZADD LT``/``GT``, Redis 6.2+)
====================================== =========================================================

The bucket width is in the key, so processes configured with different widths never mix
their buckets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from course_lib.tracker import (
    CallCost,
    Clock,
    CostTrackerBase,
    Snapshot,
    Tally,
    utc_now,
)

if TYPE_CHECKING:
    import redis

__all__ = ["RedisCostTracker"]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _split_fields(raw: Mapping[bytes | str, bytes | str]) -> dict[str, dict[str, int]]:
    """``{"calls:gpt-4o": "3", ...}`` → ``{"gpt-4o": {"calls": 3}}``.

    Tally field names contain no colon, so the first colon ends the field name; the rest is the
    model (model names may contain colons, as fine-tuned ones do: ``ft:gpt-4o-mini:acme::x``).
    """
    grouped: dict[str, dict[str, int]] = {}
    for key, value in raw.items():
        field, _, group = _text(key).partition(":")
        grouped.setdefault(group, {})[field] = int(value)
    return grouped


class RedisCostTracker(CostTrackerBase):
    """A cost tracker whose totals live in Redis, shared exactly by every process using ``prefix``.

    Same interface as :class:`course_lib.tracker.CostTracker` (``record_call``,
    ``record_usage``, ``record_response``, ``summary``, ``time_buckets``). ``redis_client`` is a
    ``redis.Redis`` (``decode_responses`` either way). Totals persist until :meth:`reset`.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        prefix: str,
        *,
        clock: Clock = utc_now,
        bucket: timedelta = timedelta(hours=1),
        min_projection_window: timedelta = timedelta(hours=1),
    ) -> None:
        super().__init__(clock=clock, bucket=bucket, min_projection_window=min_projection_window)
        if not isinstance(prefix, str) or not prefix.strip():
            raise ValueError(f"prefix must be a non-empty string, got {prefix!r}")
        self._redis = redis_client
        self.prefix = prefix
        self._total_key = f"{prefix}:total"
        self._by_model_key = f"{prefix}:by_model"
        self._buckets_key = f"{prefix}:buckets:{bucket // timedelta(seconds=1)}s"
        self._window_key = f"{prefix}:window"

    def _add(self, call: CallCost, increments: Mapping[str, int], at_us: int) -> None:
        bucket = at_us // self._bucket_us
        pipe = self._redis.pipeline(transaction=True)  # MULTI ... EXEC: all or nothing, atomic
        for field, amount in increments.items():
            if amount:
                pipe.hincrby(self._total_key, field, amount)
                pipe.hincrby(self._by_model_key, f"{field}:{call.model}", amount)
                pipe.hincrby(self._buckets_key, f"{field}:{bucket}", amount)
        # Scores are doubles: microseconds since 1970 (~1.8e15) are exact below 2**53.
        pipe.zadd(self._window_key, {"first": at_us}, lt=True)
        pipe.zadd(self._window_key, {"last": at_us}, gt=True)
        pipe.execute()

    def snapshot(self) -> Snapshot:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hgetall(self._total_key)
        pipe.hgetall(self._by_model_key)
        pipe.hgetall(self._buckets_key)
        pipe.zrange(self._window_key, 0, -1, withscores=True)
        total, by_model, buckets, window = pipe.execute()
        bounds = {_text(member): int(score) for member, score in window}
        return Snapshot(
            total=Tally.from_fields({_text(k): int(v) for k, v in total.items()}),
            by_model={model: Tally.from_fields(values)
                      for model, values in _split_fields(by_model).items()},
            buckets={int(index): Tally.from_fields(values)
                     for index, values in _split_fields(buckets).items()},
            first_us=bounds.get("first"),
            last_us=bounds.get("last"),
        )

    def reset(self) -> None:
        """Forget every total under this prefix (all processes see the reset)."""
        self._redis.delete(self._total_key, self._by_model_key, self._buckets_key,
                           self._window_key)

    def __repr__(self) -> str:
        return f"<RedisCostTracker prefix={self.prefix!r}>"
