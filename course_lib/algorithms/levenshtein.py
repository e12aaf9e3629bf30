"""Edit (Levenshtein) distance, and the fuzzy cache lookup the lesson uses it for.

The lesson ties edit distance to "fuzzy query matching": a user who types "how do I reset
pasword" should hit the cached answer for "how do I reset password". The DP is LCS's sibling:
``dp[i][j]`` is the number of single-character insertions, deletions and substitutions that turn
``a[:i]`` into ``b[:j]``.

A cache lookup never needs the exact distance of a far-away candidate, only "is it within ``k``?".
Two facts make that cheap:

- an alignment of cost ``<= k`` never leaves the diagonal band ``|i - j| <= k``, so only
  ``2k + 1`` cells per row matter (Ukkonen's band): ``O(k * min(m, n))`` instead of ``O(m * n)``;
- values along any path never decrease, so once a whole row of the band exceeds ``k`` the answer
  does too, and we stop early.

Characters are Python ``str`` code points (Chinese counts per character). In production use
``rapidfuzz.distance.Levenshtein.distance(a, b, score_cutoff=k)`` (bit-parallel C++) and
``rapidfuzz.process.extractOne`` for the lookup.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..arguments import require_int, require_str

__all__ = ["closest_match", "edit_distance"]


def edit_distance(a: str, b: str, max_distance: int | None = None) -> int | None:
    """Levenshtein distance between ``a`` and ``b``.

    Without ``max_distance``: the exact distance, in ``O(m * n)`` time and ``O(min(m, n))``
    memory. With ``max_distance=k``: the distance if it is at most ``k``, otherwise ``None``,
    computed in a band of width ``2k + 1`` with an early exit.

    >>> edit_distance("kitten", "sitting")
    3
    >>> edit_distance("kitten", "sitting", max_distance=2) is None
    True
    """
    require_str("a", a)
    require_str("b", b)
    if max_distance is not None:
        require_int("max_distance", max_distance, minimum=0)
    a, b = _strip_common_affixes(a, b)
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if max_distance is None:
        return _full_distance(shorter, longer)
    if len(longer) - len(shorter) > max_distance:
        return None  # every extra character of the longer string costs one insertion
    return _banded_distance(shorter, longer, max_distance)


def _strip_common_affixes(a: str, b: str) -> tuple[str, str]:
    """Drop the shared prefix and suffix: they never change the distance, and typo'd queries
    share most of their text with the cached one."""
    limit = min(len(a), len(b))
    start = 0
    while start < limit and a[start] == b[start]:
        start += 1
    end = 0
    while end < limit - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return a[start : len(a) - end], b[start : len(b) - end]


def _full_distance(shorter: str, longer: str) -> int:
    row = list(range(len(shorter) + 1))
    for i, ch in enumerate(longer, 1):
        diagonal, row[0] = row[0], i
        for j, other in enumerate(shorter, 1):
            above = row[j]
            if ch == other:
                row[j] = diagonal
            else:
                row[j] = 1 + min(diagonal, above, row[j - 1])
            diagonal = above
    return row[-1]


def _banded_distance(shorter: str, longer: str, k: int) -> int | None:
    """Distance if ``<= k`` else None; requires ``len(longer) - len(shorter) <= k``."""
    m, n = len(shorter), len(longer)
    too_far = k + 1  # stands in for every cell outside the band: their true value is > k
    previous = [j if j <= k else too_far for j in range(n + 1)]
    current = [too_far] * (n + 1)
    for i in range(1, m + 1):
        ch = shorter[i - 1]
        low, high = max(1, i - k), min(n, i + k)
        # Cells just outside the band are read by this row and the next one; reset them because
        # the arrays are reused and may still hold values from two rows ago.
        current[low - 1] = i if low == 1 else too_far
        row_best = current[low - 1]
        for j in range(low, high + 1):
            if ch == longer[j - 1]:
                value = previous[j - 1]
            else:
                value = 1 + min(previous[j - 1], previous[j], current[j - 1])
            current[j] = value
            if value < row_best:
                row_best = value
        if high < n:
            current[high + 1] = too_far
        if row_best > k:
            return None  # every path to the end crosses this row, and costs never decrease
        previous, current = current, previous
    return previous[n] if previous[n] <= k else None


def closest_match(query: str, candidates: Iterable[str], max_distance: int) -> str | None:
    """The candidate nearest to ``query`` within ``max_distance`` edits, or None.

    Ties are broken by the candidate's own order (``min`` over ``(distance, candidate)``), so the
    answer does not depend on the order of ``candidates`` (a ``set`` of cached queries gives the
    same answer on every run). Each candidate is checked with the best distance found so far as
    its bound, so far-away candidates cost little. Normalise case and whitespace before calling
    if your cache keys are normalised.

    >>> closest_match("how do I reset pasword",
    ...               ["how do I reset password", "how do I delete my account"], 3)
    'how do I reset password'
    """
    require_str("query", query)
    require_int("max_distance", max_distance, minimum=0)
    if isinstance(candidates, str):
        raise TypeError("candidates must be an iterable of str, not a single str")
    best: str | None = None
    best_distance = max_distance
    for candidate in candidates:
        distance = edit_distance(query, candidate, best_distance)
        if distance is None:
            continue
        if best is None or distance < best_distance or candidate < best:
            best, best_distance = candidate, distance
    return best
