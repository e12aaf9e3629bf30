"""The lesson's FallbackClient, ported faithfully: its behaviour, traps included, is pinned here.

These tests assert what the *lesson's* code does (so the notebook's demonstrations stay true),
not what a fallback client should do; ``test_fallback_chain.py`` covers the fix.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import openai
import pytest

from course_lib import sandbox
from course_lib.lesson import fallback_client as lesson
from tests.test_fallback_policy import FakeClock

MESSAGES = [{"role": "user", "content": "How do I reset my password?"}]


SANDBOX_SEED = 5  # read by the shared `sb` fixture in tests/conftest.py


def run_port(sb: sandbox.SandboxHandle, request: lesson.GenerateRequest, *,
             cancel_after_s: float | None = None) -> tuple[Any, lesson.OpenAILLMClient]:
    """Run the port with one adapter for both models; returns (response or error, adapter)."""

    async def scenario() -> tuple[Any, lesson.OpenAILLMClient]:
        async with openai.AsyncOpenAI(base_url=sb.base_url, api_key="sandbox",
                                      max_retries=0) as client:
            adapter = lesson.OpenAILLMClient(client)
            port = lesson.FallbackClient(adapter, adapter, timeout=5.0)
            ctx, cancel = lesson.with_cancel(lesson.background())
            if cancel_after_s is not None:
                asyncio.get_running_loop().call_later(cancel_after_s, cancel)
            try:
                return await port.generate(ctx, request), adapter
            except Exception as error:
                return error, adapter

    return asyncio.run(scenario())


# --- the Context port -------------------------------------------------------------------------

def test_with_timeout_sets_a_deadline_that_children_inherit() -> None:
    clock = FakeClock()
    root = lesson.Context(clock=clock)
    ctx, _ = lesson.with_timeout(root, 5.0)
    child, _ = lesson.with_timeout(ctx, 60.0)
    assert ctx.deadline() == clock.now + 5.0
    assert child.deadline() == ctx.deadline()  # a child never outlives its parent
    assert root.deadline() is None
    clock.advance(5.0)
    assert isinstance(ctx.err(), lesson.DeadlineExceeded)
    assert str(ctx.err()) == "context deadline exceeded"
    assert root.err() is None


def test_cancel_reaches_children_not_parents() -> None:
    root = lesson.background()
    parent, cancel_parent = lesson.with_cancel(root)
    child, _ = lesson.with_cancel(parent)
    cancel_parent()
    assert str(child.err()) == "context canceled"
    assert root.err() is None


# --- the port's behaviour ---------------------------------------------------------------------

def test_a_healthy_primary_answers_without_metadata(sb: sandbox.SandboxHandle) -> None:
    response, adapter = run_port(sb, lesson.GenerateRequest("gpt-4o", MESSAGES))
    assert isinstance(response, lesson.GenerateResponse)
    assert response.model == "gpt-4o" and response.metadata is None
    assert adapter.calls == 1


def test_trap_one_503_downgrades_the_answer_at_once(sb: sandbox.SandboxHandle) -> None:
    sb.faults.script("503", count=1, model="gpt-4o")
    response, _ = run_port(sb, lesson.GenerateRequest("gpt-4o", MESSAGES))
    assert response.model == "gpt-4o-mini"
    assert response.metadata == {"used_fallback": "true", "reason": "primary model unavailable"}
    assert [r.model for r in sb.requests] == ["gpt-4o", "gpt-4o-mini"]  # no retry


def test_trap_falls_back_on_a_400_that_fails_everywhere(sb: sandbox.SandboxHandle,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    request = lesson.GenerateRequest("gpt-4o", MESSAGES, extra={"temperature": 5})
    with caplog.at_level(logging.WARNING, logger=lesson.__name__):
        error, adapter = run_port(sb, request)
    assert isinstance(error, RuntimeError)
    assert str(error).startswith("both primary and secondary models failed")
    assert isinstance(error.__cause__, openai.BadRequestError)
    assert adapter.calls == 2
    assert "primary model failed, falling back" in caplog.text


def test_trap_falls_back_when_the_caller_cancelled(sb: sandbox.SandboxHandle,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    sb.faults.script("hang", count=1, model="gpt-4o")
    with caplog.at_level(logging.WARNING, logger=lesson.__name__):
        error, adapter = run_port(sb, lesson.GenerateRequest("gpt-4o", MESSAGES),
                                  cancel_after_s=0.1)
    # The user left, yet a primary outage is logged and the secondary is asked.
    assert "primary model failed, falling back" in caplog.text
    assert "context canceled" in caplog.text
    assert adapter.calls == 2
    assert str(error) == "both primary and secondary models failed: context canceled"
    assert [r.model for r in sb.requests] == ["gpt-4o"]  # refused before sending, like Go


def test_trap_the_model_is_hard_coded(sb: sandbox.SandboxHandle) -> None:
    # The router already chose gpt-4o-mini, and gpt-4o-mini is overloaded.
    sb.faults.script("503", count=2, model="gpt-4o-mini")
    error, _ = run_port(sb, lesson.GenerateRequest("gpt-4o-mini", MESSAGES))
    assert isinstance(error, RuntimeError)
    assert [r.model for r in sb.requests] == ["gpt-4o-mini", "gpt-4o-mini"]


class RecordingLLM:
    """An LLMClient that records the context it was called with, then fails or answers."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.deadlines: list[float | None] = []
        self.models: list[str] = []

    async def generate(self, ctx: lesson.Context, req: lesson.GenerateRequest
                       ) -> lesson.GenerateResponse:
        self.deadlines.append(ctx.deadline())
        self.models.append(req.model)
        if self.fail:
            raise TimeoutError("primary timed out")
        return lesson.GenerateResponse("ok", req.model)


def test_trap_the_secondary_has_no_deadline() -> None:
    primary, secondary = RecordingLLM(fail=True), RecordingLLM(fail=False)
    port = lesson.FallbackClient(primary, secondary, timeout=5.0)
    asyncio.run(port.generate(lesson.background(),
                              lesson.GenerateRequest("claude-or-anything", MESSAGES)))
    assert primary.deadlines[0] is not None
    assert secondary.deadlines == [None]
    assert secondary.models == ["gpt-4o-mini"]  # whatever the secondary really serves
