"""``make progress``: the learner's cards and exercise checks, as a table, JSON and a gradebook CSV.

The course's universe is read here straight from the shipped files (every ``[[card]]`` of the
question bank, every ``@register("exNN.qK", ...)`` of the checks), not through the report's own
loaders, and a learner's progress is written through the real :class:`ProgressStore`.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from course_lib import progress_report
from course_lib.socratic.progress import ProgressStore

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "course_lib" / "questions"
CHECKS = ROOT / "course_lib" / "checks"


def bank_cards() -> dict[str, dict]:
    """Every card of the shipped bank, by id, with its notebook, read with tomllib."""
    cards = {}
    for path in sorted(QUESTIONS.glob("*.toml")):
        for card in tomllib.loads(path.read_text(encoding="utf-8"))["card"]:
            cards[card["id"]] = {**card, "notebook": path.stem}
    return cards


def check_ids() -> list[str]:
    found = []
    for path in sorted(CHECKS.glob("ex0*.py")):
        found += re.findall(r'@register\("(ex\d\d\.q\d+)"', path.read_text(encoding="utf-8"))
    return sorted(found)


def free_text_ids() -> list[str]:
    return sorted(card_id for card_id, card in bank_cards().items()
                  if card["kind"] == "card" and "guess" not in card)


@pytest.fixture
def learner(tmp_path: Path) -> ProgressStore:
    """A learner who guessed one card right, revealed and rated two free-text cards, picked a
    quiz choice, passed one check and left another not done."""
    store = ProgressStore(tmp_path / "progress.json")
    numeric = next(card_id for card_id, card in sorted(bank_cards().items()) if "guess" in card)
    quiz = next(card_id for card_id, card in sorted(bank_cards().items())
                if card["kind"] == "quiz")
    first_free, second_free = free_text_ids()[:2]
    store.record(numeric, answered=True, correct=True, guess="42", feedback="✓ exactly right",
                 hints_seen=1)
    store.record(first_free, answered=True, guess="because", revealed=True,
                 self_assessment="partly")
    store.record(second_free, revealed=True, self_assessment="missed")
    store.record(quiz, answered=True, correct=False, picks=("A",))
    ids = check_ids()
    store.record_exercise(ids[0], "passed", "✅ passed")
    store.record_exercise(ids[1], "not_done", "⏳ not done yet")
    return store


def test_every_card_and_every_check_has_a_row_even_when_never_touched(
        learner: ProgressStore) -> None:
    report = progress_report.build_report(learner, "ada")
    assert sorted(row.card_id for row in report.cards) == sorted(bank_cards())
    assert [row.check_id for row in report.checks] == check_ids()
    statuses = {row.check_id: row.status for row in report.checks}
    ids = check_ids()
    assert statuses[ids[0]] == "passed"
    assert statuses[ids[1]] == "not_done"
    assert all(statuses[check_id] == "not_run" for check_id in ids[2:])


def test_totals_count_what_the_learner_did(learner: ProgressStore) -> None:
    totals = progress_report.build_report(learner, "ada").totals()
    assert totals == {
        "cards": len(bank_cards()),
        "cards_answered": 3,  # the numeric guess, the first free text, the quiz pick
        "cards_revealed": 2,
        "free_text_cards": len(free_text_ids()),
        "free_text_self_assessed": 2,
        "checks": len(check_ids()),
        "checks_passed": 1,
    }


def test_the_table_has_a_row_per_notebook_and_exercise_and_the_totals(
        learner: ProgressStore) -> None:
    table = progress_report.build_report(learner, "ada").table()
    notebooks = sorted({card["notebook"] for card in bank_cards().values()})
    exercises = sorted({check_id.split(".")[0] for check_id in check_ids()})
    lines = table.splitlines()
    for part in notebooks + exercises:
        assert sum(line.startswith(part + " ") for line in lines) == 1, part
    notebook = bank_cards()[free_text_ids()[0]]["notebook"]
    in_notebook = [card_id for card_id in free_text_ids()
                   if bank_cards()[card_id]["notebook"] == notebook]
    rated_here = sum(card_id in free_text_ids()[:2] for card_id in in_notebook)
    row = next(line for line in lines if line.startswith(notebook + " "))
    assert row.split()[3] == f"{rated_here}/{len(in_notebook)}"  # the self-rated column
    assert (f"3 of {len(bank_cards())} cards answered, 2 revealed, 2 of "
            f"{len(free_text_ids())} free-text answers self-assessed; 1 of "
            f"{len(check_ids())} exercise checks passed") in table


def test_json_and_csv_are_written_for_a_gradebook(learner: ProgressStore, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_PROGRESS_PATH", str(learner.path))
    out = tmp_path / "report"
    assert progress_report.main(["--learner", "ada@example.org", "--out", str(out)]) == 0

    report = json.loads((out / "progress.json").read_text(encoding="utf-8"))
    assert report["learner"] == "ada@example.org"
    assert report["totals"]["checks_passed"] == 1
    rated = {card["card_id"]: card["self_assessment"] for card in report["cards"]
             if card["self_assessment"]}
    assert rated == dict(zip(free_text_ids()[:2], ("partly", "missed"), strict=True))

    with (out / "gradebook.csv").open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == progress_report.CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == len(bank_cards()) + len(check_ids())
    assert {row["learner"] for row in rows} == {"ada@example.org"}
    by_item = {row["item"]: row for row in rows}
    first_free = free_text_ids()[0]
    assert by_item[first_free]["item_type"] == "free-text card"
    assert by_item[first_free]["self_assessment"] == "partly"
    assert by_item[first_free]["status"] == "done"
    assert by_item[check_ids()[0]]["status"] == "passed"
    assert by_item[check_ids()[0]]["updated_at"].endswith("Z")
    assert by_item[check_ids()[-1]]["status"] == "not_run"


def test_the_learner_is_named_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_LEARNER", "grace")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    assert progress_report.learner_name() == "grace"
    assert progress_report.learner_name("ada") == "ada"
    monkeypatch.delenv("COURSE_LEARNER")
    assert progress_report.learner_name() == "octocat"  # the fork's owner in the workflow


def test_make_progress_prints_the_table_and_writes_the_reports(learner: ProgressStore,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "made"
    env = dict(os.environ, COURSE_PROGRESS_PATH=str(learner.path))
    done = subprocess.run(["make", "--no-print-directory", "progress", f"PROGRESS_OUT={out}",
                           "LEARNER=ada"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Progress of ada" in done.stdout
    assert "exercise checks passed" in done.stdout
    assert (out / "progress.json").exists()
    assert (out / "gradebook.csv").exists()
