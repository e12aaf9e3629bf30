"""Exercise 5's checks: right answers pass, and each plausible wrong answer fails with a hint.

The wrong answers are the mistakes the lesson itself invites: LCS on bytes (Go's ``text[i]``),
a full table where a rolling row was asked for, a bound that saves no work, ``list.pop(0)`` and
Go's ``queue = queue[1:]`` translated literally, a partial order on a cycle, a limiter that
never forgets, one that reads the real clock, one whose log is shared by every instance, one
that records refusals, one that keeps a grant at the window's edge, and the lesson's limiter,
which rebuilds its whole log on every request. Each gets its own hint, and none of them takes
the check longer than the budget in ``test_exercises_support``.
"""

from __future__ import annotations

import time
from collections import deque
from typing import ClassVar

import pytest

from course_lib.checks import Status, run_check
from tests.test_exercises_support import assert_fails, load_solution

pytestmark = pytest.mark.timing

SOLUTION = load_solution("ex05_algorithms")


@pytest.mark.parametrize(
    ("check_id", "name"),
    [("ex05.q1", "lcs_length"), ("ex05.q2", "edit_distance"), ("ex05.q3", "topological_sort"),
     ("ex05.q4", "SlidingWindowLimiter")],
)
def test_the_solution_passes(check_id: str, name: str) -> None:
    result = run_check(check_id, SOLUTION[name])
    assert result.status is Status.PASSED, result.text()


# -- q1 -----------------------------------------------------------------------------------------


def lcs_on_bytes(a: str, b: str) -> int:
    """The Go code's behaviour: ``len(text)`` and ``text[i]`` are bytes."""
    x, y = a.encode(), b.encode()
    row = [0] * (len(y) + 1)
    for byte in x:
        diagonal = 0
        for j in range(1, len(y) + 1):
            above = row[j]
            row[j] = diagonal + 1 if byte == y[j - 1] else max(above, row[j - 1])
            diagonal = above
    return row[-1]


def lcs_full_table(a: str, b: str) -> int:
    dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            else:
                dp[i][j] = max(dp[i - 1][j], dp[i][j - 1])
    return dp[-1][-1]


def lcs_forgets_the_diagonal(a: str, b: str) -> int:
    """One row, but the diagonal is read after it was overwritten."""
    row = [0] * (len(b) + 1)
    for ch in a:
        for j in range(1, len(b) + 1):
            row[j] = row[j - 1] + 1 if ch == b[j - 1] else max(row[j], row[j - 1])
    return row[-1]


def test_lcs_on_bytes_fails_on_chinese_with_a_bytes_hint() -> None:
    result = assert_fails("ex05.q1", lcs_on_bytes, hint_words=["bytes"])
    assert "缓存策略" in (result.call or "")
    assert result.expected == "3"


def test_a_full_table_fails_on_memory() -> None:
    result = assert_fails("ex05.q1", lcs_full_table, hint_words=["one row"])
    assert "peak memory" in (result.got or "")


def test_a_row_that_loses_its_diagonal_fails() -> None:
    assert_fails("ex05.q1", lcs_forgets_the_diagonal, hint_words=["diagonal", "old"])


# -- q2 -----------------------------------------------------------------------------------------


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ch in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ch != other)))
        previous = current
    return previous[-1]


def edit_distance_ignoring_the_bound_for_speed(a: str, b: str,
                                               max_distance: int | None = None) -> int | None:
    distance = _distance(a, b)
    return None if max_distance is not None and distance > max_distance else distance


def edit_distance_that_never_says_none(a: str, b: str,
                                       max_distance: int | None = None) -> int | None:
    return _distance(a, b)


def edit_distance_with_a_zero_first_row(a: str, b: str,
                                        max_distance: int | None = None) -> int | None:
    previous = [0] * (len(b) + 1)
    for i, ch in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ch != other)))
        previous = current
    return previous[-1]


def test_a_bound_that_saves_no_work_fails() -> None:
    result = assert_fails("ex05.q2", edit_distance_ignoring_the_bound_for_speed,
                          hint_words=["band", "whole row"])
    assert result.summary == "the bound does not save any work"


