"""docs/pipelines.md runs as written: its YAML is valid, its Python and its wk lines run."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from watchkeeper.pipelines import PipelineSpec

from cli_helpers import run as wk_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "pipelines.md"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(), flags=re.S)


class TestPipelinesDoc:
    def test_yaml_pipelines_are_valid(self):
        """Every pipelines: section on the page builds a valid spec."""
        specs = [yaml.safe_load(b) for b in blocks("yaml")]
        built = [PipelineSpec.from_dict(name, raw) for s in specs
                 for name, raw in (s.get("pipelines") or {}).items()]
        assert [(s.name, s.task) for s in built] == [("revenue", "regression"),
                                                     ("big-orders", "classification")]
        assert {"registry"} in [set(s) for s in specs]

    def test_examples_run_in_order(self, workdir, capsys):
        """The python blocks, then every wk line of the sh blocks, in an empty folder."""
        namespace: dict = {}
        for block in blocks("python"):
            exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102
        lines = [line.split("  #")[0].strip() for b in blocks("sh") for line in b.splitlines()
                 if line.startswith("wk ")]
        assert len(lines) == 11
        for line in lines:
            code, out, err = wk_cli(shlex.split(line)[1:], capsys)
            assert code == 0, (line, out, err)
        registry = namespace["registry"]
        assert registry.aliases("revenue") == {"challenger": "3", "shadow": "3",
                                               "champion": "1"}
        assert registry.aliases("big-orders") == {"challenger": "1", "champion": "1"}
        from watchkeeper.pipelines import performance

        [day] = performance("big-orders")["partitions"]
        assert day["partition"] == "2015-02-05" and day["labelled"] == day["rows"] > 0
