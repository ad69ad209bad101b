"""docs/slos.md documents every check kind with an example that is a valid check."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from watchkeeper.slo import KINDS, Check

DOCS = Path(__file__).resolve().parents[2] / "docs" / "slos.md"


class TestSLODocs:
    def test_every_kind_has_a_section_with_a_valid_example(self):
        """Each kind has a '### kind' section whose YAML examples parse as checks of that kind."""
        text = DOCS.read_text()
        sections = dict(re.findall(r"^### (\w+)\n(.*?)(?=^### |^## )", text, re.M | re.S))
        assert set(KINDS) <= set(sections)
        for kind in KINDS:
            blocks = re.findall(r"```yaml\n(.*?)```", sections[kind], re.S)
            assert blocks, kind
            for block in blocks:
                for raw in yaml.safe_load(block):
                    assert Check.from_dict(raw).kind == kind
