"""docs/managed-tables.md: its project file is valid, and every command line it shows exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer.main
import yaml

from watchkeeper.cli import app
from watchkeeper.managed import ManagedSpec
from watchkeeper.slo import SLOSpec

DOC = Path(__file__).resolve().parents[2] / "docs" / "managed-tables.md"
COMMANDS = {"ingest", "quarantine", "read", "snapshot", "versions"}


class TestManagedDocs:
    """The page's examples stay true to the code."""

    def test_yaml_example_is_valid(self):
        """The YAML block declares a valid managed table and valid checks."""
        block = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)[0]
        raw = yaml.safe_load(block)
        spec = ManagedSpec.from_dict("orders", raw["managed"]["orders"])
        assert spec.on_partition_failure == "commit"
        assert len(SLOSpec.from_dict(raw["slos"]).tables["orders"].checks) == 5

    def test_every_command_has_an_example_with_real_options(self):
        """Each managed-table command is shown, and every --option it shows exists."""
        group = typer.main.get_command(app)
        shown = set()
        for block in re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S):
            for line in block.splitlines():
                if not line.startswith("wk "):
                    continue
                words = shlex.split(line.split("#")[0])
                command = group.commands[words[1]]
                options = {o for p in command.params for o in p.opts}
                assert {w for w in words if w.startswith("--")} <= options, line
                shown.add(words[1])
        assert COMMANDS <= shown
