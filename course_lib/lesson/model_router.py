"""The lesson's ``ModelRouter`` (实现3: 模型路由), ported line for line, flaws included.

The Go original (``internal/router/model_router.go``) sends a message to gpt-4o when the
conversation has more than 5 turns, when the query is longer than 200 characters, or when the
lower-cased query *contains* one of fifteen technical keywords; everything else goes to
gpt-4o-mini. Kept faithful so notebook 05 can measure what goes wrong:

* **"API" never matches.** The query is lower-cased (``strings.ToLower``) but the keyword list is
  not, and ``strings.Contains("how do i rotate an api key", "API")`` is false. The one keyword
  most support questions about integrations contain is dead code.
* **Substrings, not words.** ``strings.Contains`` fires on "terror" (error), "decode",
  "encoded", "postcode" and "codename" (code), "deployed" (deploy), "integrated" (integrate).
* **Guessed thresholds.** 5 turns and 200 characters were never measured; 200 characters is a
  long question in English and a very long one in Chinese, where one character carries roughly
  the meaning of a short English word.
* **No input checks.** An empty query or -3 turns is routed like any other message.

The fix is :class:`course_lib.router.rules.RuleRouter` (normalised keywords, word boundaries,
thresholds fitted on labelled data) and :class:`course_lib.router.embedding.EmbeddingRouter`.
"""

from __future__ import annotations

from course_lib.router.decision import STRONG_MODEL, WEAK_MODEL, RouteDecision

__all__ = [
    "LESSON_MAX_RUNES",
    "LESSON_MAX_TURNS",
    "LESSON_TECHNICAL_KEYWORDS",
    "LessonModelRouter",
]

LESSON_MAX_TURNS = 5  # "conversationTurns > 5"
LESSON_MAX_RUNES = 200  # "utf8.RuneCountInString(query) > 200"

# technicalKeywords, in the lesson's order and spelling: "API" stays upper case, as in the Go.
LESSON_TECHNICAL_KEYWORDS: tuple[str, ...] = (
    "配置", "错误", "报错", "exception", "error",
    "debug", "deploy", "部署", "权限", "permission",
    "API", "代码", "code", "integrate", "集成",
)


class LessonModelRouter:
    """``NewModelRouter()``: gpt-4o-mini for simple queries, gpt-4o for complex ones."""

    def __init__(self) -> None:
        self.simple_model = WEAK_MODEL  # 低成本
        self.complex_model = STRONG_MODEL  # 高精度

    def route(self, query: str, conversation_turns: int) -> RouteDecision:
        """``Route``: the first rule that fires decides; otherwise the small model."""
        # 规则1:对话轮数多 → 上下文复杂 → 用强模型
        if conversation_turns > LESSON_MAX_TURNS:
            return RouteDecision(self.complex_model, "long conversation requires stronger model")
        # 规则2:query 很长(>200字符)→ 可能有复杂需求. A Python str is a sequence of code
        # points, so len() is Go's RuneCountInString for any valid UTF-8 text.
        if len(query) > LESSON_MAX_RUNES:
            return RouteDecision(self.complex_model, "long query indicates complexity")
        # 规则3:包含技术关键词 → 需要精准回答. Go's strings.ToLower and str.lower() agree on
        # every letter the keywords and the course's queries use.
        query_lower = query.lower()
        for kw in LESSON_TECHNICAL_KEYWORDS:
            if kw in query_lower:  # strings.Contains: a substring test
                return RouteDecision(self.complex_model, "technical keyword: " + kw)
        # 默认用小模型
        return RouteDecision(self.simple_model, "simple query")
