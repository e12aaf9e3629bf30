"""What a learner has done with every card and exercise, kept in a small JSON file.

The file lives at ``$COURSE_PROGRESS_PATH``, by default ``~/.course_lib/progress.json``::

    {"version": 2,
     "cards": {"01.q1": {"answered": true, "correct": false, "revealed": true, "hints_seen": 2,
                         "guess": "4.8k", "feedback": "✗ too high by 3.9x ...",
                         "picks": [], "self_assessment": null}},
     "exercises": {"ex01.q1": {"status": "passed", "summary": "✅ ex01.q1 · ...: passed",
                               "at": "2026-01-05T09:00:00Z"}}}

A card draws itself from this record, so re-running its cell or reloading the page shows the
last guess and its feedback, the hints seen, the answer if it was revealed, the self-assessment
and the quiz picks. Version 1 files (only the first four card fields) are read and rewritten as
version 2 on the next change.

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
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets

PROGRESS_PATH_ENV = "COURSE_PROGRESS_PATH"
DEFAULT_PROGRESS_PATH = "~/.course_lib/progress.json"
SCHEMA_VERSION = 2
SELF_ASSESSMENTS = ("got_it", "partly", "missed")
EXERCISE_STATUSES = ("passed", "failed", "not_done")

Listener = Callable[[str | None], None]


class ProgressWarning(UserWarning):
    """Progress could not be loaded or saved; the notebook carries on regardless."""


@dataclass(frozen=True)
class CardProgress:
    """What one learner has done with one card.

    ``answered``: a guess was checked, a free-text answer saved or a quiz choice picked.
    ``correct``: the verdict on the answer now on the card (the last guess; for a quiz, whether
    every right choice is among the picks); ``None`` when there is no verdict. ``revealed``: the
    answer was shown. ``hints_seen``: how many hints are shown. ``guess`` and ``feedback``: the
    last guess as typed and what the card said about it. ``picks``: the quiz letters picked, in
    order. ``self_assessment``: after a free-text reveal, ``"got_it"``, ``"partly"`` or
    ``"missed"``.
    """

    answered: bool = False
    correct: bool | None = None
    revealed: bool = False
    hints_seen: int = 0
    guess: str | None = None
    feedback: str | None = None
    picks: tuple[str, ...] = ()
    self_assessment: str | None = None

    @property
    def done(self) -> bool:
        """The learner engaged with the question: answered it or looked at the answer."""
        return self.answered or self.revealed

    @property
    def settled(self) -> bool:
        """The answer is no secret any more: revealed, or found (a right guess, a solved quiz)."""
        return self.revealed or self.correct is True

    def updated(self, **changes: Any) -> CardProgress:
        """This progress with ``changes`` applied; ``answered`` and ``revealed`` never go back."""
        progress = replace(self, **changes)
        return replace(
            progress,
            answered=self.answered or progress.answered,
            revealed=self.revealed or progress.revealed,
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["picks"] = list(self.picks)
        return data

    @classmethod
    def from_json(cls, raw: object) -> CardProgress:
        """Rebuild from the file's JSON, raising ``ValueError`` on any unexpected shape."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"a card entry must be an object, got {raw!r}")
        values = {key: raw[key] for key in _FIELD_TYPES if key in raw}
        if isinstance(values.get("picks"), list):
            values["picks"] = tuple(values["picks"])
        progress = cls(**values)
        for key, allowed in _FIELD_TYPES.items():
            value = getattr(progress, key)
            if type(value) not in allowed:
                raise ValueError(f"card field {key!r} has the wrong type: {value!r}")
        if progress.hints_seen < 0:
            raise ValueError(f"hints_seen is negative: {progress.hints_seen}")
        if not all(isinstance(pick, str) for pick in progress.picks):
            raise ValueError(f"picks must be letters, got {progress.picks!r}")
        if progress.self_assessment not in (None, *SELF_ASSESSMENTS):
            raise ValueError(f"unknown self_assessment {progress.self_assessment!r}")
        return progress


_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "answered": (bool,),
    "correct": (bool, type(None)),
    "revealed": (bool,),
    "hints_seen": (int,),
    "guess": (str, type(None)),
    "feedback": (str, type(None)),
    "picks": (tuple,),
    "self_assessment": (str, type(None)),
}
assert set(_FIELD_TYPES) == {field.name for field in fields(CardProgress)}


@dataclass(frozen=True)
class ExerciseResult:
    """The last ``check("exNN.qK", fn)`` verdict: status, the report's first line, and when."""

    status: str
    summary: str
    at: str

    @classmethod
    def from_json(cls, raw: object) -> ExerciseResult:
        if not isinstance(raw, Mapping):
            raise ValueError(f"an exercise entry must be an object, got {raw!r}")
        try:
            result = cls(raw["status"], raw["summary"], raw["at"])
        except KeyError as missing:
            raise ValueError(f"an exercise entry has no {missing}") from None
        if result.status not in EXERCISE_STATUSES:
            raise ValueError(f"unknown exercise status {result.status!r}")
        if not isinstance(result.summary, str) or not isinstance(result.at, str):
            raise ValueError(f"exercise summary and time must be strings: {raw!r}")
        return result


