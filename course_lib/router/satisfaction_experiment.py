"""Does routing make users less happy? An A/B test answers it; two formulas size and read it.

The lesson's interview answer: "会,这是权衡。工程实践上可以做 A/B test,
对比小模型和大模型的用户满意度评分,数据说话" (yes, it is a trade-off; run an A/B test comparing
user satisfaction, let the data speak). Send a random half of conversations through the router
(B) and the other half always to the strong model (A); count the conversations rated satisfied
in each arm.

* :func:`two_proportion_z_test` reads the result: is the difference between the two satisfaction
  rates larger than chance would make it?
* :func:`sample_size_per_arm` sizes the test *before* it runs: how many conversations per arm are
  needed to see a difference of a given size. A test that is too small "finds no difference" for
  the wrong reason.

Both use the normal approximation, fine for hundreds of conversations or more. The standard
library's :class:`statistics.NormalDist` supplies the normal distribution; in production,
``statsmodels.stats.proportion.proportions_ztest`` and ``statsmodels.stats.power.NormalIndPower``
do the same, with continuity corrections and one-sided variants.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

__all__ = [
    "ProportionTest",
    "SimulatedABTest",
    "sample_size_per_arm",
    "simulate_ab_test",
    "two_proportion_z_test",
]

_STANDARD_NORMAL = NormalDist()


def _count(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _rate(name: str, value: object, *, open_interval: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    inside = 0 < value < 1 if open_interval else 0 <= value <= 1
    if not (math.isfinite(value) and inside):
        bounds = "strictly between 0 and 1" if open_interval else "between 0 and 1"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return float(value)


@dataclass(frozen=True)
class ProportionTest:
    """The result of comparing two rates: B minus A, how surprising it is, and a 95% interval."""

    rate_a: float
    rate_b: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float

    @property
    def difference(self) -> float:
        """``rate_b - rate_a``: negative when B (e.g. the routed arm) is rated lower."""
        return self.rate_b - self.rate_a

    def significant(self, alpha: float = 0.05) -> bool:
        """True when ``p_value < alpha``: a difference this large is unlikely by chance alone."""
        return self.p_value < _rate("alpha", alpha, open_interval=True)


def two_proportion_z_test(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, confidence: float = 0.95
) -> ProportionTest:
    """Two-sided z-test that two success rates are equal, e.g. satisfied / rated conversations.

    Under "no difference" both arms share one rate, the pooled ``p = (x_a + x_b) / (n_a + n_b)``,
    and the difference of the observed rates has standard error
    ``sqrt(p (1 - p) (1/n_a + 1/n_b))``. Then ``z = (p_b - p_a) / SE`` and the p-value is
    ``2 (1 - Phi(|z|))``. The interval uses each arm's own rate (unpooled standard error).
    """
    n_a = _count("n_a", n_a, minimum=1)
    n_b = _count("n_b", n_b, minimum=1)
    successes_a = _count("successes_a", successes_a, minimum=0)
    successes_b = _count("successes_b", successes_b, minimum=0)
    if successes_a > n_a or successes_b > n_b:
        raise ValueError("successes cannot exceed the number of trials in their arm")
    confidence = _rate("confidence", confidence, open_interval=True)
    rate_a, rate_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if pooled_se == 0:
        raise ValueError("both arms are all successes or all failures: nothing varies to test")
    z = (rate_b - rate_a) / pooled_se
    p_value = 2 * (1 - _STANDARD_NORMAL.cdf(abs(z)))
    margin = _STANDARD_NORMAL.inv_cdf(0.5 + confidence / 2) * math.sqrt(
        rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b
    )
    difference = rate_b - rate_a
    return ProportionTest(rate_a, rate_b, z, p_value, difference - margin, difference + margin)


def sample_size_per_arm(
    rate_a: float, rate_b: float, *, alpha: float = 0.05, power: float = 0.80
) -> int:
    """Conversations needed in *each* arm to detect ``rate_a`` vs ``rate_b`` (two-sided test).

    ``n = (z_{1-alpha/2} sqrt(2 pbar (1 - pbar)) + z_{power} sqrt(pa (1 - pa) + pb (1 - pb)))^2
    / (pa - pb)^2`` with ``pbar = (pa + pb) / 2``, rounded up. With ``power=0.8`` a real
    difference of that size is detected 4 times out of 5. Halve the difference and the sample
    quadruples.
    """
    rate_a = _rate("rate_a", rate_a, open_interval=True)
    rate_b = _rate("rate_b", rate_b, open_interval=True)
    alpha = _rate("alpha", alpha, open_interval=True)
    power = _rate("power", power, open_interval=True)
    if rate_a == rate_b:
        raise ValueError("the two rates are equal: no sample size can detect a zero difference")
    mean_rate = (rate_a + rate_b) / 2
    z_alpha = _STANDARD_NORMAL.inv_cdf(1 - alpha / 2)
    z_power = _STANDARD_NORMAL.inv_cdf(power)
    spread = (z_alpha * math.sqrt(2 * mean_rate * (1 - mean_rate))
              + z_power * math.sqrt(rate_a * (1 - rate_a) + rate_b * (1 - rate_b)))
    return math.ceil(spread**2 / (rate_a - rate_b) ** 2)


@dataclass(frozen=True)
class SimulatedABTest:
    """An A/B test run on assumed satisfaction rates: what it counted, and what it concluded."""

    assumed_a: float
    assumed_b: float
    per_arm: int
    satisfied_a: int
    satisfied_b: int
    result: ProportionTest
    needed_per_arm: int

    def lines(self) -> list[str]:
        """The test read out: each arm, the difference with its interval, and the size needed."""
        r = self.result
        return [
            f"  A always strong: {self.satisfied_a}/{self.per_arm} = {r.rate_a:.1%}   "
            f"(assumed rate {self.assumed_a:.1%})",
            f"  B routed       : {self.satisfied_b}/{self.per_arm} = {r.rate_b:.1%}   "
            f"(assumed rate {self.assumed_b:.1%})",
            f"  difference B - A: {r.difference:+.1%}, 95% interval [{r.ci_low:+.1%}, "
            f"{r.ci_high:+.1%}], z = {r.z:.2f}, p = {r.p_value:.3f}",
            f"  significant at 5%: {r.significant(0.05)}",
            f"  to detect {self.assumed_a:.1%} vs {self.assumed_b:.1%} (80% power, 5% two-sided): "
            f"{self.needed_per_arm:,} rated conversations per arm",
        ]


def simulate_ab_test(assumed_a: float, assumed_b: float, *, per_arm: int,
                     seed: int) -> SimulatedABTest:
    """Rate ``per_arm`` conversations in each arm at the assumed rates (a seeded binomial draw),
    read the counts with :func:`two_proportion_z_test`, and size the test that would be needed
    with :func:`sample_size_per_arm`. The rates are assumptions; only the arithmetic is real."""
    per_arm = _count("per_arm", per_arm, minimum=1)
    needed = sample_size_per_arm(assumed_a, assumed_b)
    rng = np.random.default_rng(seed)
    satisfied_a = int(rng.binomial(per_arm, assumed_a))
    satisfied_b = int(rng.binomial(per_arm, assumed_b))
    result = two_proportion_z_test(satisfied_a, per_arm, satisfied_b, per_arm)
    return SimulatedABTest(assumed_a, assumed_b, per_arm, satisfied_a, satisfied_b, result, needed)
