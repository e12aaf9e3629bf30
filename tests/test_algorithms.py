"""course_lib.algorithms: LCS, edit distance, topological sort and in-process rate limiters.

Oracles are independent of the code under test: brute force on small inputs, ``rapidfuzz`` for
LCS and Levenshtein, ``graphlib`` for topological order and cycles, and hand-computed values.
Limiters run on a fake clock: nothing sleeps.
"""

from __future__ import annotations

import graphlib
import itertools
import math
import random
import threading
import time
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import LCSseq, Levenshtein

from course_lib.algorithms import (
    SlidingWindowCounter,
    SlidingWindowLimiter,
    closest_match,
    edit_distance,
    find_cycle,
    kahn_order,
    lcs_length,
    lcs_length_bitparallel,
    lcs_length_textbook,
    lcs_string,
    topological_levels,
    topological_sort,
)
from course_lib.lesson.algorithms import (
    LessonSlidingWindowLimiter,
    lesson_lcs_bytes,
    lesson_topological_sort,
)

pytestmark = pytest.mark.timing

PROPERTY = settings(max_examples=150, deadline=None)

# A small alphabet makes common subsequences likely; it mixes ASCII, Chinese (3 UTF-8 bytes each),
# an emoji (4 bytes) and a skin-tone modifier (a second code point).
ALPHABET = "abc缓存储你好😀🏽"
texts = st.text(alphabet=ALPHABET, max_size=24)
small_texts = st.text(alphabet=ALPHABET, max_size=7)

LCS_VARIANTS: dict[str, Callable[[str, str], int]] = {
    "lcs_length": lcs_length,
    "lcs_length_bitparallel": lcs_length_bitparallel,
    "lcs_length_textbook": lcs_length_textbook,
    "len(lcs_string)": lambda a, b: len(lcs_string(a, b)),
}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def is_subsequence(small: str, big: str) -> bool:
    remaining = iter(big)
    return all(ch in remaining for ch in small)


def brute_force_lcs(a: str, b: str) -> int:
    """Try every subsequence of ``a``, longest first."""
    for size in range(len(a), -1, -1):
        for picked in itertools.combinations(a, size):
            if is_subsequence("".join(picked), b):
                return size
    raise AssertionError("unreachable: the empty string is a subsequence of everything")


def definition_levenshtein(a: str, b: str) -> int:
    """Levenshtein distance straight from its recursive definition (memoised)."""

    @cache
    def distance(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        return min(
            distance(i - 1, j) + 1,
            distance(i, j - 1) + 1,
            distance(i - 1, j - 1) + (a[i - 1] != b[j - 1]),
        )

    return distance(len(a), len(b))


# --- LCS -------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", LCS_VARIANTS.values(), ids=LCS_VARIANTS.keys())
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("abcde", "ace", 3),
        ("abc", "abc", 3),
        ("abc", "def", 0),
        ("", "abc", 0),
        ("", "", 0),
        ("缓存", "存储", 1),  # one shared character: 存
        ("你", "好", 0),
        ("我喜欢缓存", "缓存真好", 2),  # 缓存
        ("a😀b", "😀ab", 2),
    ],
)
def test_lcs_known_values(variant: Callable[[str, str], int], a: str, b: str, expected: int):
    """Hand-computed LCS lengths, counted in characters, for every variant, in both orders."""
    assert variant(a, b) == expected
    assert variant(b, a) == expected


@settings(max_examples=150, deadline=None)
@given(a=small_texts, b=small_texts)
def test_lcs_matches_brute_force_on_small_strings(a: str, b: str):
    """Every variant equals the longest subsequence of ``a`` found by trying them all."""
    expected = brute_force_lcs(a, b)
    for name, variant in LCS_VARIANTS.items():
        assert variant(a, b) == expected, name


@PROPERTY
@given(a=texts, b=texts)
def test_lcs_variants_agree_with_rapidfuzz(a: str, b: str):
    """All four LCS variants agree with rapidfuzz's LCSseq on mixed Chinese/emoji/ASCII text."""
    expected = LCSseq.similarity(a, b)
    for name, variant in LCS_VARIANTS.items():
        assert variant(a, b) == expected, name


