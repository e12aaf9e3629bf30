"""The streaming page in headless Chromium: text arrives piece by piece, timings are shown."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import openai
import pytest
from playwright.sync_api import Browser, Page

from course_lib import sandbox
from course_lib.streaming import start_stream_server
from course_lib.streaming.server import StreamServerHandle
from course_lib.tracker import CostTracker
from tests.browser.lab import VIEWPORT, screenshot

ANSWER_TOKENS = 150
# Records the answer's length at every change, until the page reports how the stream ended.
WATCH_ANSWER = """() => {
  window.__answerLengths = [];
  const answer = document.getElementById('answer');
  new MutationObserver(() => {
    const status = document.getElementById('status').textContent;
    if (status === 'streaming' || status.startsWith('waiting')) {
      window.__answerLengths.push(answer.textContent.length);
    }
  }).observe(answer, {childList: true, characterData: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.SandboxHandle]:
    # gpt-4o at time scale 0.25: ~0.1 s to the first token, then ~320 tokens/s, so 150 tokens
    # stream for about half a second: long enough to watch, short enough for CI.
    with sandbox.start(time_scale=0.25, seed=5) as handle:
        yield handle


@contextmanager
def stream_page(browser: Browser, sb: sandbox.SandboxHandle) -> Iterator[tuple[Page,
                                                                                StreamServerHandle]]:
    with start_stream_server(
        client=lambda: openai.AsyncOpenAI(base_url=sb.base_url, api_key="test", max_retries=0),
        tracker=CostTracker(), heartbeat_s=0.05,
        extra_body={"sandbox": {"answer_tokens": ANSWER_TOKENS}},
    ) as server:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        try:
            page.goto(server.url + "/")
            yield page, server
        finally:
            context.close()


def shown_ms(page: Page, element_id: str) -> int:
    text = page.locator(f"#{element_id}").inner_text()
    match = re.fullmatch(r"(\d+) ms", text.strip())
    assert match, f"#{element_id} shows {text!r}, not a time like '123 ms'"
    return int(match.group(1))


def wait_until_ended(page: Page) -> str:
    page.wait_for_function(
        "() => !['idle', 'streaming'].includes(document.getElementById('status').textContent)"
        " && !document.getElementById('status').textContent.startsWith('waiting')",
        timeout=20_000)
    return page.locator("#status").inner_text()


@pytest.mark.browser
def test_page_streams_the_answer_and_shows_first_token_and_total_time(browser, sb) -> None:
    with stream_page(browser, sb) as (page, server):
        assert page.title().startswith("Streaming answers")
        page.evaluate(WATCH_ANSWER)
        page.locator("#ask").click()
        assert wait_until_ended(page) == "done"
        lengths = page.evaluate("window.__answerLengths")
        final_text = page.locator("#answer").inner_text()
        ttft, total = shown_ms(page, "ttft"), shown_ms(page, "total")
        usage = page.locator("#usage").inner_text()
        shot = screenshot(page, "stream_page")
        (outcome,) = server.state.wait_for_outcomes(1)

    partial = sorted({n for n in lengths if 0 < n < len(final_text)})
    assert len(partial) >= 3, f"the text did not grow piece by piece: lengths seen {lengths}"
    assert lengths == sorted(lengths), "the answer's text shrank while streaming"
    assert ttft < total
    assert f"{ANSWER_TOKENS} completion tokens" in usage
    assert outcome.status == "completed" and outcome.tokens_relayed == ANSWER_TOKENS
    assert shot.stat().st_size > 0


@pytest.mark.browser
def test_page_shows_an_error_event_visibly(browser, sb) -> None:
    sb.faults.script("cut", model="gpt-4o")
    try:
        with stream_page(browser, sb) as (page, _):
            page.locator("#ask").click()
            assert wait_until_ended(page) == "error"
            error_box = page.locator("#error")
            assert error_box.is_visible()
            assert "upstream_cut" in error_box.inner_text()
            assert "incomplete" in (page.locator("#answer").get_attribute("class") or "")
            screenshot(page, "stream_page_error")
    finally:
        sb.faults.clear()
