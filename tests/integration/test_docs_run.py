"""Every code block in docs/ runs as written.

Each page's blocks run in order in a fresh folder holding the files the page names (the
fixtures below make them, from a seed): ``wk`` command lines through the real CLI entry
point (exit 0, or 1 for a command that judges data; never 2 and never a traceback), Python
blocks with ``exec``, YAML blocks through the project-file parsers, JSON through ``json``.
Benchmark commands are long: their scripts and options are checked here and the scripts
themselves run in the benchmark smoke tests. Pages whose Python blocks run in another test
are listed in ``ELSEWHERE``; ``test_every_block_is_covered`` fails on a block that no test
runs, so a new example cannot slip by.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer.main
import yaml
from cli_helpers import run

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
sys.path.insert(0, str(ROOT / "tests" / "triggers"))  # the loopback webhook receiver

# (page, language) -> the test that runs those blocks.
ELSEWHERE = {
    ("api.md", "python"): "tests/unit/test_docs.py",
    ("sources.md", "python"): "tests/unit/test_docs.py",
    ("alerts.md", "python"): "tests/alerts/test_alert_docs.py",
    ("triggers.md", "python"): "tests/triggers/test_docs_triggers.py",
    ("triggers.md", "py"): "tests/gates/test_gate_recipes.py",
    ("dashboard.md", "console"): "tests/server/test_dashboard_docs.py",
    ("dashboard.md", "python"): "tests/server/test_dashboard_docs.py",
    ("pipelines.md", "python"): "tests/pipelines/test_docs_pipelines.py",
    ("pipelines.md", "sh"): "tests/pipelines/test_docs_pipelines.py",
    ("pipelines.md", "py"): "tests/pipelines/test_schedule_recipes.py",
    ("pipelines.md", "crontab"): "tests/pipelines/test_schedule_recipes.py",
}
HERE = {
    ("cli.md", "console"), ("managed-tables.md", "sh"), ("managed-tables.md", "python"),
    ("slos.md", "python"), ("benchmarks.md", "sh"), ("triggers.md", "sh"),
    ("triggers.md", "json"), *((p.name, "yaml") for p in DOCS.glob("*.md")),
}
JUDGES = {"validate", "check", "gate", "ingest", "read", "snapshot"}  # may exit 1


def blocks(page: str, lang: str | None = None) -> list[tuple[str, str]]:
    found = FENCE.findall((DOCS / page).read_text())
    return [(lg, body) for lg, body in found if lang is None or lg == lang]


# -- running command lines -----------------------------------------------------------------
def command_lines(lang: str, body: str) -> list[str]:
    """The commands of a block: ``$ `` lines of a console block, every non-comment line of a
    sh block; a trailing comment, a pipe into ``head`` and an ``&& next step`` dropped."""
    out = []
    for line in body.replace("\\\n", " ").splitlines():  # continuation lines joined
        if lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        line = re.split(r"\s+#\s", line)[0].strip()
        line = re.split(r"\s+&&\s+(?!wk )", line)[0]
        line = re.split(r"\s+\|\s+head\b", line)[0]
        out.append(line)
    return out


def run_wk(line: str, capsys) -> tuple[int, str]:
    """``wk ...`` through the CLI's entry point, in this process (in the current folder)."""
    code, out, err = run(shlex.split(line)[1:], capsys)
    return code or 0, out + err


def run_page_commands(lines: list[str], capsys, *, expect: dict | None = None,
                      before: dict | None = None) -> dict[str, str]:
    """Run each ``wk`` line in order; ``expect`` maps a line to its exit code (else 0, or
    0/1 for commands that judge data), ``before`` a line to a setup step run first."""
    outputs = {}
    for line in lines:
        if not line.startswith("wk "):
            assert line == "echo $?", line
            continue
        if before and line in before:
            before[line]()
        code, out = run_wk(line, capsys)
        assert "Traceback" not in out, (line, out[-2000:])
        command = shlex.split(line)[1]
        allowed = {expect[line]} if expect and line in expect else (
            {0, 1} if command in JUDGES else {0})
        assert code in allowed, (line, code, out[-2000:])
        outputs[line] = out
    return outputs


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch):
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


