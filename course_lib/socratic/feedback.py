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

    ``correct`` is ``None`` when there is no verdict: text that is not a number (not recorded
    as an answer), or a free-text answer, which the learner rates after the reveal.
    """

    correct: bool | None
    message: str

    def __str__(self) -> str:
        return self.message

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.message)
