"""A project with a trained pipeline for the models and lineage pages: the pizzaplace
tables of the pipeline tests, two versions of ``revenue`` (1 champion, promoted with a
hostile reason; 2 challenger), and one prediction batch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pipelines"))

from dashboard_project import HOSTILE  # noqa: E402
from pizza_data import make_project, revenue_pipeline  # noqa: E402


def build(root: Path) -> dict:
    """Builds the project in ``root``; returns ``{"batch": id, "days": [...]}``."""
    import watchkeeper as wk
    from watchkeeper.pipelines import Registry, predict, promote

    old = Path.cwd()
    os.chdir(root)
    try:
        made = make_project(root, days=25, corrupt=22, pipelines={
            "revenue": revenue_pipeline(windows={"train": 10, "eval": 3})})
        wk.run("revenue")
        wk.run("revenue", selection="averaged")
        project = wk.Project.find()
        promote(Registry(project), project.store(), project, "revenue", "1",
                reason=f"beats the baseline {HOSTILE}")
        batch = predict("revenue", made.days[24])
        return {"batch": batch.batch_id, "days": made.days}
    finally:
        os.chdir(old)
