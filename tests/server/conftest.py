"""Fixtures of the dashboard tests: the project of ``dashboard_project``, built once and
copied fresh for each test that may write to it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # dashboard_project, dashboard_browser

from dashboard_project import TOKEN, build  # noqa: E402


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dashboard-project")
    saved = {k: os.environ.pop(k, None) for k in ("WK_STORE_URL", "WK_USER")}
    os.environ["WK_USER"] = "dana"
    try:
        build(root)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v
    return root


@pytest.fixture
def project(built_project, tmp_path, monkeypatch):
    """A fresh copy of the built project, as the working directory."""
    from watchkeeper.config import Project

    root = tmp_path / "project"
    shutil.copytree(built_project, root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.setenv("WK_USER", "dana")
    return Project.load(root / "watchkeeper.yaml")


@pytest.fixture
def app(project):
    from watchkeeper.server import create_app
    from watchkeeper.server.context import Settings

    return create_app(project, settings=Settings(token=TOKEN))


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def auth() -> dict:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="session")
def pipeline_built(tmp_path_factory) -> tuple[Path, dict]:
    from pipeline_project import build as build_pipeline

    root = tmp_path_factory.mktemp("pipeline-project")
    saved = {k: os.environ.pop(k, None) for k in ("WK_STORE_URL", "WK_USER")}
    os.environ["WK_USER"] = "dana"
    try:
        made = build_pipeline(root)
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v
    return root, made


@pytest.fixture
def pipeline_app(pipeline_built, monkeypatch):
    """A dashboard of the pipeline project (read only: the tests do not write)."""
    from watchkeeper.config import Project
    from watchkeeper.server import create_app
    from watchkeeper.server.context import Settings

    root, _ = pipeline_built
    monkeypatch.chdir(root)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    return create_app(Project.load(root / "watchkeeper.yaml"), settings=Settings(token=TOKEN))


@pytest.fixture
def pipeline_client(pipeline_app):
    from fastapi.testclient import TestClient

    with TestClient(pipeline_app) as client:
        yield client
