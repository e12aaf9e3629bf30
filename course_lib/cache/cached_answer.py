"""What a response cache stores: an answer, who gave it, and what it was grounded in.

The lesson's ``CachedResponse`` holds the answer, its sources and the model. Two fields matter
more than they look:

* ``model`` is the model that *actually* answered. When the primary model fails and a fallback
  answers, the answer belongs under the fallback's key; stored under the primary's, a cheaper
  model's answer would be served as the strong model's for a whole TTL.
* ``sources`` maps each knowledge-base entry the answer was grounded in to the entry's version.
  It is how invalidation finds the answers to delete when an entry changes, and how a read can
  tell that an answer was built from an older version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["CachedAnswer", "CorruptCacheValueError"]

_FIELDS = frozenset({"answer", "model", "sources", "kind", "cached_at", "prompt_tokens",
                     "completion_tokens"})


class CorruptCacheValueError(ValueError):
    """A stored value is not a valid cached answer (written by other code, or truncated)."""


@dataclass(frozen=True)
class CachedAnswer:
    """One cached answer. ``kind`` (``faq``, ``realtime``, ...) picks its TTL."""

    answer: str
    model: str
    sources: Mapping[str, int] = field(default_factory=dict)
    kind: str | None = None
    cached_at: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.answer, str):
            raise TypeError(f"answer must be a string, got {type(self.answer).__name__}")
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model must name the model that answered, got {self.model!r}")
        if self.kind is not None and (not isinstance(self.kind, str) or not self.kind):
            raise ValueError(f"kind must be a non-empty string or None, got {self.kind!r}")
        for entry_id, version in self.sources.items():
            if not isinstance(entry_id, str) or not entry_id:
                raise ValueError(f"source ids must be non-empty strings, got {entry_id!r}")
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise ValueError(f"source {entry_id!r} needs a version >= 1, got {version!r}")
        for name in ("prompt_tokens", "completion_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        # Frozen means frozen: a caller keeping the dict it passed in cannot edit the sources.
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    def to_json(self) -> bytes:
        """UTF-8 JSON, the form the stores keep."""
        record: dict[str, Any] = {
            "answer": self.answer,
            "model": self.model,
            "sources": dict(self.sources),
            "kind": self.kind,
            "cached_at": self.cached_at,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> CachedAnswer:
        """Parse :meth:`to_json` output; :class:`CorruptCacheValueError` says what is wrong."""
        try:
            record = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptCacheValueError(f"cached value is not JSON: {exc}") from None
        if not isinstance(record, dict):
            raise CorruptCacheValueError(
                f"cached value must be a JSON object, got {type(record).__name__}")
        missing = {"answer", "model"} - set(record)
        unknown = set(record) - _FIELDS
        if missing or unknown:
            raise CorruptCacheValueError(
                f"cached value has missing fields {sorted(missing)} / unknown {sorted(unknown)}")
        try:
            return cls(**record)
        except (TypeError, ValueError, AttributeError) as exc:
            raise CorruptCacheValueError(f"cached value is invalid: {exc}") from None
