"""The question bank against the notebooks: every card a notebook asks for exists, gets every
field its templates name (and no other), nothing in the bank is orphaned, and no answer types in
a figure of its own.

The notebooks are read with ``ast``, so the test sees the calls exactly as Python will run them:
``socratic.ask("05.q1", share=share_for_90, ...)`` supplies the fields ``share``, ...
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from course_lib.socratic.bank import (
    QUESTIONS_DIR,
    BankError,
    bank_card,
    load_bank,
    load_bank_file,
    template_fields,
)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# The only numbers an answer or a quiz explanation may type in: the ones the lesson itself
# states, each with the line of /work/shared/seed/000_86a7a6ca1b54681e.txt (the lesson) it
# comes from. Every other figure is a {field} the notebook computes and passes.
LESSON_CONSTANTS = {
    "1,000": "line 23: 1000 用户/天",
    "5": "line 23: × 5 条/用户",
    "30": "line 23: × 30 天 (and line 577: 极短 TTL(30s))",
    "150,000": "line 23: = 150,000 次对话",
    "100": "line 17: User message: ~100 tokens (and line 295: 100 条文档 = 100 次 RTT)",
    "200": "line 27: 压缩到 200 tokens (and line 34: 200ms)",
    "300": "line 18: LLM response: ~300 tokens (and line 34: 300ms)",
    "500": "line 15: System prompt: ~500 tokens",
    "2,100": "line 19: Input tokens: 2100",
    "0.008": "line 21: 单次对话成本: ~$0.008",
    "1,200": "line 24: 150,000 × $0.008 = $1,200/月",
    "2.50": "line 11: Input: $2.50 / 1M tokens",
    "1M": "line 11: / 1M tokens",
    "2,500": "line 46: GPT4oInputCostPerToken = 2500",
    "10,000": "line 47: GPT4oOutputCostPerToken = 10000",
    "1,000,000": "line 67: int64(inputTokens)*GPT4oInputCostPerToken/1_000_000",
    "2.2": "line 388: max(200, 300, 150) = 300ms(快 2.2x)",
    "24": "line 577: 对于 FAQ 类内容用较长 TTL(24h)",
    "80": "line 473: 首字延迟↓80%",
}
# Names of HTTP responses, not figures: "a 429", "200 OK" (line 581: 发出了 200 OK).
HTTP_STATUS_CODES = {"200", "400", "401", "404", "429", "500", "502", "503"}
# Arithmetic, not figures: "1 − weak/strong", "1 + 2 SDK retries", "close to 1x", "rounds to \$0".
ARITHMETIC = {"0", "1"}

_CODE_SPAN = re.compile(r"`[^`]*`")
_FIELD = re.compile(r"\{[^{}]*\}")
_NOT_FIGURES = [
    re.compile(r"\b[A-Za-z][\w.-]*\d[\w-]*"),  # names with digits: gpt-4o, Int64, x86, SHA-256
    re.compile(r"\b\d+xx\b"),  # 4xx, 5xx
    re.compile(r"\b[Nn]otebooks? \d\d(?:-\d\d)?"),  # "notebook 05", "notebooks 04-05"
    re.compile(r"\b[Ss]ection \d+"),
    re.compile(r"\bO\([^)]*\)"),  # O(n), O(1), O(min(m, n))
    re.compile(r"^\s*\d+\.\s", re.M),  # a numbered list's markers
    re.compile(r"\(\d\)"),  # (1), (2): enumerations in a sentence
    re.compile(r"\]\([^)\s]*\)"),  # a link's target: [notebook 04](04_response_cache.ipynb)
]
_NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?M?")


def typed_numbers(template: str) -> list[str]:
    """The numbers a template writes itself: not its {fields}, code, names or list markers."""
    text = _FIELD.sub(" ", _CODE_SPAN.sub(" ", template.replace("{{", "").replace("}}", "")))
    for pattern in _NOT_FIGURES:
        text = pattern.sub(" ", text)
    return _NUMBER.findall(text)


def test_typed_numbers_sees_figures_and_skips_everything_else() -> None:
    """The checker itself: figures are found; fields, code, model names and markers are not."""
    assert typed_numbers("**{monthly:usd}** = 1,237.50 at \\$2.50 per 1M, 4x, 64% of 45M") == [
        "1,237.50", "2.50", "1M", "4", "64", "45M"]
    assert typed_numbers("gpt-4o and `Int64` in notebook 05 (section 4), O(1) and {n:,}") == []
    assert typed_numbers("1. first\n2. second, (1) and (2), a 5xx") == []
    assert typed_numbers("card `04.q2` in [notebook 04](04_response_cache.ipynb)") == []


def ask_calls() -> list[tuple[str, str, set[str]]]:
    """(notebook, card id, fields passed) for every socratic.ask(...) call in the notebooks."""
    calls = []
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            tree = compile("".join(cell["source"]), str(path), "exec",
                           flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            for node in ast.walk(tree):
                if _is_socratic_call(node, "ask"):
                    assert node.args and isinstance(node.args[0], ast.Constant), (
                        f"{path.name}: socratic.ask needs the card id as a literal string")
                    assert all(k.arg is not None for k in node.keywords), (
                        f"{path.name}: pass fields by name, not **dict")
                    calls.append((path.stem, node.args[0].value,
                                  {k.arg for k in node.keywords if k.arg is not None}))
    return calls


def held_card_ids() -> list[tuple[str, str]]:
    """(notebook, card id) for every socratic.after_answer(...) in the notebooks."""
    found = []
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                tree = compile("".join(cell["source"]), str(path), "exec",
                               flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
                for node in ast.walk(tree):
                    if _is_socratic_call(node, "after_answer"):
                        found += [(path.stem, arg.value) for arg in node.args
                                  if isinstance(arg, ast.Constant)]
    return found


def _is_socratic_call(node: ast.AST, name: str) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == name and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "socratic")


CALLS = ask_calls()
BANK = load_bank()


def test_the_notebooks_ask_for_cards() -> None:
    assert len(CALLS) >= 40, "the ast scan found too few socratic.ask calls"


@pytest.mark.parametrize(("notebook", "card_id", "fields"), CALLS, ids=[c[1] for c in CALLS])
def test_every_card_a_notebook_asks_for_exists_and_gets_exactly_its_fields(
    notebook: str, card_id: str, fields: set[str]
) -> None:
    assert card_id in BANK, f"{notebook} asks for {card_id}, which is not in the bank"
    card = BANK[card_id]
    assert card.source.stem == notebook, (
        f"{card_id} is asked in {notebook} but kept in {card.source.name}")
    wanted = set(card.fields())
    assert fields == wanted, (
        f"{card_id}: the cell passes {sorted(fields - wanted) or 'nothing extra'} too many and "
        f"{sorted(wanted - fields) or 'nothing'} missing")


def test_nothing_in_the_bank_is_orphaned_or_asked_twice() -> None:
    asked = Counter(card_id for _, card_id, _ in CALLS)
    assert sorted(set(BANK) - set(asked)) == [], "cards no notebook asks for"
    assert [card_id for card_id, n in asked.items() if n > 1] == [], "cards asked twice"


_LINK = re.compile(r"\]\(([^)\s]+)\)")
_CARD_ID = re.compile(r"`(\d\d\.[a-z]\d+)`")


@pytest.mark.parametrize("card_id", sorted(BANK))
def test_cards_it_points_to_exist_where_its_links_say(card_id: str) -> None:
    """A card that sends the learner elsewhere (card `04.q2` in [notebook 04](04_...ipynb)) names
    a card the bank holds and a notebook that exists, the one that asks that card."""
    for where, template in BANK[card_id].templates().items():
        targets = _LINK.findall(template)
        for target in targets:
            assert (ROOT / "notebooks" / target).is_file(), f"{card_id} {where} links to {target}"
        for named in _CARD_ID.findall(template):
            assert named in BANK, f"{card_id} {where} names card {named}, not in the bank"
            if targets:
                assert f"{BANK[named].source.stem}.ipynb" in targets, (
                    f"{card_id} {where} names {named} but links elsewhere: {targets}")


def test_bank_files_are_named_after_their_notebooks() -> None:
    notebooks = {path.stem for path in NOTEBOOKS}
    for card_id, card in BANK.items():
        assert card.source.stem in notebooks, f"{card.source.name} is named after no notebook"
        assert card_id.split(".")[0] == card.source.stem.split("_")[0], (
            f"{card_id} does not belong in {card.source.name}")


def test_held_outputs_wait_for_cards_of_their_own_notebook() -> None:
    held = held_card_ids()
    assert held, "no cell holds its output back"
    for notebook, card_id in held:
        assert card_id in BANK and BANK[card_id].source.stem == notebook, (notebook, card_id)


@pytest.mark.parametrize("card_id", sorted(BANK))
def test_answers_type_in_no_figure_of_their_own(card_id: str) -> None:
    """Every number in an answer or explanation is a field, or a figure the lesson states."""
    card = BANK[card_id]
    for where, template in card.templates().items():
        if where != "answer" and not where.endswith("explanation"):
            continue
        typed = [n for n in typed_numbers(template)
                 if n not in LESSON_CONSTANTS and n not in HTTP_STATUS_CODES | ARITHMETIC]
        assert not typed, (
            f"{card.source.name}, {card_id} {where} types in {typed}: pass them as fields "
            "(or, if the lesson states the figure, add it to LESSON_CONSTANTS with its line)")


@pytest.mark.parametrize("card_id", sorted(BANK))
def test_no_template_would_read_as_a_tex_formula(card_id: str) -> None:
    """Money is written \\$ in the bank (markdown-it's escape): two bare $ would be a formula."""
    card = BANK[card_id]
    texts = dict(card.templates())
    if card.question_zh:
        texts["question_zh"] = card.question_zh
    for where, text in texts.items():
        prose = _CODE_SPAN.sub("", text)
        for paragraph in re.split(r"\n\s*\n", prose):
            bare = re.findall(r"(?<!\\)\$", paragraph)
            assert len(bare) < 2, f"{card_id} {where}: write \\$ for money: {paragraph!r}"


def test_the_numeric_guess_is_a_field() -> None:
    numeric = [card for card in BANK.values() if card.guess is not None]
    assert numeric
    for card in numeric:
        assert card.guess.expected in card.fields()


# -- the loader's own checks ----------------------------------------------------------------


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


CARD = """
[[card]]
id = "05.q1"
kind = "card"
question = '''Share for {target:.0%}?'''
hints = ['''Think of {target:.0%}.''']
answer = '''**{share:.1%}**, at \\$1,200.'''
guess = { expected = "share", rel_tol = 0.02, unit = "%" }
"""


def test_a_card_is_filled_in_from_its_fields(tmp_path: Path) -> None:
    write(tmp_path, "05_model_routing.toml", CARD)
    card = bank_card("05.q1", tmp_path)
    assert card.fields() == ["target", "share"]
    built = card.build({"target": 0.9, "share": 0.958})
    assert built.question == "Share for 90%?" and built.hints == ("Think of 90%.",)
    assert built.reveal() == "**95.8%**, at \\$1,200."
    assert built.guess_box is not None and built.guess_box.expected == pytest.approx(95.8)
    assert built.guess("95.8%").correct is True


def test_missing_and_extra_fields_name_the_card_and_the_field(tmp_path: Path) -> None:
    write(tmp_path, "05_model_routing.toml", CARD)
    card = bank_card("05.q1", tmp_path)
    with pytest.raises(BankError, match=r'card 05.q1 needs the field\(s\) share: '
                                        r'socratic.ask\("05.q1", share=...\)'):
        card.build({"target": 0.9})
    with pytest.raises(BankError, match=r"has no field\(s\) shares .*use: target, share"):
        card.build({"target": 0.9, "share": 0.5, "shares": 1})
    with pytest.raises(BankError, match="cannot fill in the template"):
        card.build({"target": "ninety", "share": 0.5})


def test_the_exercises_folder_is_not_part_of_the_card_bank(tmp_path: Path) -> None:
    """Exercise hints live in questions/exercises/ and are not cards."""
    write(tmp_path, "05_model_routing.toml", CARD)
    write(tmp_path, "exercises/ex05_algorithms.toml", "[[hint]]\nid = 'ex05.q1'\n")
    assert list(load_bank(tmp_path)) == ["05.q1"]
    assert not list(QUESTIONS_DIR.glob("exercises/*.toml")) or all(
        card.source.parent == QUESTIONS_DIR for card in BANK.values())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[card]]\nid = '05.q1'\nquestion = 'q'\nanswer = 'a'\nansewr = 'typo'\n",
         r"unknown key\(s\) \['ansewr'\]"),
        ("[[card]]\nid = '05.q1'\nquestion = 'q'\n", "answer must be a non-empty string"),
        ("[[card]]\nid = '05.q1'\nkind = 'quiz'\nquestion = 'q'\n"
         "[[card.choice]]\ntext = 'a'\ncorrect = false\nexplanation = 'no'\n"
         "[[card.choice]]\ntext = 'b'\ncorrect = false\nexplanation = 'no'\n",
         "no choice has correct = true"),
        ("[[card]]\nid = '05.q1'\nquestion = 'q {a.b}'\nanswer = 'a'\n", "not a plain name"),
        ("[[card]]\nid = '05.q1'\nquestion = 'q'\nanswer = 'a'\n"
         "[[card]]\nid = '05.q1'\nquestion = 'q'\nanswer = 'a'\n", "defined twice"),
        ("[[card]]\nid = '05.q1'\nquestion = 'q'\nanswer = 'a'\nguess = { expect = 'x' }\n",
         "guess must be a table with expected"),
        ("card = 3\n[[card]]\n", "not valid TOML"),
    ],
)
def test_a_broken_bank_file_is_refused_with_its_name_and_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = write(tmp_path, "05_model_routing.toml", text)
    with pytest.raises(BankError, match=problem) as raised:
        load_bank_file(path).popitem()[1].fields()
    assert "05_model_routing.toml" in str(raised.value)


