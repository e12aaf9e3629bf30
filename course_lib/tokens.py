"""Count what you are billed for: tokens, exactly as OpenAI counts them.

A bill is tokens times a price, so the first skill is counting tokens *exactly*. Guessing "about
four characters a token" is wrong by a factor of two or more on Chinese text, and a chat request
costs more than the words you typed: every message carries a few tokens of framing, a ``name``
adds one, the reply is primed with three more, and tool definitions are rendered into the prompt.

This module uses tiktoken's real encodings (``o200k_base`` for the gpt-4o family,
``cl100k_base`` for gpt-4, gpt-3.5 and the embedding models). tiktoken normally downloads its BPE
files on first use; the course works offline, so the files are copied once into
``TIKTOKEN_CACHE_DIR`` from the ``bpe-openai`` package, which ships the very same files.
tiktoken still checks each file's sha256, so a wrong file can never be used silently.

**What OpenAI has published about counting a chat request, and what is the course's
convention.** OpenAI's cookbook ("How to count tokens with tiktoken") publishes the framing of a
message (3 tokens, +1 for a ``name``, +3 to prime the reply) and how function definitions are
rendered into the prompt (per-function, per-property and per-enum-value overheads, per encoding);
the tests check both against the counts the API reported for the cookbook's examples. OpenAI has
not published how it renders the rest of a tool conversation, so for those parts this module
follows a documented convention, the same everywhere in the course (the sandbox bills with it):

* an assistant message's ``tool_calls``: each call costs the tokens of its function name plus
  the tokens of its JSON ``arguments`` (:func:`count_tool_call_tokens`); that is also what a
  tool-calling answer costs as *completion* tokens;
* a ``tool`` message (a tool's result): its ``content`` and its ``tool_call_id``, counted as
  text like any other string field of a message, inside the usual 3 tokens of framing;
* a property's ``type`` given as a list (``["string", "null"]``) is rendered ``string | null``;
  nested object schemas are not rendered (the cookbook's method reads top-level properties).

Fields of a message that the API does not render (``refusal``, ``annotations`` and the like,
which SDKs send back with an assistant message) are not counted.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.util
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tiktoken

from course_lib import models
from course_lib.models import UnknownModelError

__all__ = [
    "ENCODING_BLOB_URLS",
    "UnknownModelError",
    "count_chat_tokens",
    "count_tokens",
    "count_tool_call_tokens",
    "count_tool_tokens",
    "encoding_for",
    "encoding_name_for",
    "known_models",
    "seed_tiktoken_cache",
]

# Where tiktoken would download each encoding from. tiktoken names its cache file after the sha1
# of this exact URL, so seeding the cache means writing the file under that name.
ENCODING_BLOB_URLS: dict[str, str] = {
    "o200k_base": "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
    "cl100k_base": "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
}

# OpenAI's published chat framing: each message is wrapped in
# <|start|>{role/name}\n{content}<|end|>\n, which costs 3 tokens; a name costs 1 more; and the
# reply is primed with <|start|>assistant<|message|>, 3 tokens.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3


def _default_cache_dir() -> Path:
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache_home / "course_lib" / "tiktoken"


def _bundled_bpe_files() -> Path:
    """The folder of BPE files inside the ``bpe-openai`` package, found without importing it.

    Importing ``bpe_openai`` would load its 74 MB native library just to read two data files.
    """
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the bpe-openai package is missing: it ships tiktoken's BPE files so the course "
            "works offline. Install the course requirements (make test or make lab)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def seed_tiktoken_cache(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Put tiktoken's BPE files where tiktoken looks, so no download is ever attempted.

    Sets ``TIKTOKEN_CACHE_DIR`` (unless already set) and writes each encoding's file under the
    sha1 of its download URL, the name tiktoken's cache uses. The content is not trusted
    blindly: tiktoken verifies its sha256 on every load, and a mismatching file is discarded.
    Safe to call many times and from several processes (files are renamed into place).
    """
    if cache_dir is not None:
        target = Path(cache_dir)
        os.environ["TIKTOKEN_CACHE_DIR"] = str(target)
    elif os.environ.get("TIKTOKEN_CACHE_DIR"):
        target = Path(os.environ["TIKTOKEN_CACHE_DIR"])
    else:
        target = _default_cache_dir()
        os.environ["TIKTOKEN_CACHE_DIR"] = str(target)
    target.mkdir(parents=True, exist_ok=True)
    source = _bundled_bpe_files()
    for name, url in ENCODING_BLOB_URLS.items():
        destination = target / hashlib.sha1(url.encode()).hexdigest()
        if destination.exists():
            continue
        data = gzip.decompress((source / f"{name}.tiktoken.gz").read_bytes())
        partial = destination.with_name(f"{destination.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, destination)
    return target


@functools.cache
def _encoding(name: str) -> tiktoken.Encoding:
    seed_tiktoken_cache()
    return tiktoken.get_encoding(name)


def known_models() -> list[str]:
    """Model names with a known tokenizer (dated snapshots of these families work too)."""
    return sorted(entry.name for entry in models.entries())


def encoding_name_for(model: str) -> str:
    """The tiktoken encoding a model uses, e.g. ``o200k_base`` for ``gpt-4o-2024-08-06``."""
    if not isinstance(model, str) or not model.strip():
        raise ValueError(f"model must be a non-empty string, got {model!r}")
    return models.encoding_name(model)


def encoding_for(model: str, *, fallback_encoding: str | None = None) -> tiktoken.Encoding:
    """The tiktoken encoding for ``model``.

    An unknown model raises :class:`UnknownModelError`. Pass ``fallback_encoding`` (for example
    ``"o200k_base"`` for a new OpenAI model, or for a local model that only approximates it) to
    count anyway: you get a ``UserWarning`` saying the count is an estimate.
    """
    try:
        return _encoding(encoding_name_for(model))
    except UnknownModelError:
        if fallback_encoding is None:
            raise
        if fallback_encoding not in ENCODING_BLOB_URLS:
            raise ValueError(
                f"fallback_encoding must be one of {sorted(ENCODING_BLOB_URLS)}, "
                f"got {fallback_encoding!r}"
            ) from None
        warnings.warn(
            f"unknown model {model!r}: counting with {fallback_encoding}, an estimate",
            UserWarning,
            stacklevel=2,
        )
        return _encoding(fallback_encoding)


def count_tokens(text: str, model: str = "gpt-4o", *, fallback_encoding: str | None = None) -> int:
    """How many tokens ``text`` is for ``model`` (plain text, no chat framing)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    # disallowed_special=() counts "<|endoftext|>" typed by a user as ordinary text, as the API
    # does, instead of raising.
    return len(encoding_for(model, fallback_encoding=fallback_encoding).encode(
        text, disallowed_special=()
    ))


def _content_text(content: Any, index: int) -> str:
    """The text of a message's content: a string, or a list of ``{"type": "text"}`` parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            else:
                kind = part.get("type") if isinstance(part, Mapping) else type(part).__name__
                raise ValueError(
                    f"message {index}: content part of type {kind!r} cannot be counted "
                    "(only text parts are supported)"
                )
        return "".join(texts)
    raise ValueError(f"message {index}: content must be a string or a list of text parts")


def count_tool_call_tokens(
    tool_calls: Sequence[Mapping[str, Any]],
    model: str = "gpt-4o",
    *,
    fallback_encoding: str | None = None,
) -> int:
    """Tokens of an assistant's tool calls, by the course's convention (see the module
    docstring): each call's function name plus its JSON arguments."""
    encoding = encoding_for(model, fallback_encoding=fallback_encoding)
    total = 0
    for call in tool_calls:
        function = call.get("function") or {}
        for text in (function.get("name") or "", function.get("arguments") or ""):
            total += len(encoding.encode(text, disallowed_special=()))
    return total


# The string fields of a message the API renders into the prompt. "tool_calls" is counted with
# count_tool_call_tokens; "name" costs one token more.
_RENDERED_FIELDS = ("role", "name", "content", "tool_call_id")


def count_chat_tokens(
    messages: Sequence[Mapping[str, Any]],
    model: str = "gpt-4o",
    tools: Sequence[Mapping[str, Any]] | None = None,
    *,
    fallback_encoding: str | None = None,
) -> int:
    """The ``usage.prompt_tokens`` the API reports for a chat request.

    OpenAI's rules: 3 tokens of framing per message, plus 1 when a message has a ``name``, plus
    3 to prime the reply, plus the rendered tool definitions (see :func:`count_tool_tokens`).
    Checked in the tests against the counts the API reported for OpenAI's published examples.
    Tool calls and tool results follow the course's convention (module docstring).
    """
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
    encoding = encoding_for(model, fallback_encoding=fallback_encoding)
    total = REPLY_PRIMING_TOKENS
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping) or "role" not in message:
            raise ValueError(f"message {index} must be a dict with a 'role'")
        total += TOKENS_PER_MESSAGE
        for key in _RENDERED_FIELDS:
            value = message.get(key)
            text = _content_text(value, index) if key == "content" else value
            if not isinstance(text, str):
                continue
            total += len(encoding.encode(text, disallowed_special=()))
            if key == "name":
                total += TOKENS_PER_NAME
        if message.get("tool_calls"):
            total += count_tool_call_tokens(message["tool_calls"], model,
                                            fallback_encoding=fallback_encoding)
    if tools:
        total += count_tool_tokens(tools, model, fallback_encoding=fallback_encoding)
    return total