def test_a_distance_past_the_bound_must_be_none() -> None:
    result = assert_fails("ex05.q2", edit_distance_that_never_says_none, hint_words=["None"])
    assert "max_distance=" in (result.call or "")


def test_a_wrong_first_row_fails_on_an_empty_string() -> None:
    result = assert_fails("ex05.q2", edit_distance_with_a_zero_first_row,
                          hint_words=["row 0", "insertions"])
    assert result.expected == "3"


# -- q3 -----------------------------------------------------------------------------------------


def kahn_with_pop0(n: int, edges: list[tuple[int, int]]) -> list[int] | None:
    successors: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for before, after in edges:
        successors[before].append(after)
        in_degree[after] += 1
    ready = [node for node in range(n) if in_degree[node] == 0]
    order = []
    while ready:
        node = ready.pop(0)  # the literal translation of Go's queue = queue[1:]
        order.append(node)
        for after in successors[node]:
            in_degree[after] -= 1
            if in_degree[after] == 0:
                ready.append(after)
    return order if len(order) == n else None


def kahn_returning_a_partial_order(n: int, edges: list[tuple[int, int]]) -> list[int] | None:
    successors: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for before, after in edges:
        successors[before].append(after)
        in_degree[after] += 1
    ready = deque(node for node in range(n) if in_degree[node] == 0)
    order = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for after in successors[node]:
            in_degree[after] -= 1
            if in_degree[after] == 0:
                ready.append(after)
    return order  # forgets to compare with n


def test_list_pop0_fails_as_quadratic() -> None:
    result = assert_fails("ex05.q3", kahn_with_pop0, hint_words=["front of a Python list"])
    assert "80,000" in (result.call or "")
    assert result.summary == "it slows down faster than the graph grows"


def kahn_slicing_like_go(n: int, edges: list[tuple[int, int]]) -> list[int] | None:
    successors: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for before, after in edges:
        successors[before].append(after)
        in_degree[after] += 1
    queue = [node for node in range(n) if in_degree[node] == 0]
    order = []
    while queue:
        node, queue = queue[0], queue[1:]  # Go's queue = queue[1:], copied in Python
        order.append(node)
        for after in successors[node]:
            in_degree[after] -= 1
            if in_degree[after] == 0:
                queue.append(after)
    return order if len(order) == n else None


