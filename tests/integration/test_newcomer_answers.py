"""A newcomer's slips get a clear answer (exit 2, one line naming the fix), and nothing is
created where it was not asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import run, write_orders


@pytest.fixture
def project(tmp_path, monkeypatch, capsys):
    write_orders(tmp_path, monkeypatch)
    assert run(["init", "."], capsys)[0] == 0
    return tmp_path


def _one_line_error(code: int, err: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


class TestTableAdd:
    def test_a_missing_source_file_is_refused(self, project, capsys):
        code, _out, err = run(["table", "add", "t", "--source", "nope.parquet",
                               "--partition-column", "order_date"], capsys)
        assert "nope.parquet" in _one_line_error(code, err)
        assert "t:" not in (project / "watchkeeper.yaml").read_text()

    def test_a_glob_matching_nothing_yet_is_registered_with_a_warning(self, project, capsys):
        code, _out, err = run(["table", "add", "t", "--source", "landing/*.parquet",
                               "--partition-column", "order_date"], capsys)
        assert code == 0
        assert err.startswith("warning:") and "landing/*.parquet" in err
        assert "landing/*.parquet" in (project / "watchkeeper.yaml").read_text()

    def test_an_existing_file_registers_silently(self, project, capsys):
        code, _out, err = run(["table", "add", "t", "--source", "orders.parquet",
                               "--partition-column", "order_date"], capsys)
        assert code == 0 and err == ""


class TestProjectVersion:
    def test_an_unsupported_version_is_refused_naming_the_supported_one(self, project,
                                                                        capsys):
        path = project / "watchkeeper.yaml"
        path.write_text(path.read_text().replace("version: 1", "version: 99"))
        code, _out, err = run(["table", "list"], capsys)
        err = _one_line_error(code, err)
        assert "99" in err and "version: 1" in err


class TestStoreLocation:
    def test_a_store_url_in_a_missing_folder_is_refused(self, tmp_path, monkeypatch, capsys):
        write_orders(tmp_path, monkeypatch)
        monkeypatch.setenv("WK_STORE_URL", str(tmp_path / "no-such-folder" / "s.duckdb"))
        code, _out, err = run(["profile", "orders.parquet", "--partition-column",
                               "order_date"], capsys)
        assert "no-such-folder" in _one_line_error(code, err)
        assert not (tmp_path / "no-such-folder").exists()

    @pytest.mark.parametrize("args", [["alerts"], ["alerts", "show", "1"], ["slo", "status"],
                                      ["summary", "orders", "--column", "x"]])
    def test_reading_outside_a_project_creates_no_store(self, tmp_path, monkeypatch, capsys,
                                                        args):
        monkeypatch.chdir(tmp_path)
        monkeypatch.delenv("WK_STORE_URL", raising=False)
        code, _out, err = run(args, capsys)
        assert "wk init" in _one_line_error(code, err)
        assert not (tmp_path / ".watchkeeper").exists()


def test_init_on_an_existing_file_is_a_user_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("events.parquet").write_bytes(b"PAR1")
    code, _out, err = run(["init", "events.parquet"], capsys)
    assert "folder" in _one_line_error(code, err)
