"""How fast and how good each simulated model is.

Latency of a chat completion has two parts the learner can feel:

* **time to first token (TTFT)**: queueing plus reading the prompt. It grows with the number of
  prompt tokens the model must process (tokens served from the provider's prefix cache are much
  cheaper to process, which is why cached prompts also start faster);
* **generation**: output tokens arrive at a roughly steady rate (tokens per second).

The numbers below are round figures of the order public measurements report for these models;
they are a *model* of latency, not a measurement of OpenAI. Everything is multiplied by one
``time_scale`` so CI can run the same experiments 10x faster while every ratio still holds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["MODEL_PROFILES", "ModelProfile", "profile_for"]


@dataclass(frozen=True)
class ModelProfile:
    """A simulated model: speed, context size and how completely it answers."""

    name: str
    kind: Literal["chat", "embedding"]
    family: str
    ttft_base_s: float
    ttft_per_prompt_token_s: float
    tokens_per_second: float
    jitter: float
    context_window: int
    answer_style: Literal["full", "brief"] = "full"
    # Fraction of the per-token prompt cost still paid for tokens served from the prefix cache.
    cached_prompt_cost: float = 0.2

    def time_to_first_token(
        self, prompt_tokens: int, cached_tokens: int, rng: random.Random
    ) -> float:
        """Seconds before the first token, at time scale 1."""
        fresh = prompt_tokens - cached_tokens
        base = self.ttft_base_s + self.ttft_per_prompt_token_s * (
            fresh + self.cached_prompt_cost * cached_tokens
        )
        return base * self._jitter_factor(rng)

    def seconds_per_token(self, rng: random.Random) -> float:
        """Seconds between output tokens, at time scale 1."""
        return self._jitter_factor(rng) / self.tokens_per_second

    def _jitter_factor(self, rng: random.Random) -> float:
        # Gaussian jitter, clipped so a simulated call is never faster than half or slower than
        # twice its profile.
        return min(2.0, max(0.5, rng.gauss(1.0, self.jitter)))


def _chat(name: str, family: str, ttft: float, per_token: float, tps: float, style: str,
          context: int = 128_000) -> ModelProfile:
    return ModelProfile(name, "chat", family, ttft, per_token, tps, 0.08, context, style)  # type: ignore[arg-type]


def _embedding(name: str) -> ModelProfile:
    # An embedding request is one forward pass: a fixed round trip plus a small cost per token.
    return ModelProfile(name, "embedding", name, 0.06, 0.000_002, 0.0, 0.05, 8_192)


_GPT_4O = dict(family="gpt-4o", ttft=0.40, per_token=0.000_12, tps=80.0, style="full")
_GPT_4O_MINI = dict(family="gpt-4o-mini", ttft=0.25, per_token=0.000_06, tps=140.0, style="brief")
# gpt-4.1 reads up to 1,047,576 tokens: the long-context fallback of notebook 06.
_GPT_41 = dict(family="gpt-4.1", ttft=0.45, per_token=0.000_10, tps=75.0, style="full",
               context=1_047_576)

MODEL_PROFILES: dict[str, ModelProfile] = {
    profile.name: profile
    for profile in (
        _chat("gpt-4o", **_GPT_4O),
        _chat("gpt-4o-2024-11-20", **_GPT_4O),
        _chat("gpt-4o-2024-08-06", **_GPT_4O),
        _chat("gpt-4o-2024-05-13", **_GPT_4O),
        _chat("gpt-4.1", **_GPT_41),
        _chat("gpt-4.1-2025-04-14", **_GPT_41),
        _chat("gpt-4o-mini", **_GPT_4O_MINI),
        _chat("gpt-4o-mini-2024-07-18", **_GPT_4O_MINI),
        _embedding("text-embedding-3-small"),
        _embedding("text-embedding-3-large"),
        _embedding("text-embedding-ada-002"),
    )
}


def profile_for(model: str) -> ModelProfile | None:
    """The profile of ``model``, or None when the sandbox does not serve it."""
    return MODEL_PROFILES.get(model)
