"""The ``wk`` command, through the installed entry point and through ``main()``.

Subprocess runs prove the console script works end to end; in-process runs of
:func:`watchkeeper.cli.main` are faster and show the same output and exit code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from watchkeeper.cli import main
from watchkeeper.store import SCHEMA_VERSION, _db

WK = Path(sys.executable).parent / "wk"
START = dt.datetime(2024, 1, 1)


def write_events(path: Path, days: int = 3, per_day: int = 24, **extra) -> Path:
    n = days * per_day
    columns = {"ts": [START + dt.timedelta(hours=i) for i in range(n)],
               "x": [float(i % 7) for i in range(n)],
               "s": [["a", "b", "c"][i % 3] for i in range(n)], **extra}
    pq.write_table(pa.table(columns), path)
    return path


def wk(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed ``wk`` script, with any store override removed."""
    env = {k: v for k, v in os.environ.items() if k != "WK_STORE_URL"}
    return subprocess.run([str(WK), *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture
def run(monkeypatch, capsys, tmp_path):
    """Run ``main(args)`` in ``tmp_path``; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)

    def invoke(*args: str) -> tuple[int, str, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


@pytest.fixture
def project(tmp_path, run) -> Path:
    """An initialised project with ``events`` registered."""
    write_events(tmp_path / "events.parquet")
    assert run("init")[0] == 0
    code, _, err = run("table", "add", "events", "--source", "events.parquet",
                       "--partition-column", "ts")
    assert code == 0, err
    return tmp_path


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_help_lists_the_environment_variables(run):
    """Every variable ``wk`` reads is listed by ``wk --help`` and documented in docs/cli.md."""
    from watchkeeper.cli import ENVIRONMENT

    code, out, _ = run("--help")
    assert code == 0
    docs = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    for name, _text in ENVIRONMENT:
        assert f"  {name} " in out and f"| `{name}` |" in docs, name
    import watchkeeper

    read = set()  # the WK_* names the package reads (tests' own hooks excepted)
    for path in Path(watchkeeper.__file__).parent.rglob("*.py"):
        read.update(re.findall(r'"(WK_[A-Z_]+)"', path.read_text()))
    assert {n for n in read if not n.startswith("WK_TEST_")} == {n for n, _ in ENVIRONMENT}


class TestWorkflow:
    """init → table add → profile → summary, as a user runs them."""

    def test_init_creates_the_project_file_and_the_store(self, tmp_path):
        """``wk init`` writes watchkeeper.yaml and the DuckDB store, exit 0."""
        done = wk("init", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "watchkeeper.yaml").is_file()
        assert (tmp_path / ".watchkeeper" / "store.duckdb").is_file()

    def test_table_add_registers_the_table(self, project, run):
        """A registered table is listed with its source and partitioning."""
        code, out, _ = run("table", "list", "--format", "json")
        assert code == 0
        assert json_lines(out) == [{"name": "events", "source": "events.parquet",
                                    "partition_column": "ts", "granularity": "day"}]

    def test_profile_registered_table_then_refresh(self, project):
        """The first profile computes every day; the second finds nothing changed."""
        first = wk("profile", "events", cwd=project)
        assert first.returncode == 0, first.stderr
        assert "3 partitions, 3 computed" in first.stdout
        second = wk("profile", "events", cwd=project)
        assert "3 partitions, 0 computed, 3 unchanged" in second.stdout

    def test_profile_path_as_json_lines(self, tmp_path):
        """``--format json`` prints one JSON object per line with ISO date partitions."""
        write_events(tmp_path / "events.parquet")
        done = wk("profile", "events.parquet", "--partition-column", "ts", "--format", "json",
                  cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        records = json_lines(done.stdout)
        assert records and all(set(r) == {"partition", "column", "statistic", "value"}
                               for r in records)
        assert {dt.date.fromisoformat(r["partition"]) for r in records} == {
            dt.date(2024, 1, d) for d in (1, 2, 3)}
        rows = {r["partition"]: r["value"] for r in records if r["statistic"] == "row_count"}
        assert rows == {"2024-01-01": 24, "2024-01-02": 24, "2024-01-03": 24}
        means = [r["value"] for r in records if (r["column"], r["statistic"]) == ("x", "mean")]
        assert len(means) == 3 and all(isinstance(v, float) for v in means)

    def test_hourly_json_partitions_are_iso_timestamps(self, tmp_path, run):
        """Hour partitions print as ISO 8601 timestamps."""
        write_events(tmp_path / "e.parquet", days=1, per_day=3)
        code, out, _ = run("profile", "e.parquet", "--partition-column", "ts",
                           "--granularity", "hour", "--format", "json")
        assert code == 0
        starts = {dt.datetime.fromisoformat(r["partition"]) for r in json_lines(out)}
        assert starts == {START + dt.timedelta(hours=h) for h in range(3)}

    def test_summary_shows_a_column_over_time(self, project, run):
        """After a profile, ``wk summary`` lists the column's statistics per partition."""
        assert run("profile", "events")[0] == 0
        code, out, _ = run("summary", "events", "--column", "x")
        assert code == 0
        assert "mean" in out and "2024-01-03" in out
        code, out, _ = run("summary", "events", "--column", "x", "--format", "json")
        means = [r["value"] for r in json_lines(out) if r["statistic"] == "mean"]
        assert code == 0 and len(means) == 3

    def test_unsummarizable_columns_are_skipped_with_a_notice(self, tmp_path, run):
        """Struct and list columns are skipped with a notice; the rest is profiled, exit 0."""
        write_events(tmp_path / "n.parquet", days=1,
                     st=[{"a": i} for i in range(24)], l=[[i] for i in range(24)])
        code, out, err = run("profile", "n.parquet", "--partition-column", "ts",
                             "--format", "json")
        assert code == 0
        assert "'st'" in err and "'l'" in err and "skipped" in err
        columns = {r["column"] for r in json_lines(out)}
        assert columns == {"*", "ts", "x", "s"}


def one_line_error(code: int, err: str) -> str:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


class TestBadInput:
    """Every user mistake is exit code 2 and exactly one line on stderr."""

    def test_missing_file(self, tmp_path):
        """A path that does not exist is named in the error."""
        done = wk("profile", "missing.parquet", "--partition-column", "ts", cwd=tmp_path)
        assert "missing.parquet" in one_line_error(done.returncode, done.stderr)

    def test_unreadable_parquet(self, tmp_path):
        """Garbage bytes in a .parquet file are reported as an unreadable Parquet file."""
        (tmp_path / "x.parquet").write_bytes(b"this is not parquet" * 20)
        done = wk("profile", "x.parquet", "--partition-column", "ts", cwd=tmp_path)
        assert "valid, complete PARQUET" in one_line_error(done.returncode, done.stderr)

    def test_missing_partition_column(self, tmp_path, run):
        """A partition column absent from the file is named, with the columns there are."""
        write_events(tmp_path / "e.parquet")
        line = one_line_error(*run("profile", "e.parquet", "--partition-column", "when")[::2])
        assert "'when'" in line and "ts, x, s" in line

    def test_partition_column_of_wrong_type(self, tmp_path, run):
        """A numeric partition column is refused: it must be a date or timestamp."""
        write_events(tmp_path / "e.parquet")
        line = one_line_error(*run("profile", "e.parquet", "--partition-column", "x")[::2])
        assert "must be a date" in line

    def test_empty_table(self, tmp_path, run):
        """A file with no rows has nothing to profile."""
        pq.write_table(pa.table({"ts": pa.array([], pa.timestamp("us")),
                                 "x": pa.array([], pa.float64())}), tmp_path / "e.parquet")
        line = one_line_error(*run("profile", "e.parquet", "--partition-column", "ts")[::2])
        assert "no rows" in line

    def test_unknown_table(self, project, run):
        """A name that is neither registered nor a path lists the registered tables."""
        line = one_line_error(*run("profile", "nosuch")[::2])
        assert "'nosuch'" in line and "events" in line

    def test_bad_granularity(self, tmp_path, run):
        """A granularity other than hour, day or week is a one-line usage error."""
        write_events(tmp_path / "e.parquet")
        line = one_line_error(*run("profile", "e.parquet", "--partition-column", "ts",
                                   "--granularity", "month")[::2])
        assert "month" in line and "--help" in line

    def test_path_without_partition_column(self, tmp_path, run):
        """Profiling a bare path asks for --partition-column."""
        write_events(tmp_path / "e.parquet")
        assert "--partition-column" in one_line_error(*run("profile", "e.parquet")[::2])

    def test_summary_of_unknown_column(self, project, run):
        """Asking for a column that has no summaries lists the columns that do."""
        run("profile", "events")
        line = one_line_error(*run("summary", "events", "--column", "nope")[::2])
        assert "'nope'" in line and "x" in line

    def test_store_written_by_a_newer_version(self, project):
        """A store migrated past this package's schema is refused, not modified."""
        db = _db.connect(str(project / ".watchkeeper" / "store.duckdb"))
        db.execute("UPDATE wk_meta SET value = ? WHERE key = 'schema_version'",
                   [str(SCHEMA_VERSION + 1)])
        db.close()
        done = wk("profile", "events", cwd=project)
        assert "newer than this watchkeeper" in one_line_error(done.returncode, done.stderr)

    def test_store_held_by_another_process(self, project, monkeypatch):
        """While another process holds the DuckDB store past WK_LOCK_TIMEOUT, wk says so
        in one line."""
        monkeypatch.setenv("WK_LOCK_TIMEOUT", "0.5")
        holder = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]);"
             " print('holding', flush=True); time.sleep(60)",
             str(project / ".watchkeeper" / "store.duckdb")], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "holding"
            done = wk("profile", "events", cwd=project)
        finally:
            holder.kill()
            holder.wait()
        assert "locked by another" in one_line_error(done.returncode, done.stderr)
