"""Notebook 00 end to end on "a real endpoint" that serves other model names: the standalone
sandbox posing as Ollama (``--serve-as``), reached by URL, with the course's model map.

Two processes, as a learner would run them: ``python -m course_lib.sandbox --serve-as ...`` and
nbval on the notebook with ``COURSE_LLM_ENDPOINT=real``, ``OPENAI_BASE_URL`` at the sandbox and
``COURSE_MODELS`` set. Without the map, the notebook's first call would get a 404.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.endpoint_setup import SERVED

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_start_here.ipynb"
MAP = ("gpt-4o=llama3.1:8b@0.10/0.40,gpt-4o-mini=llama3.2:3b@0.05/0.20,"
       "text-embedding-3-small=nomic-embed-text@0.01")


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


@pytest.mark.timeout(240)
def test_notebook_00_runs_through_the_model_map(posing_server, tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COURSE_LLM_ENDPOINT": "real",
           "OPENAI_BASE_URL": posing_server, "OPENAI_API_KEY": "sk-fake-key-for-tests",
           "COURSE_MODELS": MAP, "COURSE_PROGRESS_PATH": str(tmp_path / "progress.json")}
    env.pop("COURSE_BUDGET_USD", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(NOTEBOOK),
         "--nbval-lax", "--nbval-current-env"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=220)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", run.stdout)
