"""The learner's workflow and dev container: valid files that do what the README says.

The workflow is validated against the GitHub-workflow JSON schema that ``check-jsonschema``
ships (SchemaStore's, vendored in the package, so this runs offline), then read with the same
YAML 1.2 parser for what the course needs of it: Python 3.11, ``make check`` on push, the report
uploaded even when the checks fail. A broken copy must fail the same validation, so the
validator is known to look. The dev container must install with the README's own command and
forward the port JupyterLab listens on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

from tests.test_exercises_support import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "course.yml"
DEVCONTAINER = ROOT / ".devcontainer" / "devcontainer.json"


def validate_workflows(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         *map(str, paths)], capture_output=True, text=True, timeout=120, check=False)


def test_the_workflow_matches_the_github_workflow_schema() -> None:
    done = validate_workflows(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


BREAKAGES = {
    "no-runner": lambda text: text.replace("    runs-on: ubuntu-latest\n", ""),
    "bad-timeout": lambda text: text.replace("timeout-minutes: 30",
                                             "timeout-minutes: half an hour"),
    "unknown-event": lambda text: text.replace("  push:\n", "  pushh:\n"),
}


def test_a_broken_workflow_fails_the_same_validation(tmp_path: Path) -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    copies = []
    for name, breakage in BREAKAGES.items():
        broken = breakage(text)
        assert broken != text, name
        copies.append(tmp_path / f"{name}.yml")
        copies[-1].write_text(broken, encoding="utf-8")
    done = validate_workflows(*copies)  # one run for all of them: the schema loads once
    assert done.returncode != 0
    for copy in copies:
        assert str(copy) in done.stdout + done.stderr, f"{copy.name} was accepted"


def test_the_workflow_runs_make_check_on_python_311_and_uploads_the_report() -> None:
    workflow = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    assert "push" in workflow["on"]
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    python = next(step for step in steps if step.get("uses", "").startswith("actions/setup-python"))
    assert str(python["with"]["python-version"]) == "3.11"
    runs = [step["run"] for step in steps if "run" in step]
    assert runs == ["make check", "make progress"]
    upload = next(step for step in steps
                  if step.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"  # a failing check is exactly when the report matters
    progress = next(step for step in steps if step.get("run") == "make progress")
    assert progress["if"] == "always()"  # the progress report is wanted after a failed check too
    check_script = (ROOT / "scripts" / "check_exercises.py").read_text(encoding="utf-8")
    uploaded = {path.strip().rstrip("/") for path in upload["with"]["path"].splitlines()}
    assert uploaded == {"artifacts/check", "artifacts/progress"}
    assert 'REPORT_DIR = ROOT / "artifacts" / "check"' in check_script
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "PROGRESS_OUT ?= artifacts/progress" in makefile
    index = {id(step): i for i, step in enumerate(steps)}
    make_check = next(step for step in steps if step.get("run") == "make check")
    assert index[id(make_check)] < index[id(progress)] < index[id(upload)]


def test_the_dev_container_installs_with_the_readmes_command_and_forwards_jupyterlab() -> None:
    from jupyter_server.serverapp import ServerApp

    container = json.loads(DEVCONTAINER.read_text(encoding="utf-8"))
    assert "python:" in container["image"] and "3.11" in container["image"]
    command = container["postCreateCommand"]
    assert command.startswith("make ")
    target = command.split()[1]
    assert f"\n{target}:" in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"`{command}`" in (ROOT / "README.md").read_text(encoding="utf-8")
    # `make lab` leaves JupyterLab on its default port; that is the one forwarded.
    lab = (ROOT / "scripts" / "lab.sh").read_text(encoding="utf-8")
    assert "--port" not in lab and "ServerApp.port" not in lab
    assert container["forwardPorts"] == [ServerApp.port_default_value]
    assert str(ServerApp.port_default_value) in container["portsAttributes"]
