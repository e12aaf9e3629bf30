"""Checks for ``exercises/ex05_algorithms``: LCS, bounded edit distance, Kahn's sort, a limiter.

Right answers come from independent oracles, never from :mod:`course_lib.algorithms`:
``rapidfuzz`` (LCS length and Levenshtein distance, in C++), the standard library's
``graphlib`` (does an order exist?), a validity test for any order, and a brute-force list of
grant times for the rate limiter. Where speed is the point, the learner's code is compared with
itself on two sizes (:mod:`course_lib.checks.work`): the limiter by counting the lines it runs,
the sort (beside a linear yardstick: the course's own
:func:`course_lib.algorithms.toposort.topological_sort`, timed, never asked for answers)
and the bound by CPU time with a budget, so a busy machine
does not fail a right answer and a quadratic one is judged in a second or two.
"""

from __future__ import annotations

import graphlib
import random
import tracemalloc
from collections.abc import Callable, Sequence

from rapidfuzz.distance import LCSseq, Levenshtein

from course_lib.algorithms.toposort import topological_sort as yardstick_sort
from course_lib.checks.expect import (
    call_learner,
    describe_call,
    expect,
    expect_equal,
    short_repr,
)
from course_lib.checks.hints import mistake_hint
from course_lib.checks.registry import register
from course_lib.checks.work import count_steps, cpu_seconds

__all__ = ["check_edit_distance", "check_lcs", "check_limiter", "check_topological_sort"]

# Pairs a learner can verify by hand, then mixed-script ones where bytes and characters differ.
_LCS_BY_HAND = (
    ("ABCBDAB", "BDCABA", 4),
    ("", "anything", 0),
    ("abc", "abc", 3),
    ("abc", "xyz", 0),
    ("reset password", "reset pasword", 13),
)
_CHINESE_PAIRS = (
    ("缓存策略", "存储策略"),
    ("怎么重置密码", "如何重设密码"),
    ("API 限流", "API 的限流规则"),
)
_ALPHABET = "abcde缓存策略 "


def _random_text(rng: random.Random, length: int, alphabet: str = _ALPHABET) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


# -- q1: LCS ------------------------------------------------------------------------------------


@register("ex05.q1", "LCS length on characters, with a rolling array")
def check_lcs(lcs_length: Callable[[str, str], int]) -> str:
    """Right lengths (hand-made, Chinese, random vs rapidfuzz), and memory of a row, not a table."""
    cases = [(a, b, expected) for a, b, expected in _LCS_BY_HAND]
    cases += [(a, b, LCSseq.similarity(a, b)) for a, b in _CHINESE_PAIRS]
    rng = random.Random(5)
    cases += [(a, b, LCSseq.similarity(a, b))
              for a, b in ((_random_text(rng, rng.randint(0, 30)),
                            _random_text(rng, rng.randint(0, 30))) for _ in range(60))]
    for a, b, expected in cases:
        call = describe_call("lcs_length", a, b)
        got = call_learner(lcs_length, a, b, call=call)
        mistake = "recurrence"
        if got != expected:
            as_bytes = LCSseq.similarity(list(a.encode()), list(b.encode()))
            if got == as_bytes != expected:
                mistake = "bytes"
            elif got == expected + 1 or got == expected - 1:
                mistake = "off_by_one"
        expect_equal(got, expected, call=call, hint=mistake_hint("ex05.q1", mistake))
        swapped = describe_call("lcs_length", b, a)
        expect_equal(call_learner(lcs_length, b, a, call=swapped), expected, call=swapped,
                     problem="LCS is symmetric: swapping the arguments changed the answer",
                     hint=mistake_hint("ex05.q1", "diagonal"))

    # A full (m+1) x (n+1) table of 400 x 400 holds 160,000 cells (about 1.3 MB of pointers); a
    # rolling row holds 401. Values stay below 257, so CPython reuses its small ints and only the
    # lists themselves are measured.
    a, b = _random_text(rng, 400, "abcdefgh"), _random_text(rng, 400, "abcdefgh")
    tracemalloc.start()
    try:
        got = call_learner(lcs_length, a, b, call=describe_call("lcs_length", a, b))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expect_equal(got, LCSseq.similarity(a, b), call=describe_call("lcs_length", a, b))
    expect(peak < 200_000, "it uses a whole table's memory, not a rolling row's",
           call=describe_call("lcs_length", a, b),
           expected="peak memory well under 200 KB (one or two rows of 401 cells: ~7 KB)",
           got=f"peak memory {peak / 1000:,.0f} KB", hint=mistake_hint("ex05.q1", "memory"))
    return (f"{len(cases)} pairs right (Chinese too); peak memory {peak / 1000:,.1f} KB "
            "on 400 x 400 characters")