@PROPERTY
@given(a=texts, b=texts)
def test_lcs_string_is_a_longest_common_subsequence(a: str, b: str):
    """The reconstruction is a subsequence of both inputs and has the LCS length."""
    common = lcs_string(a, b)
    assert is_subsequence(common, a)
    assert is_subsequence(common, b)
    assert len(common) == LCSseq.similarity(a, b)


@pytest.mark.parametrize("length", [63, 64, 65, 3000])
def test_bitparallel_on_long_strings_matches_rapidfuzz(length: int):
    """Bit-parallel LCS across machine-word boundaries and on multi-thousand-bit ints."""
    rng = random.Random(length)
    a = "".join(rng.choice("acgt缓") for _ in range(length))
    b = "".join(rng.choice("acgt缓") for _ in range(length + 17))
    assert lcs_length_bitparallel(a, b) == LCSseq.similarity(a, b)


def test_bitparallel_is_at_least_20x_faster_than_textbook_dp():
    """On 2,000-character strings the bit-parallel LCS beats the 2-D table by >= 20x."""
    rng = random.Random(2000)
    a = "".join(rng.choice("abcdefgh") for _ in range(2000))
    b = "".join(rng.choice("abcdefgh") for _ in range(2000))

    start = time.perf_counter()
    textbook = lcs_length_textbook(a, b)
    textbook_seconds = time.perf_counter() - start

    bitparallel_seconds = math.inf
    for _ in range(5):
        start = time.perf_counter()
        fast = lcs_length_bitparallel(a, b)
        bitparallel_seconds = min(bitparallel_seconds, time.perf_counter() - start)

    assert fast == textbook
    assert textbook_seconds / bitparallel_seconds >= 20


def test_lesson_byte_lcs_counts_chinese_by_bytes():
    """The Go code compares UTF-8 bytes, so Chinese text gets byte counts, even false matches."""
    # 缓 = E7 BC 93, 存 = E5 AD 98, 储 = E5 82 A8: "缓存" and "存储" share the 3 bytes of 存.
    assert lesson_lcs_bytes("缓存", "存储") == 3
    assert lcs_length("缓存", "存储") == 1
    # 你 = E4 BD A0 and 好 = E5 A5 BD share no character but do share the byte BD.
    assert lesson_lcs_bytes("你", "好") == 1
    assert lcs_length("你", "好") == 0


@PROPERTY
@given(a=st.text(alphabet="abcxyz", max_size=20), b=st.text(alphabet="abcxyz", max_size=20))
def test_lesson_byte_lcs_is_right_on_ascii(a: str, b: str):
    """On ASCII one byte is one character, so the lesson's version is correct there."""
    assert lesson_lcs_bytes(a, b) == lcs_length(a, b)


@pytest.mark.parametrize("function", [*LCS_VARIANTS.values(), lcs_string])
def test_lcs_rejects_bytes(function: Callable[[str, str], object]):
    """Bytes are not text: the caller must decode first."""
    with pytest.raises(TypeError, match="a must be a str"):
        function(b"abc", "abc")  # type: ignore[arg-type]


# --- edit distance ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("kitten", "sitting", 3),
        ("", "abc", 3),
        ("abc", "abc", 0),
        ("flaw", "lawn", 2),
        ("缓存", "存储", 2),  # delete 缓, insert 储
        ("how do I reset pasword", "how do I reset password", 1),
    ],
)
def test_edit_distance_known_values(a: str, b: str, expected: int):
    """Hand-computed Levenshtein distances, in characters, in both orders."""
    assert edit_distance(a, b) == expected
    assert edit_distance(b, a) == expected


@settings(max_examples=150, deadline=None)
@given(a=small_texts, b=small_texts)
def test_edit_distance_matches_the_recursive_definition(a: str, b: str):
    """The DP equals the textbook recursion on small strings."""
    assert edit_distance(a, b) == definition_levenshtein(a, b)


