"""The check machinery: verdicts, reports, hints, and what a learner's mistakes look like.

The exercise-specific checks are tested in ``test_exercises_exNN.py``; here, the parts every
check shares: a stub is "not done yet" (never an exception), a crash in the learner's code is a
failure that names the input, bad ids and bad submissions are explained, and reports escape
their content.
"""

from __future__ import annotations

import asyncio

import pytest

from course_lib.checks import (
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
from course_lib.checks.expect import run_coroutine
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


def test_every_check_has_hints_and_every_hint_has_a_check() -> None:
    ids = {spec.check_id for spec in all_checks()}
    assert ids == set(HINTS)
    assert len(ids) == 16  # ex01 q1-q5, ex02 q1-q3, ex03 q1-q2, ex04 q1-q2, ex05 q1-q4
    assert all(len(HINTS[check_id]) >= 2 for check_id in ids)


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
