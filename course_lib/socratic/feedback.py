"""What card methods hand back: text that reads well in a notebook, a terminal or a test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class Reply(str):
    """A plain ``str`` (compare it, search it, print it) that IPython shows without quotes."""

    __slots__ = ()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


@dataclass(frozen=True)
class Feedback:
    """The verdict on one guess.

    ``correct`` is ``None`` when the guess could not be checked at all (an empty box, or text
    that is not a number); such a guess is not recorded as an answer. ``missed`` names the
    concepts a free-text guess did not mention.
    """

    correct: bool | None
    message: str
    missed: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.message)
