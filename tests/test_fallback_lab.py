"""Notebook 06's experiments (course_lib.fallback.lab): each contrast counts what was really sent.

The expected requests follow from the faults scripted and from the rules of the two clients
(the lesson falls back once on any error; the chain retries the primary three times), not from
the code under test. Waits are simulated at the lab's time scale, so these tests sleep a little.
"""

from __future__ import annotations

import asyncio

import openai
import pytest

from course_lib.fallback import lab

pytestmark = pytest.mark.timing

MESSAGES = [{"role": "user", "content": "How do I reset my password?"}]


def test_counted_client_counts_a_request_the_sandbox_rejects_before_logging_it() -> None:
    with lab.private_sandbox(seed=0) as sb:
        client, sent = lab.counted_client(sb)
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=5)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert sent == ["gpt-4o", "gpt-4o-mini"]


def test_counted_client_sends_no_sdk_retries_unless_asked() -> None:
    with lab.private_sandbox(seed=0) as sb:
        sb.faults.script("503", count=5, model="gpt-4o")
        client, sent = lab.counted_client(sb)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert sent == ["gpt-4o"]


def test_a_400_goes_to_both_models_in_the_lesson_and_to_one_in_the_chain() -> None:
    trap = asyncio.run(lab.bad_request())
    assert trap.lesson_sent == ["gpt-4o", "gpt-4o-mini"]
    assert isinstance(trap.lesson_outcome, RuntimeError)
    assert trap.chain_sent == ["gpt-4o"]
    assert isinstance(trap.chain_outcome, openai.BadRequestError)
    assert len(trap.lesson_log) == 1 and "primary model failed" in trap.lesson_log[0]


def test_a_hung_secondary_holds_the_lesson_until_the_sandbox_gives_up() -> None:
    trap = asyncio.run(lab.secondary_hangs())
    assert trap.lesson_sent == ["gpt-4o", "gpt-4o-mini"]
    assert trap.lesson_wait_s >= lab.sim(lab.GIVE_UP_S)
    # three 503s on the primary, then the hang on gpt-4o-mini, then its second attempt
    assert trap.chain_sent == ["gpt-4o"] * 3 + ["gpt-4o-mini"] * 2
    assert trap.chain_outcome.model == "gpt-4o-mini"
    hang = [a for a in trap.chain_outcome.attempts if a.model == "gpt-4o-mini" and a.failure]
    assert len(hang) == 1 and hang[0].failure.status is None  # a timeout, not the 504


@pytest.fixture
def slower(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twice the notebook's time scale: a budget of 15 simulated seconds is then 1.5 s of wall
    time, which a busy machine does not use up before the chain's last attempt (``make
    test-load``); the counts below assume every attempt the rules allow was made."""
    monkeypatch.setattr(lab, "SCALE", 2 * lab.SCALE)


def test_only_the_lesson_holds_requests_until_the_sandbox_gives_up(slower: None) -> None:
    # gpt-4o always fails, gpt-4o-mini always hangs: the lesson waits each hang out; the chain
    # ends every hung attempt with its own timeout and runs out of links.
    faults = {"gpt-4o": {"r503": 1.0}, "gpt-4o-mini": {"rhang": 1.0}}
    lesson_run, at_once, retry_first = asyncio.run(
        lab.compare_under_faults(["a question", "another question"], faults))
    assert (lesson_run.hung_requests, lesson_run.held_to_give_up) == (2, 2)
    for run in (at_once, retry_first):
        assert run.hung_requests == 4 and run.held_to_give_up == 0  # 2 calls x 2 attempts
        assert run.summary.success_rate == 0
    assert (lesson_run.primary_requests, at_once.primary_requests,
            retry_first.primary_requests) == (2, 2, 6)


def test_a_breaker_spares_a_dead_primary(slower: None) -> None:
    prompts = [f"question {i}" for i in range(12)]
    without = asyncio.run(lab.primary_down(prompts, breaker_failures=None))
    with_breaker = asyncio.run(lab.primary_down(prompts, breaker_failures=2))
    assert without.primary_requests == 3 * len(prompts)  # three attempts per call
    assert with_breaker.primary_requests < without.primary_requests
    assert without.summary.success_rate == with_breaker.summary.success_rate == 1


def test_primary_down_rejects_a_breaker_that_never_opens() -> None:
    with pytest.raises(ValueError):
        asyncio.run(lab.primary_down(["q"], breaker_failures=0))
