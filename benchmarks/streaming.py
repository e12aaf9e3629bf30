"""Streaming: time to the first text, streamed, over the total time of the same answer unstreamed.

The lesson claims streaming cuts first-token latency by 80% ("首字延迟↓80%"), i.e. the streamed
time to first text is at most 0.2 of the time a user waits for a non-streamed answer. Measured
through the official client against the sandbox at a time scale where the simulated model
(``gpt-4o-mini``, a 300-token answer) dominates the sandbox's own ~1-2 ms per request.
The latency model's own prediction, ``ttft / (ttft + tokens / rate)``, is in the note.
"""

from __future__ import annotations

import openai

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity
from course_lib import sandbox
from course_lib.sandbox.profiles import profile_for
from course_lib.streaming.timing import CompletionTiming, time_completion

GROUP = "streaming"
MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "system", "content": "You are Kitewing's support assistant."},
            {"role": "user", "content": "How do I set up SSO with Okta?"}]


def run(config: Config) -> list[Measurement]:
    time_scale = config.pick(0.1, 0.02)
    answer_tokens = config.pick(300, 60)
    repeat = config.pick(5, 2)
    profile = profile_for(MODEL)
    if profile is None:
        raise LookupError(f"the sandbox has no profile for {MODEL}")
    options = {"sandbox": {"answer_tokens": answer_tokens}}
    seen: dict[bool, list[CompletionTiming]] = {True: [], False: []}

    with sandbox.start(time_scale=time_scale, seed=3) as sb, openai.OpenAI(
            base_url=sb.base_url, api_key="sandbox", max_retries=0) as client:

        def one(stream: bool) -> None:
            seen[stream].append(time_completion(client, stream=stream, model=MODEL,
                                                messages=MESSAGES, extra_body=options))

        for stream in (False, True):  # warm-up, both paths
            one(stream)
        seen[True].clear()
        seen[False].clear()
        for _ in range(repeat):  # interleaved, so a slow moment hits both sides alike
            one(False)
            one(True)
        prompt_tokens = client.chat.completions.create(
            model=MODEL, messages=MESSAGES, max_tokens=1).usage.prompt_tokens  # type: ignore[arg-type, union-attr]

    ttfts = tuple(t.ttft_s for t in seen[True])
    totals = tuple(t.total_s for t in seen[False])
    if any(t.completion_tokens != answer_tokens for t in seen[True] + seen[False]):
        raise AssertionError(f"an answer was not {answer_tokens} tokens long")
    ttft_model = profile.expected_ttft(prompt_tokens)
    predicted = ttft_model / (ttft_model + answer_tokens / profile.tokens_per_second)

    def profile_stream() -> str:
        with sandbox.start(time_scale=time_scale, seed=3) as fresh, openai.OpenAI(
                base_url=fresh.base_url, api_key="sandbox", max_retries=0) as other:
            return cprofile_text(
                lambda: time_completion(other, stream=True, model=MODEL, messages=MESSAGES,
                                        extra_body=options),
                title=f"one streamed {answer_tokens}-token answer at time scale {time_scale}")

    ratio = min(ttfts) / min(totals)
    return [Measurement(
        f"{GROUP}.ttft_vs_total", GROUP,
        f"streamed TTFT vs non-streamed total, {answer_tokens} tokens",
        ours=Quantity("streamed: time to first text", min(ttfts), "s", ttfts),
        peer=Quantity("not streamed: time to the whole answer", min(totals), "s", totals),
        ratio=ratio, ratio_kind="ours/peer", goal=Goal("<=", 0.2, source="lesson: 首字延迟↓80%"),
        profile=profile_stream,
        note=f"time scale {time_scale:g}, best of {repeat} each; the latency model predicts "
             f"{predicted:.3f}")]
