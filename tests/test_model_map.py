"""COURSE_MODELS: parsed with errors that name the entry; prices given or unknown, never
borrowed from the course's model."""

from __future__ import annotations

from decimal import Decimal

import pytest

from course_lib import model_map, models, pricing
from course_lib.model_map import ModelMapError, parse_model_map

EXAMPLE = ("gpt-4o=llama3.1:8b@0.10/0.40,gpt-4o-mini=llama3.2:3b,"
           "text-embedding-3-small=nomic-embed-text@0.01")


@pytest.fixture(autouse=True)
def uninstall():
    yield
    model_map.install(model_map.ModelMap())


def test_the_example_maps_each_course_name_to_the_servers() -> None:
    mapping = parse_model_map(EXAMPLE)
    assert [(e.course, e.server) for e in mapping.values()] == [
        ("gpt-4o", "llama3.1:8b"), ("gpt-4o-mini", "llama3.2:3b"),
        ("text-embedding-3-small", "nomic-embed-text")]
    assert mapping.server_name("gpt-4o") == "llama3.1:8b"
    assert mapping.server_name("gpt-4.1") == "gpt-4.1"  # not mapped: sent as it is
    assert mapping["gpt-4o"].prices == models.Prices(input=Decimal("0.10"),
                                                     output=Decimal("0.40"))
    assert mapping["gpt-4o-mini"].prices is None
    assert mapping["text-embedding-3-small"].prices == models.Prices(input=Decimal("0.01"))


@pytest.mark.parametrize("text", [None, "", "   "])
def test_unset_or_blank_is_the_empty_map(text) -> None:
    assert len(parse_model_map(text)) == 0


@pytest.mark.parametrize(("text", "named", "says"), [
    ("gpt-4o", "'gpt-4o'", "is not course-name=server-name"),
    ("gpt-4o=", "'gpt-4o='", "is not course-name=server-name"),
    ("=llama3", "'=llama3'", "is not course-name=server-name"),
    ("gpt-5=llama3", "'gpt-5=llama3'", "unknown model 'gpt-5'"),
    ("gpt-4o=llama 3", "'gpt-4o=llama 3'", "without spaces"),
    ("gpt-4o=llama3@cheap/0.4", "'gpt-4o=llama3@cheap/0.4'", "price 'cheap' is not a number"),
    ("gpt-4o=llama3@-1/0.4", "'gpt-4o=llama3@-1/0.4'", "non-negative"),
    ("gpt-4o=llama3@0.1", "'gpt-4o=llama3@0.1'", "@input/output"),
    ("text-embedding-3-small=nomic@0.1/0.2", "'text-embedding-3-small=nomic@0.1/0.2'",
     "one price"),
    ("gpt-4o=gpt-4o-mini@1/2", "'gpt-4o=gpt-4o-mini@1/2'", "has its own price"),
    ("gpt-4o=a,gpt-4o=b", "'gpt-4o=b'", "mapped twice"),
    ("gpt-4o=a,,gpt-4o-mini=b", "COURSE_MODELS", "empty entry"),
])
def test_a_bad_entry_is_named_in_the_error(text, named, says) -> None:
    with pytest.raises(ModelMapError) as info:
        parse_model_map(text)
    assert named in str(info.value) and says in str(info.value)


def test_a_mapped_model_is_priced_by_the_map_or_not_at_all() -> None:
    model_map.install(parse_model_map(EXAMPLE))
    # 1,000,000 input and 1,000,000 output tokens cost exactly the two prices of the map.
    assert pricing.cost_usd("llama3.1:8b", 1_000_000, 1_000_000) == Decimal("0.50")
    assert pricing.embedding_cost_usd("nomic-embed-text", 2_000_000) == Decimal("0.02")
    with pytest.raises(models.UnknownModelError, match=r"'llama3\.2:3b': no price"):
        pricing.price_for("llama3.2:3b")
    # The course's own names keep their list prices.
    assert pricing.cost_usd("gpt-4o", 1_000_000, 0) == Decimal("2.50")


def test_installing_another_map_replaces_the_first() -> None:
    model_map.install(parse_model_map("gpt-4o=llama3.1:8b@1/2"))
    model_map.install(parse_model_map("gpt-4o=llama3.1:8b@3/4"))  # not "already registered"
    assert pricing.cost_usd("llama3.1:8b", 1_000_000, 0) == Decimal(3)
    model_map.install(model_map.ModelMap())
    assert "llama3.1:8b" not in models.MODELS


def test_tokenizer_differs_says_why_only_for_a_mapped_model() -> None:
    mapping = parse_model_map(EXAMPLE)
    reason = model_map.tokenizer_differs("gpt-4o", mapping)
    assert reason is not None and "'llama3.1:8b'" in reason and "tokenizer" in reason
    assert model_map.tokenizer_differs("gpt-4.1", mapping) is None
    assert model_map.tokenizer_differs("gpt-4o", parse_model_map("gpt-4o=gpt-4o")) is None
