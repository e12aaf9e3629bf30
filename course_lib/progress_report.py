"""``make progress``: what a learner has done, from their progress file, as a table, JSON and CSV.

Everything a learner does is already saved in their progress file (see
:mod:`course_lib.socratic.progress`): each question card's guess, hints, reveal and
self-assessment, each quiz's picks, and the last verdict of each exercise check. This report
lays it beside what the course asks for — every card in the question bank, every check in the
exercise registry — so a card never opened and a check never run count as not done, rather than
being left out::

    .venv/bin/python -m course_lib.progress_report            # what make progress runs
    .venv/bin/python -m course_lib.progress_report --learner ada@example.org --out reports/

It prints one table (a row per notebook and per exercise) and writes, to ``--out``
(``artifacts/progress/`` by default):

* ``progress.json``: the learner, the totals, and one entry per card and per check;
* ``gradebook.csv``: one row per learner and item, in the long format a teacher can concatenate
  across learners and pivot in a spreadsheet (see :data:`CSV_COLUMNS`).

The learner's name for the gradebook is ``--learner``, else ``$COURSE_LEARNER``, else
``$GITHUB_ACTOR`` (the fork's owner in the course workflow), else ``git config user.email``,
else the login name. The report judges nothing: it always exits 0.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import json
import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from course_lib.checks.registry import all_checks
from course_lib.socratic.bank import BankCard, load_bank
from course_lib.socratic.progress import CardProgress, ProgressStore

__all__ = [
    "CSV_COLUMNS",
    "CardRow",
    "CheckRow",
    "ProgressReport",
    "build_report",
    "learner_name",
    "main",
]

Row = TypeVar("Row", "CardRow", "CheckRow")

DEFAULT_OUT = Path("artifacts") / "progress"
CSV_COLUMNS = (
    "learner",          # who (see learner_name)
    "item",             # a card id ("05.q1") or a check id ("ex03.q2")
    "item_type",        # "numeric card", "free-text card", "quiz" or "exercise check"
    "part",             # the notebook ("05_model_routing") or the exercise ("ex03")
    "answered",         # a guess checked, an answer saved or a choice picked (cards); 0/1
    "correct",          # the verdict on the answer on the card: 1, 0, or empty when none
    "revealed",         # the answer was shown (cards); 0/1
    "hints_seen",       # how many hints were shown (cards)
    "self_assessment",  # got_it / partly / missed after a free-text reveal, or empty
    "status",           # exercise checks: passed, failed, not_done, or not_run; cards: done/open
    "updated_at",       # exercise checks: when the last verdict was recorded (UTC)
)


@dataclass(frozen=True)
class CardRow:
    """One question card or quiz and what the learner did with it."""

    card_id: str
    notebook: str
    item_type: str
    progress: CardProgress

    @property
    def self_assessable(self) -> bool:
        return self.item_type == "free-text card"


@dataclass(frozen=True)
class CheckRow:
    """One exercise check and its last verdict (``not_run`` if it never ran)."""

    check_id: str
    exercise: str
    title: str
    status: str
    summary: str
    at: str


@dataclass(frozen=True)
class ProgressReport:
    """Every card and every check of the course, with what the learner did."""

    learner: str
    progress_file: str
    cards: tuple[CardRow, ...]
    checks: tuple[CheckRow, ...]

    def totals(self) -> dict[str, int]:
        free_text = [row for row in self.cards if row.self_assessable]
        return {
            "cards": len(self.cards),
            "cards_answered": sum(row.progress.answered for row in self.cards),
            "cards_revealed": sum(row.progress.revealed for row in self.cards),
            "free_text_cards": len(free_text),
            "free_text_self_assessed": sum(
                row.progress.self_assessment is not None for row in free_text),
            "checks": len(self.checks),
            "checks_passed": sum(row.status == "passed" for row in self.checks),
        }

    def table(self) -> str:
        """A row per notebook and per exercise, then the totals."""
        lines = [f"{'part':<34} {'answered':>9} {'revealed':>9} {'self-rated':>11} "
                 f"{'passed':>7}"]
        for notebook, rows in _grouped(self.cards, lambda row: row.notebook):
            rated = [row for row in rows if row.self_assessable]
            lines.append(
                f"{notebook:<34} {_of(sum(r.progress.answered for r in rows), len(rows)):>9} "
                f"{_of(sum(r.progress.revealed for r in rows), len(rows)):>9} "
                f"{_of(sum(r.progress.self_assessment is not None for r in rated), len(rated)):>11}"
                f" {'':>7}")
        for exercise, rows in _grouped(self.checks, lambda row: row.exercise):
            passed = sum(row.status == "passed" for row in rows)
            lines.append(f"{exercise:<34} {'':>9} {'':>9} {'':>11} {_of(passed, len(rows)):>7}")
        totals = self.totals()
        lines += ["", (
            f"{totals['cards_answered']} of {totals['cards']} cards answered, "
            f"{totals['cards_revealed']} revealed, {totals['free_text_self_assessed']} of "
            f"{totals['free_text_cards']} free-text answers self-assessed; "
            f"{totals['checks_passed']} of {totals['checks']} exercise checks passed")]
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "learner": self.learner,
            "progress_file": self.progress_file,
            "totals": self.totals(),
            "cards": [{"card_id": row.card_id, "notebook": row.notebook,
                       "item_type": row.item_type, **row.progress.to_json()}
                      for row in self.cards],
            "checks": [asdict(row) for row in self.checks],
        }

    def csv_rows(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        for card in self.cards:
            done = card.progress.done
            rows.append({
                "learner": self.learner, "item": card.card_id, "item_type": card.item_type,
                "part": card.notebook, "answered": int(card.progress.answered),
                "correct": "" if card.progress.correct is None else int(card.progress.correct),
                "revealed": int(card.progress.revealed), "hints_seen": card.progress.hints_seen,
                "self_assessment": card.progress.self_assessment or "",
                "status": "done" if done else "open", "updated_at": "",
            })
        for check in self.checks:
            rows.append({
                "learner": self.learner, "item": check.check_id, "item_type": "exercise check",
                "part": check.exercise, "answered": "", "correct": "", "revealed": "",
                "hints_seen": "", "self_assessment": "", "status": check.status,
                "updated_at": check.at,
            })
        return rows

    def write(self, out: Path) -> tuple[Path, Path]:
        """Write ``progress.json`` and ``gradebook.csv`` into ``out``; return their paths."""
        out.mkdir(parents=True, exist_ok=True)
        report_path, csv_path = out / "progress.json", out / "gradebook.csv"
        report_path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n",
                               encoding="utf-8")
        with csv_path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            writer.writerows(self.csv_rows())
        return report_path, csv_path


def _item_type(card: BankCard) -> str:
    if card.kind == "quiz":
        return "quiz"
    return "numeric card" if card.guess is not None else "free-text card"


def build_report(store: ProgressStore, learner: str) -> ProgressReport:
    """The report for ``learner`` from ``store``, over every card and check of the course."""
    saved = store.all()
    cards = tuple(
        CardRow(card_id, card.source.stem, _item_type(card), saved.get(card_id, CardProgress()))
        for card_id, card in sorted(load_bank().items()))
    results = store.exercises()
    checks = []
    for spec in all_checks():
        result = results.get(spec.check_id)
        checks.append(CheckRow(
            spec.check_id, spec.check_id.split(".")[0], spec.title,
            result.status if result else "not_run", result.summary if result else "",
            result.at if result else ""))
    return ProgressReport(learner, str(store.path), cards, tuple(checks))


def learner_name(explicit: str | None = None) -> str:
    """Who the report is for: the first of ``explicit``, $COURSE_LEARNER, $GITHUB_ACTOR, git's
    user.email and the login name that is set."""
    for candidate in (explicit, os.environ.get("COURSE_LEARNER"), os.environ.get("GITHUB_ACTOR")):
        if candidate and candidate.strip():
            return candidate.strip()
    try:
        email = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True,
                               timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        email = ""
    return email or getpass.getuser()


def _of(done: int, total: int) -> str:
    return f"{done}/{total}" if total else "-"


def _grouped(rows: Iterable[Row], key: Callable[[Row], str]) -> list[tuple[str, list[Row]]]:
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return sorted(groups.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="What you have done in the course: cards and "
                                                 "exercise checks, as a table, JSON and CSV.")
    parser.add_argument("--learner", help="your name for the gradebook (default: "
                                          "$COURSE_LEARNER, $GITHUB_ACTOR, git's user.email)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="where progress.json and gradebook.csv go (artifacts/progress/)")
    args = parser.parse_args(argv)
    store = ProgressStore.from_environment()
    report = build_report(store, learner_name(args.learner))
    print(f"Progress of {report.learner} (from {store.path})\n")
    print(report.table())
    report_path, csv_path = report.write(args.out)
    print(f"\nwritten: {report_path} and {csv_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
