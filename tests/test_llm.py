"""Where requests go: the sandbox by default, a real endpoint only when configured."""

from __future__ import annotations

import asyncio

import openai
import pytest

from course_lib import llm


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("COURSE_LLM_ENDPOINT", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_no_key_means_the_sandbox() -> None:
    endpoint = llm.resolve_endpoint()
    assert endpoint.kind == "sandbox" and llm.using_sandbox()
    assert endpoint.base_url == llm.get_sandbox().base_url
    assert endpoint.base_url.startswith("http://127.0.0.1:")
    assert "simulator" in endpoint.describe()


def test_the_sandbox_is_started_once_per_process() -> None:
    assert llm.get_sandbox() is llm.get_sandbox()


def test_a_key_means_the_real_endpoint(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    endpoint = llm.resolve_endpoint()
    assert (endpoint.kind, endpoint.base_url, endpoint.api_key) == (
        "real", "http://localhost:8000/v1", "sk-test")
    assert not llm.using_sandbox()
    assert "localhost:8000" in endpoint.describe()


def test_sandbox_wins_when_forced_even_with_a_key(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "sandbox")
    assert llm.resolve_endpoint().kind == "sandbox"


def test_real_without_a_key_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "real")
    with pytest.raises(RuntimeError, match="OPENAI_API_KEY"):
        llm.resolve_endpoint()


def test_unknown_choice_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "production")
    with pytest.raises(ValueError, match="'production'"):
        llm.resolve_endpoint()


def test_clients_talk_to_the_sandbox() -> None:
    client = llm.get_client(max_retries=0)
    assert isinstance(client, openai.OpenAI) and client.max_retries == 0
    messages = [{"role": "user", "content": "How do I reset my password?"}]
    assert client.chat.completions.create(model="gpt-4o-mini", messages=messages).choices

    async def ask() -> str:
        async with llm.get_async_client() as async_client:
            response = await async_client.chat.completions.create(
                model="gpt-4o-mini", messages=messages)
            return response.choices[0].message.content

    assert asyncio.run(ask())
