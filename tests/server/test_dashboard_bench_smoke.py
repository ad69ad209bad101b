"""benchmarks/dashboard_speed.py cannot rot: it runs at tiny size and measures all three."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import dashboard_speed  # noqa: E402


def test_measures_each_page_at_tiny_size():
    found = dashboard_speed.measure(columns=3, partitions=10, runs=1)
    assert set(found) == set(dashboard_speed.TARGETS_MS)
    assert all(ms > 0 for ms in found.values())