# -- data the pages name ---------------------------------------------------------------------
def orders_batch(day: str, n: int = 141, bad_prices: int = 2, seed: int = 0) -> pd.DataFrame:
    """One day of pizza-style orders (``order_id``, ``date``, ``price``, ``size``, ``amount``);
    the first ``bad_prices`` rows have price -1."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"order_id": [f"{day}-{i}" for i in range(n)],
                          "date": [pd.Timestamp(day).date()] * n,
                          "price": rng.uniform(8, 30, n).round(2),
                          "size": rng.choice(["S", "M", "L", "XL"], n),
                          "amount": rng.uniform(8, 60, n).round(2)})
    frame.loc[: bad_prices - 1, "price"] = -1.0
    return frame


def history(days: int = 60, null_day: str | None = None) -> pd.DataFrame:
    """``days`` days of orders from 2023-01-02, with ``amount`` 31% NULL on ``null_day``."""
    from watchkeeper.datasets import synthetic

    frame = synthetic(seed=3, days=days, rows_per_day=80).frame
    frame = frame.rename(columns={"order_date": "date"})
    frame["price"] = frame["amount"].round(2)
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    if null_day:
        hit = (frame["date"] == pd.Timestamp(null_day)) & (
            np.random.default_rng(1).random(len(frame)) < 0.31)
        frame.loc[hit, "amount"] = None
    return frame


# -- the coverage rule ---------------------------------------------------------------------
class TestCoverage:
    def test_every_block_is_covered(self):
        """Each tagged block of every page is run by this module or by the test named in
        ELSEWHERE; an untagged block is output, a diagram or a synopsis (``[--option]``,
        ``NAME|PATH``), never a command to copy."""
        for page in sorted(p.name for p in DOCS.glob("*.md")):
            for lang, body in blocks(page):
                if not lang:
                    lines = [x for x in body.splitlines() if x.startswith(("wk ", "$ "))]
                    assert not lines or "[" in body or "|" in body, (page, body[:200])
                    continue
                assert (page, lang) in HERE or (page, lang) in ELSEWHERE, (page, lang)
        for target in set(ELSEWHERE.values()):
            assert (ROOT / target).is_file(), target


# -- YAML and JSON ---------------------------------------------------------------------------
def _check_yaml(raw, tmp_path: Path) -> None:
    from watchkeeper.alerts import AlertSettings
    from watchkeeper.config import Project
    from watchkeeper.managed import load_managed
    from watchkeeper.slo import Check, SLOSpec
    from watchkeeper.triggers import parse_triggers

    if isinstance(raw, list):  # a list of checks (slos.md's examples)
        for check in raw:
            Check.from_dict(check)
        return
    assert isinstance(raw, dict) and raw, raw
    assert set(raw) <= {"tables", "slos", "managed", "triggers", "alerts", "pipelines",
                        "registry"}, set(raw)
    (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump({"version": 1, **raw}))
    project = Project.load(tmp_path / "watchkeeper.yaml")
    if "slos" in raw:
        SLOSpec.from_dict({k: v for k, v in raw["slos"].items() if k != "include"})
    if "managed" in raw:
        assert load_managed(project)
    if "triggers" in raw:
        assert parse_triggers(raw["triggers"])
    if "alerts" in raw:
        AlertSettings.from_dict(raw["alerts"])


class TestDataBlocks:
    @pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
    def test_yaml_blocks_parse(self, page, tmp_path):
        """Every YAML block is a valid project-file fragment (or a list of valid checks)."""
        for _, body in blocks(page, "yaml"):
            _check_yaml(yaml.safe_load(body), tmp_path)

    def test_json_blocks_parse(self):
        for page in sorted(p.name for p in DOCS.glob("*.md")):
            for _, body in blocks(page, "json"):
                json.loads(body)


# -- pages with commands ----------------------------------------------------------------------
class TestSLOPage:
    def test_python_runs(self, tmp_path, monkeypatch):
        """docs/slos.md's Python block runs on the data/orders.parquet it names."""
        monkeypatch.chdir(tmp_path)
        (tmp_path / "data").mkdir()
        pd.concat([orders_batch(f"2015-03-0{d}", n=60, bad_prices=0, seed=d)
                   for d in (1, 2)]).to_parquet(tmp_path / "data" / "orders.parquet")
        namespace: dict = {}
        for _, body in blocks("slos.md", "python"):
            exec(compile(body, "docs/slos.md", "exec"), namespace)  # noqa: S102
        assert namespace["result"].ok and len(namespace["result"].results) == 4


