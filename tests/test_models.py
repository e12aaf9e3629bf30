"""The model registry: the published facts, and a new model added by one entry.

``PUBLISHED`` below is the one place the tests state OpenAI's published prices: the independent
oracle the registry is checked against. Other tests read prices from the registry or bring a
model of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest

from course_lib import models, sandbox, tokens
from course_lib.fallback import ChainLink, FallbackClient, FullJitterBackoff
from course_lib.models import ModelEntry, Prices, Simulation, Snapshot, UnknownModelError
from course_lib.pricing import PRICES, price_for
from course_lib.sandbox.profiles import MODEL_PROFILES, profile_for
from course_lib.tracker import CostTracker

# USD per 1M tokens: (input, cached input, output), from OpenAI's pricing page (2025-06). The
# first gpt-4o snapshot kept its launch price and never got prompt caching.
PUBLISHED: dict[str, tuple[str, str | None, str]] = {
    "gpt-4o": ("2.50", "1.25", "10.00"),
    "gpt-4o-2024-08-06": ("2.50", "1.25", "10.00"),
    "gpt-4o-2024-05-13": ("5.00", None, "15.00"),
    "gpt-4o-mini": ("0.15", "0.075", "0.60"),
    "gpt-4.1": ("2.00", "0.50", "8.00"),
    "text-embedding-3-small": ("0.02", None, "0"),
    "text-embedding-3-large": ("0.13", None, "0"),
}


@pytest.mark.parametrize("model", PUBLISHED)
def test_the_registry_holds_the_published_prices(model: str) -> None:
    input_usd, cached_usd, output_usd = PUBLISHED[model]
    price = price_for(model)
    assert price.input == Decimal(input_usd)
    assert price.cached_input == (None if cached_usd is None else Decimal(cached_usd))
    assert price.output == Decimal(output_usd)
    assert price.kind == ("embedding" if model.startswith("text-embedding") else "chat")


def test_aliases_answer_as_their_dated_snapshot() -> None:
    assert models.resolve("gpt-4o") == "gpt-4o-2024-08-06"
    assert models.resolve("gpt-4o-mini") == "gpt-4o-mini-2024-07-18"
    assert models.resolve("gpt-4o-2024-05-13") == "gpt-4o-2024-05-13"
    assert models.resolve("text-embedding-3-small") == "text-embedding-3-small"
    assert PRICES["gpt-4o"].alias_of == "gpt-4o-2024-08-06"  # what the sandbox reads today
    with pytest.raises(UnknownModelError, match="llama3"):
        models.resolve("llama3")


def test_context_windows_and_encodings() -> None:
    assert models.context_window("gpt-4o") == models.context_window("gpt-4o-2024-05-13") == 128_000
    assert models.context_window("gpt-4.1") == 1_047_576
    assert models.context_window("llama3") is None
    assert models.encoding_name("gpt-4o-2024-11-20") == "o200k_base"
    assert models.encoding_name("gpt-4") == "cl100k_base"
    # A snapshot the registry does not list yet counts with its family's encoding.
    assert models.encoding_name("gpt-4o-mini-2099-01-01") == "o200k_base"
    assert models.encoding_name("gpt-4-0613") == "cl100k_base"
    with pytest.raises(UnknownModelError, match="claude-3"):
        models.encoding_name("claude-3")


def test_every_model_the_sandbox_serves_is_priced_and_counted() -> None:
    assert "gpt-4o-2024-05-13" in MODEL_PROFILES
    for name, profile in MODEL_PROFILES.items():
        assert PRICES[name].kind == profile.kind
        assert tokens.encoding_for(name).name == models.encoding_name(name)
        assert profile.context_window == models.context_window(name)
    # Counted but neither priced nor served: a bill for it is refused, never $0.
    assert tokens.count_tokens("hello", "gpt-4") == 1
    assert "gpt-4" not in PRICES and profile_for("gpt-4") is None


# -- adding a model: one entry ----------------------------------------------------------------

NEW = "course-test-model"
NEW_SNAPSHOT = "course-test-model-2026-03-01"
OLD_SNAPSHOT = "course-test-model-2025-12-01"
NEW_MODEL = ModelEntry(
    NEW, "chat", encoding="o200k_base", context_window=4_096,
    prices=Prices(input=Decimal("0.80"), cached_input=Decimal("0.20"), output=Decimal("3.20")),
    simulation=Simulation(ttft_base_s=0.3, ttft_per_prompt_token_s=0.000_1,
                          tokens_per_second=100.0, answer_style="brief"),
    points_at=NEW_SNAPSHOT,
    snapshots=(Snapshot(NEW_SNAPSHOT),
               Snapshot(OLD_SNAPSHOT, Prices(input=Decimal("1.20"), output=Decimal("4.80")))),
)
QUESTION = [{"role": "user", "content": "How do I reset my password?"}]
NO_WAIT = FullJitterBackoff(base_s=0.0, cap_s=0.0)


@pytest.fixture()
def new_model() -> Iterator[ModelEntry]:
    """A model that exists for one test: registered, then removed."""
    with models.registered(NEW_MODEL) as entry:
        yield entry


@pytest.fixture()
def client(sb: sandbox.SandboxHandle) -> openai.OpenAI:
    return openai.OpenAI(base_url=sb.base_url, api_key="sandbox", max_retries=0,
                         _strict_response_validation=True)


def test_a_new_model_is_served_counted_and_billed_from_its_one_entry(
    new_model: ModelEntry, client: openai.OpenAI,
) -> None:
    assert NEW in [model.id for model in client.models.list()]
    response = client.chat.completions.create(model=NEW, messages=QUESTION)
    assert response.model == NEW_SNAPSHOT  # the alias answers as its snapshot
    usage = response.usage
    assert usage.prompt_tokens == tokens.count_chat_tokens(QUESTION, NEW)
    call = CostTracker().record_response(response)
    assert call.model == NEW_SNAPSHOT
    assert call.cost_usd == (usage.prompt_tokens * Decimal("0.80")
                             + usage.completion_tokens * Decimal("3.20")) / 1_000_000
    # Its answer style comes from the entry: brief, where gpt-4o answers in full.
    full = client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    assert 0 < usage.completion_tokens < full.usage.completion_tokens


def test_a_new_models_stream_and_its_older_snapshot_are_billed_at_their_prices(
    new_model: ModelEntry, client: openai.OpenAI,
) -> None:
    tracker = CostTracker()
    chunks = list(client.chat.completions.create(
        model=OLD_SNAPSHOT, messages=QUESTION, stream=True,
        stream_options={"include_usage": True}))
    usage = chunks[-1].usage
    call = tracker.record_usage(chunks[-1].model, usage)
    assert chunks[-1].model == OLD_SNAPSHOT
    assert call.cost_usd == (usage.prompt_tokens * Decimal("1.20")
                             + usage.completion_tokens * Decimal("4.80")) / 1_000_000


def test_a_new_models_context_window_is_enforced_and_read_by_the_chain(
    new_model: ModelEntry, client: openai.OpenAI, sb: sandbox.SandboxHandle,
) -> None:
    long = [{"role": "system", "content": "Audit log: a member changed a setting. " * 600},
            *QUESTION]
    assert 4_096 < tokens.count_chat_tokens(long, NEW) < 128_000
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=NEW, messages=long)
    assert raised.value.code == "context_length_exceeded"
    assert "4096" in raised.value.message
    # No link types its window: the chain reads both from the registry and skips to the larger.
    links = [ChainLink(NEW), ChainLink("gpt-4o-mini")]
    assert [link.context_window for link in links] == [4_096, 128_000]
    result = FallbackClient(links, client=client, backoff=NO_WAIT).create(messages=long)
    assert result.model == "gpt-4o-mini"
    assert [a.model for a in result.attempts] == [NEW, "gpt-4o-mini"]
    assert result.errors[0].code == "context_length_exceeded"


def test_a_model_registered_for_a_test_is_gone_after_it(client: openai.OpenAI) -> None:
    with models.registered(NEW_MODEL):
        assert NEW in PRICES and OLD_SNAPSHOT in MODEL_PROFILES
        assert price_for(OLD_SNAPSHOT).cached_input is None
    assert NEW not in PRICES and NEW_SNAPSHOT not in MODEL_PROFILES
    with pytest.raises(UnknownModelError, match=NEW):
        price_for(NEW)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=NEW, messages=QUESTION)
    assert ChainLink(NEW).context_window is None


def test_a_chain_link_may_still_declare_its_own_window() -> None:
    assert ChainLink("gpt-4.1").context_window == 1_047_576
    assert ChainLink("llama3").context_window is None  # unknown to the registry
    assert ChainLink("llama3", context_window=8_192).context_window == 8_192
    assert ChainLink("gpt-4o", context_window=32_000).context_window == 32_000


# -- refused entries --------------------------------------------------------------------------

def _entry(**changes) -> ModelEntry:
    fields = {"name": "course-bad-model", "kind": "chat", "encoding": "o200k_base",
              "prices": Prices(input=Decimal("1"), output=Decimal("2")), **changes}
    return ModelEntry(**fields)


@pytest.mark.parametrize(("changes", "match"), [
    ({"name": "gpt-4o"}, "already registered"),
    ({"snapshots": (Snapshot("gpt-4o-2024-08-06"),)}, "already registered"),
    ({"snapshots": (Snapshot("course-bad-model"),)}, "repeats a name"),
    ({"kind": "image"}, "kind must be"),
    ({"encoding": "o200k"}, "not a tiktoken encoding"),
    ({"points_at": "course-bad-model-2026"}, "not one of its snapshots"),
    ({"prices": Prices(input=Decimal("-1"))}, "non-negative Decimals"),
    ({"prices": Prices(input=2.5)}, "non-negative Decimals"),  # a float price loses cents
    ({"kind": "embedding"}, "only an input price"),
    ({"context_window": 0}, "context_window must be"),
    ({"simulation": Simulation(0.1, 0.0, 10.0)}, "needs a context_window"),
])
def test_an_entry_that_would_make_the_registry_lie_is_refused(changes, match) -> None:
    before = list(models.MODELS)
    with pytest.raises(ValueError, match=match):
        models.register(_entry(**changes))
    assert list(models.MODELS) == before


def test_unregistering_an_unknown_model_names_it() -> None:
    with pytest.raises(UnknownModelError, match="course-never-registered"):
        models.unregister("course-never-registered")
