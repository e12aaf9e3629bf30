"""Progressive hints for the exercises, kept here rather than in the notebooks.

``hint("ex05.q1")`` shows the first hint for that check; calling it again shows the next one. The
hints nudge (where to look, what to compare, which lesson notebook shows it) and never give the
code away. A failing check adds its own hint, aimed at the input that failed.
"""

from __future__ import annotations

from types import MappingProxyType

from course_lib.socratic.feedback import Reply

__all__ = ["HINTS", "has_hints", "hint", "reset_hints"]

HINTS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    # -- ex01: cost dashboard ---------------------------------------------------------------
    "ex01.q1": (
        "collections.defaultdict(Decimal) starts every model at Decimal('0').",
        "call.cost_usd is already an exact Decimal: add it as it is, never through float().",
        "dict(sorted(totals.items(), key=..., reverse=True)) keeps the sorted order.",
    ),
    "ex01.q2": (
        "The window is max(call.at) - min(call.at): a timedelta. .total_seconds() gives seconds.",
        "A month is timedelta(days=30). The projection is total x month / window.",
        "Convert the seconds with Decimal(...) so the money stays exact; compare the window "
        "with timedelta(hours=1) before dividing.",
        "Notebook 03, section 'estimated_monthly', compares this with the lesson's total x 30.",
    ),
    "ex01.q3": (
        "call.at.replace(minute=0, second=0, microsecond=0) is the start of the call's hour.",
        "Add the costs per hour in a dict, then walk from the earliest hour to the latest in "
        "steps of timedelta(hours=1), using .get(hour, Decimal(0)).",
    ),
    "ex01.q4": (
        "figure, (left, right) = plt.subplots(1, 2) gives two panels on one figure.",
        "left.barh(list(costs), [float(c) for c in costs.values()]) draws one bar per model; "
        "right.bar(range(len(hours)), [...]) draws the hours.",
        "figure.suptitle(f'... ${projected:,.2f}', parse_math=False): two '$' signs would "
        "otherwise start a TeX formula.",
    ),
    "ex01.q5": (
        "Divide the budget by the number of conversations: what may one conversation cost on "
        "average?",
        "s x strong + (1 - s) x weak = weak + s x (strong - weak). Solve for s.",
        "If the budget per conversation is below the weak price, nothing fits (None); if the "
        "formula gives more than 1, everything fits (1).",
    ),
    # -- ex02: model routing ----------------------------------------------------------------
    "ex02.q1": (
        "Normalise the query and the keyword the same way: "
        "unicodedata.normalize('NFKC', text).casefold().",
        "re.escape(keyword) makes the keyword safe to put in a pattern.",
        "(?<![0-9a-z]) before and (?![0-9a-z]) after a keyword say 'no Latin letter or digit "
        "touches it'. Add them only on a side where the keyword itself ends in one.",
        "Notebook 05, 'API never matches', shows the lesson's three mistakes one by one.",
    ),
    "ex02.q2": (
        "Write cost(t): the weighted mistakes if every value > t goes to the strong model.",
        "Only cut-offs where a decision changes matter: min(values) - 1 and each value.",
        "min(candidates, key=cost) returns the cheapest; on a tie either is right.",
    ),
    "ex02.q3": (
        "Start with two rules: a keyword (your keyword_matches) or a long query sends it to "
        "gpt-4o.",
        "Fit the length threshold with best_threshold on the training queries that no keyword "
        "caught: those are the only ones the length rule decides.",
        "If complex recall is low, look at query_length's unit: count_tokens(query, 'gpt-4o') "
        "treats English and Chinese alike; characters do not.",
        "Never tune on the test queries: the check builds your router from the train split "
        "only, like a real deployment that meets new questions.",
    ),
    # -- ex03: concurrent tools -------------------------------------------------------------
    "ex03.q1": (
        "`coroutines = [make() for _, make in calls]` creates them; nothing runs until they "
        "are awaited or wrapped in tasks.",
        "asyncio.gather(*coroutines) runs them all at once and returns their values in the "
        "order you passed them, whatever order they finish in.",
    ),
    "ex03.q2": (
        "Write a helper `async def run_one(name, make)` that returns a ToolResult whatever "
        "happens, then gather one run_one per call.",
        "Inside run_one: `async with asyncio.timeout(timeout_per_tool): value = await make()`.",
        "Catch TimeoutError first (status 'timeout'), then Exception (status 'error', "
        "error=the exception itself). Never catch CancelledError: it is how a tool is stopped.",
        "Notebook 08, 'The fix: a deadline per tool', shows run_tools doing exactly this.",
    ),
    # -- ex04: streaming ---------------------------------------------------------------------
    "ex04.q1": (
        "Join self.buffer + text, split on '\n', and keep the last piece (after the last "
        "newline) in self.buffer: it is not a whole line yet.",
        "For each whole line: '' completes an event, ':...' is a comment, 'data: x' adds x.",
        "On a blank line with data collected: json.loads('\n'.join(data_lines)), append it to "
        "this call's result, and start a new event.",
    ),
    "ex04.q2": (
        "One parser for the whole stream; feed the chunks in order and look at the events each "
        "feed returns.",
        "ttft_s is the at_s of the chunk whose feed first returned a token event.",
        "Start with ended='truncated'; only a done or an error event changes it.",
    ),
    # -- ex05: algorithms -------------------------------------------------------------------
    "ex05.q1": (
        "Write the full-table version on paper for 'ABCB' and 'BCB' first: which cells does "
        "dp[i][j] read?",
        "dp[i][j] reads dp[i-1][j-1], dp[i-1][j] and dp[i][j-1]: the row above and the cell to "
        "the left. One list `row` of len(b) + 1 cells can hold both rows if you go left to right.",
        "Going left to right, row[j-1] already holds the new row's value when you need the OLD "
        "one (the diagonal). Save row[j] in a variable before you overwrite it; it is the next "
        "cell's diagonal.",
        "Notebook 11, section 1, shows why indexing Go strings compares bytes; in Python, "
        "`for ch in a` walks characters.",
    ),
    "ex05.q2": (
        "Start from the LCS recurrence: edit distance has the same shape, with three moves "
        "(delete, insert, replace) and a +1 for each.",
        "The first row is 0, 1, 2, ..., len(b) (insert everything) and each row starts with i "
        "(delete everything so far).",
        "For the bound: if the lengths differ by more than k, the answer is None without any "
        "table. While filling rows, if min(row) > k, no later row can come back under k.",
        "Notebook 11, section 2, draws the band |i - j| <= k; computing only the band is the "
        "faster (optional) version.",
    ),
    "ex05.q3": (
        "An edge (u, v) adds v to u's successors and 1 to v's in-degree.",
        "The queue starts with every node of in-degree 0. Pop from the left, append to the "
        "right: `collections.deque` does both in O(1).",
        "A node on a cycle never reaches in-degree 0, so it never enters the queue. Compare "
        "len(order) with n at the end.",
    ),
    "ex05.q4": (
        "Store the granted times in a deque, oldest on the left.",
        "On each allow(): now = self.clock(); pop from the left while the oldest grant is at "
        "or before now - window_seconds; then grant if fewer than max_requests remain.",
        "A class attribute (a list written in the class body) is shared by every limiter: "
        "create the deque in __init__.",
    ),
})

_seen: dict[str, int] = {}


def has_hints(check_id: str) -> bool:
    """Whether ``check_id`` has hints to give."""
    return bool(HINTS.get(check_id))


def hint(check_id: str) -> Reply:
    """The next hint for ``check_id`` ("Hint 2 of 3: ..."); the last one repeats once reached."""
    hints = HINTS.get(check_id)
    if not hints:
        known = ", ".join(sorted(HINTS))
        raise KeyError(f"no hints for {check_id!r}; checks with hints: {known}")
    shown = min(_seen.get(check_id, 0), len(hints) - 1)
    _seen[check_id] = shown + 1
    text = f"Hint {shown + 1} of {len(hints)} for {check_id}: {hints[shown]}"
    if shown == len(hints) - 1:
        text += "\n(That is the last hint.)"
    return Reply(text)


def reset_hints() -> None:
    """Start every exercise's hints from the first one again."""
    _seen.clear()