@PROPERTY
@given(a=texts, b=texts, bound=st.integers(min_value=0, max_value=8))
def test_bounded_edit_distance_matches_rapidfuzz(a: str, b: str, bound: int):
    """Exact distance when unbounded; with a bound, the distance if within it, else None."""
    expected = Levenshtein.distance(a, b)
    assert edit_distance(a, b) == expected
    assert edit_distance(a, b, max_distance=bound) == (expected if expected <= bound else None)


def test_bounded_distance_on_long_strings():
    """The band still finds a few typos in a long text, and refuses when there are too many."""
    rng = random.Random(7)
    original = "".join(rng.choice("abcdefgh ") for _ in range(3000))
    typos = list(original)
    typos[500] = "z"
    del typos[1500]
    typos.insert(2500, "q")
    typo_text = "".join(typos)
    assert edit_distance(original, typo_text, max_distance=3) == 3
    assert edit_distance(original, typo_text, max_distance=2) is None


def test_bounded_distance_exits_early_and_is_much_cheaper():
    """Unrelated long strings: the bounded search stops after a few rows (>= 20x cheaper)."""
    rng = random.Random(11)
    a = "".join(rng.choice("abcdefgh") for _ in range(1500))
    b = "".join(rng.choice("abcdefgh") for _ in range(1500))

    start = time.perf_counter()
    exact = edit_distance(a, b)
    unbounded_seconds = time.perf_counter() - start

    bounded_seconds = math.inf
    for _ in range(5):
        start = time.perf_counter()
        bounded = edit_distance(a, b, max_distance=5)
        bounded_seconds = min(bounded_seconds, time.perf_counter() - start)

    assert exact is not None and exact > 5
    assert bounded is None
    assert unbounded_seconds / bounded_seconds >= 20


def test_closest_match_finds_the_typo():
    """The lesson's fuzzy lookup: a misspelt query finds the cached question."""
    cached = ["how do I reset password", "how do I delete my account", "what does it cost"]
    assert closest_match("how do I reset pasword", cached, max_distance=3) == cached[0]
    assert closest_match("how do I export my invoices", cached, max_distance=3) is None


def test_closest_match_prefers_the_nearest_and_breaks_ties_by_candidate():
    """Nearest wins; at equal distance the smallest string wins whatever the input order."""
    assert closest_match("cart", ["card", "care", "cart"], max_distance=2) == "cart"
    assert closest_match("cat", ["hat", "bat", "cut"], max_distance=1) == "bat"
    assert closest_match("cat", ["cut", "bat", "hat"], max_distance=1) == "bat"
    assert closest_match("cat", {"hat", "cut", "bat"}, max_distance=1) == "bat"
    assert closest_match("cat", [], max_distance=1) is None


@PROPERTY
@given(
    query=small_texts,
    candidates=st.lists(small_texts, max_size=8),
    bound=st.integers(min_value=0, max_value=4),
)
def test_closest_match_matches_brute_force(query: str, candidates: list[str], bound: int):
    """Same answer as scoring every candidate with rapidfuzz and taking the minimum."""
    scored = [(Levenshtein.distance(query, c), c) for c in candidates]
    within = [pair for pair in scored if pair[0] <= bound]
    expected = min(within)[1] if within else None
    assert closest_match(query, candidates, bound) == expected


def test_edit_distance_bad_input():
    """Negative or non-integer bounds and non-str inputs fail with errors that name them."""
    with pytest.raises(ValueError, match="max_distance must be >= 0"):
        edit_distance("a", "b", max_distance=-1)
    with pytest.raises(TypeError, match="max_distance must be an int"):
        edit_distance("a", "b", max_distance=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="b must be a str"):
        edit_distance("a", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="single str"):
        closest_match("cat", "bat", max_distance=1)
    with pytest.raises(ValueError, match="max_distance must be >= 0"):
        closest_match("cat", ["bat"], max_distance=-2)


# --- topological sort ------------------------------------------------------------------------


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    """Any directed graph on a few nodes: cycles, self-loops and duplicate edges included."""
    n = draw(st.integers(min_value=0, max_value=9))
    if n == 0:
        return 0, []
    node = st.integers(min_value=0, max_value=n - 1)
    return n, draw(st.lists(st.tuples(node, node), max_size=20))


