"""The check machinery: verdicts, reports, hints, and what a learner's mistakes look like.

The exercise-specific checks are tested in ``test_exercises_exNN.py``; here, the parts every
check shares: a stub is "not done yet" (never an exception), a crash in the learner's code is a
failure that names the input, bad ids and bad submissions are explained, and reports escape
their content.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
from pathlib import Path

import pytest
from rapidfuzz.distance import LCSseq

from course_lib.checks import (
    EXERCISE_MODULES,
    HINTS,
    CheckNotPassedError,
    CheckResult,
    Status,
    all_checks,
    check,
    get_check,
    hint,
    preview,
    reset_hints,
    run_check,
)
from course_lib.checks.ci import RESULTS_ENV, STRICT_ENV, strict_mode
from course_lib.checks.expect import run_coroutine
from course_lib.checks.hints import HINTS_DIR, HintFileError, load_hints, mistake_hint
from course_lib.checks.result import CheckFailure


def stub_lcs(a: str, b: str) -> int:
    raise NotImplementedError("write lcs_length(a, b) with one rolling row")


def crashing_lcs(a: str, b: str) -> int:
    return {"": 0}[a]  # KeyError on the first real input


def test_a_stub_is_not_done_yet_and_does_not_raise() -> None:
    result = run_check("ex05.q1", stub_lcs)
    assert result.status is Status.NOT_DONE and not result.passed
    text = result.text()
    assert "⏳ ex05.q1" in text and "not done yet" in text
    assert "write lcs_length(a, b) with one rolling row" in text
    assert 'hint("ex05.q1")' in text


def test_a_crash_in_the_learners_code_names_the_input() -> None:
    result = run_check("ex05.q1", crashing_lcs)
    assert result.status is Status.FAILED
    assert result.summary == "your code raised KeyError on this input"
    assert result.call == "lcs_length('ABCBDAB', 'BDCABA')"
    assert result.got == "KeyError: 'ABCBDAB'"
    assert "Traceback" not in result.text()


def test_passing_a_result_instead_of_the_function_is_explained() -> None:
    result = run_check("ex05.q1", 4)
    assert result.status is Status.FAILED
    assert result.hint is not None and "without calling it" in result.hint


def test_an_unknown_check_id_lists_the_real_ones() -> None:
    with pytest.raises(KeyError, match=r"ex05\.q1, ex05\.q2, ex05\.q3, ex05\.q4"):
        get_check("ex05.q9")
    with pytest.raises(KeyError, match=r"look like 'ex05\.q1'"):
        get_check("lcs")
    with pytest.raises(KeyError, match="no exercise 'ex42'"):
        get_check("ex42.q1")


def _mistakes_named_by_the_checks() -> set[tuple[str, str]]:
    """Every ``(check id, mistake)`` that a ``mistake_hint(...)`` call in a check module names.

    Read from the modules' source: a literal argument names itself; a variable stands for any
    string literal of that module that is a mistake of that check (``mistake = "bytes"``), and
    a variable check id for any check of that module.
    """
    hints = load_hints()
    named: set[tuple[str, str]] = set()
    for module in EXERCISE_MODULES.values():
        path = Path(importlib.import_module(module).__file__)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        literals = {node.value for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        own_checks = [check_id for check_id in hints if check_id[:4] == path.stem[:4]]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "mistake_hint"):
                continue
            check_arg, key_arg = node.args
            checks = [check_arg.value] if isinstance(check_arg, ast.Constant) else own_checks
            for check_id in checks:
                keys = ({key_arg.value} if isinstance(key_arg, ast.Constant)
                        else literals & set(hints[check_id].mistakes))
                named |= {(check_id, key) for key in keys}
    return named


def test_every_check_has_hints_and_every_hint_file_entry_has_a_check() -> None:
    ids = {spec.check_id for spec in all_checks()}
    assert ids == set(HINTS) == set(load_hints())
    assert len(ids) == 16  # ex01 q1-q5, ex02 q1-q3, ex03 q1-q2, ex04 q1-q2, ex05 q1-q4
    assert all(len(HINTS[check_id]) >= 2 for check_id in ids)
    files = sorted(path.stem for path in HINTS_DIR.glob("*.toml"))
    assert files == sorted(Path(importlib.import_module(m).__file__).stem
                           for m in EXERCISE_MODULES.values())


def test_every_mistake_hint_is_used_and_every_one_used_exists() -> None:
    in_files = {(check_id, key) for check_id, hints in load_hints().items()
                for key in hints.mistakes}
    named = _mistakes_named_by_the_checks()
    assert in_files - named == set(), "hint file entries no check uses (orphans)"
    assert named - in_files == set(), "mistakes a check names that no hint file holds"
    for check_id, key in sorted(named):
        assert mistake_hint(check_id, key)


def test_a_missing_mistake_hint_names_the_file_to_add_it_to() -> None:
    with pytest.raises(KeyError, match=r"\[q1\.mistakes\] in exercises/ex05_\*\.toml"):
        mistake_hint("ex05.q1", "no_such_mistake")


@pytest.mark.parametrize(("text", "problem"), [
    ("[q1]\nhint = ['x']\n", r"unknown keys \['hint'\]"),
    ("[q1]\nhints = []\n", "at least one hint"),
    ("[q1]\nhints = ['  ']\n", r"hints\[0\] must be a non-empty string"),
    ("[q1]\nhints = ['a']\n[q1.mistakes]\nBad-Key = 'x'\n", "lower_case words"),
    ("[intro]\nhints = ['a']\n", r"tables named after questions"),
    ("[q1]\nhints = ['a'\n", "not valid TOML"),
])
def test_a_malformed_hint_file_names_the_file_and_the_entry(tmp_path: Path, text: str,
                                                           problem: str) -> None:
    (tmp_path / "ex09_demo.toml").write_text(text, encoding="utf-8")
    with pytest.raises(HintFileError, match=problem) as raised:
        load_hints(tmp_path)
    assert "ex09_demo.toml" in str(raised.value)


def test_a_hint_file_reads_as_plain_words(tmp_path: Path) -> None:
    (tmp_path / "ex09_demo.toml").write_text(
        "[q2]\nhints = [\n  '''First line\n  goes on, with a \\b kept.''',\n  'Two',\n]\n"
        "[q2.mistakes]\nbytes = 'Bytes, not characters.'\n", encoding="utf-8")
    hints = load_hints(tmp_path)["ex09.q2"]
    assert hints.hints == ("First line goes on, with a \\b kept.", "Two")
    assert dict(hints.mistakes) == {"bytes": "Bytes, not characters."}


def test_hints_come_one_at_a_time_and_stop_at_the_last() -> None:
    reset_hints()
    total = len(HINTS["ex05.q3"])
    shown = [str(hint("ex05.q3")) for _ in range(total + 1)]
    assert shown[0].startswith(f"Hint 1 of {total} for ex05.q3: ")
    assert shown[-1] == shown[-2] and "last hint" in shown[-1]
    reset_hints()
    assert str(hint("ex05.q3")).startswith("Hint 1 of")
    with pytest.raises(KeyError, match=r"no hints for 'ex09\.q1'"):
        hint("ex09.q1")


def test_raise_unless_passed_is_for_solution_notebooks() -> None:
    with pytest.raises(CheckNotPassedError, match="not done yet"):
        run_check("ex05.q1", stub_lcs).raise_unless_passed()
    passed = CheckResult("ex05.q1", "LCS", Status.PASSED, "fine")
    passed.raise_unless_passed()  # nothing to raise


def test_check_prints_its_report_without_ipython(capsys: pytest.CaptureFixture[str]) -> None:
    result = check("ex05.q1", stub_lcs)
    assert result.status is Status.NOT_DONE
    assert "⏳ ex05.q1" in capsys.readouterr().out


def test_the_html_report_escapes_what_it_shows() -> None:
    result = CheckResult("ex05.q1", "LCS", Status.FAILED, "wrong <b>answer</b>",
                         call="f('<script>alert(1)</script>')", expected="1", got="2")
    html = result.html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert result._repr_mimebundle_()["text/plain"] == result.text()


def test_preview_says_when_a_stub_is_not_done(capsys: pytest.CaptureFixture[str]) -> None:
    preview(stub_lcs, "a", "b")
    assert "stub_lcs is not done yet" in capsys.readouterr().out
    preview(lambda: "a table of results")
    assert capsys.readouterr().out == "a table of results\n"


def test_a_coroutine_that_never_ends_is_a_failure_not_a_hang() -> None:
    async def waits_forever() -> None:
        await asyncio.sleep(1.0)

    with pytest.raises(CheckFailure, match=r"did not finish within 0\.1 s"):
        run_coroutine(waits_forever, timeout=0.1, call="await waits_forever()")


# -- strict mode, for make check --------------------------------------------------------------


def wrong_lcs(a: str, b: str) -> int:
    return 0


def test_outside_strict_mode_check_never_raises(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(STRICT_ENV, raising=False)
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    assert check("ex05.q1", stub_lcs).status is Status.NOT_DONE
    assert check("ex05.q1", wrong_lcs).status is Status.FAILED
    assert "⏳ ex05.q1" in capsys.readouterr().out


def test_strict_mode_fails_unless_passed_and_records_every_verdict(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results.jsonl"
    monkeypatch.setenv(STRICT_ENV, "1")
    monkeypatch.setenv(RESULTS_ENV, str(results))
    with pytest.raises(CheckNotPassedError, match="not done yet"):
        check("ex05.q1", stub_lcs)
    assert "⏳ ex05.q1" in capsys.readouterr().out  # the report is shown before the cell fails
    with pytest.raises(CheckNotPassedError, match="not yet right"):
        check("ex05.q1", wrong_lcs)
    passed = check("ex05.q1", LCSseq.similarity)  # the check's own referee passes
    assert passed.passed
    lines = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert [line["status"] for line in lines] == ["not_done", "failed", "passed"]
    assert lines[0]["detail"] == "stub_lcs: write lcs_length(a, b) with one rolling row"
    assert lines[1]["detail"] == "wrong answer for this input"
    assert all(line["check_id"] == "ex05.q1" and line["title"] for line in lines)


@pytest.mark.parametrize(("value", "strict"), [("1", True), ("true", True), ("0", False),
                                               ("", False), ("no", False)])
def test_the_strict_switch(monkeypatch: pytest.MonkeyPatch, value: str, strict: bool) -> None:
    monkeypatch.setenv(STRICT_ENV, value)
    assert strict_mode() is strict


def test_a_strict_switch_that_means_nothing_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STRICT_ENV, "maybe")
    with pytest.raises(ValueError, match="COURSE_CHECKS_STRICT must be 1"):
        strict_mode()
