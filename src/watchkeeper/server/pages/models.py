"""``/models``: each pipeline's model, where its aliases point, its versions with their
metrics, and its latest stage changes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from .. import model_records
from ..security import require_read
from .common import respond

router = APIRouter(dependencies=[Depends(require_read)], include_in_schema=False)
STAGES_SHOWN = 20


@router.get("/models")
def models(request: Request):
    workspace = request.app.state.workspace
    shown = []
    for model in model_records.models(workspace):
        versions = model_records.versions(workspace, model["model"])
        metrics = sorted({k for v in versions for k in v["metrics"]})
        shown.append({**model, "versions": versions, "metrics": metrics,
                      "stages": model_records.stages(workspace, model["model"])[:STAGES_SHOWN]})
    return respond(request, "models.html", models=shown,
                   has_project=workspace.project is not None)
