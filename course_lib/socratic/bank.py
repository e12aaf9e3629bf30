"""The question bank: every card's text, in files a teacher can edit without reading Python.

One TOML file per notebook in ``course_lib/questions/``, named after the notebook
(``05_model_routing.toml`` holds the cards ``05.q1``, ``05.q2``, ...). A notebook cell only names
its card and passes the values it computed, so no answer is ever visible in the notebook::

    socratic.ask("05.q1", share=share_for_90, strong_usd=strong_usd, weak_usd=weak_usd)

A card (``kind = "card"``) has a ``question``, the lesson's ``question_zh`` where it has one
(verbatim), ``hints`` and an ``answer``. With a ``guess`` table it asks for a number, compared
with the field ``guess.expected`` within ``rel_tol`` / ``abs_tol``, in ``unit``; without one it
takes a free-text answer that the learner rates after the reveal. A quiz (``kind = "quiz"``) has a
``question`` and two or more ``[[card.choice]]`` tables, each with ``text``, ``correct`` and
``explanation``.

Templates. ``question``, ``hints``, ``answer`` and the choices' ``text`` and ``explanation`` are
Markdown with named fields in braces, Python's ``str.format`` syntax:

- ``{share:.1%}`` is the field ``share`` as a percentage with one decimal (0.958 -> 95.8%),
  ``{tokens:,}`` a number with thousands separators, ``{ratio:.2f}`` two decimals, ``{n}`` the
  value as it is;
- ``{monthly:usd}`` is an amount of money as a person writes it (``$1,237.50``, ``$0.00825``);
- a literal brace is doubled: ``{{"type": "error"}}``; a literal dollar sign is ``\\$``, so no
  text ever reads as a TeX formula (write the templates as TOML literal strings, ``'''...'''``,
  where a backslash is just a backslash).

With ``unit = "%"`` the expected field is a fraction (0.958), as ``{share:.1%}`` shows it, and the
learner types a percentage (95.8 or 95.8%). Every figure comes from a field: the bank types in no
number except the few the lesson itself states (``tests/test_question_bank.py`` lists them).
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from course_lib.socratic.numeric_guess import NumericGuess
from course_lib.socratic.progress import ProgressStore
from course_lib.socratic.question_card import QuestionCard
from course_lib.socratic.quiz import Choice, Quiz

QUESTIONS_DIR = Path(__file__).resolve().parent.parent / "questions"

_CARD_KEYS = {"id", "kind", "question", "question_zh", "hints", "answer", "guess"}
_QUIZ_KEYS = {"id", "kind", "question", "question_zh", "choice"}
_GUESS_KEYS = {"expected", "rel_tol", "abs_tol", "unit"}
_CHOICE_KEYS = {"text", "correct", "explanation"}


class BankError(ValueError):
    """A bank file or a card's fields are wrong; the message names the file, card and field."""


class _CardFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "usd":
            from course_lib.cost_model import format_usd  # the course's one money format

            return format_usd(value if isinstance(value, Decimal) else Decimal(str(value)))
        return super().format_field(value, format_spec)


_FORMATTER = _CardFormatter()


def template_fields(template: str) -> list[str]:
    """The field names a template uses, in order of first use (``{a} {b:.0%} {a}`` -> a, b)."""
    names: dict[str, None] = {}
    for _literal, name, _spec, _conversion in _FORMATTER.parse(template):
        if name is None:
            continue
        if not name.isidentifier():
            raise BankError(
                f"field {{{name}}} is not a plain name: use letters, digits and '_' "
                "(compute the value in the notebook and pass it as its own field)"
            )
        names[name] = None
    return list(names)


@dataclass(frozen=True)
class BankChoice:
    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True)
class GuessSpec:
    """A numeric guess: which field holds the expected value, how close counts, in what unit."""

    expected: str
    rel_tol: float = 0.1
    abs_tol: float | None = None
    unit: str = ""

    def box(self, value: object) -> NumericGuess:
        if self.unit == "%" and isinstance(value, int | float | Decimal):
            value = float(value) * 100  # the field is a fraction; the learner types percent
        return NumericGuess(value, rel_tol=self.rel_tol, abs_tol=self.abs_tol, unit=self.unit)


