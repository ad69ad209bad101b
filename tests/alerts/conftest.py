"""Fixtures of the alert tests: a project folder, and its store on DuckDB or Postgres."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # alert_histories, without a package


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project in a fresh folder, which is also the working directory."""
    from watchkeeper.config import Project

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.setenv("WK_USER", "alice")
    return Project.init(tmp_path)


@pytest.fixture(params=["duckdb", "postgres"])
def store(request, project):
    """The project's DuckDB store, or a Postgres store in a fresh schema."""
    from watchkeeper.store import Store

    if request.param == "duckdb":
        return project.store()
    dsn = request.getfixturevalue("pg_dsn")
    schema = request.getfixturevalue("pg_schema")
    return Store.open(f"{dsn}?schema={schema}")
