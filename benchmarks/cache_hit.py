"""A cache hit against the call it saves: ``ResponseCache.get`` vs a zero-latency sandbox call.

Ours is the whole hit path a request takes: build the canonical key (``cache_key``: JSON of the
model, prompt, parameters and tenant, then SHA-256), read the store, decode the stored JSON
into a ``CachedAnswer``. The peer is the cheapest possible model call: the official ``openai``
client asking the sandbox at time scale 0 (no simulated latency at all, over a kept-alive
HTTP connection on 127.0.0.1). A real model adds hundreds of milliseconds on top; the goal says
that even against a zero-latency model, a hit must be at least 50x faster.
"""

from __future__ import annotations

import openai

from benchmarks.profiles import cprofile_text
from benchmarks.results import Config, Goal, Measurement, Quantity, speedup_row
from benchmarks.timing import best_of
from course_lib import sandbox
from course_lib.cache import CachedAnswer, CacheRequest, MemoryTTLStore, ResponseCache
from course_lib.datasets import load_knowledge_base

GROUP = "cache_hit"
MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = ("You are Kitewing's support assistant. Answer from the knowledge base; say so "
                 "when you do not know.")


def run(config: Config) -> list[Measurement]:
    hits = config.pick(2_000, 50)
    calls = config.pick(40, 4)
    repeat = config.pick(5, 2)

    entry = load_knowledge_base().entries[0]
    request = CacheRequest(query=entry.question, system_prompt=SYSTEM_PROMPT, model=MODEL,
                           params={"temperature": 0, "max_tokens": 300})
    cache = ResponseCache(MemoryTTLStore())
    stored = cache.put(request, CachedAnswer(answer=entry.answer_full, model=MODEL,
                                             sources={entry.id: entry.version}, kind="faq"))
    if not stored or cache.get(request) is None:
        raise AssertionError("the answer was not cached, so there is no hit to time")

    def hit_loop() -> None:
        for _ in range(hits):
            cache.get(request)

    ours = best_of(hit_loop, operations=hits, repeat=repeat)

    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": entry.question}]
    with sandbox.start(time_scale=0, seed=0) as sb, openai.OpenAI(
            base_url=sb.base_url, api_key="sandbox", max_retries=0) as client:

        def call_loop() -> None:
            for _ in range(calls):
                client.chat.completions.create(model=MODEL, messages=messages,  # type: ignore[arg-type]
                                               temperature=0, max_tokens=300)

        peer = best_of(call_loop, operations=calls, repeat=repeat, warmup=1, pause_gc=False)

    return [speedup_row(
        f"{GROUP}.vs_sandbox_call", GROUP,
        "cache hit (key+get+decode) vs sandbox call, time scale 0",
        Quantity.timed("ResponseCache.get (key + get + decode)", ours),
        Quantity.timed("openai client -> sandbox, time scale 0", peer),
        goal=Goal(">=", 50),
        profile=lambda: cprofile_text(hit_loop, title=f"ResponseCache.get: {hits:,} hits"),
        note="the peer has no simulated latency: HTTP, JSON and the sandbox's own work only")]