@dataclass(frozen=True)
class _Saved:
    cards: dict[str, CardProgress]
    exercises: dict[str, ExerciseResult]


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


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ProgressStore:
    """Progress for every card and exercise, persisted at ``path``.

    "This notebook" means the cards created against this store in this Python process: a
    Jupyter kernel runs one notebook, so those are the notebook's questions. ``clock`` stamps
    exercise results (tests inject one).
    """

    def __init__(
        self, path: str | os.PathLike[str], clock: Callable[[], datetime] = _utc_now
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self._clock = clock
        self._lock = threading.RLock()
        self._saved = _Saved({}, {})
        self._session_ids: dict[str, None] = {}  # ordered set of cards created this session
        self._listeners: list[Listener] = []
        self._unusable_path_warned = False

    @classmethod
    def from_environment(cls) -> ProgressStore:
        """The store at ``$COURSE_PROGRESS_PATH``, or at ``~/.course_lib/progress.json``."""
        return cls(os.environ.get(PROGRESS_PATH_ENV) or DEFAULT_PROGRESS_PATH)

    def register(self, card_id: str) -> None:
        """Count ``card_id`` as one of this notebook's questions."""
        with self._lock:
            self._session_ids[card_id] = None
        self._notify(None)

    def record(self, card_id: str, **changes: Any) -> CardProgress:
        """Apply ``changes`` (fields of :class:`CardProgress`) to ``card_id`` and save the file."""
        with self._lock:
            saved = self._load()
            progress = saved.cards.get(card_id, CardProgress()).updated(**changes)
            saved.cards[card_id] = progress
            self._save(saved)
        self._notify(card_id)
        return progress

    def reset(self, card_id: str) -> None:
        """Forget everything about ``card_id`` (a card's "Start over")."""
        with self._lock:
            saved = self._load()
            if saved.cards.pop(card_id, None) is not None:
                self._save(saved)
        self._notify(card_id)

    def get(self, card_id: str) -> CardProgress:
        """Progress on one card (a fresh :class:`CardProgress` if it was never touched)."""
        return self.all().get(card_id, CardProgress())

    def all(self) -> dict[str, CardProgress]:
        """Progress on every card on file, by card id."""
        with self._lock:
            return dict(self._load().cards)

    def record_exercise(self, check_id: str, status: str, summary: str) -> ExerciseResult:
        """Save the latest verdict of the exercise check ``check_id``.

        ``status`` is ``"passed"``, ``"failed"`` or ``"not_done"``; ``summary`` is the report's
        first line. The time is now, in UTC, in ISO 8601.
        """
        if status not in EXERCISE_STATUSES:
            raise ValueError(
                f"status must be one of {', '.join(EXERCISE_STATUSES)}, got {status!r}"
            )
        if not isinstance(summary, str):
            raise ValueError(f"summary must be a string, got {type(summary).__name__}")
        at = self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        result = ExerciseResult(status, summary.splitlines()[0] if summary else "", at)
        with self._lock:
            saved = self._load()
            saved.exercises[check_id] = result
            self._save(saved)
        self._notify(None)
        return result

    def exercises(self) -> dict[str, ExerciseResult]:
        """The last verdict of every exercise check on file, by check id."""
        with self._lock:
            return dict(self._load().exercises)

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

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(card_id)`` after every change (``None`` when no one card changed)."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with suppress(ValueError):
            self._listeners.remove(listener)

    def _notify(self, card_id: str | None) -> None:
        for listener in list(self._listeners):
            listener(card_id)

    def _load(self) -> _Saved:
        """What is on file; on trouble, what this session last knew (empty at first)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            saved = _Saved({}, {})
        except OSError as error:
            self._warn_once(
                f"cannot read progress file {self.path} ({error}); "
                "progress is kept for this session only"
            )
            saved = self._copy_of_session()
        else:
            try:
                saved = _parse(raw)
            except ValueError as error:
                self._set_aside_corrupt_file(error)
                saved = self._copy_of_session()
                self._save(saved)  # a valid file again, so the next read loses nothing more
        self._saved = saved
        return _Saved(dict(saved.cards), dict(saved.exercises))

    def _copy_of_session(self) -> _Saved:
        return _Saved(dict(self._saved.cards), dict(self._saved.exercises))

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
            stacklevel=5,
        )

    def _save(self, saved: _Saved) -> None:
        self._saved = saved
        payload = {
            "version": SCHEMA_VERSION,
            "cards": {card_id: saved.cards[card_id].to_json() for card_id in sorted(saved.cards)},
            "exercises": {
                check_id: asdict(saved.exercises[check_id]) for check_id in sorted(saved.exercises)
            },
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
            warnings.warn(message, ProgressWarning, stacklevel=5)


def _parse(raw: bytes) -> _Saved:
    data = json.loads(raw.decode("utf-8"))  # both errors are ValueErrors
    if not isinstance(data, dict) or not isinstance(data.get("cards"), dict):
        raise ValueError("expected an object with a 'cards' object")
    version = data.get("version")
    if version not in (1, SCHEMA_VERSION):
        raise ValueError(f"unsupported version {version!r}")
    cards = {
        str(card_id): CardProgress.from_json(entry) for card_id, entry in data["cards"].items()
    }
    exercises_raw = data.get("exercises", {}) if version == SCHEMA_VERSION else {}
    if not isinstance(exercises_raw, dict):
        raise ValueError("'exercises' must be an object")
    exercises = {
        str(check_id): ExerciseResult.from_json(entry) for check_id, entry in exercises_raw.items()
    }
    return _Saved(cards, exercises)


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

    def redraw(_card_id: str | None = None) -> None:
        line.value = f"<p>📈 {store.summary()}</p>"

    redraw()
    store.subscribe(redraw)
    return line
