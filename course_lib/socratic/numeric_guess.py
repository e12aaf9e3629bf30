"""A numeric guess box: the learner estimates a figure and hears how far off they are.

The point of a Fermi estimate is the order of magnitude, so feedback talks in ratios ("too high
by 3.2x") once a guess is far off and in percentages when it is close. The expected value is
computed by the notebook from ``course_lib`` and passed in: no figure is typed into this module.

Tolerance works like :func:`math.isclose`: a guess is accepted when it is within ``rel_tol`` of
the answer *or* within ``abs_tol`` of it, whichever allows more.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal

from course_lib.socratic.feedback import Feedback

_MULTIPLIERS = {"k": 1e3, "K": 1e3, "M": 1e6}
_CURRENCY = "$¥€£"
# Below this ratio, "off by 40%" says more than "off by 1.4x".
_RATIO_WORDING_FROM = 1.5


class NumericGuess:
    """Accept a number close enough to ``expected``.

    ``rel_tol=0.1`` accepts anything within 10% of the answer; ``abs_tol`` adds an absolute
    allowance (needed when the answer is 0); pass ``rel_tol=0`` for an absolute tolerance only.
    ``unit`` is shown in feedback and may be typed after the number ("300 ms").
    """

    def __init__(
        self,
        expected: float | int | Decimal,
        rel_tol: float = 0.1,
        abs_tol: float | None = None,
        unit: str = "",
    ) -> None:
        self.expected = _finite_number("expected", expected)
        self.rel_tol = _tolerance("rel_tol", rel_tol)
        self.abs_tol = None if abs_tol is None else _tolerance("abs_tol", abs_tol)
        if not isinstance(unit, str):
            raise ValueError(f"unit must be a string such as 'ms' or 'USD', got {unit!r}")
        self.unit = unit.strip()

    @property
    def placeholder(self) -> str:
        """Hint text for an empty input box."""
        # No example figure: a number in the box would anchor the learner's estimate.
        in_unit = f" in {self.unit}" if self.unit else ""
        return f"your estimate{in_unit} (commas and k/M suffixes are fine)"

    def tolerance_text(self) -> str:
        """How close counts as right, in words: "10% allowed", "±5 ms allowed"."""
        allowances = []
        if self.rel_tol > 0:
            allowances.append(_percent(self.rel_tol))
        if self.abs_tol:
            allowances.append("±" + _with_unit(_number(self.abs_tol), self.unit))
        if not allowances:
            return "an exact answer is expected"
        return " or ".join(allowances) + " allowed"

    def check(self, guess: object) -> Feedback:
        """Compare ``guess`` (a number, or text like "1,200", "$1.2k", "300 ms") with the answer."""
        value = parse_number(guess, self.unit)
        if value is None:
            return Feedback(
                None,
                f"Could not read {guess!r} as a number: write digits, with commas or a k/M "
                "suffix if you like.",
            )
        expected = self.expected
        error = value - expected
        allowed = max(self.rel_tol * abs(expected), self.abs_tol or 0.0)
        if abs(error) <= allowed:
            return Feedback(True, f"✓ {self._closeness(value)} — well reasoned.")
        direction = "too high" if error > 0 else "too low"
        return Feedback(
            False,
            f"✗ {direction} by {self._distance(value)} ({self.tolerance_text()}). "
            "Rethink it, take a hint, or reveal the answer.",
        )

    def _closeness(self, value: float) -> str:
        error = abs(value - self.expected)
        if error == 0:
            return "exactly right"
        if self.expected != 0:
            return f"within {_percent(error / abs(self.expected))} of the answer"
        return f"within {_with_unit(_number(error), self.unit)} of the answer"

    def _distance(self, value: float) -> str:
        expected = self.expected
        same_sign = expected != 0 and value != 0 and (value > 0) == (expected > 0)
        if not same_sign:
            return _with_unit(_number(abs(value - expected)), self.unit)
        ratio = max(abs(value), abs(expected)) / min(abs(value), abs(expected))
        if ratio >= _RATIO_WORDING_FROM:
            return f"{ratio:.1f}x"
        return _percent(abs(value - expected) / abs(expected))


def parse_number(guess: object, unit: str = "") -> float | None:
    """Read a guess as a float, or return ``None`` if it is not a finite number.

    Accepts numbers and text such as ``"1,200"``, ``"1_200"``, ``"$1.2k"``, ``"3M"``,
    ``"300 ms"`` (when ``unit`` is ``"ms"``) and ``"80%"`` (0.8, unless ``unit`` is ``"%"``).
    """
    if isinstance(guess, bool):
        return None
    if isinstance(guess, numbers.Real | Decimal):
        value = float(guess)
        return value if math.isfinite(value) else None
    if not isinstance(guess, str):
        return None
    text = guess.strip()
    if unit and text.lower().endswith(unit.lower()):
        text = text[: -len(unit)].strip()
    scale = 1.0
    if text.endswith("%"):
        text = text[:-1].strip()
        scale = 1.0 if unit == "%" else 0.01
    elif text[-1:] in _MULTIPLIERS:
        scale = _MULTIPLIERS[text[-1]]
        text = text[:-1].strip()
    text = text.lstrip(_CURRENCY).strip()
    text = re.sub(r"(?<=\d)[,_](?=\d)", "", text)
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _finite_number(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise ValueError(f"{what} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number


def _tolerance(what: str, value: object) -> float:
    number = _finite_number(what, value)
    if number < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")
    return number


def _percent(fraction: float) -> str:
    # One decimal place below 1%, so a near miss never reads as "0%".
    return f"{fraction:.1%}" if fraction < 0.01 else f"{fraction:.0%}"


def _number(value: float) -> str:
    return f"{value:,.4g}"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit in {"%", "x"} else f"{text} {unit}"
