"""Count the places where a notebook gives a card's answer away before the learner asks for it.

    .venv/bin/python scripts/count_spoilers.py notebooks/*.ipynb

Each notebook is run top to bottom ("Run All") with a fresh progress file, so no card is
answered. Then every place a learner can read without asking is searched for each card's
secret: every markdown cell, and every output that reached the page (output held back by
``socratic.after_answer`` shows only its lock note until the card is answered, so it is not
searched; the card's own output is its question).

A card's secret is what its answer leads with: the values of the fields in the answer's first
``**bold**`` span, formatted as the answer formats them (``$1,237.50``, ``95.8%``), except a
value the question itself states. A quiz's
secret is which choices are right, given away by any output or markdown that quotes a choice's
text. Free-text cards without a figure have no secret this can search for; they are audited by
reading. The script prints each spoiler found and ends with the count; it exits 1 if there are
any, and 2 if a notebook failed to run (it was then not audited).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

# Read by hand and found harmless: (notebook, card, a phrase of the cell) -> why.
NOT_SPOILERS = {
    ("05_model_routing.ipynb", "05.q2", 'by_id["rq-220"]'):
        "routes a quiz question with the corrected router; the quiz asks about the lesson's",
}

# Run first in the kernel: remember every card the bank builds, with the values it was given.
_RECORD_CARDS = """
import course_lib.socratic.bank as _spoiler_bank
_spoiler_cards = []
_spoiler_build = _spoiler_bank.BankCard.build
def _spoiler_recording_build(self, values, progress=None):
    _spoiler_cards.append((self, dict(values)))
    return _spoiler_build(self, values, progress)
_spoiler_bank.BankCard.build = _spoiler_recording_build
"""
# Run last: print each card's secrets as JSON.
_DUMP_SECRETS = """
import json as _spoiler_json, re as _spoiler_re
def _spoiler_secrets(card, values):
    if card.kind == "quiz":
        fill = card._filler(values)
        return [fill("choice", c.text) for c in card.choices]
    bold = _spoiler_re.search(r"\\*\\*(.+?)\\*\\*", card.answer, _spoiler_re.S)
    if not bold:
        return []
    return [_spoiler_bank._FORMATTER.vformat("{" + name + spec + "}", (), values)
            for _, name, spec, _ in [
                (lit, name, (":" + spec) if spec else "", conv)
                for lit, name, spec, conv in _spoiler_bank._FORMATTER.parse(bold.group(1))
                if name and name not in _spoiler_bank.template_fields(card.question)]]
print(_spoiler_json.dumps({card.id: {"kind": card.kind, "secrets": _spoiler_secrets(card, values)}
                           for card, values in _spoiler_cards}))
"""


def readable_text(cell: nbformat.NotebookNode) -> str:
    """What a learner can read in a cell's outputs (text, HTML; not images)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        data = output.get("data", {})
        for mime in ("text/plain", "text/html", "text/markdown"):
            if mime in data:
                parts.append(data[mime])
    return "\n".join(parts)


def _is_card_cell(source: str) -> bool:
    return "socratic.ask(" in source


def _found(secret: str, text: str) -> bool:
    if len(secret) < 2:
        return False
    plain = text.replace("\\$", "$")
    return re.search(rf"(?<![\w.,]){re.escape(secret)}(?![\w]|[.,]\d)", plain) is not None


def spoilers(path: Path, timeout: int, allow_errors: bool = False) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_RECORD_CARDS))
    notebook.cells.append(nbformat.v4.new_code_cell(_DUMP_SECRETS))
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["COURSE_PROGRESS_PATH"] = str(Path(scratch) / "progress.json")
        os.environ.setdefault("COURSE_LLM_ENDPOINT", "sandbox")
        NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    for index, cell in enumerate(notebook.cells[1:-1]):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                print(f"{path.name}: cell {index} raised {output['ename']} (audited anyway)",
                      file=sys.stderr)
    secrets = json.loads(notebook.cells[-1].outputs[0]["text"])
    found = []
    for index, cell in enumerate(notebook.cells[1:-1]):
        if cell.cell_type == "markdown":
            text, where = cell.source, f"markdown cell {index}"
        elif _is_card_cell(cell.source):
            continue  # the card itself: its question, never its answer
        else:
            text, where = readable_text(cell), f"output of cell {index}"
        for card_id, card in secrets.items():
            for secret in card["secrets"]:
                if card["kind"] == "quiz" and len(secret) < 12:
                    continue  # a short choice ("Input tokens") is not a quotation
                excused = any(
                    (name, card_name) == (path.name, card_id) and phrase in cell.source
                    for name, card_name, phrase in NOT_SPOILERS)
                if _found(secret, text) and not excused:
                    found.append(f"{path.name}: {where} shows {card_id}'s {secret!r}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument("--allow-errors", action="store_true",
                        help="audit the rest of a notebook after a cell raises (say, a timing "
                             "claim failing on a loaded machine); such a cell is reported")
    args = parser.parse_args(argv)
    total, unaudited = 0, []
    for path in args.notebooks:
        try:
            found = spoilers(path, args.timeout, args.allow_errors)
        except CellExecutionError as error:  # the run stopped: the rest of it was not audited
            unaudited.append(path.name)
            print(f"{path.name}: not audited, a cell raised: {str(error).splitlines()[-1]}",
                  file=sys.stderr)
            continue
        for line in found:
            print(line)
        print(f"{path.name}: {len(found)} spoiler(s)", file=sys.stderr)
        total += len(found)
    print(f"spoilers: {total}" + (f" (not audited: {', '.join(unaudited)})" if unaudited else ""))
    return 2 if unaudited else 1 if total else 0


if __name__ == "__main__":
    raise SystemExit(main())