@st.composite
def dags(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    """A random DAG: edges go forward in a hidden random order of the nodes."""
    n = draw(st.integers(min_value=1, max_value=12))
    hidden_order = draw(st.permutations(range(n)))
    pairs = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] < p[1])
    edges = [(hidden_order[i], hidden_order[j]) for i, j in draw(st.lists(pairs, max_size=25))]
    return n, edges


def graphlib_order(n: int, edges: list[tuple[int, int]]) -> list[int] | None:
    """graphlib's static order, or None if graphlib finds a cycle."""
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for node in range(n):
        sorter.add(node)
    for before, after in edges:
        sorter.add(after, before)
    try:
        return list(sorter.static_order())
    except graphlib.CycleError:
        return None


def respects_edges(order: list[int], n: int, edges: list[tuple[int, int]]) -> bool:
    position = {node: index for index, node in enumerate(order)}
    return sorted(order) == list(range(n)) and all(position[u] < position[v] for u, v in edges)


@PROPERTY
@given(graph=st.one_of(graphs(), dags()))
def test_topological_sort_agrees_with_graphlib(graph: tuple[int, list[tuple[int, int]]]):
    """None exactly when graphlib finds a cycle; otherwise a valid order of all n nodes."""
    n, edges = graph
    order = topological_sort(n, edges)
    if graphlib_order(n, edges) is None:
        assert order is None
    else:
        assert order is not None
        assert respects_edges(order, n, edges)


def reachable(n: int, edges: list[tuple[int, int]]) -> list[set[int]]:
    """Brute force: reach[u] = every node a path of one or more edges leads to from u."""
    reach = [{v for a, v in edges if a == u} for u in range(n)]
    changed = True
    while changed:
        changed = False
        for u in range(n):
            more = set().union(*(reach[v] for v in reach[u])) - reach[u]
            if more:
                reach[u] |= more
                changed = True
    return reach


@PROPERTY
@given(graph=st.one_of(graphs(), dags()))
def test_kahn_stops_short_of_exactly_the_nodes_on_or_behind_a_cycle(
    graph: tuple[int, list[tuple[int, int]]],
):
    """Left out: every node a cycle reaches (its own nodes included); the rest, in a valid order."""
    n, edges = graph
    order = kahn_order(n, edges)
    reach = reachable(n, edges)
    on_cycles = {u for u in range(n) if u in reach[u]}
    stuck = on_cycles | {v for u in on_cycles for v in reach[u]}
    assert sorted(order) == sorted(set(range(n)) - stuck)
    position = {node: index for index, node in enumerate(order)}
    assert all(position[u] < position[v] for u, v in edges if u in position and v in position)
    assert (len(order) == n) == (graphlib_order(n, edges) is not None)


@PROPERTY
@given(graph=st.one_of(graphs(), dags()))
def test_find_cycle_returns_a_real_cycle_exactly_when_graphlib_finds_one(
    graph: tuple[int, list[tuple[int, int]]],
):
    """The cycle is closed, uses only real edges and visits each node once."""
    n, edges = graph
    cycle = find_cycle(n, edges)
    if graphlib_order(n, edges) is not None:
        assert cycle is None
        return
    assert cycle is not None
    assert len(cycle) >= 2
    assert cycle[0] == cycle[-1]
    assert len(set(cycle[:-1])) == len(cycle) - 1
    edge_set = set(edges)
    assert all(step in edge_set for step in itertools.pairwise(cycle))


@PROPERTY
@given(graph=st.one_of(graphs(), dags()))
def test_levels_are_the_longest_dependency_chains(graph: tuple[int, list[tuple[int, int]]]):
    """Each node sits at 1 + the deepest level of its dependencies (0 for none)."""
    n, edges = graph
    levels = topological_levels(n, edges)
    reference_order = graphlib_order(n, edges)
    if reference_order is None:
        assert levels is None
        return
    depth = dict.fromkeys(range(n), 0)
    for node in reference_order:  # dependencies come first in graphlib's order
        for before, after in edges:
            if after == node:
                depth[node] = max(depth[node], depth[before] + 1)
    assert levels is not None
    deepest = max(depth.values(), default=-1)
    expected = [sorted(v for v in range(n) if depth[v] == d) for d in range(deepest + 1)]
    assert levels == expected


