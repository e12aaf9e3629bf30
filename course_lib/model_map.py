"""The model map: which model a server calls what the course calls ``gpt-4o``.

The course names OpenAI's models everywhere. A server that serves other models (Ollama, vLLM,
llama.cpp) answers ``gpt-4o`` with ``400 Invalid model name``, so ``COURSE_MODELS`` says what
to send instead, one ``course-name=server-name`` entry per model, comma-separated::

    COURSE_MODELS="gpt-4o=llama3.1:8b,gpt-4o-mini=llama3.2:3b,text-embedding-3-small=nomic-embed-text"

A price may follow the server's name, in USD per 1M tokens: ``@input/output`` for a chat model,
``@input`` for an embedding model (``gpt-4o=llama3.1:8b@0.10/0.40``; ``@0/0`` for a server you
do not pay per token). Without one, the server's model has **no price**: the course's pricing
says so (:class:`course_lib.models.UnknownModelError`) rather than bill it at ``gpt-4o``'s list
price, which is the price of another model.

The map is applied in one place, the HTTP seam of the clients :mod:`course_lib.llm` builds
(:mod:`course_lib.endpoint_transport`): the request body carries the server's name, and every
response (and every chunk of a stream) carries the course's name back, so the course's code
sees its own names. A check that assumes OpenAI's tokenizer asks :func:`tokenizer_differs`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from course_lib import models

__all__ = [
    "ENV_VAR",
    "MappedModel",
    "ModelMap",
    "ModelMapError",
    "from_environment",
    "install",
    "parse_model_map",
    "tokenizer_differs",
]

ENV_VAR = "COURSE_MODELS"
SYNTAX = "course-name=server-name[@input/output USD per 1M tokens]"
_SERVER_NAME = re.compile(r"[^\s,=@]+")


class ModelMapError(ValueError):
    """A ``COURSE_MODELS`` entry that cannot be read; the message names the entry."""


@dataclass(frozen=True)
class MappedModel:
    """One entry: the course's name, the server's name, and the server model's price (if any)."""

    course: str
    server: str
    prices: models.Prices | None = None


