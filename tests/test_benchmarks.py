"""The benchmark harness (``python -m benchmarks``): timing, verdicts, reports, and a quick run.

The full benchmark is not part of the test suite (it takes minutes); these tests check that the
harness measures what it says and reports it faithfully, then run the real groups on tiny sizes.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.__main__ import main, write_profiles
from benchmarks.chart import ratio_chart
from benchmarks.report import (
    README_END,
    README_START,
    format_quantity,
    format_ratio,
    replace_readme_block,
)
from benchmarks.results import Config, Goal, Measurement, Quantity, slowdown_row, speedup_row
from benchmarks.suite import select_groups
from benchmarks.timing import Timing, best_of, percentile

pytestmark = pytest.mark.timing

# --- timing ---------------------------------------------------------------------------------


def scripted_timer(readings: list[float]) -> Callable[[], float]:
    """A clock that returns the given readings in order (start, stop, start, stop, ...)."""
    pending = iter(readings)
    return lambda: next(pending)


def test_best_of_times_each_repetition_per_operation_after_untimed_warmups() -> None:
    calls = []
    # warm-up: 0 -> 100 (ignored); repetitions: 20 s, 10 s and 30 s for 10 operations each.
    timer = scripted_timer([0, 100, 0, 20, 100, 110, 200, 230])
    timing = best_of(lambda: calls.append(1), operations=10, repeat=3, warmup=1, timer=timer)
    assert timing.repetitions == (2.0, 1.0, 3.0)
    assert timing.best == 1.0 and timing.median == 2.0
    assert len(calls) == 4


def test_best_of_gives_every_run_fresh_state_and_times_only_the_run() -> None:
    states: list[list[str]] = []

    def setup() -> list[str]:
        states.append([])
        return states[-1]

    timing = best_of(lambda state: state.append("ran"), setup=setup, repeat=3, warmup=2)
    assert states == [["ran"]] * 5
    assert len(timing.repetitions) == 3


def test_best_of_pauses_the_collector_only_while_timing() -> None:
    seen = []
    assert gc.isenabled()
    best_of(lambda: seen.append(gc.isenabled()), repeat=2, warmup=0)
    assert seen == [False, False] and gc.isenabled()
    best_of(lambda: seen.append(gc.isenabled()), repeat=1, warmup=0, pause_gc=False)
    assert seen[-1] is True


@pytest.mark.parametrize(("argument", "value"), [("repeat", 0), ("operations", 0),
                                                 ("warmup", -1), ("repeat", True)])
def test_best_of_names_a_bad_count(argument: str, value: object) -> None:
    with pytest.raises(ValueError, match=argument):
        best_of(lambda: None, **{argument: value})  # type: ignore[arg-type]


def test_timing_refuses_no_repetitions_and_negative_times() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Timing((), 1)
    with pytest.raises(ValueError, match="non-negative"):
        Timing((0.1, -0.2), 1)


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([4, 1, 3, 2], 50) == 2.5
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


# --- goals and rows ---------------------------------------------------------------------------


def test_goals_compare_in_their_own_direction() -> None:
    at_most, at_least, faster = Goal("<=", 1.5), Goal(">=", 50), Goal(">", 1)
    assert at_most.met(1.5) and not at_most.met(1.51)
    assert at_least.met(50) and not at_least.met(49.9)
    assert faster.met(1.01) and not faster.met(1.0)
    assert at_most.margin(0.75) == 2.0 and at_least.margin(25) == 0.5
    assert at_most.describe() == "≤ 1.5" and at_least.describe() == "≥ 50"
    with pytest.raises(ValueError, match="op must be"):
        Goal("<", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive"):
        Goal(">=", 0)


def test_rows_compute_the_ratio_their_name_promises() -> None:
    fast, slow = Quantity("ours", 2e-6, "s/op"), Quantity("peer", 8e-6, "s/op")
    speedup = speedup_row("g.a", "g", "A", fast, slow, goal=Goal(">=", 3))
    slowdown = slowdown_row("g.b", "g", "B", fast, slow, goal=Goal("<=", 0.2))
    assert (speedup.ratio, speedup.ratio_kind, speedup.met) == (4.0, "peer/ours", True)
    assert (slowdown.ratio, slowdown.ratio_kind, slowdown.met) == (0.25, "ours/peer", False)
    assert slowdown.verdict == "NOT MET"
    assert speedup_row("g.c", "g", "C", fast, slow).verdict == "report"


def test_a_measured_row_without_a_ratio_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a ratio"):
        Measurement("g.x", "g", "X")


def test_formatting_picks_readable_units() -> None:
    assert format_quantity(Quantity("a", 1.31e-6, "s/op")) == "1.31 µs/op"
    assert format_quantity(Quantity("a", 0.188, "s")) == "188 ms"
    assert format_quantity(Quantity("a", 180, "s", reference="budget")) == "180 s (budget)"
    assert format_quantity(Quantity("a", 7599.4, "tokens/s")) == "7,599 tokens/s"
    assert format_quantity(Quantity("a", 2.2222, "x")) == "2.22x"
    assert [format_ratio(r) for r in (2137.4, 94.79, 0.838, 0.00328)] == [
        "2,137", "94.8", "0.84", "0.00328"]


# --- README block -----------------------------------------------------------------------------


def test_readme_block_is_replaced_and_nothing_else() -> None:
    text = f"# Title\n\nbefore\n{README_START}\nold table\n{README_END}\nafter\n"
    assert replace_readme_block(text, "| new |\n") == (
        f"# Title\n\nbefore\n{README_START}\n| new |\n{README_END}\nafter\n")


@pytest.mark.parametrize("text", [
    "no markers at all",
    f"{README_START} a {README_END} {README_START} b {README_END}",
    f"{README_END} reversed {README_START}",
])
def test_readme_without_exactly_one_ordered_block_is_left_alone(text: str) -> None:
    with pytest.raises(ValueError, match="bench"):
        replace_readme_block(text, "table")


# --- the suite --------------------------------------------------------------------------------


def test_group_selection_keeps_suite_order_and_names_unknown_groups() -> None:
    assert select_groups(["toposort", "lcs"], quick=False) == ["lcs", "toposort"]
    assert "course" not in select_groups(None, quick=True)
    assert select_groups(None, quick=False)[-1] == "course"
    assert select_groups(["course"], quick=True) == ["course"]
    with pytest.raises(ValueError, match="'nope'"):
        select_groups(["lcs", "nope"], quick=False)


def burn_cpu_in_a_named_function() -> int:
    return sum(i * i for i in range(20_000))


def fake_groups() -> tuple[dict[str, str], Callable[[str], Callable[[Config], list]]]:
    """Three groups: one that misses its goal, one whose code is missing, one that crashes."""

    def slow_group(config: Config) -> list[Measurement]:
        from benchmarks.profiles import cprofile_text

        return [slowdown_row(
            "slow.thing", "slow", "a thing slower than its goal",
            Quantity("ours", 3.0, "s", (3.0, 3.5)), Quantity("peer", 1.0, "s", (1.0,)),
            goal=Goal("<=", 1.5), note="three times the peer",
            profile=lambda: cprofile_text(burn_cpu_in_a_named_function, title="burn"))]

    def broken_group(config: Config) -> list[Measurement]:
        raise RuntimeError("the group fell over")

    modules = {"slow": "fake.slow", "missing": "fake.missing", "broken": "fake.broken"}
    runs = {"fake.slow": slow_group, "fake.broken": broken_group}

    def loader(module: str) -> Callable[[Config], list]:
        if module not in runs:
            raise ModuleNotFoundError(f"No module named {module!r}")
        return runs[module]

    return modules, loader


def test_a_run_reports_unmet_goals_with_a_profile_missing_code_and_crashes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    groups, loader = fake_groups()
    stale = tmp_path / "profiles" / "gone.txt"
    stale.parent.mkdir()
    stale.write_text("an old profile of a row this run does not have")

    code = main(["--out", str(tmp_path)], groups=groups, loader=loader, root=tmp_path)

    assert code == 1  # a crashed group fails the run; a missed goal does not
    document = json.loads((tmp_path / "results.json").read_text())
    rows = {row["name"]: row for row in document["measurements"]}
    assert rows["slow.thing"]["met"] is False and rows["slow.thing"]["ratio"] == 3.0
    assert rows["slow.thing"]["ours"]["samples"] == [3.0, 3.5]
    assert rows["slow.thing"]["goal"] == {"op": "<=", "threshold": 1.5, "text": "≤ 1.5",
                                          "source": "brief"}
    assert rows["missing"]["status"] == "not available"
    assert "fake.missing" in rows["missing"]["note"]
    assert rows["broken"]["status"] == "failed" and "fell over" in rows["broken"]["note"]
    assert document["summary"]["not_met"] == ["slow.thing"]
    assert {"python", "platform", "cpu_count"} <= document["environment"].keys()
    assert document["date"].startswith("20")

    profile = tmp_path / rows["slow.thing"]["profile"]
    assert "burn_cpu_in_a_named_function" in profile.read_text()
    assert stale.exists()  # only profiles named after rows of this run are managed
    table = capsys.readouterr().out
    assert "NOT MET" in table and "not available" in table and "failed" in table
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")


def test_a_goal_met_again_loses_its_old_profile(tmp_path: Path) -> None:
    old = tmp_path / "profiles" / "g.now_fast.txt"
    old.parent.mkdir()
    old.write_text("profile from a run where the goal was missed")
    met = speedup_row("g.now_fast", "g", "A", Quantity("o", 1, "s"), Quantity("p", 9, "s"),
                      goal=Goal(">=", 2), profile=lambda: "never asked for")

    assert write_profiles([met], old.parent, tmp_path, log=lambda line: None) == {}
    assert not old.exists()


def test_write_readme_rewrites_the_block_from_a_full_run(tmp_path: Path) -> None:
    groups, loader = fake_groups()
    readme = tmp_path / "README.md"
    readme.write_text(f"# Course\n\n## Benchmarks\n\n{README_START}\nold\n{README_END}\n\n"
                      "## Layout\n")

    main(["--out", str(tmp_path / "out"), "--readme", str(readme), "--write-readme"],
         groups=groups, loader=loader, root=tmp_path)

    text = readme.read_text()
    assert text.startswith("# Course\n\n## Benchmarks\n\n") and text.endswith(
        f"{README_END}\n\n## Layout\n")
    assert "old" not in text
    assert "| a thing slower than its goal | 3 s | 1 s | 3.00 ours/peer | ≤ 1.5 | NOT MET |" in text
    assert "out/profiles/slow.thing.txt" in text and "out/results.png" in text


def test_write_readme_refuses_a_partial_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "lcs", "--write-readme"])
    assert exit_info.value.code == 2
    assert "full run" in capsys.readouterr().err


def test_chart_needs_at_least_one_goal(tmp_path: Path) -> None:
    row = speedup_row("g.a", "g", "A", Quantity("o", 1, "s"), Quantity("p", 2, "s"))
    assert ratio_chart([row], tmp_path / "chart.png", title="t") is None
    assert not (tmp_path / "chart.png").exists()


# --- the real groups, tiny sizes --------------------------------------------------------------


def quick_run(tmp_path: Path, groups: str) -> dict[str, dict]:
    assert main(["--quick", "--only", groups, "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["quick"] is True and document["only"] == groups.split(",")
    return {row["name"]: row for row in document["measurements"]}


def test_quick_run_of_the_algorithm_and_store_groups(tmp_path: Path) -> None:
    rows = quick_run(tmp_path, "ttl_store,rate_limit,lcs,toposort")
    assert {"ttl_store.set", "ttl_store.get", "rate_limit.vs_lesson_200",
            "rate_limit.vs_limits_50", "lcs.bitparallel_vs_textbook_150",
            "lcs.bitparallel_vs_rapidfuzz_60", "toposort.vs_graphlib"} <= rows.keys()
    for row in rows.values():
        assert row["status"] == "measured", row
        assert row["ratio"] > 0 and row["ours"]["samples"] and row["peer"]["samples"]
        # The ratio is the one its kind names, from the two figures shown next to it.
        ours, peer = row["ours"]["value"], row["peer"]["value"]
        expected = peer / ours if row["ratio_kind"] == "peer/ours" else ours / peer
        assert row["ratio"] == pytest.approx(expected)


@pytest.mark.slow
def test_quick_run_of_the_sandbox_groups(tmp_path: Path) -> None:
    rows = quick_run(tmp_path, "cache_hit,sandbox,streaming,tools,batching")
    assert {"cache_hit.vs_sandbox_call", "sandbox.overhead_p50", "sandbox.overhead_p95",
            "sandbox.stream_throughput", "streaming.ttft_vs_total", "tools.parallel_speedup",
            "batching.batch_speedup"} <= rows.keys()
    assert all(row["status"] == "measured" and row["ratio"] > 0 for row in rows.values())
    p50, p95 = rows["sandbox.overhead_p50"], rows["sandbox.overhead_p95"]
    assert p50["ours"]["value"] <= p95["ours"]["value"]
