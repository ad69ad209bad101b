"""docs/alerts.md is part of the product: its python runs and its YAML is valid."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from watchkeeper.alerts import PROCESSORS, AlertSettings, build_chain

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"


class TestAlertsDoc:
    def test_python_examples_run(self, tmp_path, monkeypatch):
        """Every python block runs, in order, in an empty folder."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        monkeypatch.setenv("WK_USER", "nobody")  # the page sets it; restored afterwards
        blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
        assert len(blocks) >= 5
        namespace: dict = {}
        for block in blocks:
            exec(compile(block, "docs/alerts.md", "exec"), namespace)  # noqa: S102

    def test_alerts_section_is_the_default_chain(self):
        """The documented alerts: section parses and builds every built-in processor."""
        block = next(b for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
                     if b.startswith("alerts:") and "processors:" in b)
        settings = AlertSettings.from_dict(yaml.safe_load(block)["alerts"])
        names = [e if isinstance(e, str) else next(iter(e)) for e in settings.processors]
        assert names == list(PROCESSORS)
        assert len(build_chain(settings.processors)) == len(PROCESSORS)
        assert settings.make_detector("day").window == 56

    def test_every_processor_is_documented(self):
        """Each built-in processor is named on the page."""
        text = DOC.read_text()
        assert [n for n in PROCESSORS if f"- {n}" not in text] == []
