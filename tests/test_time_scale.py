"""One time scale, checked in one place, used by every part that simulates a wait."""

from __future__ import annotations

import math

import pytest

from course_lib import sandbox
from course_lib.agent.levers import Levers
from course_lib.agent.optimized import OptimizedAgent
from course_lib.sandbox.__main__ import main as sandbox_main
from course_lib.sandbox.state import SandboxState
from course_lib.time_scale import TIME_SCALE_ENV, check_time_scale, default_time_scale
from course_lib.tools.latency import SimulatedLatency

BAD = [-1, -0.001, math.inf, math.nan, True, "0.5", None]


@pytest.mark.parametrize("value", [0, 0.05, 1, 2.5])
def test_a_finite_number_at_least_zero_is_a_time_scale(value) -> None:
    assert check_time_scale(value) == float(value)
    assert isinstance(check_time_scale(value), float)


@pytest.mark.parametrize("value", BAD)
def test_anything_else_is_refused_with_the_name_it_was_given_under(value) -> None:
    with pytest.raises(ValueError, match=r"^--time-scale must be a finite number >= 0, got "):
        check_time_scale(value, "--time-scale")


def test_the_environment_sets_the_default(monkeypatch) -> None:
    monkeypatch.delenv(TIME_SCALE_ENV, raising=False)
    assert default_time_scale() == 1.0
    monkeypatch.setenv(TIME_SCALE_ENV, "0.1")
    assert default_time_scale() == 0.1
    for raw, message in (("fast", "must be a number, got 'fast'"),
                         ("-2", "must be a finite number >= 0, got -2.0")):
        monkeypatch.setenv(TIME_SCALE_ENV, raw)
        with pytest.raises(ValueError, match=f"{TIME_SCALE_ENV} {message}"):
            default_time_scale()


@pytest.mark.parametrize("value", [-1, math.nan, True])
def test_every_part_that_waits_refuses_the_same_values(value) -> None:
    message = r"time_scale must be a finite number >= 0"
    with pytest.raises(ValueError, match=message):
        SandboxState(time_scale=value)
    with pytest.raises(ValueError, match=message):
        SimulatedLatency(100, time_scale=value)
    with pytest.raises(ValueError, match=message):
        _agent(value)
    with sandbox.start(time_scale=0) as handle:
        with pytest.raises(ValueError, match=message):
            handle.time_scale = value
        assert handle.time_scale == 0.0  # the bad value was not kept


def _agent(time_scale: object) -> None:
    class NoRetries:
        max_retries = 0

    OptimizedAgent(NoRetries(), tools=None, tracker=None, customers=None,  # type: ignore[arg-type]
                   levers=Levers.none(), time_scale=time_scale)  # type: ignore[arg-type]


def test_the_command_line_says_which_flag_was_wrong(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        sandbox_main(["--port", "0", "--time-scale", "-1"])
    assert exit_info.value.code == 2
    assert "--time-scale must be a finite number >= 0, got -1.0" in capsys.readouterr().err


def test_expected_ttft_is_the_profiles_formula_without_jitter() -> None:
    profile = sandbox.MODEL_PROFILES["gpt-4o"]
    by_hand = profile.ttft_base_s + profile.ttft_per_prompt_token_s * (
        1000 - 800 + profile.cached_prompt_cost * 800)
    assert profile.expected_ttft(1000, 800) == pytest.approx(by_hand)
    assert profile.expected_ttft(0) == profile.ttft_base_s
