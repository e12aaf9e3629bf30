"""cache_key: canonical, unambiguous, complete; and the lesson's key that is none of these."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.cache import (
    cache_key,
    cache_scope,
    canonical_model,
    collision_probability,
    keys_for_collision_probability,
)
from course_lib.lesson.prompt_cache import MapTTLStore, PromptCache

SYSTEM = "You are Kitewing's support assistant."
KEY_SHAPE = re.compile(r"answer:v1:[0-9a-f]{64}")


def test_key_shape_keeps_all_256_bits():
    """Namespace, schema version and the full SHA-256 in hex."""
    assert KEY_SHAPE.fullmatch(cache_key("How do I reset my password?", SYSTEM, "gpt-4o"))


def test_parameter_order_is_irrelevant():
    """Keyword order and the key order inside nested dicts do not change the key."""
    tools_a = [{"type": "function", "function": {"name": "lookup", "parameters": {"a": 1, "b": 2}}}]
    tools_b = [{"function": {"parameters": {"b": 2, "a": 1}, "name": "lookup"}, "type": "function"}]
    first = cache_key("q", SYSTEM, "gpt-4o", tools=tools_a, temperature=0, top_p=1, max_tokens=300)
    second = cache_key("q", SYSTEM, "gpt-4o", max_tokens=300, top_p=1, temperature=0,
                       tools=tools_b)
    assert first == second


def test_equal_numbers_are_one_spelling_and_none_means_unset():
    """temperature=1 and 1.0 are the same request; a None parameter is an unset one."""
    assert cache_key("q", SYSTEM, "gpt-4o", temperature=1) == cache_key(
        "q", SYSTEM, "gpt-4o", temperature=1.0)
    assert cache_key("q", SYSTEM, "gpt-4o", seed=None) == cache_key("q", SYSTEM, "gpt-4o")
    assert cache_key("q", SYSTEM, "gpt-4o", temperature=0.7) != cache_key(
        "q", SYSTEM, "gpt-4o", temperature=0.70001)


@pytest.mark.parametrize("change", [
    {"temperature": 1.2},
    {"top_p": 0.5},
    {"max_tokens": 50},
    {"tenant": "acme"},
    {"tools": [{"type": "function", "function": {"name": "ticket_status"}}]},
    {"history": [{"role": "user", "content": "hi"}]},
    {"namespace": "answer2"},
])
def test_everything_that_shapes_the_answer_is_in_the_key(change):
    """Sampling parameters, tenant, tools, history and namespace each change the key."""
    base = cache_key("What is my ticket status?", SYSTEM, "gpt-4o", temperature=0)
    changed = cache_key("What is my ticket status?", SYSTEM, "gpt-4o",
                        **{"temperature": 0, **change})
    assert changed != base


def test_alias_and_snapshot_share_a_key():
    """The API answers gpt-4o as its snapshot, and reports the snapshot's name."""
    assert canonical_model("gpt-4o") == "gpt-4o-2024-08-06"
    assert cache_key("q", SYSTEM, "gpt-4o") == cache_key("q", SYSTEM, "gpt-4o-2024-08-06")
    assert cache_key("q", SYSTEM, "gpt-4o") != cache_key("q", SYSTEM, "gpt-4o-mini")
    assert canonical_model("llama-3.1-8b") == "llama-3.1-8b"


def test_the_lesson_key_is_ambiguous_and_ours_is_not():
    """"a|b"+"c" and "a"+"b|c" hash the same bytes in the lesson's key."""
    lesson = PromptCache(MapTTLStore(), ttl_s=60)
    assert lesson.cache_key("a|b", "c", "gpt-4o") == lesson.cache_key("a", "b|c", "gpt-4o")
    assert cache_key("a|b", "c", "gpt-4o") != cache_key("a", "b|c", "gpt-4o")


def test_the_lesson_key_keeps_16_hex_digits():
    """64 bits of the SHA-256, behind a fixed prefix."""
    lesson = PromptCache(MapTTLStore(), ttl_s=60)
    key = lesson.cache_key("What is my ticket status?", SYSTEM, "gpt-4o")
    assert re.fullmatch(r"prompt:[0-9a-f]{16}", key)


