"""SemanticCache on hand-made vectors; guards and the threshold curve on known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.cache import (
    CachedAnswer,
    HitCurvePoint,
    MinimalEditGuard,
    SemanticCache,
    UnreadableTextGuard,
    choose_threshold,
    hit_curve,
    unknown_share,
)


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def unit_at(cosine: float) -> list[float]:
    """A 2-d unit vector whose cosine with (1, 0) is ``cosine``."""
    return [cosine, math.sqrt(1 - cosine * cosine)]


VECTORS = {
    "reset password": [1.0, 0.0],
    "forgot password": unit_at(0.95),
    "change email": unit_at(0.80),
    "unrelated": [0.0, 1.0],
    "opposite": [-1.0, 0.0],
}


def fake_embed(texts):
    return np.array([VECTORS[t] for t in texts], dtype=np.float32)


def answer(text: str = "Use the reset link.", kind: str | None = "howto",
           sources: dict[str, int] | None = None) -> CachedAnswer:
    return CachedAnswer(text, "gpt-4o", {"kb-012": 1} if sources is None else sources, kind)


TENANT = "scope:tenant-a"  # what CacheRequest.scope() returns, shortened


def cache(threshold: float, **kwargs) -> SemanticCache:
    return SemanticCache(threshold, embed=fake_embed, **kwargs)


@pytest.mark.parametrize(("threshold", "query", "hit"), [
    (0.90, "forgot password", True),    # 0.95 >= 0.90
    (0.96, "forgot password", False),
    (0.90, "change email", False),      # 0.80 < 0.90
    (0.75, "change email", True),
    (0.00, "opposite", False),          # cosine -1
])
def test_threshold_decides_hits(threshold, query, hit):
    sc = cache(threshold)
    sc.add("reset password", answer(), scope=TENANT)
    match = sc.lookup(query, scope=TENANT)
    assert (match is not None) is hit
    if hit:
        assert match.cached_query == "reset password"
        assert match.similarity == pytest.approx(float(np.dot(VECTORS[query], [1.0, 0.0])),
                                                 abs=1e-6)


def test_a_similarity_exactly_at_the_threshold_is_a_hit():
    probe = cache(0.0)
    probe.add("reset password", answer(), scope=TENANT)
    similarity = probe.nearest("forgot password", scope=TENANT).similarity
    sc = cache(similarity)
    sc.add("reset password", answer(), scope=TENANT)
    assert sc.lookup("forgot password", scope=TENANT) is not None
    stricter = cache(float(np.nextafter(similarity, 2.0)))
    stricter.add("reset password", answer(), scope=TENANT)
    assert stricter.lookup("forgot password", scope=TENANT) is None


def test_the_nearest_cached_question_answers():
    sc = cache(0.5)
    sc.add("change email", answer("Settings > Email.", sources={"kb-013": 1}), scope=TENANT)
    sc.add("reset password", answer("Use the reset link."), scope=TENANT)
    match = sc.lookup("forgot password", scope=TENANT)
    assert match is not None and match.answer.answer == "Use the reset link."


def test_scopes_do_not_mix():
    sc = cache(0.5)
    sc.add("reset password", answer(), scope="gpt-4o")
    assert sc.lookup("reset password", scope="gpt-4o-mini") is None
    assert sc.lookup("reset password", scope="gpt-4o") is not None


def test_a_scope_is_required_and_cannot_be_empty():
    """The default used to be "": whoever forgot the scope shared answers across tenants."""
    sc = cache(0.5)
    with pytest.raises(TypeError, match="scope"):
        sc.add("reset password", answer())  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="scope"):
        sc.lookup("reset password")  # type: ignore[call-arg]
    for bad in ("", None, b"tenant"):
        with pytest.raises(ValueError, match=r"scope must name what a match must share \(pass "
                                             r"CacheRequest.scope\(\)"):
            sc.add("reset password", answer(), scope=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="scope must name"):
            sc.nearest("reset password", scope=bad)  # type: ignore[arg-type]


def test_one_tenant_never_gets_another_tenants_answer():
    """The same question from two tenants with CacheRequest scopes: two entries, no sharing."""
    from course_lib.cache import CacheRequest

    sc = cache(0.5)
    alice = CacheRequest("reset password", "You are Kitewing support.", "gpt-4o", tenant="alice")
    bob = CacheRequest("reset password", "You are Kitewing support.", "gpt-4o", tenant="bob")
    assert alice.scope() != bob.scope()
    sc.add("reset password", answer("Alice's account: use the reset link."), scope=alice.scope())
    assert sc.lookup("forgot password", scope=bob.scope()) is None
    assert sc.lookup("forgot password", scope=alice.scope()).answer.answer.startswith("Alice")


def test_entries_expire_by_kind():
    clock = FakeClock()
    sc = cache(0.5, clock=clock)
    sc.add("reset password", answer(kind="realtime"), scope=TENANT)
    clock.now = 29.9
    assert sc.lookup("reset password", scope=TENANT) is not None
    clock.now = 30.0
    assert sc.lookup("reset password", scope=TENANT) is None
    assert len(sc) == 0


def test_uncacheable_kinds_are_not_added():
    sc = cache(0.5)
    assert not sc.add("reset password", answer(kind=None), scope=TENANT)
    assert sc.lookup("reset password", scope=TENANT) is None


def test_least_recently_used_is_evicted_when_full():
    sc = cache(0.99, max_entries=2)
    sc.add("reset password", answer("a"), scope=TENANT)
    sc.add("unrelated", answer("b"), scope=TENANT)
    assert sc.lookup("reset password", scope=TENANT) is not None  # "unrelated" is now the LRU entry
    sc.add("opposite", answer("c"), scope=TENANT)
    assert len(sc) == 2
    assert sc.lookup("unrelated", scope=TENANT) is None
    assert sc.lookup("reset password", scope=TENANT) is not None


def test_adding_the_same_question_replaces_its_answer():
    sc = cache(0.99)
    sc.add("reset password", answer("old"), scope=TENANT)
    sc.add("reset password", answer("new"), scope=TENANT)
    assert len(sc) == 1
    assert sc.lookup("reset password", scope=TENANT).answer.answer == "new"


def test_a_guard_vetoes_a_match():
    def no_email(query: str, cached: str) -> str | None:
        return "email questions are never shared" if "email" in query else None

    sc = cache(0.5, guards=[no_email])
    sc.add("reset password", answer(), scope=TENANT)
    assert sc.lookup("change email", scope=TENANT) is None
    assert sc.refused == 1
    explained = sc.explain("change email", scope=TENANT)
    assert explained is not None and explained.refused_because == "email questions are never shared"


def test_invalidate_entry_forgets_grounded_answers():
    sc = cache(0.5)
    sc.add("reset password", answer(sources={"kb-012": 1}), scope=TENANT)
    sc.add("unrelated", answer(sources={"kb-050": 1}), scope=TENANT)
    assert sc.invalidate_entry("kb-012") == 1
    # only "unrelated" (cosine 0.31) is left
    assert sc.lookup("forgot password", scope=TENANT) is None
    assert sc.lookup("unrelated", scope=TENANT) is not None


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="threshold"):
        SemanticCache(1.5, embed=fake_embed)
    with pytest.raises(ValueError, match="query"):
        cache(0.5).embed_query("  ")
    sc = cache(0.5)
    sc.add("reset password", answer(), scope=TENANT)
    with pytest.raises(ValueError, match="dimensions"):
        sc.lookup("x", vector=np.ones(3), scope=TENANT)


# -- guards on real text ---------------------------------------------------------------------

def test_the_model_cannot_read_most_chinese():
    assert unknown_share("How do I reset my password?") == 0.0
    assert unknown_share("怎么升级套餐?") > 0.5
    guard = UnreadableTextGuard(0.2)
    assert guard("How do I upgrade?", "How do I upgrade my plan?") is None
    assert "cannot read" in guard("怎么升级套餐?", "怎么降级套餐?")


@pytest.mark.parametrize(("a", "b", "refused"), [
    ("How do I enable 2FA?", "How do I disable 2FA?", True),
    ("Enable 2FA", "Disable 2FA", True),
    ("Sync tasks from Jira into Kitewing", "Sync tasks from Kitewing into Jira", True),
    ("How do I reset my password?", "how do i reset my password", False),
    ("How do I reset my password?", "forgot my password, what now?", False),
])
def test_minimal_edit_guard(a, b, refused):
    assert (MinimalEditGuard(0.5)(a, b) is not None) is refused


# -- threshold curve -------------------------------------------------------------------------

def test_hit_curve_counts_hits_at_each_threshold():
    similarities = [0.9, 0.8, 0.7, 0.6, -math.inf]
    same_intent = [True, False, True, False, True]
    curve = hit_curve(similarities, same_intent, thresholds=[0.65, 0.85, 0.5])
    assert [p.threshold for p in curve] == [0.5, 0.65, 0.85]
    assert [(p.hits, p.true_hits, p.false_hits) for p in curve] == [(4, 2, 2), (3, 2, 1),
                                                                    (1, 1, 0)]
    assert curve[1].precision == pytest.approx(2 / 3)
    assert curve[1].recall == pytest.approx(2 / 3)  # the refused positive counts as missed


def test_precision_is_undefined_without_hits():
    point = HitCurvePoint(0.99, hits=0, true_hits=0, positives=3)
    assert point.precision is None and point.f_beta() == 0.0


def test_f_beta_weighs_precision_more_when_beta_is_small():
    point = HitCurvePoint(0.5, hits=10, true_hits=8, positives=20)  # P 0.8, R 0.4
    assert point.f_beta(1.0) == pytest.approx(2 * 0.8 * 0.4 / 1.2)
    assert point.f_beta(0.5) == pytest.approx(1.25 * 0.32 / (0.25 * 0.8 + 0.4))


def test_choose_threshold_maximises_f_half():
    """F0.5 prefers the precise 0.85 (P 1.0, R 0.5); F1 ties 0.5 and 0.85 and takes 0.5."""
    curve = hit_curve([0.9, 0.8, 0.7, 0.6], [True, False, True, False],
                      thresholds=[0.5, 0.75, 0.85])
    chosen = choose_threshold(curve)
    assert chosen.threshold == 0.85
    assert (chosen.precision, chosen.recall) == (1.0, 0.5)
    assert choose_threshold(curve, beta=1.0).threshold == 0.5


def test_choose_threshold_refuses_a_useless_curve():
    with pytest.raises(ValueError, match="never help"):
        choose_threshold(hit_curve([0.9, 0.8], [False, False]))
    with pytest.raises(ValueError, match="one label per"):
        hit_curve([0.9], [True, False])
