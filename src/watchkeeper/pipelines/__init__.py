"""Healthy retraining: gated pipelines, moving windows, selection on the newest window,
an MLflow registry with staged rollout, and lineage.

    import watchkeeper as wk
    result = wk.run("revenue")                 # a pipeline of watchkeeper.yaml
    result.status, result.version, result.skipped

scikit-learn fits, searches and scores the models; MLflow tracks runs and keeps the
registry (embedded SQLite by default); watchkeeper gates the partitions, builds the
windows and keeps the lineage.
"""

from .metrics import METRICS, Metric
from .predict import PredictResult, predict
from .queries import model_lineage, trace
from .registry import ALIASES, Registry
from .rollout import StageChange, promote, rollback, shadow
from .run import RunResult, run
from .selection import Selection
from .spec import (Label, PipelineSpec, Promotion, Search, Source, dump_pipelines,
                   load_pipeline, load_pipelines, pipeline)
from .windows import WindowPlan, plan_windows

__all__ = ["ALIASES", "METRICS", "Label", "Metric", "PipelineSpec", "PredictResult", "Promotion", "Registry",
           "RunResult", "Search", "Selection", "Source", "StageChange", "WindowPlan",
           "dump_pipelines", "load_pipeline", "load_pipelines", "model_lineage", "pipeline",
           "plan_windows", "predict", "promote", "rollback", "run", "shadow", "trace"]