def test_scope_is_the_key_without_the_query():
    """Two queries in one scope share it; a different model or tenant does not."""
    scope = cache_scope(SYSTEM, "gpt-4o", temperature=0)
    assert scope == cache_scope(SYSTEM, "gpt-4o-2024-08-06", temperature=0.0)
    assert scope != cache_scope(SYSTEM, "gpt-4o", tenant="acme", temperature=0)
    assert scope != cache_scope(SYSTEM, "gpt-4o-mini", temperature=0)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"temperature": float("nan")}, ValueError, "finite"),
    ({"temperature": object()}, TypeError, "JSON values"),
    ({"tenant": ""}, ValueError, "tenant"),
    ({"namespace": "a:b"}, ValueError, "namespace"),
])
def test_bad_input_names_the_problem(kwargs, error, message):
    with pytest.raises(error, match=message):
        cache_key("q", SYSTEM, "gpt-4o", **kwargs)


def test_bad_positional_input_names_the_problem():
    with pytest.raises(ValueError, match="model"):
        cache_key("q", SYSTEM, " ")
    with pytest.raises(TypeError, match="query"):
        cache_key(None, SYSTEM, "gpt-4o")  # type: ignore[arg-type]


# -- property: different requests never share a key ------------------------------------------

MODELS = st.sampled_from(["gpt-4o-2024-11-20", "gpt-4o-mini-2024-07-18", "llama-3.1-8b"])
NON_INTEGRAL = st.floats(min_value=0, max_value=2, allow_nan=False).filter(
    lambda x: not x.is_integer())
PARAMS = st.dictionaries(
    st.sampled_from(["temperature", "top_p", "max_tokens", "seed"]),
    st.one_of(st.integers(-5, 5000), NON_INTEGRAL),
    max_size=4,
)
REQUEST = st.tuples(st.text(max_size=30), st.text(max_size=30), MODELS,
                    st.text(min_size=1, max_size=8).filter(str.strip), PARAMS)


@settings(max_examples=300, deadline=None)
@given(REQUEST, REQUEST)
def test_different_requests_get_different_keys(first, second):
    """Any change to query, prompt, model, tenant or a parameter changes the key (and only
    a change does). Integers and non-integral floats never denote the same number here."""
    def key(request):
        query, system, model, tenant, params = request
        return cache_key(query, system, model, tenant=tenant, **params)

    assert (key(first) == key(second)) == (first == second)


@given(st.text(max_size=12), st.text(max_size=12), st.text(max_size=12))
def test_no_separator_can_merge_fields(a, b, c):
    """Moving text across the query/system boundary always changes the key."""
    if b:
        assert cache_key(a + b, c, "gpt-4o") != cache_key(a, b + c, "gpt-4o")


# -- birthday bound --------------------------------------------------------------------------

def _exact_collision_probability(n: int, space: int) -> float:
    no_collision = 1.0
    for i in range(n):
        no_collision *= (space - i) / space
    return 1.0 - no_collision


@pytest.mark.parametrize(("n", "bits"), [(300, 16), (1000, 20), (50, 10)])
def test_collision_probability_matches_the_exact_birthday_product(n, bits):
    assert collision_probability(n, bits) == pytest.approx(
        _exact_collision_probability(n, 2**bits), rel=0.02)


def test_collision_probability_at_64_bits():
    """2^32 keys of 64 bits collide with probability 1 - e^(-1/2); tiny counts stay nonzero."""
    assert collision_probability(2**32, 64) == pytest.approx(1 - math.exp(-0.5), rel=1e-6)
    assert collision_probability(1000, 64) == pytest.approx(1000 * 999 / 2 / 2**64, rel=1e-6)
    assert collision_probability(1, 64) == 0.0


def test_keys_for_collision_probability_inverts_it():
    n = keys_for_collision_probability(0.01, 64)
    assert collision_probability(round(n), 64) == pytest.approx(0.01, rel=1e-4)
    with pytest.raises(ValueError, match="probability"):
        keys_for_collision_probability(1.0, 64)
    with pytest.raises(ValueError, match="n_keys"):
        collision_probability(-1, 64)
