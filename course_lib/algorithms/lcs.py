"""Longest common subsequence (LCS): the lesson's DP template, then the versions you would ship.

The lesson asks for four things: the state (``dp[i][j]`` is the LCS length of ``a[:i]`` and
``b[:j]``), the transition (a match extends the diagonal, otherwise take the better of "drop a
character of ``a``" and "drop a character of ``b``"), the initial row and column of zeros, and the
order (row by row). Every function here keeps that recurrence and changes only what it costs:

- :func:`lcs_length_textbook` fills the whole ``(m+1) x (n+1)`` table, as the lesson does;
- :func:`lcs_length` keeps one row (the "rolling array" the lesson asks you to describe), so the
  memory is ``O(min(m, n))``;
- :func:`lcs_length_bitparallel` packs a whole row into one Python int and updates it with a
  handful of big-integer operations per character (Allison & Dix 1986, Hyyrö 2004), hundreds of
  times faster than the table on strings of a few thousand characters;
- :func:`lcs_string` returns one longest common subsequence itself, in linear memory
  (Hirschberg's divide and conquer).

All of them compare Python ``str`` characters (code points), so "缓存" and "存储" share exactly one
character. The lesson's Go code compares bytes; see :mod:`course_lib.lesson.algorithms`.

In production use ``rapidfuzz.distance.LCSseq`` (``similarity`` is the LCS length): the same
bit-parallel idea in C++.
"""

from __future__ import annotations

from ..arguments import require_str

__all__ = ["lcs_length", "lcs_length_bitparallel", "lcs_length_textbook", "lcs_string"]


def lcs_length_textbook(a: str, b: str) -> int:
    """LCS length with the full 2-D table, exactly the lesson's template (but on characters).

    ``O(m * n)`` time and ``O(m * n)`` memory: kept for teaching and as the benchmark baseline.
    """
    require_str("a", a)
    require_str("b", b)
    m, n = len(a), len(b)
    dp = [[0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            if a[i - 1] == b[j - 1]:
                dp[i][j] = dp[i - 1][j - 1] + 1
            else:
                dp[i][j] = max(dp[i - 1][j], dp[i][j - 1])
    return dp[m][n]


def _last_row(outer: str, inner: str) -> list[int]:
    """Row ``len(outer)`` of the LCS table: ``row[j]`` is the LCS length of ``outer`` and
    ``inner[:j]``, computed with a single rolling row of ``len(inner) + 1`` cells."""
    row = [0] * (len(inner) + 1)
    for ch in outer:
        # ``diagonal`` is dp[i-1][j-1]: the old value of the cell to the left, saved before
        # the left cell was overwritten with row i.
        diagonal = 0
        for j, other in enumerate(inner, 1):
            above = row[j]
            if ch == other:
                row[j] = diagonal + 1
            elif row[j - 1] > above:
                row[j] = row[j - 1]
            diagonal = above
    return row


def lcs_length(a: str, b: str) -> int:
    """LCS length with a rolling array: ``O(m * n)`` time, ``O(min(m, n))`` memory.

    Row ``i`` of the table only reads row ``i - 1``, so one row is enough; the row runs along the
    shorter string.

    >>> lcs_length("abcde", "ace")
    3
    >>> lcs_length("缓存", "存储")
    1
    """
    require_str("a", a)
    require_str("b", b)
    longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
    return _last_row(longer, shorter)[-1]


def lcs_length_bitparallel(a: str, b: str) -> int:
    """LCS length by bit-parallel DP over Python ints (Allison–Dix / Hyyrö).

    Encode the longer string as one bit mask per character (bit ``i`` set where that character
    occurs). A row of the table never grows by more than 1 from one cell to the next, so the row
    is described by where it steps up; ``v`` holds a 0 bit at every step. One character of the
    shorter string updates the whole row at once::

        u = v & match[ch]
        v = (v + u) | (v - u)

    (the carry of the addition moves each step to the first match to its right). At the end the
    LCS length is the number of 0 bits. Each character costs a few operations on an
    ``m``-bit int, i.e. ``O(m / 64)`` machine words, instead of ``m`` Python-level cell updates.

    >>> lcs_length_bitparallel("abcde", "ace")
    3
    """
    require_str("a", a)
    require_str("b", b)
    longer, shorter = (a, b) if len(a) >= len(b) else (b, a)
    if not shorter:
        return 0
    match: dict[str, int] = {}
    for position, ch in enumerate(longer):
        match[ch] = match.get(ch, 0) | (1 << position)
    all_ones = (1 << len(longer)) - 1
    v = all_ones
    for ch in shorter:
        u = v & match.get(ch, 0)
        if u:
            # ``& all_ones`` drops the carry out of the top bit: Python ints never overflow.
            v = ((v + u) | (v - u)) & all_ones
    return len(longer) - v.bit_count()


def lcs_string(a: str, b: str) -> str:
    """One longest common subsequence of ``a`` and ``b`` (Hirschberg: linear memory).

    Split ``a`` in half; the LCS passes through ``b`` at the column where the forward row of the
    left half plus the backward row of the right half is largest. Recurse on both halves. Time
    stays ``O(m * n)`` (about twice the length-only DP); memory is ``O(m + n)`` instead of the full
    table a backtracking reconstruction needs. Ties go to the leftmost split, so the answer is
    deterministic.

    >>> lcs_string("abcbdab", "bdcaba")
    'bdab'
    """
    require_str("a", a)
    require_str("b", b)
    pieces: list[str] = []
    _hirschberg(a, b, pieces)
    return "".join(pieces)


def _hirschberg(a: str, b: str, pieces: list[str]) -> None:
    # Recursion depth is log2(len(a)), so even 10**6 characters stay far below the limit.
    if not a or not b:
        return
    if len(a) == 1:
        if a in b:
            pieces.append(a)
        return
    middle = len(a) // 2
    forward = _last_row(a[:middle], b)
    backward = _last_row(a[middle:][::-1], b[::-1])
    n = len(b)
    split = max(range(n + 1), key=lambda j: forward[j] + backward[n - j])
    _hirschberg(a[:middle], b[:split], pieces)
    _hirschberg(a[middle:], b[split:], pieces)