# -- q2: edit distance with a bound --------------------------------------------------------------

BOUND_SAVING = 0.25  # with max_distance=3, far-apart strings must cost under 1/4 of the full table
FULL_TABLE_BUDGET_S = 3.0  # the 600 x 600 table takes ~0.3 s of CPU in plain Python


@register("ex05.q2", "edit distance, and None past a bound")
def check_edit_distance(edit_distance: Callable[..., int | None]) -> str:
    """Exact distances vs rapidfuzz; ``max_distance=k`` gives the distance or None; the bound
    saves work."""
    cases = [("kitten", "sitting"), ("", "abc"), ("abc", ""), ("abc", "abc"),
             ("how do I reset pasword", "how do I reset password"), ("flaw", "lawn"),
             *_CHINESE_PAIRS]
    rng = random.Random(7)
    cases += [(_random_text(rng, rng.randint(0, 25)), _random_text(rng, rng.randint(0, 25)))
              for _ in range(60)]
    for a, b in cases:
        expected = Levenshtein.distance(a, b)
        call = describe_call("edit_distance", a, b)
        got = call_learner(edit_distance, a, b, call=call)
        expect_equal(got, expected, call=call, hint=mistake_hint("ex05.q2", "recurrence"))
    bounded = 0
    for a, b in cases[:40]:
        distance = Levenshtein.distance(a, b)
        for k in range(5):
            expected = distance if distance <= k else None
            call = describe_call("edit_distance", a, b, max_distance=k)
            got = call_learner(edit_distance, a, b, max_distance=k, call=call)
            mistake = "bound_none" if (got is None) != (expected is None) else "bound_exact"
            if got is not None and expected is not None and got != expected:
                mistake = "band"
            expect_equal(got, expected, call=call, hint=mistake_hint("ex05.q2", mistake))
            bounded += 1

    # Does the bound save work? Two unrelated 600-character strings are far apart: a bounded
    # search can stop after a few rows (or never leave its band); a full table cannot.
    a, b = _random_text(rng, 600, "abcdefghij"), _random_text(rng, 600, "abcdefghij")
    full_call = describe_call("edit_distance", a, b)
    full_s, _ = cpu_seconds(lambda: call_learner(edit_distance, a, b, call=full_call),
                            budget_s=FULL_TABLE_BUDGET_S)
    expect(full_s is not None, "it is too slow on two 600-character strings", call=full_call,
           expected=f"well under {FULL_TABLE_BUDGET_S:g} s of CPU for 360,000 cells",
           got=f"more than {FULL_TABLE_BUDGET_S:g} s", hint=mistake_hint("ex05.q2", "slow"))
    assert full_s is not None
    bounded_call = describe_call("edit_distance", a, b, max_distance=3)
    bounded_s: float | None = None
    if full_s > 0.005:  # a library call (rapidfuzz) is fast either way: nothing to compare
        for _ in range(3):
            spent, got = cpu_seconds(
                lambda: call_learner(edit_distance, a, b, max_distance=3, call=bounded_call),
                budget_s=BOUND_SAVING * full_s)
            if spent is None:
                continue  # over the budget: it did not stop early (this time)
            expect_equal(got, None, call=bounded_call, hint=mistake_hint("ex05.q2", "bound_none"))
            bounded_s = spent
            break
        expect(bounded_s is not None, "the bound does not save any work", call=bounded_call,
               expected=f"under {BOUND_SAVING:.0%} of the CPU time of the same call without a "
                        "bound",
               got=f"more than {BOUND_SAVING * full_s * 1000:.0f} ms with max_distance=3 "
                   f"(three tries), {full_s * 1000:.0f} ms without",
               hint=mistake_hint("ex05.q2", "no_saving"))
    else:
        got = call_learner(edit_distance, a, b, max_distance=3, call=bounded_call)
        expect_equal(got, None, call=bounded_call, hint=mistake_hint("ex05.q2", "bound_none"))
    return f"{len(cases)} distances and {bounded} bounded lookups right; the bound saves work"


