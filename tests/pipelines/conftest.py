"""Fixtures of the pipeline tests: a pizzaplace project in a fresh folder (also the cwd)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # pizza_data, without a package


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WK_STORE_URL", raising=False)
    monkeypatch.setenv("WK_USER", "alice")
    return tmp_path


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory):
    """An empty MLflow store, created once: MLflow's schema migrations take seconds, so
    projects copy this file instead of migrating a new one each (``make_project``)."""
    import watchkeeper as wk
    from watchkeeper.pipelines import Registry

    root = tmp_path_factory.mktemp("mlflow-template")
    wk.Project.init(root)
    registry = Registry(wk.Project.find(root))
    registry.client.search_experiments()
    return root / ".watchkeeper" / "mlflow.db"
