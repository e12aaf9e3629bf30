"""Checks for ``exercises/ex05_algorithms``: LCS, bounded edit distance, Kahn's sort, a limiter.

Right answers come from independent oracles, never from :mod:`course_lib.algorithms`:
``rapidfuzz`` (LCS length and Levenshtein distance, in C++), the standard library's
``graphlib`` (does an order exist?), a validity test for any order, and a brute-force list of
grant times for the rate limiter. Speed and memory are checked as *ratios* or bounds far from
the honest answers, so a slow machine does not fail a right solution.
"""

from __future__ import annotations

import gc
import graphlib
import random
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rapidfuzz.distance import LCSseq, Levenshtein

from course_lib.checks.expect import (
    call_learner,
    describe_call,
    expect,
    expect_equal,
    short_repr,
)
from course_lib.checks.registry import register

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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Time the algorithm, not Python's cycle collector.

    A full collection scans every object in the kernel (a notebook holds many), and allocating
    160,000 small lists triggers several: that grows faster than the graph and would blur the
    growth factor being measured.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
        hint = ("Compare one character of `a` with one of `b`: dp[i][j] = dp[i-1][j-1] + 1 on "
                "a match, otherwise the larger of dp[i-1][j] and dp[i][j-1].")
        if got != expected:
            as_bytes = LCSseq.similarity(list(a.encode()), list(b.encode()))
            if got == as_bytes != expected:
                hint = ("That is the LCS of the UTF-8 *bytes* (what Go's len(text) and text[i] "
                        "see). A Chinese character is 3 bytes, and different characters share "
                        "lead bytes. Compare Python characters: index the str, do not .encode() "
                        "it.")
            elif got == expected + 1 or got == expected - 1:
                hint = ("Off by one: check the size of your row (len(b) + 1 cells) and where "
                        "the answer is read from.")
        expect_equal(got, expected, call=call, hint=hint)
        swapped = describe_call("lcs_length", b, a)
        expect_equal(call_learner(lcs_length, b, a, call=swapped), expected, call=swapped,
                     problem="LCS is symmetric: swapping the arguments changed the answer",
                     hint="A rolling row that disagrees with itself usually reads a cell it "
                          "has already overwritten: save the old value (dp[i-1][j-1], the "
                          "diagonal) before you write the new one.")

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
           got=f"peak memory {peak / 1000:,.0f} KB",
           hint="Row i only reads row i-1. Keep one row (plus the diagonal value you are about "
                "to overwrite, in a variable) instead of the (m+1) x (n+1) table.")
    return (f"{len(cases)} pairs right (Chinese too); peak memory {peak / 1000:,.1f} KB "
            "on 400 x 400 characters")