@PROPERTY
@given(graph=dags())
def test_same_order_as_the_lesson_port_on_valid_dags(graph: tuple[int, list[tuple[int, int]]]):
    """The deque changes the cost, not the answer: same order as the lesson's list.pop(0)."""
    n, edges = graph
    assert topological_sort(n, edges) == lesson_topological_sort(n, edges)


def test_topological_examples():
    """Hand-worked graphs: a diamond, waves of tool calls, a cycle, a self-loop, no nodes."""
    diamond = [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert topological_sort(4, diamond) == [0, 1, 2, 3]
    assert topological_levels(4, diamond) == [[0], [1, 2], [3]]
    assert topological_sort(3, [[2, 1], [1, 0]]) == [2, 1, 0]  # lists work as edges too
    cycle_edges = [(0, 2), (2, 5), (5, 7), (7, 2), (1, 3)]
    assert topological_sort(8, cycle_edges) is None
    assert topological_levels(8, cycle_edges) is None
    assert find_cycle(8, cycle_edges) == [2, 5, 7, 2]
    assert find_cycle(4, [(3, 3)]) == [3, 3]
    assert find_cycle(4, [(0, 1), (1, 2)]) is None
    assert topological_sort(0, []) == []
    assert topological_levels(0, []) == []


def test_find_cycle_on_a_long_chain_does_not_recurse():
    """A 100,000-node cycle is found without hitting Python's recursion limit."""
    n = 100_000
    edges = [(i, i + 1) for i in range(n - 1)] + [(n - 1, 0)]
    cycle = find_cycle(n, edges)
    assert cycle == [*range(n), 0]
    assert topological_sort(n, edges[:-1]) == list(range(n))


@pytest.mark.parametrize(
    ("n", "edges", "error", "message"),
    [
        (-1, [], ValueError, "n must be >= 0"),
        (True, [], TypeError, "n must be an int"),
        (3, [(0, 3)], ValueError, r"edge \(0, 3\) refers to node 3, but nodes are 0\.\.2"),
        (3, [(0, 1), (-1, 2)], ValueError, r"edge \(-1, 2\) refers to node -1"),
        (0, [(0, 0)], ValueError, "the graph has no nodes"),
        (3, [(0, 1, 2)], ValueError, r"edge \(0, 1, 2\) is not a pair"),
        (3, [5], ValueError, "edge 5 is not a pair"),
        (3, [(0, 1.0)], TypeError, r"node 1\.0 is not an int"),
    ],
)
def test_topological_bad_input(n, edges, error, message):
    """Every function rejects a bad n or edge with a message naming it."""
    for function in (topological_sort, topological_levels, find_cycle):
        with pytest.raises(error, match=message):
            function(n, edges)


def test_lesson_port_silently_accepts_a_negative_node():
    """The trap: Python's adj[-1] is the last node, so the lesson's sort returns garbage."""
    # Traced by hand: edge (0, -1) raises in_degree[2]; queue [0, 1]; popping 0 lowers
    # in_degree[-1] (node 2's counter) to 0 and enqueues -1: the "order" is [0, 1, -1].
    assert lesson_topological_sort(3, [(0, -1)]) == [0, 1, -1]
    with pytest.raises(ValueError, match="refers to node -1"):
        topological_sort(3, [(0, -1)])


# --- in-process rate limiters ----------------------------------------------------------------


def test_limiter_boundary_at_the_window_edge():
    """A grant at t frees its slot at exactly t + window, not a moment earlier."""
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 10.0, clock=clock)
    for t in (0.0, 1.0, 2.0):
        clock.now = t
        assert limiter.allow()
    assert limiter.remaining() == 0
    clock.now = 9.75
    assert not limiter.allow()
    assert limiter.retry_after() == 0.25  # the t=0 grant frees at 10.0
    clock.now = 10.0
    assert limiter.remaining() == 1
    assert limiter.retry_after() == 0.0
    assert limiter.allow()
    assert not limiter.allow()
    assert limiter.retry_after() == 1.0  # next: the t=1 grant
    clock.now = 12.5
    assert limiter.remaining() == 2


