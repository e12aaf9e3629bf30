"""Which questions a learner has answered, kept in a small JSON file between sessions.

The file lives at ``$COURSE_PROGRESS_PATH``, by default ``~/.course_lib/progress.json``::

    {"version": 1, "cards": {"01.q1": {"answered": true, "correct": false,
                                       "revealed": true, "hints_seen": 2}}}

Progress is a convenience, so it must never stop a notebook: a damaged file is set aside (as
``progress.json.corrupt``) and progress starts fresh; a file that cannot be read or written only
costs persistence. Both cases raise a :class:`ProgressWarning`, never an error.

Every change re-reads the file and writes it back whole, atomically (a temporary file in the
same directory, then ``os.replace``), so a crash mid-write never leaves half a file and two
notebooks open at once do not overwrite each other's earlier answers.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ipywidgets as widgets

PROGRESS_PATH_ENV = "COURSE_PROGRESS_PATH"
DEFAULT_PROGRESS_PATH = "~/.course_lib/progress.json"
SCHEMA_VERSION = 1


class ProgressWarning(UserWarning):
    """Progress could not be loaded or saved; the notebook carries on regardless."""


@dataclass(frozen=True)
class CardProgress:
    """What one learner has done with one card.

    ``answered``: a guess was checked or a quiz choice picked. ``correct``: the verdict on that
    answer (``True`` sticks once earned; ``None`` until there is a verdict). ``revealed``: the
    answer was shown. ``hints_seen``: how many hints have been shown.
    """

    answered: bool = False
    correct: bool | None = None
    revealed: bool = False
    hints_seen: int = 0

    @property
    def done(self) -> bool:
        """The learner engaged with the question: answered it or looked at the answer."""
        return self.answered or self.revealed

    def updated(
        self,
        *,
        answered: bool = False,
        correct: bool | None = None,
        revealed: bool = False,
        hints_seen: int = 0,
    ) -> CardProgress:
        """This progress plus new events; nothing a learner has done is ever undone."""
        keep_verdict = self.correct is True or correct is None
        verdict = self.correct if keep_verdict else correct
        return CardProgress(
            answered=self.answered or answered,
            correct=verdict,
            revealed=self.revealed or revealed,
            hints_seen=max(self.hints_seen, hints_seen),
        )

    @classmethod
    def from_json(cls, raw: object) -> CardProgress:
        """Rebuild from the file's JSON, raising ``ValueError`` on any unexpected shape."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"a card entry must be an object, got {raw!r}")
        progress = cls(**{key: raw[key] for key in _FIELD_TYPES if key in raw})
        for key, allowed in _FIELD_TYPES.items():
            value = getattr(progress, key)
            if type(value) not in allowed:
                raise ValueError(f"card field {key!r} has the wrong type: {value!r}")
        if progress.hints_seen < 0:
            raise ValueError(f"hints_seen is negative: {progress.hints_seen}")
        return progress


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "answered": (bool,),
    "correct": (bool, type(None)),
    "revealed": (bool,),
    "hints_seen": (int,),
}


