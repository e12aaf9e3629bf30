"""The fallback chain against a real sandbox, through the official ``openai`` client.

Failures are scripted (``handle.faults.script``) or asked for per request (the
``X-Sandbox-Fault`` header, set on one link with ``adapt``). Every HTTP request the SDK sends is
counted by an httpx event hook, because requests the sandbox rejects while validating them (a
400) never reach its request log. The sandbox runs at time scale 0 (no simulated latency);
the chain's backoff sleeps are recorded instead of slept.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
import openai
import pytest

from course_lib import sandbox
from course_lib.fallback import (
    AllLinksFailedError,
    AsyncFallbackClient,
    CallerCancelledError,
    ChainLink,
    DeadlineExceededError,
    FallbackClient,
    FullJitterBackoff,
    StreamInterruptedError,
)

pytestmark = pytest.mark.timing

MESSAGES = [{"role": "user", "content": "How do I reset my password?"}]
NO_WAIT = FullJitterBackoff(base_s=0.0, cap_s=0.0)


SANDBOX_SEED = 3  # read by the shared `sb` fixture in tests/conftest.py


class SentRequests:
    """Counts the HTTP requests an openai client really sends, per model."""

    def __init__(self) -> None:
        self.models: list[str] = []

    def hook(self, request: httpx2.Request) -> None:
        import json

        self.models.append(json.loads(request.content or b"{}").get("model", "?"))

    async def async_hook(self, request: httpx2.Request) -> None:
        self.hook(request)


def counted_client(sb: sandbox.SandboxHandle, sent: SentRequests, **kwargs: Any) -> openai.OpenAI:
    http = httpx2.Client(event_hooks={"request": [sent.hook]})
    return openai.OpenAI(base_url=sb.base_url, api_key="sandbox", http_client=http, **kwargs)


def served(sb: sandbox.SandboxHandle) -> list[tuple[str, int, str | None]]:
    return [(r.model, r.status, r.fault) for r in sb.requests]


def chain(primary_fault: str | None = None, **primary: Any) -> list[ChainLink]:
    adapt = None
    if primary_fault is not None:
        def adapt(request: dict[str, Any]) -> dict[str, Any]:
            return {**request, "extra_headers": {"X-Sandbox-Fault": primary_fault}}
    primary.setdefault("attempt_timeout_s", 5.0)
    return [ChainLink("gpt-4o", adapt=adapt, **primary),
            ChainLink("gpt-4o-mini", max_attempts=2, attempt_timeout_s=5.0)]


def test_scripted_500s_are_retried_on_the_primary(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    sb.faults.script("500", count=2, model="gpt-4o")
    fb = FallbackClient(chain(), client=counted_client(sb, sent), backoff=NO_WAIT)
    result = fb.create(messages=MESSAGES)
    assert served(sb) == [("gpt-4o", 500, "500"), ("gpt-4o", 500, "500"), ("gpt-4o", 200, None)]
    assert result.model == "gpt-4o" and result.requests_sent == 3
    assert result.response.usage.prompt_tokens > 0


def test_429_retry_waits_at_least_the_sandboxs_retry_after(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    sb.faults.script("429", count=1, model="gpt-4o")
    slept: list[float] = []
    fb = FallbackClient(chain(), client=counted_client(sb, sent), backoff=NO_WAIT,
                        sleep=slept.append)
    result = fb.create(messages=MESSAGES)
    retry_after = result.errors[0].retry_after_s
    assert result.errors[0].status == 429 and retry_after is not None and retry_after > 0
    assert slept == [retry_after]  # the jitter drew nothing; Retry-After set the floor
    assert sent.models == ["gpt-4o", "gpt-4o"]


def test_a_primary_that_always_fails_falls_back_after_its_attempts(
    sb: sandbox.SandboxHandle,
) -> None:
    sent = SentRequests()
    fb = FallbackClient(chain("503"), client=counted_client(sb, sent), backoff=NO_WAIT,
                        sleep=lambda s: None)
    result = fb.create(messages=MESSAGES)
    assert sent.models == ["gpt-4o"] * 3 + ["gpt-4o-mini"]
    assert [e.status for e in result.errors] == [503] * 3
    assert result.link == "gpt-4o-mini" and result.used_fallback


def test_a_hang_costs_one_attempt_timeout_then_the_retry_answers(
    sb: sandbox.SandboxHandle,
) -> None:
    sent = SentRequests()
    sb.faults.script("hang", count=1, model="gpt-4o")
    fb = FallbackClient(chain(attempt_timeout_s=0.3), client=counted_client(sb, sent),
                        backoff=NO_WAIT, total_timeout_s=10.0)
    result = fb.create(messages=MESSAGES)
    assert result.errors[0].error_type == "APITimeoutError"
    assert result.model == "gpt-4o"
    assert sent.models == ["gpt-4o", "gpt-4o"]
    assert sb.requests[0].fault == "hang"


def test_total_deadline_bounds_a_chain_of_hangs(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    sb.faults.set_rates(None, rhang=1.0)
    budget = 0.6
    fb = FallbackClient(chain(attempt_timeout_s=0.25), client=counted_client(sb, sent),
                        backoff=NO_WAIT, total_timeout_s=budget)
    started = time.perf_counter()
    with pytest.raises(DeadlineExceededError):
        fb.create(messages=MESSAGES)
    elapsed = time.perf_counter() - started
    assert elapsed / budget < 1.5  # a hang ate its attempt's share, never more than the budget
    assert 2 <= len(sent.models) <= 4


@pytest.mark.parametrize("bad_request", [{"temperature": 5}, {"n": 3}])
def test_a_400_is_sent_once_and_surfaces(sb: sandbox.SandboxHandle,
                                         bad_request: dict[str, Any]) -> None:
    sent = SentRequests()
    fb = FallbackClient(chain(), client=counted_client(sb, sent), backoff=NO_WAIT)
    with pytest.raises(openai.BadRequestError):
        fb.create(messages=MESSAGES, **bad_request)
    assert sent.models == ["gpt-4o"]


def test_context_too_long_goes_to_the_larger_context_link(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    links = [
        ChainLink("gpt-4o", context_window=128_000),
        ChainLink("gpt-4o-mini", context_window=128_000),
        ChainLink("gpt-4.1", context_window=1_047_576),
    ]
    # An audit log of about 140k tokens: too long for gpt-4o and gpt-4o-mini, not for gpt-4.1.
    log = [{"role": "system", "content": "Audit log: a member changed a setting. " * 17_000}]
    fb = FallbackClient(links, client=counted_client(sb, sent), backoff=NO_WAIT)
    result = fb.create(messages=[*log, *MESSAGES])
    assert result.errors[0].code == "context_length_exceeded"
    assert result.model == "gpt-4.1"  # the link that answered
    assert sent.models == ["gpt-4o", "gpt-4.1"]  # no retry, and gpt-4o-mini (128k) skipped
    assert served(sb) == [("gpt-4.1", 200, None)]


def test_sdk_retries_stack_under_our_loop_unless_switched_off(
    sb: sandbox.SandboxHandle,
) -> None:
    # 429 carries a Retry-After of 1 ms at time scale 0, so the SDK's own retries do not sleep.
    stacked_client = openai.OpenAI(base_url=sb.base_url, api_key="sandbox", max_retries=2)
    sb.faults.script("429", count=9, model="gpt-4o")
    stacked = FallbackClient(chain(), client=stacked_client, backoff=NO_WAIT,
                             keep_sdk_retries=True)
    assert stacked.create(messages=MESSAGES).model == "gpt-4o-mini"
    assert [m for m, _, _ in served(sb)].count("gpt-4o") == 9  # 3 of ours x 3 of the SDK's

    sb.faults.clear()
    sb.clear_requests()
    sb.faults.script("429", count=9, model="gpt-4o")
    ours = FallbackClient(chain(), client=stacked_client, backoff=NO_WAIT)
    assert ours.create(messages=MESSAGES).model == "gpt-4o-mini"
    assert [m for m, _, _ in served(sb)].count("gpt-4o") == 3
    assert stacked_client.max_retries == 2  # the caller's client is left as it was


def test_a_stream_cut_after_its_first_token_is_not_retried(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    sb.faults.script("cut", count=1, model="gpt-4o")
    fb = FallbackClient(chain(), client=counted_client(sb, sent), backoff=NO_WAIT)
    stream = fb.stream(messages=MESSAGES)
    with pytest.raises(StreamInterruptedError) as raised:
        for _ in stream:
            pass
    assert raised.value.text_received  # the user already saw these words
    assert raised.value.link == "gpt-4o"
    assert sent.models == ["gpt-4o"]


def test_a_stream_failing_before_its_first_token_falls_back(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    fb = FallbackClient(chain("500"), client=counted_client(sb, sent), backoff=NO_WAIT)
    stream = fb.stream(messages=MESSAGES)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert stream.link == "gpt-4o-mini"
    assert text == stream.text and text
    assert stream.usage is not None and stream.cost_usd() > 0
    assert sent.models == ["gpt-4o"] * 3 + ["gpt-4o-mini"]


def test_every_link_failing_raises_with_the_whole_story(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    sb.faults.set_rates(None, r503=1.0)
    fb = FallbackClient(chain(), client=counted_client(sb, sent), backoff=NO_WAIT)
    with pytest.raises(AllLinksFailedError) as raised:
        fb.create(messages=MESSAGES)
    assert len(raised.value.attempts) == 5 == len(sent.models)
    assert isinstance(raised.value.__cause__, openai.InternalServerError)


def test_async_cancel_event_during_a_hang_never_falls_back(sb: sandbox.SandboxHandle) -> None:
    sent = SentRequests()
    sb.faults.script("hang", count=1, model="gpt-4o")

    async def scenario() -> None:
        http = httpx2.AsyncClient(event_hooks={"request": [sent.async_hook]})
        client = openai.AsyncOpenAI(base_url=sb.base_url, api_key="sandbox", http_client=http)
        fb = AsyncFallbackClient(chain(), client=client, backoff=NO_WAIT)
        cancel = asyncio.Event()
        asyncio.get_running_loop().call_later(0.2, cancel.set)  # the user closes the tab
        with pytest.raises(CallerCancelledError):
            await fb.create(messages=MESSAGES, cancel=cancel)
        await client.close()

    asyncio.run(scenario())
    assert sent.models == ["gpt-4o"]


def test_async_chain_retries_and_falls_back_like_the_sync_one(sb: sandbox.SandboxHandle) -> None:
    sb.faults.script("503", count=3, model="gpt-4o")

    async def scenario() -> Any:
        async with openai.AsyncOpenAI(base_url=sb.base_url, api_key="sandbox") as client:
            fb = AsyncFallbackClient(chain(), client=client, backoff=NO_WAIT)
            return await fb.create(messages=MESSAGES)

    result = asyncio.run(scenario())
    assert result.link == "gpt-4o-mini"
    assert [m for m, _, _ in served(sb)] == ["gpt-4o"] * 3 + ["gpt-4o-mini"]