@dataclass(frozen=True)
class BankCard:
    """One card or quiz as the bank holds it: templates, not yet filled in."""

    id: str
    kind: str
    question: str
    source: Path
    question_zh: str | None = None
    hints: tuple[str, ...] = ()
    answer: str | None = None
    guess: GuessSpec | None = None
    choices: tuple[BankChoice, ...] = ()

    def templates(self) -> dict[str, str]:
        """Every template of the card, by where it is ("answer", "choice B explanation", ...)."""
        found = {"question": self.question}
        if self.question_zh is not None:  # the lesson's own wording has no fields; the course's may
            found["question_zh"] = self.question_zh
        found.update({f"hint {n}": hint for n, hint in enumerate(self.hints, start=1)})
        if self.answer is not None:
            found["answer"] = self.answer
        for letter, choice in zip(string.ascii_uppercase, self.choices, strict=False):
            found[f"choice {letter} text"] = choice.text
            found[f"choice {letter} explanation"] = choice.explanation
        return found

    def fields(self) -> list[str]:
        """Every field the notebook must pass, in order of first use."""
        names: dict[str, None] = {}
        for where, template in self.templates().items():
            try:
                names.update(dict.fromkeys(template_fields(template)))
            except BankError as error:
                raise BankError(f"{self._where()}, {where}: {error}") from None
        if self.guess is not None:
            names[self.guess.expected] = None
        return list(names)

    def build(
        self, values: Mapping[str, object], progress: ProgressStore | None = None
    ) -> QuestionCard | Quiz:
        """The card filled in with the notebook's ``values``: every field, and no other."""
        wanted = self.fields()
        missing = [name for name in wanted if name not in values]
        extra = [name for name in values if name not in wanted]
        if missing:
            example = ", ".join(f"{name}=..." for name in missing)
            raise BankError(
                f"card {self.id} needs the field(s) {', '.join(missing)}: "
                f'socratic.ask("{self.id}", {example})'
            )
        if extra:
            uses = ", ".join(wanted) or "no fields"
            raise BankError(
                f"card {self.id} has no field(s) {', '.join(extra)} (its templates use: {uses}); "
                f"check the spelling, or add the field to {self.source.name}"
            )
        fill = self._filler(values)
        zh = None if self.question_zh is None else fill("question_zh", self.question_zh)
        if self.kind == "quiz":
            return Quiz(
                self.id,
                fill("question", self.question),
                [
                    Choice(fill(f"choice {n} text", c.text), c.correct,
                           fill(f"choice {n} explanation", c.explanation))
                    for n, c in enumerate(self.choices, start=1)
                ],
                question_zh=zh,
                progress=progress,
            )
        assert self.answer is not None
        return QuestionCard(
            self.id,
            fill("question", self.question),
            fill("answer", self.answer),
            question_zh=zh,
            hints=[fill(f"hint {n}", hint) for n, hint in enumerate(self.hints, start=1)],
            guess=None if self.guess is None else self.guess.box(values[self.guess.expected]),
            progress=progress,
        )

    def _filler(self, values: Mapping[str, object]):
        def fill(where: str, template: str) -> str:
            try:
                return _FORMATTER.vformat(template, (), values)
            except (ValueError, TypeError, KeyError, ArithmeticError) as error:
                raise BankError(f"card {self.id}, {where}: cannot fill in the template ({error})"
                                ) from None

        return fill

    def _where(self) -> str:
        return f"{self.source.name}, card {self.id}"


def bank_files(directory: Path = QUESTIONS_DIR) -> list[Path]:
    """The notebooks' bank files (exercise hints, in ``questions/exercises/``, are not cards)."""
    return sorted(directory.glob("*.toml"))


