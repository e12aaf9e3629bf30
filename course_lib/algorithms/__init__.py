"""The lesson's part 4, "algorithms behind the agent": LCS and edit distance (fuzzy matching of
queries), topological sort (scheduling dependent tool calls), sliding-window rate limiting and
the token window (tokens per minute beside requests per minute).

Each concept has its own module; the lesson's Go code, ported faithfully with its flaws, is in
:mod:`course_lib.lesson.algorithms` for side-by-side comparison.
"""

from .lcs import lcs_length, lcs_length_bitparallel, lcs_length_textbook, lcs_string
from .levenshtein import closest_match, edit_distance
from .limiter_processes import LimiterRun, ProcessGrants, busiest_window, run_limiter_processes
from .rate_limit import SlidingWindowCounter, SlidingWindowLimiter
from .redis_rate_limit import RedisSlidingWindowLimiter, RedisTokenWindowLimiter
from .token_window import RateLimits, TokenBudget, TokenWindowLimiter
from .toposort import find_cycle, kahn_order, topological_levels, topological_sort

__all__ = [
    "LimiterRun",
    "ProcessGrants",
    "RateLimits",
    "RedisSlidingWindowLimiter",
    "RedisTokenWindowLimiter",
    "SlidingWindowCounter",
    "SlidingWindowLimiter",
    "TokenBudget",
    "TokenWindowLimiter",
    "busiest_window",
    "closest_match",
    "edit_distance",
    "find_cycle",
    "kahn_order",
    "lcs_length",
    "lcs_length_bitparallel",
    "lcs_length_textbook",
    "lcs_string",
    "run_limiter_processes",
    "topological_levels",
    "topological_sort",
]
