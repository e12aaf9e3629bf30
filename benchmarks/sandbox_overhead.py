"""What the sandbox itself costs: per-request overhead and streaming throughput at time scale 0.

At time scale 0 the sandbox simulates no latency at all, so what is timed is everything else:
the official ``openai`` client building and parsing the request, HTTP over a kept-alive
connection on 127.0.0.1, uvicorn and Starlette, token counting, and choosing the answer. Every
notebook's timing ratio is only as good as this overhead is small next to the simulated latency
it measures, which is why these are reported as a share of the simulated call.

- overhead per non-streaming request: p50 and p95 over many requests after a warm-up, divided
  by what the latency model says the same request takes at time scale 1 (so at time scale
  ``s`` the overhead is about ``ratio / s`` of a call);
- streaming throughput: tokens per second delivered for a long answer of an exact length
  (``extra_body={"sandbox": {"answer_tokens": N}}``), divided by the fastest model profile's
  simulated rate: how much faster than the model it imitates the sandbox can stream.
"""

from __future__ import annotations

import time

import openai

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Measurement, Quantity
from benchmarks.timing import best_of, percentile
from course_lib import sandbox
from course_lib.sandbox.profiles import profile_for
from course_lib.streaming.timing import time_completion

GROUP = "sandbox"
MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "system", "content": "You are Kitewing's support assistant."},
            {"role": "user", "content": "How do I reset my password?"}]


def run(config: Config) -> list[Measurement]:
    requests = config.pick(300, 10)
    answer_tokens = config.pick(4_000, 100)
    profile = profile_for(MODEL)
    if profile is None:
        raise LookupError(f"the sandbox has no profile for {MODEL}")

    with sandbox.start(time_scale=0, seed=0) as sb, openai.OpenAI(
            base_url=sb.base_url, api_key="sandbox", max_retries=0) as client:

        def call() -> openai.types.chat.ChatCompletion:
            return client.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]

        for _ in range(config.pick(30, 3)):  # warm-up: connection, code paths, caches
            response = call()
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)

        def stream() -> None:
            timing = time_completion(client, stream=True, model=MODEL, messages=MESSAGES,
                                     extra_body={"sandbox": {"answer_tokens": answer_tokens}})
            if timing.completion_tokens != answer_tokens:
                raise AssertionError(f"asked for {answer_tokens} tokens, got "
                                     f"{timing.completion_tokens}")

        streamed = best_of(stream, repeat=config.pick(3, 2), warmup=1, pause_gc=False)

        def profile_client_side() -> str:
            with sandbox.start(time_scale=0, seed=0) as fresh, openai.OpenAI(
                    base_url=fresh.base_url, api_key="sandbox", max_retries=0) as other:
                other.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
                return cprofile_text(
                    lambda: [other.chat.completions.create(model=MODEL, messages=MESSAGES)  # type: ignore[arg-type]
                             for _ in range(50)],
                    title="50 sandbox requests, client thread only (the server runs in "
                          "another thread, which cProfile does not see)")

    usage = response.usage
    if usage is None:
        raise AssertionError("the sandbox reported no usage")
    simulated_s = (profile.expected_ttft(usage.prompt_tokens)
                   + usage.completion_tokens / profile.tokens_per_second)
    simulated = Quantity(f"{MODEL} simulated at time scale 1 ({usage.completion_tokens} tokens)",
                         simulated_s, "s", reference="model")
    p50, p95 = percentile(times, 50), percentile(times, 95)
    rows = [
        Measurement(
            f"{GROUP}.overhead_{name}", GROUP,
            f"sandbox overhead per request, {name}, vs simulated call",
            ours=Quantity(f"request at time scale 0, {name}", value, "s", tuple(times),
                          {"p50": p50, "p95": p95, "requests": float(requests)}),
            peer=simulated, ratio=value / simulated_s, ratio_kind="overhead/simulated",
            note=f"{requests} non-streaming requests after warm-up, one kept-alive client; "
                 "at time scale s the overhead is about ratio/s of a call",
            profile=profile_client_side)
        for name, value in (("p50", p50), ("p95", p95))
    ]
    tokens_per_s = answer_tokens / streamed.best
    rows.append(Measurement(
        f"{GROUP}.stream_throughput", GROUP,
        f"sandbox streaming rate vs simulated model, {answer_tokens:,} tokens",
        ours=Quantity("tokens/s delivered at time scale 0", tokens_per_s, "tokens/s",
                      tuple(answer_tokens / s for s in streamed.repetitions)),
        peer=Quantity(f"{MODEL} simulated rate", profile.tokens_per_second, "tokens/s",
                      reference="model"),
        ratio=tokens_per_s / profile.tokens_per_second, ratio_kind="delivered/simulated",
        note="best of the streamed runs; the ratio is how much faster than the simulated "
             "model the sandbox can stream"))
    return rows
