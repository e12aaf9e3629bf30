"""Where requests go: the sandbox by default, a real endpoint only when configured."""

from __future__ import annotations

import asyncio

import openai
import pytest

from course_lib import llm
from course_lib.budget import UnpricedModelWarning, reset_budget


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


SECRET = "sk-test-DO-NOT-PRINT-4f2a9c"


def test_the_api_key_never_shows_in_repr_str_or_description(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    endpoint = llm.resolve_endpoint()
    assert endpoint.api_key == SECRET  # still there for the client to use
    for shown in (repr(endpoint), str(endpoint), f"{endpoint}", endpoint.describe(),
                  repr([endpoint]), repr({"endpoint": endpoint})):
        assert SECRET not in shown and "DO-NOT-PRINT" not in shown
    assert "localhost:8000" in repr(endpoint)  # what is useful to see is still shown


def test_the_api_key_never_shows_in_logs_or_errors(monkeypatch, caplog) -> None:
    """A real-endpoint request logged at DEBUG, and a request that fails: no key anywhere."""
    import logging

    caplog.set_level(logging.DEBUG)
    sb = llm.get_sandbox()
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "real")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", sb.base_url)
    reset_budget()  # a fresh budget warns about gpt-17's missing price, whatever ran before
    with llm.get_client(max_retries=0) as client:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.NotFoundError) as info, pytest.warns(
                UnpricedModelWarning, match="gpt-17 has no price"):
            client.chat.completions.create(
                model="gpt-17", messages=[{"role": "user", "content": "hi"}])
    assert "HTTP Request: POST" in caplog.text  # the requests were logged
    assert SECRET not in caplog.text
    assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    with llm.get_client(max_retries=0, timeout=2) as client, pytest.raises(
            openai.APIConnectionError) as down:
        client.models.list()
    assert SECRET not in str(down.value) and SECRET not in repr(down.value)