def _decimal(text: str, entry: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ModelMapError(f"{ENV_VAR} entry {entry!r}: price {text!r} is not a number "
                            "(USD per 1M tokens)") from None
    if not value.is_finite() or value < 0:
        raise ModelMapError(f"{ENV_VAR} entry {entry!r}: price {text!r} must be a "
                            "non-negative number of USD per 1M tokens")
    return value


def _prices(text: str, kind: str, entry: str) -> models.Prices:
    parts = text.split("/")
    if kind == "embedding":
        if len(parts) != 1:
            raise ModelMapError(f"{ENV_VAR} entry {entry!r}: an embedding model has one price "
                                f"(@input), got {text!r}")
        return models.Prices(input=_decimal(parts[0], entry))
    if len(parts) != 2:
        raise ModelMapError(f"{ENV_VAR} entry {entry!r}: a chat model's price is "
                            f"@input/output, got {text!r}")
    return models.Prices(input=_decimal(parts[0], entry), output=_decimal(parts[1], entry))


def _entry(text: str) -> MappedModel:
    course, equals, rest = text.partition("=")
    course, rest = course.strip(), rest.strip()
    if not equals or not course or not rest:
        raise ModelMapError(f"{ENV_VAR} entry {text!r} is not {SYNTAX}")
    server, at, price_text = rest.partition("@")
    server = server.strip()
    if not _SERVER_NAME.fullmatch(server):
        raise ModelMapError(f"{ENV_VAR} entry {text!r}: the server's model name {server!r} must "
                            "be non-empty, without spaces, ',', '=' or '@'")
    try:
        entry = models.entry_for(course)
    except models.UnknownModelError as error:
        raise ModelMapError(f"{ENV_VAR} entry {text!r}: {error}") from None
    prices = _prices(price_text.strip(), entry.kind, text) if at else None
    if prices is not None and _in_registry(server):
        raise ModelMapError(f"{ENV_VAR} entry {text!r}: {server!r} is a model of the course's "
                            "registry, which has its own price; drop the '@...' part")
    return MappedModel(course, server, prices)


@dataclass(frozen=True)
class ModelMap(Mapping[str, MappedModel]):
    """The parsed map, by the course's name. Empty: every name is sent as it is."""

    entries: tuple[MappedModel, ...] = ()

    def __getitem__(self, course: str) -> MappedModel:
        for entry in self.entries:
            if entry.course == course:
                return entry
        raise KeyError(course)

    def __iter__(self) -> Iterator[str]:
        return (entry.course for entry in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def server_name(self, course: str) -> str:
        """What to send for the course's ``course`` model (itself when it is not mapped)."""
        entry = self.get(course)
        return course if entry is None else entry.server

    def registry_entries(self) -> list[models.ModelEntry]:
        """A registry entry for each server model the registry does not know, so that
        :mod:`course_lib.pricing` prices it (the map's price) or refuses to (no price).

        Its tokens are counted with the course model's tiktoken encoding: an estimate, since
        the server's own tokenizer is not OpenAI's.
        """
        built: dict[str, models.ModelEntry] = {}
        for entry in self.entries:
            if _in_registry(entry.server) or entry.server in built:
                continue
            course = models.entry_for(entry.course)
            built[entry.server] = models.ModelEntry(entry.server, course.kind,
                                                    encoding=course.encoding, prices=entry.prices)
        return list(built.values())


# The registry entries install() made, by name: they are the map's, not the course's.
_INSTALLED: dict[str, models.ModelEntry] = {}
_INSTALL_LOCK = threading.Lock()


def _in_registry(name: str) -> bool:
    """Whether the course's own registry knows ``name`` (entries made by the map do not count)."""
    return name in models.MODELS and name not in _INSTALLED


def install(model_map: ModelMap) -> None:
    """Register the map's server models (:meth:`ModelMap.registry_entries`), replacing those a
    previous map registered, so :mod:`course_lib.pricing` prices by the map in force."""
    with _INSTALL_LOCK:
        wanted = {entry.name: entry for entry in model_map.registry_entries()}
        if wanted == _INSTALLED:
            return
        for name in list(_INSTALLED):
            models.unregister(name)
            del _INSTALLED[name]
        for name, entry in wanted.items():
            models.register(entry)
            _INSTALLED[name] = entry


def parse_model_map(text: str | None) -> ModelMap:
    """``COURSE_MODELS``'s value as a :class:`ModelMap` (None or blank: the empty map)."""
    if text is None or not text.strip():
        return ModelMap()
    entries: list[MappedModel] = []
    for piece in text.split(","):
        if not piece.strip():
            raise ModelMapError(f"{ENV_VAR} has an empty entry in {text!r} (two commas, or a "
                                "trailing one)")
        entry = _entry(piece.strip())
        if any(e.course == entry.course for e in entries):
            raise ModelMapError(f"{ENV_VAR} entry {piece.strip()!r}: {entry.course!r} is "
                                "mapped twice")
        entries.append(entry)
    return ModelMap(tuple(entries))


def from_environment() -> ModelMap:
    """The map ``COURSE_MODELS`` sets in this process."""
    return parse_model_map(os.environ.get(ENV_VAR))


def tokenizer_differs(model: str, model_map: ModelMap | None = None) -> str | None:
    """Why a count with OpenAI's tokenizer cannot be compared with what the endpoint reports
    for the course's ``model``, or None when it can (the model is not mapped)."""
    chosen = from_environment() if model_map is None else model_map
    server = chosen.server_name(model)
    if server == model:
        return None
    return (f"the endpoint serves {model} as {server!r} ({ENV_VAR}); its tokenizer is not "
            f"OpenAI's, so counts made with {model}'s tokenizer are not its counts")
