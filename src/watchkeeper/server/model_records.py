"""What the models and lineage resources read: the project's pipelines, their MLflow
registry and the lineage the store keeps, in the ``wk model list``, ``wk lineage`` and
``wk trace --format json`` shapes. MLflow is imported only when one of them is asked."""

from __future__ import annotations

from fastapi import HTTPException, Request

from .context import Workspace
from .records import frame_records


def context(workspace: Workspace):
    """``(project, store, registry)``; 404 without a project (models live in its
    ``pipelines:`` section)."""
    if workspace.project is None:
        raise HTTPException(404, "no watchkeeper.yaml: models come from the pipelines: section "
                                 "of a project; start wk serve in the project's folder")
    from ..pipelines import Registry

    return workspace.project, workspace.store, Registry(workspace.project)


def pipeline_names(workspace: Workspace) -> list[str]:
    from ..pipelines import load_pipelines

    return sorted(load_pipelines(workspace.project)) if workspace.project is not None else []


def require_model(workspace: Workspace, ref: str) -> str:
    """The model name of ``MODEL[@VERSION]``; 404 naming the declared ones otherwise."""
    name = str(ref).partition("@")[0]
    names = pipeline_names(workspace)
    if name not in names:
        raise HTTPException(404, f"no pipeline {name!r} in watchkeeper.yaml (pipelines: "
                                 f"{', '.join(names) or 'none yet'}): declare it under "
                                 "pipelines: and run wk run NAME")
    return name


def models(workspace: Workspace) -> list[dict]:
    """Each declared pipeline's model and where its aliases point (version numbers)."""
    names = pipeline_names(workspace)
    if not names:
        return []
    _, _, registry = context(workspace)
    return [{"model": n, "aliases": registry.aliases(n)} for n in names]


def versions(workspace: Workspace, model: str) -> list[dict]:
    """``wk model list MODEL --format json`` lines: newest version first."""
    require_model(workspace, model)
    _, _, registry = context(workspace)
    return registry.versions(model)


def stages(workspace: Workspace, model: str) -> list[dict]:
    """Every alias change of the model (shadow, promote, roll back), newest first."""
    from ..pipelines import lineage

    require_model(workspace, model)
    return frame_records(lineage.stages(workspace.store, model))[::-1]


def model_lineage(workspace: Workspace, ref: str) -> dict:
    """``wk lineage MODEL[@VERSION] --format json``."""
    from ..pipelines import model_lineage as lineage_of

    require_model(workspace, ref)
    project, store, registry = context(workspace)
    return lineage_of(ref, project, store=store, registry=registry)


def trace(workspace: Workspace, batch: str) -> dict:
    """``wk trace BATCH --format json``."""
    from ..pipelines import lineage, trace as trace_of

    project, store, registry = context(workspace)
    if lineage.batch(store, batch) is None:
        raise HTTPException(404, f"no prediction batch {batch!r} in the store: check the id "
                                 "(wk predict prints it)")
    return trace_of(batch, project, store=store, registry=registry)


def page_partitions(lineage: dict, limit: int, offset: int) -> dict:
    """The lineage with each table's ``partitions`` cut to one page; ``partitions_total``
    counts them all."""
    tables = [{**t, "partitions": t["partitions"][offset:offset + limit],
               "partitions_total": len(t["partitions"])} for t in lineage["tables"]]
    return {**lineage, "tables": tables, "limit": limit, "offset": offset}


def workspace_of(request: Request) -> Workspace:
    return request.app.state.workspace
