"""The docs are part of the product: their examples run and their tables are complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from watchkeeper.summaries import STATISTIC_NAMES

DOCS = Path(__file__).resolve().parents[2] / "docs"


class TestStatisticsDoc:
    def test_every_statistic_is_defined(self):
        """docs/statistics.md has a definition row for every statistic in the vocabulary."""
        text = (DOCS / "statistics.md").read_text()
        missing = [s for s in STATISTIC_NAMES if f"`{s}`" not in text]
        assert missing == []


class TestApiDoc:
    def test_python_examples_run(self, tmp_path, monkeypatch):
        """Every python block of docs/api.md runs, in order, in an empty folder."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        text = (DOCS / "api.md").read_text()
        blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
        assert len(blocks) >= 4
        namespace: dict = {}
        for block in blocks:
            exec(compile(block, "docs/api.md", "exec"), namespace)  # noqa: S102

    @pytest.mark.parametrize("page", ["sources.md"])
    def test_other_examples_run(self, page, tmp_path, monkeypatch):
        """Python blocks in the other pages run too."""
        monkeypatch.chdir(tmp_path)
        for block in re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.S):
            exec(compile(block, page, "exec"), {})  # noqa: S102
