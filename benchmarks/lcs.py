"""LCS length on support-article text: the bit-parallel and rolling-row versions against the
lesson's full-table DP, and against ``rapidfuzz`` (the same bit-parallel idea, in C++).

The strings are real English from the Kitewing knowledge base: two different shuffles of the
articles, cut to ``N`` characters, so they share vocabulary but not order, as two support
answers do. The full-table DP fills ``(N+1)^2`` cells in Python (25 million at ``N = 5,000``):
it is the baseline, timed once or twice, not five times. Every function must return the same
length, which is checked before anything is timed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from rapidfuzz.distance import LCSseq

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity, slowdown_row, speedup_row
from benchmarks.timing import Timing, best_of
from course_lib.algorithms import lcs_length, lcs_length_bitparallel, lcs_length_textbook
from course_lib.datasets import load_knowledge_base

GROUP = "lcs"


def support_text_pair(n: int, *, seed: int = 0) -> tuple[str, str]:
    """Two ``n``-character texts made of the knowledge base's articles in two shuffled orders."""
    articles = [entry.answer_full for entry in load_knowledge_base().entries]
    texts = []
    for offset in (1, 2):
        order = articles[:]
        random.Random(seed + offset).shuffle(order)
        text = " ".join(order)
        while len(text) < n:
            text += " " + text
        texts.append(text[:n])
    return texts[0], texts[1]


def _rows_for(n: int, config: Config) -> list[Measurement]:
    a, b = support_text_pair(n)
    expected = int(LCSseq.similarity(a, b))
    quadratic_repeat = 1 if n >= 5_000 else config.pick(2, 3)
    plans: dict[str, tuple[Callable[[str, str], int], int, int]] = {
        # name: (function, repetitions, warm-up runs); the quadratic ones get no warm-up,
        # their first run is already seconds long.
        "bitparallel": (lcs_length_bitparallel, config.pick(7, 3), 1),
        "rolling": (lcs_length, quadratic_repeat, 0),
        "textbook": (lcs_length_textbook, quadratic_repeat, 0),
    }
    answers: dict[str, int] = {}

    def timed(name: str, function: Callable[[str, str], int], repeat: int, warmup: int
              ) -> Timing:
        def once() -> None:
            answers[name] = function(a, b)  # kept to check, after timing, that all agree
        return best_of(once, repeat=repeat, warmup=warmup)

    timings = {name: timed(name, *plan) for name, plan in plans.items()}
    wrong = {name: answer for name, answer in answers.items() if answer != expected}
    if wrong:
        raise AssertionError(f"LCS lengths {wrong} differ from rapidfuzz's {expected}")
    number = config.pick(200, 20)  # rapidfuzz takes microseconds: loop to time it
    peer = best_of(lambda: [LCSseq.similarity(a, b) for _ in range(number)],
                   operations=number, repeat=config.pick(7, 3), warmup=1)

    bitparallel = Quantity.timed("lcs_length_bitparallel", timings["bitparallel"], unit="s")
    textbook = Quantity.timed("lcs_length_textbook (full table)", timings["textbook"], unit="s")

    def profile() -> str:
        return cprofile_text(lambda: lcs_length_bitparallel(a, b),
                             title=f"lcs_length_bitparallel on two {n:,}-character texts")

    size = f"{n:,} chars"
    note = f"LCS length {expected:,}"
    return [
        speedup_row(f"{GROUP}.bitparallel_vs_textbook_{n}", GROUP,
                    f"LCS bit-parallel vs textbook DP, {size}", bitparallel, textbook,
                    goal=Goal(">=", 20), profile=profile, note=note),
        speedup_row(f"{GROUP}.rolling_vs_textbook_{n}", GROUP,
                    f"LCS rolling row vs textbook DP, {size}",
                    Quantity.timed("lcs_length (rolling row)", timings["rolling"], unit="s"),
                    textbook, note=note + "; the same O(n*m) cells, one row of memory"),
        slowdown_row(f"{GROUP}.bitparallel_vs_rapidfuzz_{n}", GROUP,
                     f"LCS bit-parallel vs rapidfuzz LCSseq, {size}", bitparallel,
                     Quantity.timed("rapidfuzz LCSseq.similarity", peer, unit="s"),
                     goal=Goal("<=", 10), profile=profile, note=note),
    ]


def run(config: Config) -> list[Measurement]:
    return [row for n in config.pick((2_000, 5_000), (60, 150)) for row in _rows_for(n, config)]