def test_an_unknown_card_names_the_file_it_looked_in(tmp_path: Path) -> None:
    write(tmp_path, "05_model_routing.toml", CARD)
    with pytest.raises(BankError, match=r"'05.q9' is not in 05_model_routing.toml \(it has: "
                                        r"05.q1\)"):
        bank_card("05.q9", tmp_path)
    with pytest.raises(BankError, match="expected one bank file 07_"):
        bank_card("07.q1", tmp_path)


def test_template_fields_lists_each_name_once() -> None:
    assert template_fields("{a} {b:.0%} {a} {{literal}}") == ["a", "b"]


def test_the_courses_own_chinese_wording_is_filled_from_the_same_fields() -> None:
    # 06.q2 is the course's own question: its Chinese text says the notebook's numbers, not
    # typed copies of them.
    card = bank_card("06.q2").build({"p_fail": 0.45, "attempts": 3, "share_attempts": 0.909,
                                     "p_all_fail": 0.091, "share_one": 0.55})
    assert "45% 的调用" in card.question_zh and "最多试 3 次" in card.question_zh
    changed = bank_card("06.q2").build({"p_fail": 0.2, "attempts": 2, "share_attempts": 0.96,
                                        "p_all_fail": 0.04, "share_one": 0.8})
    assert "20% 的调用" in changed.question_zh and "最多试 2 次" in changed.question_zh
