"""``make test-load``: what it runs, and that it leaves no busy process behind."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import sys

import pytest

from tests.test_exercises_support import ROOT


def under_load():
    spec = importlib.util.spec_from_file_location("under_load", ROOT / "scripts" / "under_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_it_runs_what_make_test_runs_restricted_to_timing() -> None:
    """Same paths and nbval options as the Makefile's test line, plus `-m timing`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_line = re.search(r"^\t\$\(PY\) -m pytest (.+)$", makefile, re.M).group(1)
    test_line = re.sub(r"\$\(wildcard ([^)]+)\)", r"\1", test_line)
    made = shlex.split(test_line)
    command = under_load().pytest_command([])
    assert command[:3] == [sys.executable, "-m", "pytest"]
    for word in made:
        assert word in command, word
    assert {"tests", "notebooks", "exercises/solutions"} <= set(command)
    assert command[command.index("-m", 3) + 1] == "timing"


def test_every_notebook_cell_counts_as_a_timing_test() -> None:
    """The root conftest marks nbval cells; a test module opts in with `pytestmark`."""
    import conftest as root_conftest

    class Item:
        def __init__(self, path):
            self.path, self.markers = path, []

        def add_marker(self, marker):
            self.markers.append(marker.name)

    cell, test = Item(ROOT / "notebooks" / "x.ipynb"), Item(ROOT / "tests" / "test_x.py")
    root_conftest.pytest_collection_modifyitems([cell, test])
    assert cell.markers == ["timing"] and test.markers == []


def test_busy_processes_burn_a_core_each_and_are_gone_afterwards() -> None:
    module = under_load()
    processes = module.start_busy(2)
    try:
        assert all(process.poll() is None for process in processes)
    finally:
        module.stop_busy(processes)
    for process in processes:
        assert process.poll() is not None
        with pytest.raises(ProcessLookupError):
            os.kill(process.pid, 0)


@pytest.mark.parametrize("argv", [["--runs", "0"], ["--busy", "-1"]])
def test_bad_counts_are_refused(argv, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        under_load().main(argv)
    assert exit_info.value.code == 2
    assert "--runs must be >= 1 and --busy >= 0" in capsys.readouterr().err