# -- q3: topological sort ------------------------------------------------------------------------


def _is_valid_order(order: object, n: int, edges: Sequence[tuple[int, int]]) -> str | None:
    """None if ``order`` is a topological order of the graph, else what is wrong with it."""
    if not isinstance(order, list):
        return f"it is a {type(order).__name__}, not a list"
    if sorted(order) != list(range(n)):
        return f"it should hold each node 0..{n - 1} exactly once"
    position = {node: index for index, node in enumerate(order)}
    for before, after in edges:
        if position[before] > position[after]:
            return f"edge ({before}, {after}) says {before} must come before {after}"
    return None


def _has_cycle(n: int, edges: Sequence[tuple[int, int]]) -> bool:
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for node in range(n):
        sorter.add(node)
    for before, after in edges:
        sorter.add(after, before)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return True
    return False


def _random_graph(rng: random.Random, acyclic: bool) -> tuple[int, list[tuple[int, int]]]:
    n = rng.randint(1, 12)
    labels = list(range(n))
    rng.shuffle(labels)  # a DAG whose order is not simply 0..n-1
    edges = []
    for _ in range(rng.randint(0, 2 * n)):
        i, j = rng.randrange(n), rng.randrange(n)
        if acyclic:
            if i == j:
                continue
            i, j = min(i, j), max(i, j)
        edges.append((labels[i], labels[j]))
    return n, edges


# Linear time, measured against a yardstick: the course's own Kahn's sort on a deque
# (course_lib.algorithms.toposort; only its time is used, never its answers), timed alongside
# the learner's on the same two graphs (8x the nodes). Load and caches slow both
# alike, so the learner's growth divided by the yardstick's stays near 1 for linear code on any
# machine (the yardstick itself grows 7-15x, depending on how busy the caches are), while with
# list.pop(0) every pop moves the rest of the queue: 4-8x the yardstick's growth at these sizes.
# Most nodes start in the queue, where pop(0) costs the most.
SORT_SIZES = (10_000, 80_000)
MAX_RELATIVE_GROWTH = 2.5
SORT_BUDGET_FLOOR_S = 0.1  # very fast code (a C library) gets at least this long for the large run
SORT_BUDGET_CAP_S = 1.0  # and no answer gets longer (a linear sort needs ~0.05 s)