# -- q2: edit distance with a bound --------------------------------------------------------------


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
        hint = ("Three moves per cell: delete (dp[i-1][j] + 1), insert (dp[i][j-1] + 1), and "
                "replace or keep (dp[i-1][j-1] + 0 if the characters are equal, else + 1). Row 0 "
                "and column 0 are 0, 1, 2, ...: turning '' into 'abc' takes 3 insertions.")
        expect_equal(got, expected, call=call, hint=hint)
    bounded = 0
    for a, b in cases[:40]:
        distance = Levenshtein.distance(a, b)
        for k in range(5):
            expected = distance if distance <= k else None
            call = describe_call("edit_distance", a, b, max_distance=k)
            got = call_learner(edit_distance, a, b, max_distance=k, call=call)
            hint = ("With max_distance=k the answer is the distance when it is at most k, and "
                    "None when it is larger (a cache lookup only asks 'within k?')."
                    if (got is None) != (expected is None) else
                    "Within the bound the answer must still be the exact distance.")
            if got is not None and expected is not None and got != expected:
                hint = ("Inside the bound the exact distance is required: a band of width "
                        "2k + 1 around the diagonal holds every path of cost <= k, but the cells "
                        "just outside it must count as 'more than k', not as 0.")
            expect_equal(got, expected, call=call, hint=hint)
            bounded += 1

    # Does the bound save work? Two unrelated 600-character strings are far apart: a bounded
    # search can stop after a few rows (or never leave its band); a full table cannot.
    a, b = _random_text(rng, 600, "abcdefghij"), _random_text(rng, 600, "abcdefghij")
    full_call = describe_call("edit_distance", a, b)
    with _collector_paused():
        started = time.perf_counter()
        call_learner(edit_distance, a, b, call=full_call)
        full_s = time.perf_counter() - started
    bounded_call = describe_call("edit_distance", a, b, max_distance=3)
    bounded_s = float("inf")
    for _ in range(3):
        with _collector_paused():
            started = time.perf_counter()
            got = call_learner(edit_distance, a, b, max_distance=3, call=bounded_call)
            bounded_s = min(bounded_s, time.perf_counter() - started)
    expect_equal(got, None, call=bounded_call)
    if full_s > 0.005:  # a library call (rapidfuzz) is fast either way: nothing to compare
        expect(bounded_s < 0.25 * full_s, "the bound does not save any work",
               call=bounded_call,
               expected="much faster than the same call without a bound",
               got=f"{bounded_s * 1000:.0f} ms with max_distance=3, {full_s * 1000:.0f} ms "
                   "without",
               hint="A path of cost <= k never leaves the band |i - j| <= k, and the values "
                    "along a path never decrease: once a whole row (or band) is above k, stop "
                    "and return None.")
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
                   expected="None", got=short_repr(got),
                   hint="Kahn's algorithm never frees the nodes on a cycle: when the queue runs "
                        "dry, compare how many nodes you output with n.")
            continue
        problem = _is_valid_order(got, n, edges)
        hint = ("Start the queue with every node of in-degree 0; when you output a node, "
                "decrement each successor's in-degree and enqueue the ones that reach 0.")
        if got is None:
            hint = "This graph has no cycle. Does your in-degree count each edge, duplicates too?"
        expect(problem is None, "that is not a valid order for this graph", call=call,
               expected="every node once, each edge (u, v) with u before v",
               got=f"{short_repr(got)}: {problem}" if got is not None else "None", hint=hint)

    # Linear time: 8x the nodes should take about 8x as long. With list.pop(0) every pop moves
    # the rest of the queue, so 8x the nodes takes ~60x as long. Most nodes start in the queue.
    def timed(n: int, repeats: int) -> float:
        edges = [(node, n - 1) for node in range(n - 1)]
        best = float("inf")
        for _ in range(repeats):
            with _collector_paused():
                started = time.perf_counter()
                order = call_learner(topological_sort, n, edges,
                                     call=describe_call("topological_sort", n, edges))
                best = min(best, time.perf_counter() - started)
        problem = _is_valid_order(order, n, edges)
        expect(problem is None, "not a valid order for a large graph",
               call=describe_call("topological_sort", n, edges), got=problem)
        return best

    small_s = timed(20_000, 5)
    large_s = timed(160_000, 1)
    if large_s / small_s >= 25:  # one more try before blaming the code for a busy machine
        large_s = min(large_s, timed(160_000, 1))
    growth = large_s / small_s
    expect(growth < 25, "it slows down faster than the graph grows",
           call="topological_sort(n, edges) for n = 20,000 and n = 160,000 (8x)",
           expected="about 8x the time for 8x the nodes (linear)",
           got=f"{growth:.0f}x the time ({small_s * 1000:.0f} ms -> {large_s * 1000:.0f} ms)",
           hint="Something in the loop costs more as the queue grows. list.pop(0) moves every "
                "remaining element (Go's queue[1:] does not); collections.deque.popleft() is "
                "O(1). Membership tests on a list (`x in some_list`) are O(n) too.")
    return (f"{len(cases) - cycles} DAGs ordered, {cycles} cycles found, "
            f"8x the nodes took {growth:.1f}x the time")


# -- q4: sliding-window limiter ------------------------------------------------------------------


class _FakeClock:
    """A clock the check moves by hand: ``clock()`` returns ``now``."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _oracle_allows(grants: list[float], now: float, limit: int, window: float) -> bool:
    """Brute force: fewer than ``limit`` grants in ``(now - window, now]``."""
    return sum(1 for at in grants if at > now - window) < limit


def _replay(limiter_class: type, limit: int, window: float, times: Sequence[float],
            what: str) -> None:
    clock = _FakeClock()
    make = f"SlidingWindowLimiter({limit}, {window:g}, clock=clock)"
    limiter = call_learner(limiter_class, limit, window, clock=clock, call=make)
    grants: list[float] = []
    history: list[str] = []
    for at in times:
        clock.now = at
        expected = _oracle_allows(grants, at, limit, window)
        got = call_learner(limiter.allow, call=f"allow() at t={at:g}")
        history.append(f"t={at:g}: {'allowed' if got else 'denied'}")
        if got is not expected:
            hint = ("A grant at time t holds its slot during [t, t + window): at exactly "
                    "t + window the slot is free again. Evict grants with t <= now - window.")
            if not expected:
                hint = ("Too many grants: count the grants still inside the window, and record "
                        "a grant only when you allow it.")
            elif any(at - grant >= window for grant in grants):
                hint = ("Old grants must leave the window: before counting, drop every grant "
                        "at or before now - window_seconds (read `now` from the clock you were "
                        "given, not from time.time()). Denied requests are not recorded.")
            expect(False, f"{what}: allow() at t={at:g} returned {got!r}",
                   call=f"{make}, then requests at\n" + "\n".join(history[-6:]),
                   expected=f"the last one {'allowed (True)' if expected else 'denied (False)'}",
                   got=short_repr(got), hint=hint)
        if got:
            grants.append(at)


@register("ex05.q4", "a sliding-window rate limiter with an injected clock")
def check_limiter(limiter_class: type) -> str:
    """Grants and refusals against a brute-force log, at the window's edge, per instance."""
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
           hint="Create the log in __init__ (self.grants = ...), not as a class attribute: a "
                "list written in the class body is shared by every instance.")

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
               hint="A limit of 0 requests or a window of 0 seconds has no useful meaning: "
                    "refuse it in __init__ rather than silently deny (or allow) everything.")
    return f"{replays} request sequences match a brute-force log; instances independent"
