"""docs/triggers.md is part of the product: its YAML parses and its Python runs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from watchkeeper.triggers import parse_triggers

DOC = Path(__file__).resolve().parents[2] / "docs" / "triggers.md"


class TestTriggersDoc:
    def test_yaml_examples_parse(self):
        """Every yaml block with a triggers: section is a valid trigger spec."""
        blocks = [b for b in re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
                  if b.startswith("triggers:")]
        assert len(blocks) >= 7
        kinds = set()
        for block in blocks:
            for trig in parse_triggers(yaml.safe_load(block)["triggers"]):
                kinds |= {a.kind for a in trig.actions}
        assert kinds >= {"block", "quarantine_partition", "webhook", "python", "sql", "retrain"}

    def test_python_examples_run(self, tmp_path, monkeypatch):
        """Every python block runs, in order, in an empty folder (planned recipes are `py`)."""
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
        assert len(blocks) >= 4
        namespace: dict = {}
        for block in blocks:
            exec(compile(block, "docs/triggers.md", "exec"), namespace)  # noqa: S102

    def test_every_event_type_is_documented(self):
        """The events table lists each event type."""
        from watchkeeper.triggers import EVENT_TYPES

        text = DOC.read_text()
        assert [t for t in EVENT_TYPES if f"`{t}`" not in text] == []