@register("ex05.q3", "Kahn's topological sort: an order, or None on a cycle")
def check_topological_sort(topological_sort: Callable[[int, list], list[int] | None]) -> str:
    """Valid orders for DAGs, None for cycles (graphlib decides which), and linear time."""
    cases: list[tuple[int, list[tuple[int, int]]]] = [
        (4, [(0, 1), (0, 2), (1, 3), (2, 3)]),  # the diamond: search, then two lookups, reply
        (0, []),
        (3, []),
        (3, [(2, 1), (1, 0)]),
        (3, [(0, 1), (0, 1), (1, 2)]),  # a duplicate edge counts twice in the in-degree
        (2, [(0, 1), (1, 0)]),
        (1, [(0, 0)]),
        (5, [(0, 1), (2, 3), (3, 4), (4, 2)]),  # a cycle behind a valid part
    ]
    rng = random.Random(11)
    cases += [_random_graph(rng, acyclic=index % 2 == 0) for index in range(80)]
    cycles = 0
    for n, edges in cases:
        call = describe_call("topological_sort", n, edges)
        got = call_learner(topological_sort, n, list(edges), call=call)
        if _has_cycle(n, edges):
            cycles += 1
            expect(got is None, "this graph has a cycle, so no order exists", call=call,
                   expected="None", got=short_repr(got), hint=mistake_hint("ex05.q3", "cycle"))
            continue
        problem = _is_valid_order(got, n, edges)
        expect(problem is None, "that is not a valid order for this graph", call=call,
               expected="every node once, each edge (u, v) with u before v",
               got=f"{short_repr(got)}: {problem}" if got is not None else "None",
               hint=mistake_hint("ex05.q3", "no_order" if got is None else "order"))

    small_n, large_n = SORT_SIZES
    growth_call = (f"topological_sort(n, edges) for n = {small_n:,} and n = {large_n:,} "
                   f"({large_n // small_n}x)")

    def star(n: int) -> list[tuple[int, int]]:
        return [(node, n - 1) for node in range(n - 1)]

    calls = {n: describe_call("topological_sort", n, star(n)) for n in SORT_SIZES}

    def run(n: int, edges: list[tuple[int, int]], budget_s: float) -> float | None:
        call = calls[n]
        spent, order = cpu_seconds(lambda: call_learner(topological_sort, n, edges, call=call),
                                   budget_s=budget_s)
        if spent is not None:
            problem = _is_valid_order(order, n, edges)
            expect(problem is None, "not a valid order for a large graph", call=call, got=problem)
        return spent

    def yardstick(n: int, edges: list[tuple[int, int]]) -> float:
        spent, _ = cpu_seconds(lambda: yardstick_sort(n, edges), budget_s=SORT_BUDGET_CAP_S)
        assert spent is not None  # the yardstick is linear: ~0.05 s for the large graph
        return spent

    small_edges, large_edges = star(small_n), star(large_n)
    small_s = yard_small = float("inf")
    spent_total = 0.0
    for _ in range(5):  # best of five, interleaved, but never more than ~0.3 s on slow code
        yard_small = min(yard_small, yardstick(small_n, small_edges))
        spent = run(small_n, small_edges, SORT_BUDGET_CAP_S)
        expect(spent is not None, "it is too slow even on the smaller graph", call=growth_call,
               expected=f"well under {SORT_BUDGET_CAP_S:g} s of CPU for {small_n:,} nodes",
               got=f"more than {SORT_BUDGET_CAP_S:g} s", hint=mistake_hint("ex05.q3", "quadratic"))
        assert spent is not None
        small_s, spent_total = min(small_s, spent), spent_total + spent
        if spent_total > 0.3:
            break
    small_s, yard_small = max(small_s, 1e-6), max(yard_small, 1e-6)  # a clock's resolution
    yard_growth = min(yardstick(large_n, large_edges) for _ in range(2)) / yard_small
    budget_s = max(MAX_RELATIVE_GROWTH * yard_growth * small_s, SORT_BUDGET_FLOOR_S)
    capped = budget_s > SORT_BUDGET_CAP_S
    budget_s = min(budget_s, SORT_BUDGET_CAP_S)
    large_s = run(large_n, large_edges, budget_s)
    if large_s is None and not capped:  # one more try before blaming the code
        large_s = run(large_n, large_edges, budget_s)
    expect(large_s is not None, "it slows down faster than the graph grows", call=growth_call,
           expected=f"about {large_n // small_n}x the CPU time for {large_n // small_n}x the "
                    f"nodes, like a linear sort on this machine ({yard_growth:.0f}x just now)",
           got=f"more than {budget_s / small_s:.0f}x: {small_s * 1000:.0f} ms for {small_n:,} "
               f"nodes, stopped after {budget_s * 1000:.0f} ms for {large_n:,}",
           hint=mistake_hint("ex05.q3", "quadratic"))
    assert large_s is not None
    growth = large_s / small_s
    return (f"{len(cases) - cycles} DAGs ordered, {cycles} cycles found, "
            f"{large_n // small_n}x the nodes took {growth:.1f}x the time")


# -- q4: sliding-window limiter ------------------------------------------------------------------


class _FakeClock:
    """A clock the check moves by hand: ``clock()`` returns ``now`` and counts its readings."""

    def __init__(self) -> None:
        self.now = 0.0
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now


