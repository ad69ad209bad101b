"""``wk run``, ``wk model``, ``wk lineage``: exit codes for schedulers, JSON for machines."""

from __future__ import annotations

import json
import subprocess
import sys

from cli_helpers import run as wk_cli
from pizza_data import make_project, revenue_pipeline


class TestRunCommand:
    def test_run_then_model_list_promote_and_lineage(self, workdir, mlflow_template, capsys):
        """A run exits 0 with one JSON line; the model commands and lineage answer in JSON."""
        make_project(workdir, days=25, corrupt=22, mlflow_db=mlflow_template,
                     pipelines={"revenue": revenue_pipeline()})
        code, out, err = wk_cli(["run", "revenue", "--format", "json"], capsys)
        assert (code, err) == (0, "")
        [line] = out.splitlines()
        result = json.loads(line)
        assert result["status"] == "ok" and result["version"] == "1"
        assert list(result["skipped"]) == ["2015-01-23"]
        code, out, _ = wk_cli(["model", "list", "revenue", "-f", "json"], capsys)
        assert code == 0 and json.loads(out)["aliases"] == ["challenger"]
        code, out, _ = wk_cli(["model", "promote", "revenue@1", "-f", "json"], capsys)
        assert code == 0 and json.loads(out)["done"] is True
        code, out, _ = wk_cli(["lineage", "revenue", "--format", "json"], capsys)
        found = json.loads(out)
        assert code == 0 and found["aliases"] == ["challenger", "champion"]
        assert {t["table"] for t in found["tables"]} == {"order_features", "order_labels"}
        code, out, _ = wk_cli(["lineage", "revenue@1"], capsys)
        assert code == 0 and "order_features train: 14 partitions" in out
        assert "skipped 2015-01-23" in out

    def test_blocked_run_exits_1_with_reasons(self, workdir, mlflow_template, capsys):
        """Too few valid partitions: exit 1, the skipped day and the reason printed."""
        make_project(workdir, days=19, corrupt=10, mlflow_db=mlflow_template,
                     pipelines={"revenue": revenue_pipeline()})
        code, out, _ = wk_cli(["run", "revenue"], capsys)
        assert code == 1
        assert "skipped 2015-01-11" in out and "blocked: revenue" in out
        assert "only 18 valid partitions of the 19" in out

    def test_spec_mistakes_exit_2_with_one_line(self, workdir, capsys):
        """A bad spec, an unknown pipeline or model: exit 2 and one line on stderr."""
        make_project(workdir, days=5, pipelines={"revenue": revenue_pipeline(
            metrics=["accuracy"])})
        for args, words in ((["run", "revenue"], "metric 'accuracy' scores classification"),
                            (["run", "nope"], "no pipeline named 'nope'"),
                            (["run", "revenue", "--selection", "best"], "--selection"),
                            (["model", "promote", "nope"], "has no challenger version")):
            code, out, err = wk_cli(args, capsys)
            assert code == 2, args
            assert words in err and len(err.strip().splitlines()) == 1, err

    def test_other_commands_do_not_import_mlflow_or_sklearn(self):
        """Loading the CLI (every other command) never pays for MLflow or scikit-learn."""
        code = ("import sys, watchkeeper.cli; "
                "print('mlflow' in sys.modules, 'sklearn' in sys.modules)")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120, check=True)
        assert done.stdout.split() == ["False", "False"]
