"""The seeded support-traffic trace: reproducible, Zipf-shaped, day-shaped."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from course_lib.traffic import DEFAULT_START, hourly_weights, support_traffic, zipf_weights


def test_same_seed_same_trace_other_seed_other_trace() -> None:
    assert support_traffic(300, seed=3) == support_traffic(300, seed=3)
    assert support_traffic(300, seed=3) != support_traffic(300, seed=4)


def test_sorted_and_inside_the_window() -> None:
    events = support_traffic(2000, seed=1, duration=timedelta(days=2))
    times = [e.at for e in events]
    assert times == sorted(times)
    assert times[0] >= DEFAULT_START and times[-1] < DEFAULT_START + timedelta(days=2)


def test_popularity_is_skewed_like_zipf() -> None:
    events = support_traffic(5000, seed=2, zipf_exponent=1.1)
    counts = sorted(Counter(e.entry_id for e in events).values(), reverse=True)
    weights = zipf_weights(len(counts), 1.1)
    # The top entry's share matches its Zipf weight within sampling noise, and the top five
    # entries carry far more than five uniform shares.
    assert counts[0] / 5000 == pytest.approx(weights[0], rel=0.15)
    assert sum(counts[:5]) / 5000 > 5 * (1 / len(counts)) * 2.5


def test_paraphrase_share() -> None:
    events = support_traffic(4000, seed=5, paraphrase_share=0.3)
    assert 0.26 < sum(e.is_paraphrase for e in events) / 4000 < 0.34
    assert all(not e.is_paraphrase for e in support_traffic(200, seed=5, paraphrase_share=0))


def test_day_curve_busier_afternoon_than_night() -> None:
    events = support_traffic(6000, seed=6)
    by_hour = Counter(e.at.hour for e in events)
    assert by_hour[14] > 3 * by_hour[3]
    assert sum(hourly_weights()) == pytest.approx(1.0)


def test_zipf_weights_by_hand() -> None:
    # s = 1, n = 3: 1, 1/2, 1/3 normalised by 11/6.
    assert zipf_weights(3, 1.0) == pytest.approx([6 / 11, 3 / 11, 2 / 11])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n": -1}, "n must be"), ({"n": 5, "paraphrase_share": 2}, "paraphrase_share"),
    ({"n": 5, "users": 0}, "users"), ({"n": 5, "duration": timedelta(0)}, "duration"),
])
def test_bad_arguments(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        support_traffic(**kwargs)