def _simulate(kind: str, limit: int, window: float, times: Sequence[float]) -> list[bool]:
    """What a limiter answers at ``times``: the right one, or one that makes mistake ``kind``.

    ``right``: fewer than ``limit`` grants in ``(now - window, now]``. The mistakes:
    ``never_evicts`` counts every grant ever made, ``records_refusals`` also logs the requests
    it refused, ``keeps_edge`` still counts a grant made exactly ``window`` seconds ago.
    """
    log: list[float] = []
    answers = []
    for now in times:
        if kind == "never_evicts":
            live = log
        elif kind == "keeps_edge":
            live = [at for at in log if at >= now - window]
        else:
            live = [at for at in log if at > now - window]
        allowed = len(live) < limit
        answers.append(allowed)
        if allowed or kind == "records_refusals":
            log.append(now)
    return answers


_MISTAKES = ("never_evicts", "records_refusals", "keeps_edge")


def _likely_mistake(answers: list[bool], limit: int, window: float, times: Sequence[float],
                    first_wrong: int) -> str:
    """The mistake whose simulated answers agree longest with the learner's (past the first
    wrong one); ``too_many`` or ``too_few`` when none explains that one."""

    def agreement(simulated: list[bool]) -> int:
        return next((i for i, (a, b) in enumerate(zip(answers, simulated, strict=False))
                     if a is not b), min(len(answers), len(simulated)))

    scores = {kind: agreement(_simulate(kind, limit, window, times)) for kind in _MISTAKES}
    best = max(_MISTAKES, key=lambda kind: scores[kind])  # ties: the first in _MISTAKES
    if scores[best] > first_wrong:
        return best
    return "too_many" if answers[first_wrong] else "too_few"


def _replay(limiter_class: type, limit: int, window: float, times: Sequence[float],
            what: str) -> None:
    clock = _FakeClock()
    make = f"SlidingWindowLimiter({limit}, {window:g}, clock=clock)"
    limiter = call_learner(limiter_class, limit, window, clock=clock, call=make)
    expected = _simulate("right", limit, window, times)
    answers: list[bool] = []
    first_wrong: int | None = None
    for step, at in enumerate(times):
        clock.now, clock.readings = at, 0
        got = call_learner(limiter.allow, call=f"allow() at t={at:g}")
        answers.append(got)
        if step == 0:
            expect(clock.readings > 0, "allow() never read the clock it was given",
                   call=f"{make}\nlimiter.allow()  # at t={at:g}",
                   expected="allow() calls clock() to learn the time",
                   got="clock() was not called", hint=mistake_hint("ex05.q4", "real_clock"))
        if got is not expected[step] and first_wrong is None:
            first_wrong = step
            # Keep going: the answers after the first wrong one tell the mistakes apart.
    if first_wrong is None:
        return
    at = times[first_wrong]
    history = [f"t={when:g}: {'allowed' if answer else 'denied'}"
               for when, answer in zip(times[:first_wrong + 1], answers, strict=False)]
    mistake = _likely_mistake(answers, limit, window, times, first_wrong)
    expect(False, f"{what}: allow() at t={at:g} returned {answers[first_wrong]!r}",
           call=f"{make}, then requests at\n" + "\n".join(history[-6:]),
           expected=f"the last one "
                    f"{'allowed (True)' if expected[first_wrong] else 'denied (False)'}",
           got=short_repr(answers[first_wrong]), hint=mistake_hint("ex05.q4", mistake))


# Work per request, in lines of Python, with the window holding 50 grants and then 500. A limiter
# that evicts from one end does the same few steps either way; the lesson's, which rebuilds its
# whole log on every request, does about ten times as many with ten times the grants.
WINDOW_SIZES = (50, 500)
MEASURED_REQUESTS = 100
MAX_STEP_GROWTH = 3.0


