"""Marks shared by every test path (tests, notebooks, exercise solutions)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every notebook measures something and asserts what it printed, so each of its cells counts
    # as a timing test for `make test-load`.
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.timing)