@dataclass(frozen=True)
class ProgressSummary:
    """Counts for the progress line: done cards in this notebook, all done cards on file."""

    answered_here: int
    total_here: int
    answered_overall: int

    def __str__(self) -> str:
        noun = "question" if self.total_here == 1 else "questions"
        return (
            f"{self.answered_here} of {self.total_here} {noun} answered in this notebook"
            f" / {self.answered_overall} overall"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class ProgressStore:
    """Progress for every card, persisted at ``path``.

    "This notebook" means the cards created against this store in this Python process: a
    Jupyter kernel runs one notebook, so those are the notebook's questions.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser().absolute()
        self._lock = threading.RLock()
        self._cards: dict[str, CardProgress] = {}
        self._session_ids: dict[str, None] = {}  # ordered set of cards created this session
        self._listeners: list[Callable[[], None]] = []
        self._unusable_path_warned = False

    @classmethod
    def from_environment(cls) -> ProgressStore:
        """The store at ``$COURSE_PROGRESS_PATH``, or at ``~/.course_lib/progress.json``."""
        return cls(os.environ.get(PROGRESS_PATH_ENV) or DEFAULT_PROGRESS_PATH)

    def register(self, card_id: str) -> None:
        """Count ``card_id`` as one of this notebook's questions."""
        with self._lock:
            self._session_ids[card_id] = None
        self._notify()

    def record(
        self,
        card_id: str,
        *,
        answered: bool = False,
        correct: bool | None = None,
        revealed: bool = False,
        hints_seen: int = 0,
    ) -> CardProgress:
        """Add what the learner just did to ``card_id``'s progress and save the file."""
        with self._lock:
            cards = self._load()
            progress = cards.get(card_id, CardProgress()).updated(
                answered=answered, correct=correct, revealed=revealed, hints_seen=hints_seen
            )
            cards[card_id] = progress
            self._cards = cards
            self._save(cards)
        self._notify()
        return progress

    def get(self, card_id: str) -> CardProgress:
        """Progress on one card (a fresh :class:`CardProgress` if it was never touched)."""
        return self.all().get(card_id, CardProgress())

    def all(self) -> dict[str, CardProgress]:
        """Progress on every card on file, by card id."""
        with self._lock:
            self._cards = self._load()
            return dict(self._cards)

    def summary(self) -> ProgressSummary:
        """How many of this notebook's questions are done, and how many overall."""
        cards = self.all()
        with self._lock:
            here = list(self._session_ids)
        return ProgressSummary(
            answered_here=sum(cards.get(card_id, CardProgress()).done for card_id in here),
            total_here=len(here),
            answered_overall=sum(progress.done for progress in cards.values()),
        )

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change (a progress widget redraws itself)."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _load(self) -> dict[str, CardProgress]:
        """The cards on file; on trouble, what this session last knew (empty at first)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as error:
            self._warn_once(
                f"cannot read progress file {self.path} ({error}); "
                "progress is kept for this session only"
            )
            return dict(self._cards)
        try:
            return _parse(raw)
        except ValueError as error:
            self._set_aside_corrupt_file(error)
            cards = dict(self._cards)
            self._save(cards)  # a valid file again, so the next read does not lose this session
            return cards

    def _set_aside_corrupt_file(self, error: ValueError) -> None:
        backup = self.path.with_name(self.path.name + ".corrupt")
        try:
            os.replace(self.path, backup)
            kept = f"the damaged file is kept as {backup}"
        except OSError:
            kept = "the damaged file could not be moved aside and will be overwritten"
        warnings.warn(
            f"progress file {self.path} is corrupt ({error}); starting fresh, {kept}",
            ProgressWarning,
            stacklevel=4,
        )

    def _save(self, cards: Mapping[str, CardProgress]) -> None:
        payload = {
            "version": SCHEMA_VERSION,
            "cards": {card_id: asdict(cards[card_id]) for card_id in sorted(cards)},
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.path, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        except OSError as error:
            self._warn_once(
                f"cannot save progress to {self.path} ({error}); "
                "progress is kept for this session only",
            )

    def _warn_once(self, message: str) -> None:
        # An unusable path fails on every read and write; one warning per session says it all.
        if not self._unusable_path_warned:
            self._unusable_path_warned = True
            warnings.warn(message, ProgressWarning, stacklevel=4)


def _parse(raw: bytes) -> dict[str, CardProgress]:
    data = json.loads(raw.decode("utf-8"))  # both errors are ValueErrors
    if not isinstance(data, dict) or not isinstance(data.get("cards"), dict):
        raise ValueError("expected an object with a 'cards' object")
    if data.get("version") != SCHEMA_VERSION:
        raise ValueError(f"unsupported version {data.get('version')!r}")
    return {str(card_id): CardProgress.from_json(entry) for card_id, entry in data["cards"].items()}


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


_stores: dict[Path, ProgressStore] = {}
_stores_lock = threading.Lock()


def default_store() -> ProgressStore:
    """The store for the current ``$COURSE_PROGRESS_PATH``: one per path, shared by all cards."""
    store = ProgressStore.from_environment()
    with _stores_lock:
        return _stores.setdefault(store.path, store)


def progress_summary(store: ProgressStore | None = None) -> ProgressSummary:
    """E.g. "3 of 7 questions answered in this notebook / 12 overall"."""
    return (store or default_store()).summary()


def progress_widget(store: ProgressStore | None = None) -> widgets.HTML:
    """A one-line ``ipywidgets.HTML`` progress summary that updates as cards are answered."""
    store = store or default_store()
    line = widgets.HTML()
    line.add_class("course-socratic-progress")

    def redraw() -> None:
        line.value = f"<p>📈 {store.summary()}</p>"

    redraw()
    store.subscribe(redraw)
    return line