def _steps_per_request(limiter_class: type, capacity: int) -> float:
    """Lines run per allow() with the window full: one request a second, ``capacity`` per
    ``capacity`` seconds, so each request finds exactly one grant to expire and is granted."""
    clock = _FakeClock()
    make = f"SlidingWindowLimiter({capacity}, {capacity}, clock=clock)"
    limiter = call_learner(limiter_class, capacity, float(capacity), clock=clock, call=make)
    for second in range(capacity):
        clock.now = float(second)
        call_learner(limiter.allow, call=f"allow() at t={second}")
    granted = 0
    with count_steps(ignore_file=__file__) as steps:
        for second in range(capacity, capacity + MEASURED_REQUESTS):
            clock.now = float(second)
            granted += limiter.allow() is True
    expect(granted == MEASURED_REQUESTS, "a full window did not free its oldest slot",
           call=f"{make}; one request a second for {capacity + MEASURED_REQUESTS} s",
           expected="every request granted: each finds the grant made window_seconds ago "
                    "expired",
           got=f"{MEASURED_REQUESTS - granted} of the last {MEASURED_REQUESTS} denied",
           hint=mistake_hint("ex05.q4", "keeps_edge"))
    return steps.lines / MEASURED_REQUESTS


@register("ex05.q4", "a sliding-window rate limiter with an injected clock")
def check_limiter(limiter_class: type) -> str:
    """Grants and refusals against a brute-force log, at the window's edge, per instance, and
    the same work per request whatever the window holds."""
    _replay(limiter_class, 3, 10.0, [0, 1, 2, 3, 9.99, 10, 10.5, 11, 12, 30], "3 per 10 s")
    _replay(limiter_class, 1, 10.0, [0, 5, 10, 15, 19.999, 20], "1 per 10 s")
    rng = random.Random(3)
    replays = 2
    for _ in range(20):
        limit, window = rng.randint(1, 6), rng.choice([1.0, 2.5, 10.0, 60.0])
        times, now = [], 0.0
        for _ in range(rng.randint(20, 80)):
            now += rng.choice([0.0, 0.1, 0.5, 1.0, window / 2, window])
            times.append(round(now, 3))
        _replay(limiter_class, limit, window, times, f"{limit} per {window:g} s, random traffic")
        replays += 1

    # Two limiters (two users) must not share one log.
    clock = _FakeClock()
    first = call_learner(limiter_class, 2, 10.0, clock=clock,
                         call="SlidingWindowLimiter(2, 10, clock=clock)")
    second = call_learner(limiter_class, 2, 10.0, clock=clock,
                          call="SlidingWindowLimiter(2, 10, clock=clock)")
    for _ in range(2):
        call_learner(first.allow, call="first.allow()")
    second_allowed = call_learner(second.allow, call="second.allow()")
    expect(second_allowed is True, "two limiters share their grants",
           call="first.allow(); first.allow(); second.allow()",
           expected="True: the second limiter has granted nothing yet", got="False",
           hint=mistake_hint("ex05.q4", "shared_log"))

    for bad in ((0, 10.0), (3, 0), (3, -1.0)):
        call = f"SlidingWindowLimiter({bad[0]}, {bad[1]}, clock=clock)"
        try:
            limiter_class(*bad, clock=clock)
        except NotImplementedError:
            raise
        except ValueError:
            continue
        except Exception as error:
            expect(False, "bad limits should raise ValueError", call=call,
                   expected="ValueError naming the bad argument",
                   got=f"{type(error).__name__}: {error}")
        expect(False, "bad limits should raise ValueError", call=call,
               expected="ValueError naming the bad argument", got="no error",
               hint=mistake_hint("ex05.q4", "bad_limits"))

    small, large = WINDOW_SIZES
    steps = {capacity: _steps_per_request(limiter_class, capacity) for capacity in WINDOW_SIZES}
    growth = steps[large] / max(steps[small], 1.0)
    expect(growth < MAX_STEP_GROWTH, "each request does work for every grant in the window",
           call=f"allow() with a full window of {small} grants, then of {large} "
                f"({large // small}x)",
           expected="about the same number of steps per request for both",
           got=f"{steps[small]:.0f} lines of Python per request with {small} grants, "
               f"{steps[large]:.0f} with {large} ({growth:.1f}x)",
           hint=mistake_hint("ex05.q4", "rebuild"))
    return (f"{replays} request sequences match a brute-force log; instances independent; "
            f"{steps[large]:.0f} steps per request with {large} grants held, "
            f"{steps[small]:.0f} with {small}")
