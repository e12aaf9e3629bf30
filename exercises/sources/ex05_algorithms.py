# Source of exercises/ex05_algorithms.ipynb and exercises/solutions/ex05_algorithms.ipynb.
# Edit this file, then run: .venv/bin/python scripts/build_exercises.py ex05_algorithms

# %% [markdown]
# # Exercise 5 · The algorithms behind the agent
#
# The lesson's part 4 ties three classic algorithms to an agent's daily work. Notebook
# `11_algorithms` showed the course's versions and measured the lesson's traps; now write your
# own. Four drills, each checked automatically:
#
# | | you write | the agent uses it for |
# |---|---|---|
# | q1 | `lcs_length(a, b)`, with a rolling array | comparing answers |
# | q2 | `edit_distance(a, b, max_distance=None)`, with a bound | a cache that forgives typos |
# | q3 | `topological_sort(n, edges)`: Kahn's algorithm, `None` on a cycle | ordering tool calls |
# | q4 | `SlidingWindowLimiter(max_requests, window_seconds, clock)` | rate limiting |
#
# **How it works.** Each ✏️ **YOUR CODE** cell holds a stub that raises `NotImplementedError`.
# Replace the stub with your code, run the cell, then run the `check(...)` cell below it. A
# check says ✅ passed, ⏳ not done yet, or ❌ not yet right, with the input that failed, what was
# expected, what your code returned, and a hint. Stuck? `hint("ex05.q1")` gives one more hint
# each time you run it.
#
# Write plain Python: the point is the algorithm. (In production you would reach for
# `rapidfuzz`, `graphlib` and the `limits` package; the checks use the first two as referees.)

# %%
from collections import deque

from course_lib.checks import check, hint, preview

# %% [markdown]
# ## q1 · Longest common subsequence, with a rolling array
#
# `dp[i][j]` is the LCS length of `a[:i]` and `b[:j]`: on a match it is `dp[i-1][j-1] + 1`,
# otherwise `max(dp[i-1][j], dp[i][j-1])`. Row `i` only reads row `i - 1`, so you never need the
# whole `(m + 1) × (n + 1)` table: keep **one row** (the lesson's 滚动数组, rolling array) and
# remember the one diagonal value you are about to overwrite.
#
# Compare **characters**, not bytes: the lesson's Go code indexes `text[i]`, which is a byte, so
# `缓存策略` and `存储策略` are compared as 12 bytes each. In Python, indexing a `str` gives a
# character. The check runs Chinese pairs, random pairs (with `rapidfuzz` as the referee) and
# measures your peak memory on two 400-character strings.

