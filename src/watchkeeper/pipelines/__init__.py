"""Healthy retraining: gated pipelines, moving windows, selection on the newest window,
an MLflow registry with staged rollout, and lineage.

    import watchkeeper as wk
    result = wk.run("revenue")                 # a pipeline of watchkeeper.yaml
    result.status, result.version, result.skipped

scikit-learn fits, searches and scores the models; MLflow tracks runs and keeps the
registry (embedded SQLite by default); watchkeeper gates the partitions, builds the
windows and keeps the lineage.
"""

from .estimate import Calibration
from .labels import LabelsResult, ingest_labels
from .log import log
from .metrics import METRICS, Metric
from .performance import performance
from .predict import PredictResult, predict, predict_frame
from .queries import model_lineage, trace
from .registry import ALIASES, Registry
from .rollout import StageChange, promote, rollback, shadow
from .run import RunResult, run
from .schedules import plan as schedule_plan, serve as serve_schedules
from .selection import Selection
from .slos import Performance, PerformanceSLO, SLOFailure
from .spec import (Label, PipelineSpec, Promotion, Search, Source, dump_pipelines,
                   load_pipeline, load_pipelines, pipeline)
from .windows import WindowPlan, plan_windows

__all__ = ["ALIASES", "METRICS", "Calibration", "Label", "LabelsResult", "Metric",
           "Performance", "PerformanceSLO", "PipelineSpec", "PredictResult", "Promotion",
           "Registry", "RunResult", "SLOFailure", "Search", "Selection", "Source",
           "StageChange", "WindowPlan", "dump_pipelines", "ingest_labels", "load_pipeline",
           "load_pipelines", "log", "model_lineage", "performance", "pipeline", "plan_windows",
           "predict", "predict_frame", "promote", "rollback", "run", "schedule_plan",
           "serve_schedules", "shadow", "trace"]
