"""Fixtures for trigger tests: a real HTTP server on loopback, stores, projects."""

from __future__ import annotations

import socket

import pytest
import yaml
from hook_server import HookServer

from watchkeeper import Store
from watchkeeper.config import Project


@pytest.fixture
def hook():
    server = HookServer()
    yield server
    server.close()


@pytest.fixture
def free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path) -> str:
    """The metadata store, once as a DuckDB file and once as a Postgres schema."""
    if request.param == "duckdb":
        return str(tmp_path / "store.duckdb")
    schema = request.getfixturevalue("pg_schema")
    return f"{request.getfixturevalue('pg_dsn')}?schema={schema}"


@pytest.fixture
def store(store_url) -> Store:
    return Store.open(store_url)


@pytest.fixture
def duck_store(tmp_path) -> Store:
    return Store.open(tmp_path / "store.duckdb")


@pytest.fixture
def make_project(tmp_path, monkeypatch):
    """Write a watchkeeper.yaml with a triggers section; returns the loaded Project."""
    monkeypatch.delenv("WK_STORE_URL", raising=False)

    def make(triggers: dict, store: str | None = None, folder=None) -> Project:
        root = folder or tmp_path / "project"
        root.mkdir(parents=True, exist_ok=True)
        data = {"version": 1, "store": store or ".watchkeeper/store.duckdb", "tables": {},
                "triggers": triggers}
        (root / "watchkeeper.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        return Project.load(root / "watchkeeper.yaml")

    return make