# %%
# ✏️ YOUR CODE: write lcs_length with a single rolling row.
def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence of ``a`` and ``b`` (characters, not bytes)."""
    ### BEGIN SOLUTION
    if len(b) > len(a):
        a, b = b, a  # the row runs over the shorter string
    row = [0] * (len(b) + 1)
    for ch in a:
        diagonal = 0  # dp[i-1][j-1], saved before row[j-1] was overwritten
        for j, other in enumerate(b, 1):
            above = row[j]
            row[j] = diagonal + 1 if ch == other else max(above, row[j - 1])
            diagonal = above
    return row[-1]
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write lcs_length(a, b): the length of the longest common subsequence of characters, "
        "in the memory of one row"
    )
    ### END STUB


# %%
check("ex05.q1", lcs_length)

# %% [markdown]
# ## q2 · Edit distance, with a bound
#
# The edit (Levenshtein) distance counts the single-character insertions, deletions and
# substitutions that turn `a` into `b`. A cache that forgives typos never needs the exact
# distance of a far-away query, only "is it within `k`?". So:
#
# * `edit_distance(a, b)` returns the distance;
# * `edit_distance(a, b, max_distance=k)` returns the distance if it is at most `k`, otherwise
#   `None`, **and stops early**: a path of cost ≤ `k` never leaves the band `|i - j| ≤ k`, and
#   once every value in a row is above `k`, the answer will be too.
#
# The check compares your distances with `rapidfuzz`'s and times a bounded call against an
# unbounded one on two unrelated 600-character strings: the bound must save most of the work.

# %%
# ✏️ YOUR CODE: write edit_distance; with max_distance, return None as soon as it is exceeded.
def edit_distance(a: str, b: str, max_distance: int | None = None) -> int | None:
    """Levenshtein distance of ``a`` and ``b``; ``None`` if it exceeds ``max_distance``."""
    ### BEGIN SOLUTION
    if max_distance is not None and abs(len(a) - len(b)) > max_distance:
        return None  # every extra character costs at least one insertion
    previous = list(range(len(b) + 1))
    for i, ch in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(previous[j] + 1,  # delete ch
                             current[j - 1] + 1,  # insert other
                             previous[j - 1] + (ch != other))  # keep or replace
        if max_distance is not None and min(current) > max_distance:
            return None  # values along a path never decrease: no way back under the bound
        previous = current
    distance = previous[-1]
    if max_distance is not None and distance > max_distance:
        return None
    return distance
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write edit_distance(a, b, max_distance=None): the edit distance, or None as soon as "
        "it is sure to be above max_distance"
    )
    ### END STUB


# %%
check("ex05.q2", edit_distance)

# %% [markdown]
# ## q3 · Topological sort: Kahn's algorithm on a deque
#
# An agent's tool calls form a dependency graph: an edge `(u, v)` means tool `v` needs the
# result of tool `u`. `topological_sort(n, edges)` returns the nodes `0 … n-1` in an order where
# every `u` comes before its `v`, or **`None` when there is a cycle** (no order exists).
#
# Kahn's algorithm: count each node's in-degree, queue the nodes with in-degree 0, and
# repeatedly take one from the queue, output it, and decrement its successors' in-degrees
# (queueing those that reach 0). If fewer than `n` nodes came out, the rest sit on a cycle.
#
# Use `collections.deque`: the lesson's Go `queue = queue[1:]` is cheap, but its literal
# translation `list.pop(0)` moves the whole queue on every pop. The check compares your orders
# with `graphlib` (the standard library's sorter) and times your function on two graphs, one
# with 8× the nodes of the other, beside a plain linear sort: 8× the nodes should cost about 8×
# the time, as it does for that sort. (It measures CPU time, so a busy machine does not count.)

# %%
# ✏️ YOUR CODE: write topological_sort with a deque; return None if the graph has a cycle.
def topological_sort(n: int, edges: list[tuple[int, int]]) -> list[int] | None:
    """Nodes ``0..n-1``, each edge ``(u, v)`` with ``u`` before ``v``; ``None`` on a cycle."""
    ### BEGIN SOLUTION
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
    return order if len(order) == n else None
    ### END SOLUTION
    ### BEGIN STUB
    raise NotImplementedError(
        "write topological_sort(n, edges): every node after the nodes it depends on, in "
        "linear time, or None on a cycle"
    )
    ### END STUB


# %%
check("ex05.q3", topological_sort)

# %% [markdown]
# ## q4 · A sliding-window rate limiter, with an injected clock
#
# "At most `max_requests` in any `window_seconds`": `allow()` returns `True` and records the
# request if fewer than `max_requests` requests were **granted** in the last `window_seconds`,
# else `False` (a refused request is not recorded). A grant at time `t` holds its slot during
# `[t, t + window_seconds)`: at exactly `t + window_seconds` the slot is free again.
#
# Read the time from `clock()`, the function you are given, never from `time.time()`: the check
# passes a fake clock that it moves by hand, so it can test a 60-second window without waiting
# a minute (and so can you). Refuse nonsense limits (`max_requests < 1`, `window_seconds <= 0`)
# with a `ValueError`.
#
# And keep `allow()` cheap: the check counts the lines of Python it runs per request with a full
# window of 50 grants and of 500. The lesson's limiter, which looks at every grant on every
# request, does ten times the work with ten times the grants; yours should do the same few
# steps either way.

# %%
# ✏️ YOUR CODE: write the limiter; every reading of the time goes through self.clock().
class SlidingWindowLimiter:
    """At most ``max_requests`` grants in any window of ``window_seconds``."""

    def __init__(self, max_requests: int, window_seconds: float, clock) -> None:
        ### BEGIN SOLUTION
        if max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        if window_seconds <= 0:
            raise ValueError(f"window_seconds must be positive, got {window_seconds}")
        self.max_requests = max_requests
        self.window_seconds = window_seconds
        self.clock = clock
        self.grants: deque[float] = deque()  # granted times, oldest first
        ### END SOLUTION
        ### BEGIN STUB
        raise NotImplementedError(
            "write __init__: refuse nonsense limits, and remember what allow() will need"
        )
        ### END STUB

    def allow(self) -> bool:
        """Grant (and record) this request if the window has room; otherwise refuse it."""
        ### BEGIN SOLUTION
        now = self.clock()
        while self.grants and self.grants[0] <= now - self.window_seconds:
            self.grants.popleft()
        if len(self.grants) >= self.max_requests:
            return False
        self.grants.append(now)
        return True
        ### END SOLUTION
        ### BEGIN STUB
        raise NotImplementedError(
            "write allow(): True (and the grant remembered) if fewer than max_requests were "
            "granted in the last window_seconds, else False"
        )
        ### END STUB


# %%
check("ex05.q4", SlidingWindowLimiter)

# %% [markdown]
# ## Try it
#
# Your limiter with a clock you move yourself: five requests a second against a limit of 3
# per 2 seconds. Change the numbers and run it again.

# %%
def try_limiter():
    now = [0.0]
    limiter = SlidingWindowLimiter(3, 2.0, clock=lambda: now[0])
    decisions = []
    for step in range(10):
        now[0] = step * 0.2
        decisions.append(f"t={now[0]:.1f}s {'✔' if limiter.allow() else '✘'}")
    return "\n".join(decisions)


preview(try_limiter)

# %% [markdown]
# **Done?** Compare with the course's versions in `course_lib.algorithms` (notebook
# `11_algorithms` shows them with their measurements), and with the libraries you would use in
# production: `rapidfuzz.distance.LCSseq` and `Levenshtein`, `graphlib.TopologicalSorter`, and
# the `limits` package's `MovingWindowRateLimiter`.
