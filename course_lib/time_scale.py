"""One time scale: how much faster than real time every simulated wait runs.

The sandbox's latencies, the agents' timeouts and breakers (notebook 10), the tools' simulated
remote calls (notebook 08) and the batching ideal (notebook 07) all multiply real-world seconds
by the same number: 1.0 is real time, 0.05 runs twenty times faster, 0 waits not at all. It is
read and checked here once, so every part agrees on what a valid scale is.
"""

from __future__ import annotations

import math
import os

__all__ = ["TIME_SCALE_ENV", "check_time_scale", "default_time_scale"]

TIME_SCALE_ENV = "COURSE_SANDBOX_TIME_SCALE"


def check_time_scale(value: object, name: str = "time_scale") -> float:
    """``value`` as a float, if it is a finite number >= 0; else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def default_time_scale() -> float:
    """``$COURSE_SANDBOX_TIME_SCALE`` if set (CI runs faster), else 1.0 (real-time latencies)."""
    raw = os.environ.get(TIME_SCALE_ENV, "1.0")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{TIME_SCALE_ENV} must be a number, got {raw!r}") from None
    return check_time_scale(value, TIME_SCALE_ENV)
