"""Model routing: send simple questions to a cheap model and hard ones to a strong model.

The lesson's implementation 3 (模型路由) in working, measured form:

* :mod:`~course_lib.router.decision`: ``RouteDecision(model, reason)`` and the contract every
  router keeps, ``route(query, conversation_turns) -> RouteDecision``;
* :mod:`~course_lib.router.rules`: :class:`RuleRouter`, the lesson's rules with whole-word
  keywords and thresholds fitted on labelled data (the faithful port of the lesson's Go router,
  flaws included, is :class:`course_lib.lesson.model_router.LessonModelRouter`);
* :mod:`~course_lib.router.embedding`: :class:`EmbeddingRouter`, nearest labelled examples by
  embedding similarity, with a score and a threshold;
* :mod:`~course_lib.router.features`: text features (hashed words and Chinese character pairs)
  that help an English embedding model with Chinese;
* :mod:`~course_lib.router.evaluation`: accuracy, share of strong-model calls, recall of complex
  queries, monthly cost and a quality proxy, and threshold sweeps;
* :mod:`~course_lib.router.sticky`: :class:`StickyRouter`, one model per conversation once
  escalated;
* :mod:`~course_lib.router.satisfaction_experiment`: the z-test and sample size for the A/B
  test the lesson recommends.
"""

from course_lib.router.decision import (
    STRONG_MODEL,
    WEAK_MODEL,
    AlwaysModel,
    LabelledQuery,
    RouteDecision,
    Router,
    check_route_input,
)
from course_lib.router.embedding import EmbeddingRouter, Neighbour, fit_threshold
from course_lib.router.evaluation import (
    LESSON_CONVERSATION,
    LESSON_CONVERSATIONS_PER_MONTH,
    ConversationShape,
    RoutingReport,
    SweepPoint,
    answer_coverage,
    evaluate_router,
    format_reports,
    report_routing,
    saving_from_weak_share,
    sweep_thresholds,
    weak_share_needed,
)
from course_lib.router.features import (
    combine_embeddings,
    hashed_term_vectors,
    memoised,
    unknown_piece_share,
)
from course_lib.router.operating import (
    K_CANDIDATES,
    MISS_COST,
    leave_one_out_correct,
    operating_router,
)
from course_lib.router.rules import (
    LESSON_KEYWORDS,
    KeywordStats,
    RuleRouter,
    fit_thresholds,
    format_keyword_report,
)
from course_lib.router.satisfaction_experiment import (
    ProportionTest,
    SimulatedABTest,
    sample_size_per_arm,
    simulate_ab_test,
    two_proportion_z_test,
)
from course_lib.router.sticky import Escalation, StickyRouter

__all__ = [
    "K_CANDIDATES",
    "LESSON_CONVERSATION",
    "LESSON_CONVERSATIONS_PER_MONTH",
    "LESSON_KEYWORDS",
    "MISS_COST",
    "STRONG_MODEL",
    "WEAK_MODEL",
    "AlwaysModel",
    "ConversationShape",
    "EmbeddingRouter",
    "Escalation",
    "KeywordStats",
    "LabelledQuery",
    "Neighbour",
    "ProportionTest",
    "RouteDecision",
    "Router",
    "RoutingReport",
    "RuleRouter",
    "SimulatedABTest",
    "StickyRouter",
    "SweepPoint",
    "answer_coverage",
    "check_route_input",
    "combine_embeddings",
    "evaluate_router",
    "fit_threshold",
    "fit_thresholds",
    "format_keyword_report",
    "format_reports",
    "hashed_term_vectors",
    "leave_one_out_correct",
    "memoised",
    "operating_router",
    "report_routing",
    "sample_size_per_arm",
    "saving_from_weak_share",
    "simulate_ab_test",
    "sweep_thresholds",
    "two_proportion_z_test",
    "unknown_piece_share",
    "weak_share_needed",
]
