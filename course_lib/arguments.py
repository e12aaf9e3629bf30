"""Argument checks for the package's public edges, so every bad input fails in the same words.

A function a learner or a notebook calls checks its arguments here, once, and names the
argument that is wrong; code behind that edge trusts its callers (their types are checked by
the type checker, not at run time). A wrong type is a ``TypeError``, a wrong value a
``ValueError``; ``bool`` is never accepted as a number, although Python makes it an ``int``.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import TypeVar

T = TypeVar("T")


def _type_name(value: object) -> str:
    return type(value).__name__


def require_str(name: str, value: object, *, non_empty: bool = False) -> str:
    """``value`` if it is a ``str`` (with something other than whitespace, if ``non_empty``)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {_type_name(value)}")
    if non_empty and not value.strip():
        raise ValueError(f"{name} is empty")
    return value


def require_bool(name: str, value: object) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0, 1 or another truthy value)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_type_name(value)}")
    return value


def require_int(name: str, value: object, *, minimum: int | None = None,
                maximum: int | None = None) -> int:
    """``value`` if it is an ``int`` within ``[minimum, maximum]`` (either bound optional)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {_type_name(value)}")
    _require_within(name, value, minimum, maximum)
    return value


def require_number(name: str, value: object, *, minimum: float | None = None,
                   maximum: float | None = None, positive: bool = False,
                   kind: str = "a number") -> float:
    """``value`` as a finite ``float`` within ``[minimum, maximum]``; ``positive`` excludes 0.

    ``kind`` names what the number counts, for the error ("a number of seconds").
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be {kind}, got {_type_name(value)}")
    if positive and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive, finite number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    _require_within(name, value, minimum, maximum)
    return float(value)


def require_positive_seconds(name: str, value: object) -> float:
    """``value`` as a float if it is a positive, finite number of seconds."""
    return require_number(name, value, positive=True, kind="a number of seconds")


def require_optional_seconds(name: str, value: object) -> float | None:
    """``None`` (no limit) or a positive, finite number of seconds."""
    return None if value is None else require_positive_seconds(name, value)


def require_fraction(name: str, value: object) -> float:
    """``value`` as a float if it is a share between 0 and 1, both included."""
    return require_number(name, value, minimum=0.0, maximum=1.0)


def require_choice(name: str, value: T, choices: Collection[T]) -> T:
    """``value`` if it is one of ``choices``; the error lists them."""
    if value not in choices:
        listed = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {listed}, got {value!r}")
    return value


def _require_within(name: str, value: float, minimum: float | None,
                    maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
