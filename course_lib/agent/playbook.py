"""The lesson's two tables of levers, as data, with a measured figure and a verdict beside each.

The lesson's part 3 (关键概念) sums the day up in two tables. Each row is a :class:`LessonRange`
here, copied from the lesson (the Chinese wording is kept; the English gloss is ours). A
:class:`PlaybookRow` puts a figure measured in notebook 10 beside it, says whether the figure
falls inside the lesson's typical range, and carries one sentence on why.

成本优化四板斧 (four cost levers):

============================ ================ ==============
策略                          典型节省          风险
============================ ================ ==============
Prompt 压缩(去冗余)            10-30%           可能丢失关键信息
Prompt 缓存(相同 query)        20-60%           陈旧信息返回
模型路由(简单用小模型)           40-80%           精度轻微下降
Batch embedding              减少 RTT,省时间    批量失败影响大
============================ ================ ==============

延迟优化三板斧 (three latency levers):

============================ ================ ==============
策略                          典型改善          适用场景
============================ ================ ==============
并发 tool 调用                 2-3x             多 tool 场景
流式响应 SSE                   首字延迟↓80%      所有对话场景
响应缓存(同 query)             完全消除 LLM 延迟  高重复率场景
============================ ================ ==============

A range is ``low..high`` in the row's unit: a share of the bill saved, a speed-up factor, or a
share of latency removed. The lesson's single figures ("↓80%", "完全消除") are ranges of one
point; a measurement counts as matching one when it is within ``tolerance`` of it (a tolerance we
choose and print, not the lesson's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["COST_LEVERS", "LATENCY_LEVERS", "LessonRange", "PlaybookRow", "Verdict",
           "format_change", "format_playbook"]

Unit = Literal["share", "factor"]
Verdict = Literal["inside", "below", "above", "confirmed", "not confirmed"]


@dataclass(frozen=True)
class LessonRange:
    """One row of the lesson's tables. ``low``/``high`` None: a qualitative claim."""

    strategy: str  # the lesson's wording
    gloss: str  # ours, in English
    typical: str  # the lesson's figure, as printed
    low: float | None
    high: float | None
    unit: Unit
    caveat: str  # 风险 (risk) in the cost table, 适用场景 (where it applies) in the latency one

    def __post_init__(self) -> None:
        if (self.low is None) != (self.high is None):
            raise ValueError(f"{self.strategy}: give both ends of the range or neither")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"{self.strategy}: low {self.low} is above high {self.high}")

    @property
    def quantitative(self) -> bool:
        return self.low is not None

    def verdict(self, measured: float, *, tolerance: float = 0.0) -> Verdict:
        """``inside``, ``below`` or ``above`` the range widened by ``tolerance`` on each side."""
        if self.low is None or self.high is None:
            raise ValueError(f"{self.strategy} is qualitative: judge it with a yes or no")
        if tolerance < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance}")
        if measured < self.low - tolerance:
            return "below"
        if measured > self.high + tolerance:
            return "above"
        return "inside"

    def format(self, value: float) -> str:
        return f"{value:.0%}" if self.unit == "share" else f"{value:.1f}x"


COST_LEVERS: tuple[LessonRange, ...] = (
    LessonRange("Prompt 压缩(去冗余)", "prompt compression (remove redundancy)", "10-30%",
                0.10, 0.30, "share", "可能丢失关键信息 (may lose key information)"),
    LessonRange("Prompt 缓存(相同 query)", "response cache (same query)", "20-60%",
                0.20, 0.60, "share", "陈旧信息返回 (stale answers)"),
    LessonRange("模型路由(简单用小模型)", "model routing (small model for simple questions)",
                "40-80%", 0.40, 0.80, "share", "精度轻微下降 (slightly lower accuracy)"),
    LessonRange("Batch embedding", "batch embedding", "减少 RTT,省时间 (fewer round trips, "
                "less time)", None, None, "factor",
                "批量失败影响大 (a failed batch loses more)"),
)

LATENCY_LEVERS: tuple[LessonRange, ...] = (
    LessonRange("并发 tool 调用", "concurrent tool calls", "2-3x", 2.0, 3.0, "factor",
                "多 tool 场景 (several tools per turn)"),
    LessonRange("流式响应 SSE", "streaming (SSE)", "首字延迟↓80% (first-token latency -80%)",
                0.80, 0.80, "share", "所有对话场景 (every conversation)"),
    LessonRange("响应缓存(同 query)", "response cache (same query)",
                "完全消除 LLM 延迟 (no LLM latency at all)", 1.0, 1.0, "share",
                "高重复率场景 (traffic that repeats itself)"),
)


@dataclass(frozen=True)
class PlaybookRow:
    """A lesson row with what was measured: the figure, the verdict and why."""

    lesson: LessonRange
    measured: str  # the figure as printed, e.g. "27%" or "2.2x (650 -> 300 ms)"
    verdict: Verdict
    why: str


def format_change(cut: float, *, digits: int = 0) -> str:
    """A share of latency removed, written as the change it is: 0.12 -> "-12%", -0.01 -> "+1%".

    The sign comes from the number, so a cut that came out negative (the wait grew) reads "+1%"
    rather than "--1%"; a change that rounds to nothing is "0%".
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be an integer >= 0, got {digits!r}")
    if round(cut * 100, digits) == 0:
        return f"{0:.{digits}%}"
    return f"{-cut:+.{digits}%}"


def format_playbook(title: str, rows: Sequence[PlaybookRow]) -> str:
    """The table as text: strategy, the lesson's figure, ours, the verdict, then why."""
    if not rows:
        raise ValueError("format_playbook needs at least one row")
    width = max(len(row.lesson.gloss) for row in rows)
    typical = max(len(row.lesson.typical) for row in rows)
    measured = max(len(row.measured) for row in rows)
    lines = [title, f"{'lever':{width}}  {'lesson':{typical}}  {'measured':{measured}}  verdict"]
    for row in rows:
        lines.append(f"{row.lesson.gloss:{width}}  {row.lesson.typical:{typical}}  "
                     f"{row.measured:{measured}}  {row.verdict}")
    lines.append("")
    for row in rows:
        lines.append(f"- {row.lesson.strategy} [{row.lesson.caveat}]: {row.why}")
    return "\n".join(lines)
