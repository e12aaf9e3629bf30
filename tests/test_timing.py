"""seconds_per_call: the fastest batch, per call, with an injected clock."""

from __future__ import annotations

import pytest

from course_lib.timing import seconds_per_call


class StepClock:
    """A clock that advances by the next listed step at every call of the timed function."""

    def __init__(self, steps: list[float]) -> None:
        self.now = 0.0
        self.steps = iter(steps)

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += next(self.steps)


def test_the_fastest_batch_decides_and_is_divided_by_the_calls() -> None:
    """Three batches of two calls take 10, 4 and 7 s: 2 s per call, the slow batches ignored."""
    clock = StepClock([5, 5, 2, 2, 3, 4])
    assert seconds_per_call(clock.tick, calls=2, batches=3, clock=clock) == 2.0


def test_every_call_is_made() -> None:
    made = []
    seconds_per_call(lambda: made.append(1), calls=7, batches=3)
    assert len(made) == 21


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_counts_are_rejected_by_name(bad: object) -> None:
    with pytest.raises(ValueError, match="calls must be a positive integer"):
        seconds_per_call(lambda: None, calls=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batches must be a positive integer"):
        seconds_per_call(lambda: None, batches=bad)  # type: ignore[arg-type]
