"""The A/B-test arithmetic: a two-proportion z-test and a sample size, checked by hand."""

from __future__ import annotations

import pytest

from course_lib.router.satisfaction_experiment import (
    sample_size_per_arm,
    simulate_ab_test,
    two_proportion_z_test,
)


def test_z_test_against_a_hand_computed_example() -> None:
    """60/100 satisfied in A, 45/100 in B.

    pooled p = 105/200 = 0.525; SE = sqrt(0.525 * 0.475 * (1/100 + 1/100)) = 0.070622;
    z = (0.45 - 0.60) / 0.070622 = -2.1240; p = 2 (1 - Phi(2.1240)) = 0.0337 (normal table).
    95% interval: -0.15 -/+ 1.96 * sqrt(0.6*0.4/100 + 0.45*0.55/100) = -0.15 -/+ 0.1368.
    """
    result = two_proportion_z_test(60, 100, 45, 100)
    assert result.difference == pytest.approx(-0.15)
    assert result.z == pytest.approx(-2.1240, abs=1e-4)
    assert result.p_value == pytest.approx(0.0337, abs=1e-4)
    assert (result.ci_low, result.ci_high) == pytest.approx((-0.2868, -0.0132), abs=1e-4)
    assert result.significant(0.05) and not result.significant(0.01)


def test_equal_rates_give_z_zero_and_p_one() -> None:
    result = two_proportion_z_test(30, 100, 60, 200)
    assert (result.z, result.p_value) == (0.0, 1.0)


def test_sample_size_against_a_hand_computed_example() -> None:
    """50% vs 60%, alpha 0.05, power 0.8:
    (1.95996 * sqrt(2 * 0.55 * 0.45) + 0.84162 * sqrt(0.25 + 0.24))^2 / 0.1^2
    = (1.37896 + 0.58914)^2 / 0.01 = 387.3, rounded up to 388."""
    assert sample_size_per_arm(0.5, 0.6) == 388
    assert sample_size_per_arm(0.6, 0.5) == 388


def test_halving_the_difference_roughly_quadruples_the_sample() -> None:
    ratio = sample_size_per_arm(0.80, 0.78) / sample_size_per_arm(0.80, 0.76)
    assert 3.6 < ratio < 4.4


def test_more_power_needs_more_conversations() -> None:
    assert sample_size_per_arm(0.8, 0.75, power=0.9) > sample_size_per_arm(0.8, 0.75, power=0.8)


def test_bad_input_is_an_error_that_names_it() -> None:
    with pytest.raises(ValueError, match="cannot exceed"):
        two_proportion_z_test(11, 10, 5, 10)
    with pytest.raises(ValueError, match="n_a must be at least 1"):
        two_proportion_z_test(0, 0, 5, 10)
    with pytest.raises(ValueError, match="nothing varies"):
        two_proportion_z_test(10, 10, 20, 20)
    with pytest.raises(ValueError, match="equal"):
        sample_size_per_arm(0.5, 0.5)
    with pytest.raises(ValueError, match="rate_a must be strictly between 0 and 1"):
        sample_size_per_arm(1.0, 0.5)
    with pytest.raises(TypeError, match="successes_b"):
        two_proportion_z_test(1, 10, 2.5, 10)  # type: ignore[arg-type]


def test_a_simulated_test_counts_each_arm_and_reads_them() -> None:
    small = simulate_ab_test(0.80, 0.70, per_arm=200, seed=5)
    large = simulate_ab_test(0.80, 0.70, per_arm=20_000, seed=5)
    # The counts are binomial draws near the assumed rates; the reading is the z-test's.
    assert abs(large.satisfied_a / 20_000 - 0.80) < 0.01
    assert abs(large.satisfied_b / 20_000 - 0.70) < 0.01
    assert large.result.significant(0.05)
    assert large.result == two_proportion_z_test(large.satisfied_a, 20_000,
                                                 large.satisfied_b, 20_000)
    # 80% vs 70%: (1.95996 * sqrt(2 * 0.75 * 0.25) + 0.84162 * sqrt(0.16 + 0.21))^2 / 0.1^2
    # = (1.20022 + 0.51194)^2 / 0.01 = 293.2, rounded up to 294 per arm.
    assert small.needed_per_arm == large.needed_per_arm == 294
    assert simulate_ab_test(0.80, 0.70, per_arm=200, seed=5) == small  # seeded
    assert "200" in small.lines()[0] and "294 rated conversations per arm" in small.lines()[-1]
    with pytest.raises(TypeError, match="per_arm"):
        simulate_ab_test(0.8, 0.7, per_arm=2.5, seed=1)
