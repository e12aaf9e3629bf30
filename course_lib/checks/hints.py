"""The exercises' hints, kept in TOML files a teacher edits without reading Python.

One file per exercise in ``course_lib/questions/exercises/``, named like its notebook
(``ex05_algorithms.toml`` holds the hints of ``ex05.q1`` ... ``ex05.q4``)::

    [q1]
    hints = [
      '''Fill the table on paper for two short words first.''',
      '''Each cell reads the row above and the cell to its left.''',
    ]

    [q1.mistakes]
    bytes = '''That is the LCS of the UTF-8 bytes ...'''

``hint("ex05.q1")`` shows the ``hints`` one at a time, the next one on each call. A failing check
adds the hint for the mistake it recognised, ``mistake_hint("ex05.q1", "bytes")``; the check
names the key, the file holds the words. Hints nudge (where to look, what to compare, which
lesson notebook shows it) and never give the code away. Inside a hint a line break is a space,
so long hints can be wrapped; ``'''`` strings keep backslashes as they are (``\\b``, ``\\r\\n``).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from course_lib.socratic.feedback import Reply

__all__ = [
    "HINTS",
    "HINTS_DIR",
    "CheckHints",
    "HintFileError",
    "has_hints",
    "hint",
    "load_hints",
    "mistake_hint",
    "reset_hints",
]

HINTS_DIR = Path(__file__).resolve().parent.parent / "questions" / "exercises"

_FILE_NAME = re.compile(r"(ex\d\d)_[a-z0-9_]+\.toml")
_QUESTION = re.compile(r"q\d+")
_MISTAKE = re.compile(r"[a-z][a-z0-9_]*")


class HintFileError(ValueError):
    """A hint file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class CheckHints:
    """The hints of one check: progressive ``hints`` and ``mistakes``, one hint per mistake."""

    hints: tuple[str, ...]
    mistakes: Mapping[str, str]


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise HintFileError(f"{where} must be a non-empty string, got {value!r}")
    return re.sub(r"\s*\n\s*", " ", value.strip())


def _read_file(path: Path) -> dict[str, CheckHints]:
    match = _FILE_NAME.fullmatch(path.name)
    if match is None:
        raise HintFileError(f"{path.name}: a hint file is named like its exercise, "
                            "e.g. ex05_algorithms.toml")
    exercise = match.group(1)
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise HintFileError(f"{path.name}: not valid TOML: {error}") from None
    found: dict[str, CheckHints] = {}
    for question, table in tables.items():
        where = f"{path.name} [{question}]"
        if not _QUESTION.fullmatch(question) or not isinstance(table, dict):
            raise HintFileError(f"{where}: the file holds only tables named after questions, "
                                "[q1], [q2], ...")
        unknown = set(table) - {"hints", "mistakes"}
        if unknown:
            raise HintFileError(f"{where}: unknown keys {sorted(unknown)}; a question has "
                                "'hints' (a list) and 'mistakes' (a table)")
        hints = table.get("hints")
        if not isinstance(hints, list) or not hints:
            raise HintFileError(f"{where}: 'hints' must be a list of at least one hint")
        mistakes = table.get("mistakes", {})
        if not isinstance(mistakes, dict):
            raise HintFileError(f"{where}: 'mistakes' must be a table, [{question}.mistakes]")
        for name in mistakes:
            if not _MISTAKE.fullmatch(name):
                raise HintFileError(f"{where}: mistake names are lower_case words, got {name!r}")
        found[f"{exercise}.{question}"] = CheckHints(
            hints=tuple(_text(text, f"{where} hints[{index}]")
                        for index, text in enumerate(hints)),
            mistakes=MappingProxyType({name: _text(text, f"{where} mistakes.{name}")
                                       for name, text in mistakes.items()}),
        )
    return found


@functools.cache
def load_hints(directory: Path = HINTS_DIR) -> Mapping[str, CheckHints]:
    """Every check's hints, by check id, from the TOML files in ``directory``."""
    every: dict[str, CheckHints] = {}
    for path in sorted(directory.glob("*.toml")):
        for check_id, hints in _read_file(path).items():
            if check_id in every:
                raise HintFileError(f"{path.name}: the hints of {check_id} are also in "
                                    "another file")
            every[check_id] = hints
    return MappingProxyType(every)


HINTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {check_id: hints.hints for check_id, hints in load_hints().items()})
"""The progressive hints of every check, by check id."""

_seen: dict[str, int] = {}


def has_hints(check_id: str) -> bool:
    """Whether ``check_id`` has hints to give."""
    return bool(HINTS.get(check_id))


def hint(check_id: str) -> Reply:
    """The next hint for ``check_id`` ("Hint 2 of 3: ..."); the last one repeats once reached."""
    hints = HINTS.get(check_id)
    if not hints:
        known = ", ".join(sorted(HINTS))
        raise KeyError(f"no hints for {check_id!r}; checks with hints: {known}")
    shown = min(_seen.get(check_id, 0), len(hints) - 1)
    _seen[check_id] = shown + 1
    text = f"Hint {shown + 1} of {len(hints)} for {check_id}: {hints[shown]}"
    if shown == len(hints) - 1:
        text += "\n(That is the last hint.)"
    return Reply(text)


def mistake_hint(check_id: str, mistake: str) -> str:
    """The hint a failing check gives for ``mistake`` (a key of ``[qN.mistakes]``)."""
    hints = load_hints().get(check_id)
    if hints is None or mistake not in hints.mistakes:
        raise KeyError(f"no hint for the mistake {mistake!r} of {check_id}: add it to "
                       f"[{check_id.split('.')[1]}.mistakes] in {HINTS_DIR.name}/"
                       f"{check_id.split('.')[0]}_*.toml")
    return hints.mistakes[mistake]


def reset_hints() -> None:
    """Start every exercise's hints from the first one again."""
    _seen.clear()
