"""Faithful Python ports of the lesson's Go code (part 4), kept to show what goes wrong.

Each port does what the Go code does, line for line, including its flaws, so notebook 11 and the
benchmarks can put it next to the fixed version and measure the difference. Do not use these
in real code; each docstring points to the fix.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from course_lib.algorithms.rate_limit import Clock

__all__ = ["LessonSlidingWindowLimiter", "lesson_lcs_bytes", "lesson_topological_sort"]


def lesson_lcs_bytes(a: str, b: str) -> int:
    """The lesson's ``longestCommonSubsequence``: LCS length over UTF-8 *bytes*.

    What is wrong: a Go ``string`` is a byte sequence, so ``len(text1)`` counts bytes and
    ``text1[i-1]`` is a byte. A Chinese character is 3 bytes in UTF-8, so Chinese text is compared
    byte by byte: "缓存" and "存储" share one character but 3 bytes, and "你" and "好", which share
    nothing, share the byte 0xBD. The table is also ``(m+1) x (n+1)`` where one row would do.
    (Converting to ``[]rune`` first would fix the Go code.)

    The fix: :func:`course_lib.algorithms.lcs.lcs_length` (characters, one rolling row) or
    :func:`course_lib.algorithms.lcs.lcs_length_bitparallel`; in production
    ``rapidfuzz.distance.LCSseq.similarity``.
    """
    text1, text2 = a.encode("utf-8"), b.encode("utf-8")
    m, n = len(text1), len(text2)
    dp = [[0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            if text1[i - 1] == text2[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            else:
                dp[i][j] = max(dp[i - 1][j], dp[i][j - 1])
    return dp[m][n]


def lesson_topological_sort(n: int, edges: Iterable[Sequence[int]]) -> list[int] | None:
    """The lesson's ``topologicalSort`` (Kahn's algorithm), translated literally.

    What is wrong in Python: Go's ``queue = queue[1:]`` re-slices in ``O(1)``, but its literal
    translation ``queue.pop(0)`` shifts every remaining element, so a wide graph (many nodes ready
    at once, e.g. many independent tool calls) takes ``O(n^2)``. Nothing checks the edges: Go
    panics on a node outside ``0..n-1``, while Python's ``adj[-1]`` silently means the last node.
    A cycle returns ``None`` without saying where it is.

    The fix: :func:`course_lib.algorithms.toposort.topological_sort` (``deque.popleft``, edges
    checked, :func:`~course_lib.algorithms.toposort.find_cycle` for the message); in production
    ``graphlib.TopologicalSorter``.
    """
    in_degree = [0] * n
    adj: list[list[int]] = [[] for _ in range(n)]
    for e in edges:
        adj[e[0]].append(e[1])
        in_degree[e[1]] += 1
    queue = [i for i in range(n) if in_degree[i] == 0]
    result: list[int] = []
    while queue:
        node = queue.pop(0)
        result.append(node)
        for neighbor in adj[node]:
            in_degree[neighbor] -= 1
            if in_degree[neighbor] == 0:
                queue.append(neighbor)
    if len(result) != n:
        return None  # a cycle: no order exists
    return result


class LessonSlidingWindowLimiter:
    """The lesson's ``SlidingWindowLimiter``: a list of timestamps filtered on every request.

    What is wrong: every ``allow()`` walks the whole log. Go's ``valid := s.requests[:0]`` filters
    **in place**: it reuses the slice's backing array and moves each timestamp still inside the
    window to the front, so nothing is allocated, but every timestamp is visited (and most are
    moved) although they are in time order and only the oldest can have expired:
    ``O(max_requests)`` work per request while holding the lock, so a limit of 10,000 per minute
    costs 10,000 steps per call. The log lives in this process only: four replicas admit four
    times the limit. Nothing checks the arguments: ``max_requests=0`` silently refuses
    everything. There is no way to tell a caller when to retry.

    The fix: :class:`course_lib.algorithms.rate_limit.SlidingWindowLimiter` (a deque, ``O(1)``
    amortised, ``retry_after()``) and
    :class:`course_lib.algorithms.redis_rate_limit.RedisSlidingWindowLimiter` (shared across
    processes); in production the ``limits`` package's ``MovingWindowRateLimiter``.
    """

    def __init__(
        self, max_requests: int, window_seconds: float, clock: Clock = time.monotonic
    ) -> None:
        self.max_requests = max_requests
        self.window_size = window_seconds
        self.requests: list[float] = []
        self._clock = clock  # Go's time.Now(); injectable so tests need not sleep
        self._mu = threading.Lock()

    def allow(self) -> bool:
        with self._mu:
            now = self._clock()
            cutoff = now - self.window_size
            # Remove the requests outside the window (移除窗口外的请求): ``valid := s.requests[:0]``
            # filters in place, keeping the same list and moving the survivors to its front.
            requests, kept = self.requests, 0
            for t in requests:
                if t > cutoff:
                    requests[kept] = t
                    kept += 1
            del requests[kept:]  # ``s.requests = valid``: the slice now ends after the survivors
            if len(self.requests) >= self.max_requests:
                return False
            self.requests.append(now)
            return True