def test_refused_requests_do_not_take_slots():
    """Hammering while over the limit does not push the next free slot further away."""
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 5.0, clock=clock)
    assert limiter.allow() and limiter.allow()
    clock.now = 4.0
    assert not any(limiter.allow() for _ in range(100))
    clock.now = 5.0
    assert limiter.allow() and limiter.allow()
    assert not limiter.allow()


def exact_log_decisions(times: list[int], max_requests: int, window: int) -> list[bool]:
    """Brute force: grant at t iff fewer than max_requests grants lie in (t - window, t]."""
    granted: list[int] = []
    decisions = []
    for t in times:
        ok = sum(1 for g in granted if g > t - window) < max_requests
        if ok:
            granted.append(t)
        decisions.append(ok)
    return decisions


arrival_times = st.lists(st.integers(min_value=0, max_value=60), max_size=80).map(sorted)


@PROPERTY
@given(
    times=arrival_times,
    max_requests=st.integers(min_value=1, max_value=6),
    window=st.integers(min_value=1, max_value=20),
)
def test_limiter_matches_brute_force_and_the_lesson(
    times: list[int], max_requests: int, window: int
):
    """Same decisions as counting the window by brute force, and as the lesson's limiter."""
    clock = FakeClock()
    ours = SlidingWindowLimiter(max_requests, window, clock=clock)
    lesson = LessonSlidingWindowLimiter(max_requests, window, clock=clock)
    decisions, lesson_decisions = [], []
    for t in times:
        clock.now = t
        decisions.append(ours.allow())
        lesson_decisions.append(lesson.allow())
    expected = exact_log_decisions(times, max_requests, window)
    assert decisions == expected
    assert lesson_decisions == expected


class YieldingTime(float):
    """A timestamp whose arithmetic hands the GIL to another thread (``time.sleep(0)``).

    The limiters do arithmetic on the time between "is there a slot?" and "take it", so with
    this clock any gap a missing lock leaves becomes a real race (without the lock these limiters
    over-admit). It forces interleaving; nothing waits for time to pass.
    """


def _yielding(name: str) -> Callable[[float, object], object]:
    operation = getattr(float, name)

    def yielding_operation(self: float, other: object) -> object:
        time.sleep(0)
        result = operation(self, other)
        return result if result is NotImplemented else YieldingTime(result)

    return yielding_operation


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__"):
    setattr(YieldingTime, _name, _yielding(_name))


@pytest.mark.parametrize("limiter_class", [SlidingWindowLimiter, SlidingWindowCounter])
def test_eight_threads_get_exactly_max_requests(limiter_class):
    """8 threads hammering allow() within one window get exactly max_requests grants in total."""
    limiter = limiter_class(100, 60.0, clock=lambda: YieldingTime(30.0))
    start = threading.Barrier(8)
    grants = [0] * 8

    def hammer(slot: int) -> None:
        start.wait()
        grants[slot] = sum(limiter.allow() for _ in range(60))

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(grants) == 100


def test_counter_reaches_its_worst_case_of_2_max_minus_1():
    """A burst at the end of one window plus the next window's allowance: 7 grants for max 4."""
    clock = FakeClock()
    counter = SlidingWindowCounter(4, 100.0, clock=clock)
    exact = SlidingWindowLimiter(4, 100.0, clock=clock)
    clock.now = 99.5
    assert [counter.allow() for _ in range(5)] == [True] * 4 + [False]
    assert [exact.allow() for _ in range(5)] == [True] * 4 + [False]
    clock.now = 199.0  # 99% into window 1: the burst weighs 4 * 0.01 = 0.04
    assert counter.estimated_count() == pytest.approx(0.04)
    # 0.04 + k + 1 <= 4 holds for k = 0, 1, 2: three more grants.
    assert [counter.allow() for _ in range(4)] == [True, True, True, False]
    assert not exact.allow()  # the burst at 99.5 is still inside (99, 199]


