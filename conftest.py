"""Marks shared by every test path (tests, notebooks, exercise solutions)."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist (the course bench runs two notebooks at a time) each worker's kernels
    # keep their cards in a progress file of their own: two kernels re-reading and rewriting one
    # file within the same millisecond could each write back a copy without the other's change.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    path = os.environ.get("COURSE_PROGRESS_PATH")
    if worker and path:
        os.environ["COURSE_PROGRESS_PATH"] = f"{path}.{worker}.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every notebook measures something and asserts what it printed, so each of its cells counts
    # as a timing test for `make test-load`.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.timing)
