"""Every fact the course knows about a model, in one entry per model.

A model is more than a name: it has prices (USD per 1M tokens of fresh input, cached input and
output), a kind (chat or embedding), a name that is an *alias* for a dated snapshot, the
snapshots themselves (one of which may have its own price), a context window, a tiktoken
encoding, and, for the models the course's sandbox serves, how the sandbox simulates it (latency
and how completely it answers). :mod:`course_lib.pricing`, :mod:`course_lib.tokens`, the sandbox
and the fallback chain all read this registry, so adding a model is one :class:`ModelEntry`::

    from course_lib import models

    models.register(models.ModelEntry(
        "my-model", "chat", encoding="o200k_base", context_window=32_000,
        prices=models.Prices(input=Decimal("1.00"), output=Decimal("4.00")),
        simulation=models.Simulation(ttft_base_s=0.3, ttft_per_prompt_token_s=0.000_1,
                                     tokens_per_second=100.0),
    ))

Prices are a dated reference (``PRICES_AS_OF``), not a live feed: check your provider's page
before you budget. The Batch API's half price is a rule for every model
(:data:`course_lib.pricing.BATCH_DISCOUNT`), not a number per model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, TypeVar

import tiktoken

__all__ = [
    "MODELS",
    "PRICES_AS_OF",
    "ModelEntry",
    "Prices",
    "RegistryView",
    "Simulation",
    "Snapshot",
    "UnknownModelError",
    "context_window",
    "encoding_name",
    "entries",
    "entry_for",
    "register",
    "registered",
    "resolve",
    "unregister",
]

PRICES_AS_OF = "2025-06"

Kind = Literal["chat", "embedding"]
AnswerStyle = Literal["full", "brief"]


class UnknownModelError(KeyError):
    """A model name this course has no entry (or no tokenizer, or no price) for.

    A ``KeyError`` so ``except KeyError`` still works, but its message names the model and the
    models that are known, instead of failing later with a silent wrong count or a $0 bill.
    """

    def __init__(self, model: str, known: Iterable[str], what: str = "tokenizer") -> None:
        self.model = model
        self.known = sorted(known)
        super().__init__(model)
        self._message = (
            f"unknown model {model!r}: no {what} for it. Known models: {', '.join(self.known)}"
        )

    def __str__(self) -> str:
        return self._message


@dataclass(frozen=True)
class Prices:
    """USD per 1M tokens. ``cached_input`` is None where the provider gives no cache discount.

    An embedding model has only an input price.
    """

    input: Decimal
    output: Decimal = Decimal(0)
    cached_input: Decimal | None = None


@dataclass(frozen=True)
class Simulation:
    """How the course's sandbox simulates a model (see :mod:`course_lib.sandbox.profiles`).

    Round figures of the order public measurements report; a *model* of latency, not a
    measurement of OpenAI. ``cached_prompt_cost`` is the fraction of the per-token prompt time
    still paid for tokens served from the prefix cache; ``answer_style`` is how completely the
    model answers (a weaker model answers briefly).
    """

    ttft_base_s: float
    ttft_per_prompt_token_s: float
    tokens_per_second: float
    jitter: float = 0.08
    cached_prompt_cost: float = 0.2
    answer_style: AnswerStyle = "full"


@dataclass(frozen=True)
class Snapshot:
    """A dated snapshot of a model; ``prices`` None means it costs what the model costs."""

    name: str
    prices: Prices | None = None


@dataclass(frozen=True)
class ModelEntry:
    """One model: everything pricing, token counting, the sandbox and fallbacks need to know.

    ``name`` is the name callers use. When it is an alias that the provider points at one of
    the dated ``snapshots``, ``points_at`` names that snapshot: the API answers a request for
    ``name`` *as* the snapshot, and reports (and bills) the snapshot's name. ``prices`` None: the
    course counts the model's tokens but has no price for it (it refuses to bill it rather than
    say $0). ``simulation`` None: the sandbox does not serve it.
    """

    name: str
    kind: Kind
    encoding: str
    prices: Prices | None = None
    context_window: int | None = None
    simulation: Simulation | None = None
    snapshots: tuple[Snapshot, ...] = ()
    points_at: str | None = None

    def names(self) -> tuple[str, ...]:
        """The alias, then its dated snapshots."""
        return (self.name, *(snapshot.name for snapshot in self.snapshots))

    def prices_of(self, name: str) -> Prices | None:
        """What ``name`` (this model or one of its snapshots) costs."""
        for snapshot in self.snapshots:
            if snapshot.name == name and snapshot.prices is not None:
                return snapshot.prices
        return self.prices

    def resolve(self, name: str) -> str:
        """The name the API reports for a request of ``name``: the snapshot an alias points at."""
        return self.points_at if name == self.name and self.points_at else name


# An embedding request is one forward pass: a fixed round trip plus a small cost per token.
_EMBEDDING_SIMULATION = Simulation(ttft_base_s=0.06, ttft_per_prompt_token_s=0.000_002,
                                   tokens_per_second=0.0, jitter=0.05)
# What one embedding input may hold (the sandbox's protocol checks the same published limit).
_EMBEDDING_MAX_INPUT_TOKENS = 8_192

_BUILT_IN: tuple[ModelEntry, ...] = (
    ModelEntry(
        "gpt-4o", "chat", encoding="o200k_base", context_window=128_000,
        prices=Prices(input=Decimal("2.50"), cached_input=Decimal("1.25"), output=Decimal("10.00")),
        simulation=Simulation(ttft_base_s=0.40, ttft_per_prompt_token_s=0.000_12,
                              tokens_per_second=80.0, answer_style="full"),
        # "gpt-4o" is an alias OpenAI moves between dated snapshots; since 2024-10 it has
        # pointed at gpt-4o-2024-08-06, which is why it carries that snapshot's price.
        points_at="gpt-4o-2024-08-06",
        snapshots=(
            Snapshot("gpt-4o-2024-11-20"),
            Snapshot("gpt-4o-2024-08-06"),
            # The first snapshot kept its launch price and never got prompt caching.
            Snapshot("gpt-4o-2024-05-13", Prices(input=Decimal("5.00"), output=Decimal("15.00"))),
        ),
    ),
    # A long-context model (1,047,576 tokens): the fallback of notebook 06 for a prompt that is
    # too long for gpt-4o.
    ModelEntry(
        "gpt-4.1", "chat", encoding="o200k_base", context_window=1_047_576,
        prices=Prices(input=Decimal("2.00"), cached_input=Decimal("0.50"), output=Decimal("8.00")),
        simulation=Simulation(ttft_base_s=0.45, ttft_per_prompt_token_s=0.000_10,
                              tokens_per_second=75.0, answer_style="full"),
        points_at="gpt-4.1-2025-04-14",
        snapshots=(Snapshot("gpt-4.1-2025-04-14"),),
    ),
    ModelEntry(
        "gpt-4o-mini", "chat", encoding="o200k_base", context_window=128_000,
        prices=Prices(input=Decimal("0.15"), cached_input=Decimal("0.075"), output=Decimal("0.60")),
        simulation=Simulation(ttft_base_s=0.25, ttft_per_prompt_token_s=0.000_06,
                              tokens_per_second=140.0, answer_style="brief"),
        points_at="gpt-4o-mini-2024-07-18",
        snapshots=(Snapshot("gpt-4o-mini-2024-07-18"),),
    ),
    ModelEntry("text-embedding-3-small", "embedding", encoding="cl100k_base",
               context_window=_EMBEDDING_MAX_INPUT_TOKENS, prices=Prices(input=Decimal("0.02")),
               simulation=_EMBEDDING_SIMULATION),
    ModelEntry("text-embedding-3-large", "embedding", encoding="cl100k_base",
               context_window=_EMBEDDING_MAX_INPUT_TOKENS, prices=Prices(input=Decimal("0.13")),
               simulation=_EMBEDDING_SIMULATION),
    ModelEntry("text-embedding-ada-002", "embedding", encoding="cl100k_base",
               context_window=_EMBEDDING_MAX_INPUT_TOKENS, prices=Prices(input=Decimal("0.10")),
               simulation=_EMBEDDING_SIMULATION),
    # Counted (notebook 00 compares tokenizers) but neither priced nor served.
    ModelEntry("gpt-4.1-mini", "chat", encoding="o200k_base"),
    ModelEntry("gpt-4", "chat", encoding="cl100k_base"),
    ModelEntry("gpt-4-turbo", "chat", encoding="cl100k_base"),
    ModelEntry("gpt-3.5-turbo", "chat", encoding="cl100k_base"),
)

_ENTRIES: dict[str, ModelEntry] = {}  # by entry name, in registration order
_BY_NAME: dict[str, ModelEntry] = {}  # every alias and snapshot name


def _check(entry: ModelEntry) -> None:
    """Refuse an entry that would make the registry lie; says which field is wrong."""
    if not isinstance(entry, ModelEntry):
        raise TypeError(f"register() takes a ModelEntry, got {type(entry).__name__}")
    where = f"model {entry.name!r}"
    taken = [name for name in entry.names() if name in _BY_NAME]
    if taken:
        raise ValueError(f"{where}: {', '.join(taken)} already registered "
                         f"(by {_BY_NAME[taken[0]].name!r}); unregister it first")
    if len(set(entry.names())) != len(entry.names()):
        raise ValueError(f"{where}: a snapshot repeats a name")
    if entry.kind not in ("chat", "embedding"):
        raise ValueError(f"{where}: kind must be 'chat' or 'embedding', got {entry.kind!r}")
    if entry.encoding not in tiktoken.list_encoding_names():
        raise ValueError(f"{where}: {entry.encoding!r} is not a tiktoken encoding "
                         f"(known: {', '.join(tiktoken.list_encoding_names())})")
    if entry.points_at is not None and entry.points_at not in entry.names()[1:]:
        raise ValueError(f"{where}: points_at {entry.points_at!r} is not one of its snapshots")
    for prices in (entry.prices, *(s.prices for s in entry.snapshots)):
        if prices is None:
            continue
        rates = (prices.input, prices.output, prices.cached_input)
        if any(r is not None and (not isinstance(r, Decimal) or r < 0) for r in rates):
            raise ValueError(f"{where}: prices must be non-negative Decimals (USD per 1M "
                             f"tokens), got {prices}")
        if entry.kind == "embedding" and (prices.output or prices.cached_input is not None):
            raise ValueError(f"{where}: an embedding model has only an input price")
    if entry.context_window is not None and (
        isinstance(entry.context_window, bool) or not isinstance(entry.context_window, int)
        or entry.context_window < 1
    ):
        raise ValueError(f"{where}: context_window must be a number of tokens >= 1, "
                         f"got {entry.context_window!r}")
    if entry.simulation is not None and entry.context_window is None:
        raise ValueError(f"{where}: the sandbox needs a context_window to serve it")


def register(entry: ModelEntry) -> ModelEntry:
    """Add a model to the registry: from then on it is priced, counted and served."""
    _check(entry)
    _ENTRIES[entry.name] = entry
    for name in entry.names():
        _BY_NAME[name] = entry
    return entry


def unregister(name: str) -> ModelEntry:
    """Remove the model registered as ``name`` (its alias), with all its snapshots."""
    entry = _ENTRIES.pop(name, None)
    if entry is None:
        raise UnknownModelError(name, _ENTRIES, what="registry entry")
    for alias_or_snapshot in entry.names():
        del _BY_NAME[alias_or_snapshot]
    return entry


@contextmanager
def registered(entry: ModelEntry) -> Iterator[ModelEntry]:
    """The model is registered inside the ``with`` block only (a test's own model)."""
    register(entry)
    try:
        yield entry
    finally:
        unregister(entry.name)


def entries() -> list[ModelEntry]:
    """Every registered model, in registration order."""
    return list(_ENTRIES.values())


def entry_for(name: str) -> ModelEntry:
    """The entry ``name`` (an alias or a dated snapshot) belongs to."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownModelError(name, _BY_NAME, what="registry entry") from None


def resolve(name: str) -> str:
    """The model name the API reports for a request of ``name``.

    ``gpt-4o`` answers as ``gpt-4o-2024-08-06``; a snapshot or a model without snapshots
    answers as itself.
    """
    return entry_for(name).resolve(name)


def encoding_name(name: str) -> str:
    """The tiktoken encoding of ``name``.

    A dated snapshot the registry does not list yet (``gpt-4o-2025-01-01``) uses its family's
    encoding: the longest registered name followed by ``-`` that it starts with.
    """
    entry = _BY_NAME.get(name)
    if entry is None:
        family = [e for e in list(_ENTRIES.values()) if name.startswith(f"{e.name}-")]
        if not family:
            raise UnknownModelError(name, _ENTRIES)
        entry = max(family, key=lambda e: len(e.name))
    return entry.encoding


def context_window(name: str) -> int | None:
    """How many tokens (prompt plus answer) ``name`` accepts; None when the registry does not
    know the model, or knows it without a context window."""
    entry = _BY_NAME.get(name)
    return None if entry is None else entry.context_window


T = TypeVar("T")


class RegistryView(Mapping[str, T]):
    """A read-only mapping from model name to what ``build`` makes of its entry.

    It reads the registry on every access, so a model registered later (a test's fixture
    model) appears in every view at once. ``build`` returns None for a name the view leaves
    out (the price table leaves out models without a price).
    """

    def __init__(self, build: Callable[[str, ModelEntry], T | None]) -> None:
        self._build = build

    def __getitem__(self, name: str) -> T:
        entry = _BY_NAME.get(name)
        value = None if entry is None else self._build(name, entry)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        for entry in list(_ENTRIES.values()):
            for name in entry.names():
                if self._build(name, entry) is not None:
                    yield name

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"


MODELS: RegistryView[ModelEntry] = RegistryView(lambda name, entry: entry)

for _entry in _BUILT_IN:
    register(_entry)
