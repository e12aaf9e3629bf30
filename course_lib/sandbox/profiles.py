"""How fast and how good each simulated model is.

Latency of a chat completion has two parts the learner can feel:

* **time to first token (TTFT)**: queueing plus reading the prompt. It grows with the number of
  prompt tokens the model must process (tokens served from the provider's prefix cache are much
  cheaper to process, which is why cached prompts also start faster);
* **generation**: output tokens arrive at a roughly steady rate (tokens per second).

The numbers are round figures of the order public measurements report for these models; they
are a *model* of latency, not a measurement of OpenAI. They live with every other fact about a
model in the registry (:class:`course_lib.models.Simulation`); this module is the sandbox's view
of it, one :class:`ModelProfile` per name the sandbox serves (aliases and dated snapshots).
Everything is multiplied by one ``time_scale`` so CI can run the same experiments 10x faster
while every ratio still holds.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from course_lib.models import ModelEntry, RegistryView

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

    def expected_ttft(self, prompt_tokens: int, cached_tokens: int = 0) -> float:
        """Seconds before the first token without jitter, at time scale 1: a fixed base plus a
        cost per prompt token, of which a token served from the prefix cache pays only
        ``cached_prompt_cost``."""
        fresh = prompt_tokens - cached_tokens
        return self.ttft_base_s + self.ttft_per_prompt_token_s * (
            fresh + self.cached_prompt_cost * cached_tokens)

    def time_to_first_token(
        self, prompt_tokens: int, cached_tokens: int, rng: random.Random
    ) -> float:
        """Seconds before the first token of one request, jittered, at time scale 1."""
        return self.expected_ttft(prompt_tokens, cached_tokens) * self._jitter_factor(rng)

    def seconds_per_token(self, rng: random.Random) -> float:
        """Seconds between output tokens, at time scale 1."""
        return self._jitter_factor(rng) / self.tokens_per_second

    def _jitter_factor(self, rng: random.Random) -> float:
        # Gaussian jitter, clipped so a simulated call is never faster than half or slower than
        # twice its profile.
        return min(2.0, max(0.5, rng.gauss(1.0, self.jitter)))


def _profile(name: str, entry: ModelEntry) -> ModelProfile | None:
    simulation = entry.simulation
    if simulation is None or entry.context_window is None:
        return None
    return ModelProfile(
        name=name,
        kind=entry.kind,
        family=entry.name,
        ttft_base_s=simulation.ttft_base_s,
        ttft_per_prompt_token_s=simulation.ttft_per_prompt_token_s,
        tokens_per_second=simulation.tokens_per_second,
        jitter=simulation.jitter,
        context_window=entry.context_window,
        answer_style=simulation.answer_style,
        cached_prompt_cost=simulation.cached_prompt_cost,
    )


# Every model of the registry with a simulation, by each of its names.
MODEL_PROFILES: Mapping[str, ModelProfile] = RegistryView(_profile)


def profile_for(model: str) -> ModelProfile | None:
    """The profile of ``model``, or None when the sandbox does not serve it."""
    return MODEL_PROFILES.get(model)