def kahn_with_a_stack(n: int, edges: list[tuple[int, int]]) -> list[int] | None:
    """Right too: any node with in-degree 0 may go next, so a stack works as well as a queue."""
    successors: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for before, after in edges:
        successors[before].append(after)
        in_degree[after] += 1
    ready = [node for node in range(n) if in_degree[node] == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for after in successors[node]:
            in_degree[after] -= 1
            if in_degree[after] == 0:
                ready.append(after)
    return order if len(order) == n else None


def test_gos_slicing_copied_into_python_fails_as_quadratic() -> None:
    assert_fails("ex05.q3", kahn_slicing_like_go, hint_words=["slicing"])


def test_a_stack_instead_of_a_queue_is_accepted() -> None:
    assert run_check("ex05.q3", kahn_with_a_stack).status is Status.PASSED


def test_a_partial_order_on_a_cycle_fails() -> None:
    result = assert_fails("ex05.q3", kahn_returning_a_partial_order, hint_words=["cycle"])
    assert result.expected == "None"


# -- q4 -----------------------------------------------------------------------------------------


class LimiterThatNeverEvicts:
    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("bad limits")
        self.max_requests, self.clock, self.grants = max_requests, clock, []

    def allow(self) -> bool:
        if len(self.grants) >= self.max_requests:
            return False
        self.grants.append(self.clock())
        return True


class LimiterOnTheRealClock:
    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("bad limits")
        self.max_requests, self.window, self.grants = max_requests, window_seconds, deque()

    def allow(self) -> bool:
        now = time.monotonic()  # ignores the clock it was given
        while self.grants and self.grants[0] <= now - self.window:
            self.grants.popleft()
        if len(self.grants) >= self.max_requests:
            return False
        self.grants.append(now)
        return True


class LimiterWithASharedLog:
    grants: ClassVar[deque[float]] = deque()  # a class attribute: one log for every instance

    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("bad limits")
        self.max_requests, self.window, self.clock = max_requests, window_seconds, clock
        type(self).grants.clear()  # looks fresh for one limiter at a time

    def allow(self) -> bool:
        now = self.clock()
        while self.grants and self.grants[0] <= now - self.window:
            self.grants.popleft()
        if len(self.grants) >= self.max_requests:
            return False
        self.grants.append(now)
        return True


class LimiterThatRecordsRefusals(LimiterOnTheRealClock):
    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        super().__init__(max_requests, window_seconds, clock)
        self.clock = clock

    def allow(self) -> bool:
        now = self.clock()
        while self.grants and self.grants[0] <= now - self.window:
            self.grants.popleft()
        allowed = len(self.grants) < self.max_requests
        self.grants.append(now)  # a refused request also takes a slot
        return allowed


class LimiterAcceptingAnyLimit(LimiterThatRecordsRefusals):
    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        self.max_requests, self.window, self.clock, self.grants = (
            max_requests, window_seconds, clock, deque())

    def allow(self) -> bool:
        now = self.clock()
        while self.grants and self.grants[0] <= now - self.window:
            self.grants.popleft()
        if len(self.grants) >= self.max_requests:
            return False
        self.grants.append(now)
        return True


def test_a_limiter_that_never_evicts_fails() -> None:
    result = assert_fails("ex05.q4", LimiterThatNeverEvicts, hint_words=["older than the window"])
    assert result.expected is not None and "allowed (True)" in result.expected


def test_a_limiter_on_the_real_clock_fails() -> None:
    result = assert_fails("ex05.q4", LimiterOnTheRealClock, hint_words=["clock it was given"])
    assert result.summary == "allow() never read the clock it was given"


def test_a_limiter_sharing_its_log_between_instances_fails() -> None:
    result = assert_fails("ex05.q4", LimiterWithASharedLog, hint_words=["class body"])
    assert result.summary == "two limiters share their grants"


def test_a_limiter_recording_refusals_fails() -> None:
    assert_fails("ex05.q4", LimiterThatRecordsRefusals, hint_words=["refused request"])


def test_a_limiter_accepting_a_zero_limit_fails() -> None:
    result = assert_fails("ex05.q4", LimiterAcceptingAnyLimit, hint_words=["refuse it"])
    assert "SlidingWindowLimiter(0" in (result.call or "")


class LessonLimiterRebuildingItsLog:
    """The lesson's Allow(): right answers, but every request copies the whole log."""

    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("bad limits")
        self.max_requests, self.window, self.clock, self.grants = (
            max_requests, window_seconds, clock, [])

    def allow(self) -> bool:
        now = self.clock()
        self.grants = [at for at in self.grants if at > now - self.window]
        if len(self.grants) >= self.max_requests:
            return False
        self.grants.append(now)
        return True


class LimiterKeepingTheEdge(LessonLimiterRebuildingItsLog):
    def allow(self) -> bool:
        now = self.clock()
        while self.grants and self.grants[0] < now - self.window:  # < where <= was meant
            self.grants.pop(0)
        if len(self.grants) >= self.max_requests:
            return False
        self.grants.append(now)
        return True


def test_the_lessons_rebuild_on_every_request_fails_by_counting_its_steps() -> None:
    result = assert_fails("ex05.q4", LessonLimiterRebuildingItsLog, hint_words=["oldest"])
    assert result.summary == "each request does work for every grant in the window"
    assert result.got is not None and "with 50 grants" in result.got


def test_a_grant_kept_at_the_windows_edge_fails_with_its_own_hint() -> None:
    result = assert_fails("ex05.q4", LimiterKeepingTheEdge, hint_words=["t + window"])
    assert "t=10" in result.summary


def test_each_limiter_mistake_gets_its_own_hint() -> None:
    hints = [run_check("ex05.q4", answer).hint for answer in (
        LimiterThatNeverEvicts, LimiterOnTheRealClock, LimiterWithASharedLog,
        LimiterThatRecordsRefusals, LimiterAcceptingAnyLimit, LessonLimiterRebuildingItsLog,
        LimiterKeepingTheEdge)]
    assert all(hints) and len(set(hints)) == len(hints)