def load_bank_file(path: Path) -> dict[str, BankCard]:
    """Every card in one bank file, by id, each checked for the keys and types it needs."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise BankError(f"{path.name} is not valid TOML: {error}") from None
    unknown = set(data) - {"card"}
    if unknown:
        raise BankError(f"{path.name}: unknown top-level key(s) {sorted(unknown)}; "
                        "write each card as a [[card]] table")
    cards: dict[str, BankCard] = {}
    for position, raw in enumerate(data.get("card", []), start=1):
        card = _parse_card(path, position, raw)
        if card.id in cards:
            raise BankError(f"{path.name}: card {card.id} is defined twice")
        cards[card.id] = card
    return cards


def load_bank(directory: Path = QUESTIONS_DIR) -> dict[str, BankCard]:
    """Every card of every notebook, by id."""
    cards: dict[str, BankCard] = {}
    for path in bank_files(directory):
        for card_id, card in load_bank_file(path).items():
            if card_id in cards:
                raise BankError(f"card {card_id} is in both {cards[card_id].source.name} and "
                                f"{path.name}")
            cards[card_id] = card
    return cards


def bank_card(card_id: str, directory: Path = QUESTIONS_DIR) -> BankCard:
    """The card ``card_id`` ("05.q1"), read now from its notebook's file (``05_*.toml``).

    Read on every call, so a teacher's edit shows the next time the cell runs.
    """
    notebook = card_id.split(".", 1)[0]
    files = sorted(directory.glob(f"{notebook}_*.toml"))
    if len(files) != 1:
        found = ", ".join(path.name for path in files) or "none"
        raise BankError(
            f"card {card_id!r}: expected one bank file {notebook}_*.toml in {directory}, "
            f"found {found}"
        )
    cards = load_bank_file(files[0])
    if card_id not in cards:
        raise BankError(f"card {card_id!r} is not in {files[0].name} (it has: "
                        f"{', '.join(cards) or 'no cards'})")
    return cards[card_id]


def _parse_card(path: Path, position: int, raw: object) -> BankCard:
    if not isinstance(raw, dict):
        raise BankError(f"{path.name}: card {position} is not a table")
    card_id = raw.get("id")
    where = f"{path.name}, card {card_id or position}"
    if not isinstance(card_id, str) or not card_id:
        raise BankError(f"{where}: every card needs an id such as \"05.q1\"")
    kind = raw.get("kind", "card")
    if kind not in ("card", "quiz"):
        raise BankError(f"{where}: kind must be \"card\" or \"quiz\", got {kind!r}")
    allowed = _CARD_KEYS if kind == "card" else _QUIZ_KEYS
    unknown = set(raw) - allowed
    if unknown:
        raise BankError(f"{where}: unknown key(s) {sorted(unknown)} for a {kind}; "
                        f"a {kind} takes {sorted(allowed)}")

    def text(key: str, required: bool = True) -> str | None:
        value = raw.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise BankError(f"{where}: {key} must be a non-empty string")
        return value

    hints = raw.get("hints", [])
    if not isinstance(hints, list) or not all(isinstance(h, str) and h.strip() for h in hints):
        raise BankError(f"{where}: hints must be a list of non-empty strings")
    common: dict[str, Any] = {
        "id": card_id, "kind": kind, "question": text("question"), "source": path,
        "question_zh": text("question_zh", required=False), "hints": tuple(hints),
    }
    if kind == "quiz":
        choices = raw.get("choice")
        if not isinstance(choices, list) or len(choices) < 2:
            raise BankError(f"{where}: a quiz needs at least two [[card.choice]] tables")
        parsed = []
        for number, choice in enumerate(choices, start=1):
            if not isinstance(choice, dict) or set(choice) != _CHOICE_KEYS:
                raise BankError(f"{where}: choice {number} needs exactly text, correct and "
                                "explanation")
            if not isinstance(choice["correct"], bool):
                raise BankError(f"{where}: choice {number}: correct must be true or false")
            parsed.append(BankChoice(choice["text"], choice["correct"], choice["explanation"]))
        if not any(choice.correct for choice in parsed):
            raise BankError(f"{where}: no choice has correct = true")
        return BankCard(**common, choices=tuple(parsed))
    guess = raw.get("guess")
    spec = None
    if guess is not None:
        if not isinstance(guess, dict) or not set(guess) <= _GUESS_KEYS or "expected" not in guess:
            raise BankError(f"{where}: guess must be a table with expected (a field name) and "
                            "optionally rel_tol, abs_tol, unit")
        spec = GuessSpec(**guess)
        if not spec.expected.isidentifier():
            raise BankError(f"{where}: guess.expected must name a field, got {spec.expected!r}")
    return BankCard(**common, answer=text("answer"), guess=spec)
