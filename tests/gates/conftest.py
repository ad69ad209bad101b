"""Fixtures of the gate tests: a project folder holding the orders table with known faults."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # gate_data, without a package


@pytest.fixture
def orders(tmp_path, monkeypatch):
    """The orders project (see gate_data) in a fresh folder, also the working directory."""
    from gate_data import make_project

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.setenv("WK_USER", "alice")
    return make_project(tmp_path)