def test_counter_can_also_refuse_what_the_exact_log_grants():
    """A burst at the start of window 0 still weighs fully at the start of window 1."""
    clock = FakeClock()
    counter = SlidingWindowCounter(4, 100.0, clock=clock)
    exact = SlidingWindowLimiter(4, 100.0, clock=clock)
    for _ in range(4):
        assert counter.allow() and exact.allow()
    clock.now = 100.0
    assert counter.estimated_count() == 4.0
    assert not counter.allow()
    assert exact.allow()  # the burst at 0 left the window at exactly 100
    clock.now = 150.0
    assert counter.estimated_count() == 2.0
    assert counter.remaining() == 2


def test_counter_forgets_a_window_that_is_not_adjacent():
    """After an idle window, the old grants carry no weight."""
    clock = FakeClock()
    counter = SlidingWindowCounter(3, 10.0, clock=clock)
    assert all(counter.allow() for _ in range(3))
    clock.now = 25.0
    assert counter.estimated_count() == 0.0
    assert counter.remaining() == 3


@PROPERTY
@given(
    times=st.lists(st.floats(min_value=0, max_value=50, allow_nan=False), max_size=120).map(sorted),
    max_requests=st.integers(min_value=1, max_value=6),
    window=st.sampled_from([1.0, 2.5, 5.0, 10.0]),
)
def test_counter_error_bound(times: list[float], max_requests: int, window: float):
    """Documented bound: <= max per fixed window, < 2 * max in any sliding window."""
    clock = FakeClock()
    counter = SlidingWindowCounter(max_requests, window, clock=clock)
    granted: list[float] = []
    for t in times:
        clock.now = t
        if counter.allow():
            granted.append(t)
    per_fixed_window: dict[int, int] = {}
    for g in granted:
        index = math.floor(g / window)
        per_fixed_window[index] = per_fixed_window.get(index, 0) + 1
    assert all(count <= max_requests for count in per_fixed_window.values())
    for end in granted:  # the fullest sliding windows end at a grant
        in_window = sum(1 for g in granted if end - window < g <= end)
        assert in_window <= 2 * max_requests - 1


@pytest.mark.parametrize("limiter_class", [SlidingWindowLimiter, SlidingWindowCounter])
@pytest.mark.parametrize(
    ("max_requests", "window", "error", "message"),
    [
        (0, 1.0, ValueError, "max_requests must be >= 1, got 0"),
        (-5, 1.0, ValueError, "max_requests must be >= 1"),
        (1.5, 1.0, TypeError, "max_requests must be an int"),
        (True, 1.0, TypeError, "max_requests must be an int"),
        (10, 0, ValueError, "window_seconds must be a positive, finite number"),
        (10, -1.0, ValueError, "window_seconds must be a positive"),
        (10, math.inf, ValueError, "window_seconds must be a positive, finite"),
        (10, math.nan, ValueError, "window_seconds must be a positive, finite"),
        (10, "60", TypeError, "window_seconds must be a number of seconds"),
    ],
)
def test_limiters_reject_bad_limits(limiter_class, max_requests, window, error, message):
    """A limit of 0 requests or a 0-second window is an error, not a silent deny-all."""
    with pytest.raises(error, match=message):
        limiter_class(max_requests, window)


def test_lesson_limiter_silently_refuses_everything_with_max_zero():
    """The trap the validation prevents: the lesson's limiter accepts 0 and denies every call."""
    limiter = LessonSlidingWindowLimiter(0, 60.0, clock=FakeClock())
    assert not any(limiter.allow() for _ in range(10))


def test_lesson_limiter_filters_its_log_in_place_like_go():
    """Go's ``valid := s.requests[:0]`` reuses the slice: the port keeps one list, survivors
    first."""
    clock = FakeClock()
    limiter = LessonSlidingWindowLimiter(10, 60.0, clock=clock)
    log = limiter.requests
    for at in (0.0, 1.0, 2.0):
        clock.now = at
        assert limiter.allow()
    clock.now = 61.5  # 0.0 and 1.0 have left the window (cutoff 1.5); 2.0 has not
    assert limiter.allow()
    assert limiter.requests is log
    assert log == [2.0, 61.5]
