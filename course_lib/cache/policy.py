"""How long an answer may be served from cache depends on what it is about.

"TTL 应该设多久?" has no single answer. The TTL is the longest time you accept serving an answer
that may have gone stale, so it follows how fast the underlying truth changes and what a stale
answer costs:

* an FAQ or how-to ("How do I reset my password?") changes when someone edits the article:
  cache it for a day and *delete it when the article changes* (invalidation), so the TTL is
  only a backstop;
* troubleshooting advice changes when a bug is fixed or an incident ends: hours, not days;
* real-time data (a ticket's status, "is Kitewing down?") changes by the minute and is about one
  user's data: do not cache it, or only for seconds to absorb a burst of retries.

A :class:`TTLPolicy` maps a content ``kind`` to a TTL in seconds, or to ``None`` for "never
cache". Entries that expire at the same moment can stampede the model together; adding a few
percent of random jitter to each TTL spreads them out (not done here, to keep replays exact).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..arguments import require_optional_seconds

__all__ = ["HOUR_S", "TTLPolicy"]

HOUR_S = 3600.0


def _check_ttl(name: str, ttl_s: float | None) -> float | None:
    # None is a choice here ("do not cache this kind"), not a missing value.
    return require_optional_seconds(f"the TTL for {name}", ttl_s)


@dataclass(frozen=True)
class TTLPolicy:
    """TTL in seconds per content kind; ``None`` means "do not cache this kind".

    ``default_ttl_s`` applies to kinds the table does not name and to answers of unknown kind.
    """

    ttl_s_by_kind: Mapping[str, float | None]
    default_ttl_s: float | None = None
    _table: Mapping[str, float | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        table = {}
        for kind, ttl_s in self.ttl_s_by_kind.items():
            if not isinstance(kind, str) or not kind:
                raise ValueError(f"kinds must be non-empty strings, got {kind!r}")
            table[kind] = _check_ttl(repr(kind), ttl_s)
        object.__setattr__(self, "_table", MappingProxyType(table))
        object.__setattr__(self, "default_ttl_s", _check_ttl("the default",
                                                             self.default_ttl_s))

    @classmethod
    def for_support_bot(cls, *, realtime_ttl_s: float | None = 30.0) -> TTLPolicy:
        """The lesson's answer, made explicit: articles a day, troubleshooting an hour,
        real-time data 30 s (pass ``realtime_ttl_s=None`` to never cache it), unknown kinds
        not at all (an answer we cannot classify is not one we can vouch for)."""
        return cls(
            {
                "faq": 24 * HOUR_S,
                "howto": 24 * HOUR_S,
                "policy": 24 * HOUR_S,
                "troubleshooting": 1 * HOUR_S,
                "realtime": realtime_ttl_s,
            },
            default_ttl_s=None,
        )

    def ttl_for(self, kind: str | None) -> float | None:
        """Seconds an answer of this kind may be served, or None: do not cache it."""
        if kind is None:
            return self.default_ttl_s
        return self._table.get(kind, self.default_ttl_s)

    def cacheable(self, kind: str | None) -> bool:
        return self.ttl_for(kind) is not None

    @property
    def max_ttl_s(self) -> float:
        """The longest TTL any answer can get (0 when nothing is cached)."""
        values = [ttl for ttl in (*self._table.values(), self.default_ttl_s) if ttl is not None]
        return max(values, default=0.0)
