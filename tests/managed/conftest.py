"""Fixtures: a project folder with a managed ``orders`` table (DuckDB store by default)."""

from __future__ import annotations

import pytest

from watchkeeper.managed import managed_table

from .data import write_project


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.delenv("WK_TEST_INGEST_PAUSE", raising=False)
    return write_project(tmp_path)


@pytest.fixture
def orders(project):
    return managed_table("orders", project)
