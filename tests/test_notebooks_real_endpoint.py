"""Notebooks end to end on "a real endpoint" that serves other model names: the standalone
sandbox posing as Ollama (``--serve-as``), reached by URL, with the course's model map.

Two processes, as a learner would run them: ``python -m course_lib.sandbox --serve-as ...`` and
the notebook executed top to bottom with ``COURSE_LLM_ENDPOINT=real``, ``OPENAI_BASE_URL`` at
the sandbox and ``COURSE_MODELS`` set. Without the map, the first call would get a 404.

Notebook 00 is the first call a learner makes; notebook 08 is the agent loop, where the model
(served as ``llama3.1:8b``) asks for tools. Each notebook's request plan, printed before it sends
anything, must be what the server then saw: the plan is what a learner with a key trusts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.endpoint_setup import SERVED

ROOT = Path(__file__).resolve().parents[1]
MAP = ("gpt-4o=llama3.1:8b@0.10/0.40,gpt-4o-mini=llama3.2:3b@0.05/0.20,"
       "text-embedding-3-small=nomic-embed-text@0.01")
PLAN_LINE = re.compile(r"^(?P<requests>[\d,]+) requests? to the endpoint, ", re.MULTILINE)


@pytest.fixture()
def posing_server():
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_lib.sandbox", "--port", "0", "--time-scale", "0.05",
         "--serve-as", SERVED],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        first = proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/v1", first)
        assert found, f"the sandbox did not say where it listens: {first!r}"
        served = [proc.stdout.readline() for _ in range(4)]  # the export hint, then the names
        assert any("serving llama3.1:8b (simulating gpt-4o)" in line for line in served)
        yield found.group(0)
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def served_requests(base_url: str) -> int:
    root = base_url.removesuffix("/v1")
    with urllib.request.urlopen(f"{root}/sandbox/stats?last=0", timeout=10) as answer:
        return json.load(answer)["requests"]


def printed_text(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells
                   if cell.cell_type == "code" for output in cell.get("outputs", [])
                   if output.get("output_type") == "stream")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", ["00_start_here", "08_concurrent_tools"])
def test_a_notebook_runs_through_the_model_map_and_sends_what_it_planned(
        name, posing_server, tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COURSE_LLM_ENDPOINT": "real",
           "OPENAI_BASE_URL": posing_server, "OPENAI_API_KEY": "sk-fake-key-for-tests",
           "COURSE_MODELS": MAP, "COURSE_PROGRESS_PATH": str(tmp_path / "progress.json")}
    env.pop("COURSE_BUDGET_USD", None)
    executed = tmp_path / f"{name}.ipynb"
    run = subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
         "--ExecutePreprocessor.timeout=240", str(ROOT / "notebooks" / f"{name}.ipynb"),
         "--output", str(executed)],
        cwd=ROOT / "notebooks", env=env, capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    plans = PLAN_LINE.findall(printed_text(nbformat.read(executed, as_version=4)))
    assert len(plans) == 1, f"{name} should print one request plan, printed {plans}"
    assert int(plans[0].replace(",", "")) == served_requests(posing_server)
