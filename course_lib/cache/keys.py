"""Cache keys that say exactly which request they stand for.

A response cache may only serve an answer for a request that would have produced the same
answer. So the key must cover *everything* that shapes the answer: the model, the system
prompt, the conversation so far and the user's message, the sampling parameters
(``temperature``, ``top_p``, ``max_tokens``, ...), the tools on offer, and whose data the prompt
may contain (the tenant). It must also carry a schema version, so that changing what goes into
the key (or the prompt template) retires every old entry at once.

The lesson's Go ``CacheKey`` hashes ``query + "|" + systemPrompt + "|" + model``: the separator
can occur inside the fields, so ``("a|b", "c")`` and ``("a", "b|c")`` hash the same bytes; the
sampling parameters, tools and tenant are missing, so a ``temperature=1.2`` answer is served
to a ``temperature=0`` request and one customer's answer to another; and it keeps 16 hex digits
(64 bits) of the hash. Here the fields are encoded as canonical JSON (sorted keys, no spaces,
every string quoted and escaped, so no field can run into the next) and hashed with SHA-256,
all 256 bits kept. :func:`collision_probability` puts a number on what truncation risks.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from course_lib.arguments import require_str
from course_lib.pricing import PRICES

__all__ = [
    "KEY_SCHEMA_VERSION",
    "cache_key",
    "cache_scope",
    "canonical_model",
    "collision_probability",
    "keys_for_collision_probability",
]

# Bump when the key's contents or the prompt template change: every old key stops matching.
KEY_SCHEMA_VERSION = 1
DEFAULT_TENANT = "public"


def canonical_model(model: str) -> str:
    """The dated snapshot an alias stands for (``gpt-4o`` -> ``gpt-4o-2024-08-06``).

    The API answers a ``gpt-4o`` request *as* the snapshot and reports the snapshot's name, so
    a key built from the reported name must equal the key built from the alias. Models the
    price table does not know (a vLLM model, say) are used as given.
    """
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"model must be a non-empty string, got {model!r}")
    price = PRICES.get(model)
    return price.alias_of if price is not None and price.alias_of else model


def _canonical(value: Any, where: str) -> Any:
    """A JSON-ready copy of ``value`` in which equal values have one spelling."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} must be a finite number, got {value!r}")
        # temperature=1 and temperature=1.0 are the same request.
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        out = {}
        for name, item in value.items():
            if not isinstance(name, str):
                raise TypeError(f"{where} has a non-string key {name!r}")
            out[name] = _canonical(item, f"{where}.{name}")
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_canonical(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise TypeError(
        f"{where} is a {type(value).__name__}; cache keys take JSON values only "
        "(str, int, float, bool, None, lists and dicts of them)"
    )


def _digest(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _payload(
    system_prompt: str,
    model: str,
    *,
    tenant: str,
    history: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    require_str("system_prompt", system_prompt)
    require_str("tenant", tenant, non_empty=True)
    # None means "not set" (the client's NOT_GIVEN); an explicit value is part of the request.
    sampling = {name: value for name, value in params.items() if value is not None}
    return {
        "schema": KEY_SCHEMA_VERSION,
        "tenant": tenant,
        "model": canonical_model(model),
        "system": system_prompt,
        "history": _canonical(list(history), "history"),
        # The order of tools is kept: it is part of the prompt the model reads.
        "tools": None if tools is None else _canonical(list(tools), "tools"),
        "params": _canonical(dict(sampling), "params"),
    }


def cache_key(
    query: str,
    system_prompt: str,
    model: str,
    *,
    tenant: str = DEFAULT_TENANT,
    history: Sequence[Mapping[str, Any]] = (),
    tools: Sequence[Mapping[str, Any]] | None = None,
    namespace: str = "answer",
    **params: Any,
) -> str:
    """The cache key of one chat request: ``"{namespace}:v{schema}:{sha256 hex}"``.

    ``query`` is the user's message; ``history`` the earlier messages of the conversation
    (OpenAI message dicts); ``tools`` the tool definitions; ``tenant`` whose data the prompt
    may contain: the default ``"public"`` is right for answers every user may share (an FAQ),
    and answers about one user's ticket or bill need that user or account here. Every other
    keyword is a request parameter (``temperature=0``, ``top_p=1``, ``max_tokens=300``,
    ``response_format={...}``); their order does not matter, ``1`` equals ``1.0``, and ``None``
    means "not set". Model aliases resolve to their snapshot (:func:`canonical_model`).

    The key is exact: a different character in the query is a different key. Matching
    *similar* questions is the semantic cache's job, with its own risks.
    """
    require_str("query", query)
    if not isinstance(namespace, str) or not namespace or ":" in namespace:
        raise ValueError(f"namespace must be a non-empty string without ':', got {namespace!r}")
    payload = _payload(system_prompt, model, tenant=tenant, history=history, tools=tools,
                       params=params)
    payload["query"] = query
    return f"{namespace}:v{KEY_SCHEMA_VERSION}:{_digest(payload)}"


def cache_scope(
    system_prompt: str,
    model: str,
    *,
    tenant: str = DEFAULT_TENANT,
    history: Sequence[Mapping[str, Any]] = (),
    tools: Sequence[Mapping[str, Any]] | None = None,
    **params: Any,
) -> str:
    """Everything in :func:`cache_key` except the query, as one opaque string.

    A semantic cache matches *similar* queries, but only among requests that agree on all the
    rest: the same model, prompt, parameters, tools and tenant. This is that "all the rest".
    """
    payload = _payload(system_prompt, model, tenant=tenant, history=history, tools=tools,
                       params=params)
    return f"scope:v{KEY_SCHEMA_VERSION}:{_digest(payload)}"


def collision_probability(n_keys: int, bits: int) -> float:
    """Chance that at least two of ``n_keys`` random ``bits``-bit keys are equal (birthday bound).

    ``1 - exp(-n(n-1) / 2^(bits+1))``, computed with ``expm1`` so tiny probabilities keep their
    digits instead of rounding to 0.
    """
    if isinstance(n_keys, bool) or not isinstance(n_keys, int) or n_keys < 0:
        raise ValueError(f"n_keys must be a whole number >= 0, got {n_keys!r}")
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
        raise ValueError(f"bits must be a whole number >= 1, got {bits!r}")
    pairs = n_keys * (n_keys - 1) / 2
    return -math.expm1(-pairs / 2.0**bits)


def keys_for_collision_probability(probability: float, bits: int) -> float:
    """How many random ``bits``-bit keys give a ``probability`` chance of some collision."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must be between 0 and 1 (exclusive), got {probability!r}")
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
        raise ValueError(f"bits must be a whole number >= 1, got {bits!r}")
    # Solve n(n-1)/2 = 2^bits * ln(1/(1-p)) for n (the +1/2 is the exact root of n^2 - n).
    pairs = 2.0**bits * -math.log1p(-probability)
    return 0.5 + math.sqrt(0.25 + 2.0 * pairs)
