"""The one retry vocabulary (course_lib.retrying): what is retried, Retry-After, backoff.

The fallback chain, the batch embedder and the streaming relay all read these rules; their own
tests check how each acts on them (falls back, pauses every worker, passes the wait on).
"""

from __future__ import annotations

import random

import httpx2
import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.fallback import FailureKind, classify
from course_lib.retrying import (
    MAX_RETRY_AFTER_S,
    FullJitterBackoff,
    is_retryable,
    is_retryable_status,
    retry_after_seconds,
    status_of,
)

REQUEST = httpx2.Request("POST", "http://127.0.0.1/v1/embeddings")


def api_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    """The exception the openai client raises for an HTTP error status."""
    response = httpx2.Response(status, headers=headers or {}, request=REQUEST)
    classes = {400: openai.BadRequestError, 429: openai.RateLimitError,
               500: openai.InternalServerError, 503: openai.InternalServerError}
    return classes[status](f"HTTP {status}", response=response, body=None)


class ExtremeRandom(random.Random):
    """A random source whose uniform draws always land on the upper (or lower) bound."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


# --- what is retried --------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "retried"), [
    (400, False), (401, False), (403, False), (404, False), (422, False),
    (408, True), (409, True), (429, True), (500, True), (502, True), (503, True), (599, True)])
def test_the_sdks_list_of_retryable_statuses(status: int, retried: bool) -> None:
    assert is_retryable_status(status) is retried


def test_which_errors_are_retryable() -> None:
    assert is_retryable(api_error(429)) and is_retryable(api_error(500))
    assert is_retryable(openai.APITimeoutError(REQUEST))
    assert is_retryable(openai.APIConnectionError(request=REQUEST))
    assert not is_retryable(api_error(400))
    assert not is_retryable(ValueError("a bug"))
    assert status_of(api_error(503)) == 503 and status_of(openai.APITimeoutError(REQUEST)) is None


def test_the_servers_x_should_retry_wins_for_every_subsystem() -> None:
    """The batch embedder (is_retryable) and the fallback chain (classify) agree."""
    refused = api_error(500, {"x-should-retry": "false"})
    invited = api_error(400, {"x-should-retry": "true"})
    assert not is_retryable(refused) and is_retryable(invited)
    assert classify(refused).kind is FailureKind.NOT_RETRYABLE
    assert classify(invited).kind is FailureKind.RETRYABLE


# --- Retry-After ------------------------------------------------------------------------------

def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5


def test_retry_after_in_seconds_and_fractions() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after": "0.25"}) == 0.25
    assert retry_after_seconds({"retry-after": "3600"}) == 3600.0  # read as sent; see the cap


def test_retry_after_as_an_http_date_uses_the_injected_wall_clock() -> None:
    # Wed, 21 Oct 2015 07:28:00 GMT is 1445412480 seconds after the epoch.
    headers = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert retry_after_seconds(headers, now=lambda: 1445412480 - 30) == 30.0
    assert retry_after_seconds(headers, now=lambda: 1445412480 + 30) == 0.0


@pytest.mark.parametrize("headers", [None, {}, {"retry-after": "soon"}, {"retry-after": "-3"},
                                     {"retry-after-ms": "nan"}, {"retry-after": "inf"}])
def test_unusable_retry_after_gives_none(headers) -> None:
    assert retry_after_seconds(headers) is None


def test_the_cap_is_the_sdks_two_minutes() -> None:
    assert MAX_RETRY_AFTER_S == 120.0
    backoff = FullJitterBackoff()
    assert backoff.delay(1, retry_after_s=120.0) == 120.0
    assert backoff.delay(1, retry_after_s=120.5) is None


# --- backoff ----------------------------------------------------------------------------------

def test_attempts_are_numbered_from_one_and_the_ceiling_doubles_up_to_the_cap() -> None:
    backoff = FullJitterBackoff(base_s=0.5, cap_s=3.0)
    assert [backoff.ceiling(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    for bad in (0, -1, 1.0, True):
        with pytest.raises(ValueError, match="attempt numbers start at 1"):
            backoff.delay(bad)


def test_full_jitter_draws_the_whole_wait_between_zero_and_the_ceiling() -> None:
    high = FullJitterBackoff(base_s=0.5, cap_s=8.0, rng=ExtremeRandom(high=True))
    low = FullJitterBackoff(base_s=0.5, cap_s=8.0, rng=ExtremeRandom(high=False))
    assert [high.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert [low.delay(n) for n in (1, 2, 3)] == [0.0, 0.0, 0.0]


@given(attempt=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_full_jitter_stays_within_bounds(attempt: int, seed: int) -> None:
    backoff = FullJitterBackoff(base_s=0.1, cap_s=5.0, rng=random.Random(seed))
    delay = backoff.delay(attempt)
    assert delay is not None
    assert 0.0 <= delay <= min(5.0, 0.1 * 2 ** (attempt - 1))


def test_full_jitter_spreads_clients_out() -> None:
    backoff = FullJitterBackoff(base_s=1.0, cap_s=1.0, rng=random.Random(42))
    draws = [backoff.delay(1) for _ in range(1000)]
    # Uniform on [0, 1]: every tenth of the interval gets a share of the clients.
    deciles = {min(int(d * 10), 9) for d in draws if d is not None}
    assert deciles == set(range(10))


def test_retry_after_is_a_floor_on_the_wait() -> None:
    backoff = FullJitterBackoff(base_s=0.5, cap_s=8.0, rng=ExtremeRandom(high=False))
    assert backoff.delay(1, retry_after_s=3.0) == 3.0
    high = FullJitterBackoff(base_s=0.5, cap_s=8.0, rng=ExtremeRandom(high=True))
    assert high.delay(5, retry_after_s=3.0) == 8.0  # the jittered draw was already longer


def test_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    backoff = FullJitterBackoff(max_retry_after_s=20.0)
    assert backoff.delay(1, retry_after_s=20.0) is not None
    assert backoff.delay(1, retry_after_s=21.0) is None
    with pytest.raises(ValueError, match="retry_after_s must be a finite number"):
        backoff.delay(1, retry_after_s=-1.0)


@pytest.mark.parametrize("kwargs", [{"base_s": -1}, {"cap_s": float("inf")},
                                    {"base_s": 2.0, "cap_s": 1.0}, {"max_retry_after_s": -1}])
def test_backoff_rejects_bad_settings(kwargs) -> None:
    with pytest.raises(ValueError, match="_s"):
        FullJitterBackoff(**kwargs)
