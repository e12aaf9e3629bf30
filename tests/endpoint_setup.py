"""A sandbox posing as a real endpoint: ``COURSE_LLM_ENDPOINT=real``, ``OPENAI_BASE_URL`` at
it, a fake key. What the course's clients do there is what they do on a paid endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from course_lib import budget, model_map

ENV = ("COURSE_LLM_ENDPOINT", "OPENAI_API_KEY", "OPENAI_BASE_URL", "COURSE_MODELS",
       "COURSE_BUDGET_USD")
SERVED = "llama3.1:8b=gpt-4o,llama3.2:3b=gpt-4o-mini,nomic-embed-text=text-embedding-3-small"


@pytest.fixture()
def as_real_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Point the course at ``monkeypatch.setenv("OPENAI_BASE_URL", ...)`` as a real endpoint,
    with a fresh budget; afterwards the map's registry entries are removed."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "real")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-key-for-tests")
    budget.reset_budget()
    yield monkeypatch
    budget.reset_budget()
    model_map.install(model_map.ModelMap())