class TestManagedTablesPage:
    @pytest.fixture
    def folder(self, tmp_path, monkeypatch):
        """The page's own project file, two earlier days ingested (backdated to February
        2026, so that --as-of 2026-03-01 finds a version) and data/2015-03-01.parquet/.csv:
        141 rows, 2 with a negative price."""
        from watchkeeper.managed import managed_table

        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
        raw = yaml.safe_load(blocks("managed-tables.md", "yaml")[0][1])
        config = {"version": 1, "store": ".watchkeeper/store.duckdb", "tables": {}, **raw}
        (tmp_path / "watchkeeper.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        (tmp_path / "data").mkdir()
        batch = orders_batch("2015-03-01").drop(columns=["amount"])
        batch.to_parquet(tmp_path / "data" / "2015-03-01.parquet")
        batch.iloc[2:].to_csv(tmp_path / "data" / "2015-03-01.csv", index=False)
        orders = managed_table("orders", tmp_path)
        for day in ("2015-02-27", "2015-02-28"):
            orders.ingest(orders_batch(day, bad_prices=0).drop(columns=["amount"]),
                          partition=day)
        with orders.store._connect() as db:
            db.execute("UPDATE wk_managed_ingests SET committed_at = ? WHERE table_name = ?",
                       [pd.Timestamp("2026-02-01 12:00"), "orders"])
        return tmp_path

    def test_blocks_run_in_order(self, folder, capsys):
        """Shell lines through ``wk`` and Python blocks in ``exec``, in page order."""
        namespace: dict = {}
        snapshot = None
        for lang, body in blocks("managed-tables.md"):
            if lang == "python":
                exec(compile(body, "docs/managed-tables.md", "exec"), namespace)  # noqa: S102
            elif lang == "sh":
                for line in command_lines(lang, body):
                    if snapshot and "snap-3f1c..." in line:
                        line = line.replace("snap-3f1c...", snapshot)  # the id just printed
                    out = run_page_commands([line], capsys)[line]
                    if line.startswith("wk snapshot"):
                        snapshot = re.search(r"snap-[0-9a-f]+", out).group(0)
        assert namespace["result"].rows_quarantined == 2
        assert (folder / "train.parquet").is_file() and (folder / "bad-rows.parquet").is_file()
        assert len(namespace["same_rows"]) == len(namespace["orders"].read(
            snapshot=str(namespace["snap"])))


class TestCliPage:
    def test_console_blocks_run_in_order(self, tmp_path, monkeypatch, capsys):
        """docs/cli.md's sessions in one folder: init, tables, profile, summary, the gate (exit
        1 on the day whose amounts are 31% NULL, as the page shows), triggers, managed tables."""
        from hook_server import HookServer

        (tmp_path / "data" / "orders").mkdir(parents=True)
        frame = history(null_day="2023-02-16")
        half = frame["date"] < pd.Timestamp("2023-02-01")
        frame[half].to_parquet(tmp_path / "data" / "orders" / "part-0.parquet")
        frame[~half].to_parquet(tmp_path / "data" / "orders" / "part-1.parquet")
        stops = history(days=28)[["date", "amount"]].rename(columns={"amount": "lat"})
        stops.to_parquet(tmp_path / "data" / "stops.parquet")
        orders_batch("2015-03-01").to_parquet(tmp_path / "data" / "2015-03-01.parquet")
        server = HookServer()
        monkeypatch.setenv("WK_SLACK_URL", server.url())
        monkeypatch.chdir(tmp_path)

        def declare():
            """What the page's later sections assume the project declares."""
            path = tmp_path / "watchkeeper.yaml"
            config = yaml.safe_load(path.read_text())
            config["slos"] = {"tables": {"orders": {"key": ["order_id"], "checks": [
                {"kind": "not_null", "column": "amount", "mostly": 0.9},
                {"name": "price_positive", "kind": "between", "column": "price", "min": 0}]}}}
            config["managed"] = {"orders": {"partition_column": "date"}}
            config["triggers"] = {"page": {"event": "slo.failed", "actions": [
                {"webhook": {"url_env": "WK_SLACK_URL"}}]}}
            path.write_text(yaml.safe_dump(config, sort_keys=False))

        lines = [x for _, body in blocks("cli.md", "console")
                 for x in command_lines("console", body)]
        try:
            outputs = run_page_commands(
                lines, capsys,
                expect={"wk gate orders --partition 2023-02-16": 1,
                        "wk ingest orders data/2015-03-01.parquet --partition 2015-03-01": 1},
                before={"wk profile orders": declare})
        finally:
            server.close()
        assert outputs["wk gate orders --partition 2023-02-16"].startswith("blocked")
        assert any(b'"synthetic": true' in r["body"] for r in server.requests)


class TestBenchmarksAndRecipes:
    def test_benchmark_commands_exist_with_their_options(self):
        """Each benchmark command names a script (or make target) that accepts every option
        the page shows; the smoke tests run the scripts themselves."""
        makefile = (ROOT / "Makefile").read_text()
        for _, body in blocks("benchmarks.md", "sh"):
            for line in command_lines("sh", body):
                words = shlex.split(line)
                if words[:2] == ["/usr/bin/time", "-v"]:  # a timed command: the command
                    words = words[2:]
                if words[0] == ".venv/bin/wk":  # a whole process, as users run it
                    assert words[1] in {"profile", "check", "backtest", "--version"}, line
                    continue
                if words[0] == "make":
                    assert re.search(rf"^{words[1]}:", makefile, re.M), line
                    continue
                assert words[0] == ".venv/bin/python", line
                if words[1] == "-c":  # a one-off snippet (data preparation): it compiles
                    compile(words[2], "benchmarks.md", "exec")
                    continue
                script = ROOT / words[1]
                assert script.is_file(), line
                options = [w for w in words if w.startswith("--")]
                if options:
                    text = script.read_text()
                    assert all(f'"{o}"' in text for o in options), line

    def test_cron_lines_use_real_commands(self):
        """The crontab recipe's ``wk`` commands and options exist."""
        from watchkeeper.cli import app

        group = typer.main.get_command(app)
        for _, body in blocks("triggers.md", "sh"):
            for line in body.splitlines():
                for part in re.findall(r"(wk [^&]+)", line):
                    words = shlex.split(part.replace('"$(date -d yesterday +\\%F)"', "D"))
                    command = group.commands[words[1]]
                    if hasattr(command, "commands"):
                        command = command.commands[words[2]]
                    options = {o for p in command.params for o in p.opts}
                    assert {w for w in words if w.startswith("--")} <= options, line