# How the API renders function definitions into the prompt differs by encoding family; these
# per-part overheads are the ones OpenAI published with their worked examples.
_TOOL_OVERHEADS: dict[str, dict[str, int]] = {
    "o200k_base": {"function": 7, "properties": 3, "property": 3, "enum": -3, "enum_item": 3,
                   "end": 12},
    "cl100k_base": {"function": 10, "properties": 3, "property": 3, "enum": -3, "enum_item": 3,
                    "end": 12},
}


def count_tool_tokens(
    tools: Sequence[Mapping[str, Any]],
    model: str = "gpt-4o",
    *,
    fallback_encoding: str | None = None,
) -> int:
    """Tokens that function-tool definitions add to a chat prompt.

    Each function costs its ``name:description`` line, each property its
    ``name:type:description`` line and its enum values, plus fixed overheads per part. A
    trailing full stop in a description is not rendered, so it is not counted.
    """
    encoding = encoding_for(model, fallback_encoding=fallback_encoding)
    overhead = _TOOL_OVERHEADS[encoding.name]

    def n(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    def strip_stop(text: str) -> str:
        return text[:-1] if text.endswith(".") else text

    total = 0
    for index, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping) or tool.get("type", "function") != "function":
            raise ValueError(f"tool {index} must be {{'type': 'function', 'function': {{...}}}}")
        if "name" not in function:
            raise ValueError(f"tool {index}: function has no 'name'")
        total += overhead["function"]
        total += n(f"{function['name']}:{strip_stop(function.get('description') or '')}")
        properties = (function.get("parameters") or {}).get("properties") or {}
        if properties:
            total += overhead["properties"]
            for name, spec in properties.items():
                total += overhead["property"]
                if "enum" in spec:
                    total += overhead["enum"]
                    for item in spec["enum"]:
                        total += overhead["enum_item"] + n(str(item))
                kind = spec.get("type", "")
                kind = " | ".join(kind) if isinstance(kind, list) else kind
                line = f"{name}:{kind}:{strip_stop(spec.get('description') or '')}"
                total += n(line)
    if tools:
        total += overhead["end"]
    return total

